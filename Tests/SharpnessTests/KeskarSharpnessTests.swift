import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// (C_ε, A)-sharpness on a loss whose box maximum is known in closed form, and the trial summary
/// of `hessian_eigs`.
final class KeskarSharpnessTests: XCTestCase {

    /// L(θ) = c + ½Σ aᵢ(θᵢ − mᵢ)² is convex and separable, so its maximum over the box
    /// |yᵢ| ≤ rᵢ around w sits at the vertex yᵢ = rᵢ·sign(wᵢ − mᵢ).
    struct SeparableQuadratic {
        let a: [Double], m: [Double], c = 0.3
        func loss(_ p: [Float]) -> (value: Double, gradient: [Float]) {
            var value = c
            var g = [Float](repeating: 0, count: p.count)
            for i in p.indices {
                let d = Double(p[i]) - m[i]
                value += 0.5 * a[i] * d * d
                g[i] = Float(a[i] * d)
            }
            return (value, g)
        }
    }

    func problem(_ n: Int, seed: UInt64) -> (SeparableQuadratic, [Float]) {
        var rng = testDataGenerator(seed ^ 5)
        let f = SeparableQuadratic(a: (0..<n).map { _ in 0.5 + rng.uniformDouble() },
                                   m: (0..<n).map { _ in rng.normal() })
        let w = (0..<n).map { _ in Float(rng.normal()) }
        return (f, w)
    }

    func testClosedFormBoxMaximumFullSpace() throws {
        let (f, w) = problem(40, seed: 1)
        let eps = 0.05
        let yStar = w.indices.map { i in eps * (abs(Double(w[i])) + 1) * (Double(w[i]) >= f.m[i] ? 1 : -1) }
        let loss = f.loss(w).value
        let maxLoss = f.loss(w.indices.map { Float(Double(w[$0]) + yStar[$0]) }).value
        let expectedValue = (maxLoss - loss) / (1 + loss) * 100

        let k = try KeskarSharpness.measure(at: w, eps: eps, progress: .silent) { f.loss($0) }
        XCTAssertEqual(k.loss, loss)
        XCTAssertEqual(k.maxLoss, maxLoss, accuracy: 1e-12 * maxLoss)
        XCTAssertEqual(k.value, expectedValue, accuracy: 1e-9 * expectedValue)
        XCTAssertLessThanOrEqual(k.iterations, 10)
        XCTAssertEqual(k.y, yStar)
        print("keskar closed form: φ \(k.value) in \(k.iterations) iterations, \(k.evaluations) evaluations (\(k.status))")

        let pg = try KeskarSharpness.measure(at: w, eps: eps, maximizer: .projectedGradientAscent(step: 1),
                                             progress: .silent) { f.loss($0) }
        XCTAssertEqual(pg.value, expectedValue, accuracy: 1e-9 * expectedValue)
    }

    func testRandomSubspace() throws {
        let n = 60, p = 5
        let (f, w) = problem(n, seed: 2)
        let k = try KeskarSharpness.measure(at: w, eps: 1e-2, subspace: .random(dimension: p, seed: 3),
                                            progress: .silent) { f.loss($0) }
        XCTAssertEqual(k.y.count, p)
        XCTAssertGreaterThan(k.value, 0)
        for (y, r) in zip(k.y, k.radius) { XCTAssertLessThanOrEqual(abs(y), r) }
        // maxLoss is the loss at w + Ay for the reported y, with A redrawn from the same seed.
        let columns = (0..<p).map { j -> [Float] in
            var rng = RandomGenerator(seed: mixSeed(3, j))
            return gaussian(n, &rng)
        }
        var params = w
        for (j, a) in columns.enumerated() { axpy(Float(k.y[j]), a, &params) }
        XCTAssertEqual(f.loss(params).value, k.maxLoss, accuracy: 1e-12)
    }

    /// A⁺(Az) = z for A of full column rank.
    func testPseudoInverseCoordinates() throws {
        var rng = RandomGenerator(seed: 9)
        let columns = (0..<4).map { _ in gaussian(200, &rng) }
        let z: [Double] = [0.5, -2, 1.25, 3]
        var w = [Float](repeating: 0, count: 200)
        for (j, a) in columns.enumerated() { axpy(Float(z[j]), a, &w) }
        let recovered = try KeskarSharpness.leastSquaresCoordinates(columns, w)
        for (a, b) in zip(recovered, z) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertThrowsError(try KeskarSharpness.leastSquaresCoordinates([columns[0], columns[0]], w))
    }

    func testTrialSummary() throws {
        func pairs(_ v: [Double]) -> Eigenpairs {
            Eigenpairs(values: v, residuals: v.map { _ in 0 }, converged: v.map { _ in true }, hvps: 30,
                       vectors: [], which: .largestMagnitude, tol: 1e-4, method: "lanczos")
        }
        let s = try EigenpairTrials([pairs([10, 8, 6, 4, 2]), pairs([-12, 8, 6, 4, 4]), pairs([8, 7, 6, 5, 1])])
        XCTAssertEqual(s.mean[1], 23.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.std[2], 0)
        XCTAssertEqual(s.max.mean, 10)
        XCTAssertEqual(s.max.std, 2)
        XCTAssertEqual(s.ratio5!.mean, (5 + 3 + 8) / 3.0, accuracy: 1e-12)
        XCTAssertEqual(s.hvps, 90)
        XCTAssertTrue(try EigenpairTrials([pairs([1, 2])]).max.std.isNaN)
        XCTAssertNil(try EigenpairTrials([pairs([1, 2])]).ratio5)
        XCTAssertThrowsError(try EigenpairTrials([]))
    }
}
