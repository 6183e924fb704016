import Foundation
import Tensor

/// Small seeded data sets for tests and demos (N×D inputs, labels interleaved: item i has class
/// i mod k, so every prefix is nearly balanced).
extension Dataset {
    /// Gaussian blobs: k class centres drawn from N(0, separation²·I) in `dimensions` dimensions,
    /// and each point its class centre plus N(0, spread²·I) noise.
    ///
    ///     let d = try Dataset.blobs(count: 300, classes: 3, dimensions: 2, seed: 0)
    public static func blobs(count: Int, classes: Int, dimensions: Int = 2, spread: Float = 1,
                             separation: Float = 5, seed: UInt64) throws -> Dataset {
        guard count >= 0, classes >= 1, dimensions >= 1 else {
            throw DataError("blobs", "need count ≥ 0, classes ≥ 1 and dimensions ≥ 1 (got \(count), \(classes), \(dimensions))")
        }
        var rng = RandomGenerator(seed: seed)
        let centres = (0 ..< classes * dimensions).map { _ in separation * Float(rng.normal()) }
        var values = [Float](repeating: 0, count: count * dimensions)
        for i in 0 ..< count {
            let c = i % classes
            for j in 0 ..< dimensions { values[i * dimensions + j] = centres[c * dimensions + j] + spread * Float(rng.normal()) }
        }
        return Dataset(x: Tensor(values, shape: [count, dimensions]), labels: (0 ..< count).map { $0 % classes },
                       name: "blobs", classNames: nil, normalization: nil)
    }

    /// Interleaved spirals in the plane, one arm per class: a point at position t ∈ (0, 1] along
    /// arm j sits at radius t and angle 2π·j/arms + 2π·turns·t, plus N(0, noise²) on each coordinate.
    ///
    ///     let d = try Dataset.spirals(count: 200, arms: 2, seed: 0)
    public static func spirals(count: Int, arms: Int = 2, turns: Float = 0.75, noise: Float = 0.05,
                               seed: UInt64) throws -> Dataset {
        guard count >= 0, arms >= 1 else { throw DataError("spirals", "need count ≥ 0 and arms ≥ 1 (got \(count), \(arms))") }
        var rng = RandomGenerator(seed: seed)
        var values = [Float](repeating: 0, count: count * 2)
        for i in 0 ..< count {
            let arm = i % arms
            let perArm = count / arms + (arm < count % arms ? 1 : 0)
            let t = (Double(i / arms) + 1) / Double(perArm)
            let angle = 2 * Double.pi * (Double(arm) / Double(arms) + Double(turns) * t)
            values[2 * i] = Float(t * cos(angle)) + noise * Float(rng.normal())
            values[2 * i + 1] = Float(t * sin(angle)) + noise * Float(rng.normal())
        }
        return Dataset(x: Tensor(values, shape: [count, 2]), labels: (0 ..< count).map { $0 % arms },
                       name: "spirals", classNames: nil, normalization: nil)
    }
}
