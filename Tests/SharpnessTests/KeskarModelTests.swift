import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

/// Keskar's sharpness of a model whose box maximum is known in closed form.
///
/// A linear classifier with one input and two classes, every label 0 and every input positive:
/// L = mean log(1 + exp((w₁ − w₀)x + b₁ − b₀)) grows with w₁ and b₁ and falls with w₀ and b₀, so
/// over the box |yᵢ| ≤ ε(|wᵢ| + 1) the maximum sits at the corner (w₀ − r₀, w₁ + r₁, b₀ − r₂,
/// b₁ + r₃), computed here by hand in Double.
final class KeskarModelTests: XCTestCase {
    func linearProblem() throws -> (Linear, Dataset) {
        let net = try Linear(1, 2, seed: 3)
        let xs: [Float] = [0.5, 1, 2, 1.5, 0.25]
        let data = try Dataset(x: Tensor(xs, shape: [5, 1]), y: Tensor([0, 0, 0, 0, 0]), name: "line")
        return (net, data)
    }

    func lossByHand(_ p: [Double], _ xs: [Double]) -> Double {
        // p = [w0, w1, b0, b1]
        xs.reduce(0) { $0 + log(1 + exp((p[1] - p[0]) * $1 + p[3] - p[2])) } / Double(xs.count)
    }

    func testClosedFormCornerOfTheBox() throws {
        let (net, data) = try linearProblem()
        let w = (net.weight.scalars + net.bias!.scalars).map(Double.init)
        let xs = data.x.scalars.map(Double.init)
        let before = stateBits(net)
        for eps in [1e-3, 5e-4, 0.05] {
            let r = w.map { eps * (abs($0) + 1) }
            let corner = [w[0] - r[0], w[1] + r[1], w[2] - r[2], w[3] + r[3]]
            let l0 = lossByHand(w, xs), lmax = lossByHand(corner, xs)
            let phi = (lmax - l0) / (1 + l0) * 100
            // Chunks of 2: the loss over all of the data is the size-weighted mean (2, 2, 1).
            let k = try keskar(net, data, eps: eps, batch: 2, progress: .silent)
            XCTAssertEqual(k.loss, l0, accuracy: 1e-6 * l0)
            XCTAssertEqual(k.maxLoss, lmax, accuracy: 1e-6 * lmax)
            XCTAssertEqual(k.value, phi, accuracy: 2e-3 * phi + 1e-6, "eps \(eps)")
            XCTAssertLessThanOrEqual(k.iterations, 10)
            for (y, ri) in zip(k.y, r) { XCTAssertEqual(abs(y), ri, accuracy: 1e-9) }
            XCTAssertEqual(stateBits(net), before)

            let pga = try keskar(net, data, eps: eps, method: .pga, progress: .silent)
            XCTAssertEqual(pga.maxLoss, lmax, accuracy: 1e-6 * lmax)
            XCTAssertEqual(stateBits(net), before)
        }
    }

    /// In a random subspace the maximum is L(w + Ay) for the reported y, with A regenerated from
    /// the seed by its documented definition.
    func testRandomSubspaceReportsTheLossAtItsMaximizer() throws {
        let (net, data) = try linearProblem()
        let w = (net.weight.scalars + net.bias!.scalars)
        let xs = data.x.scalars.map(Double.init)
        let before = stateBits(net)
        let k = try keskar(net, data, eps: 0.05, subspace: 2, seed: 7, progress: .silent)
        XCTAssertEqual(k.y.count, 2)
        XCTAssertGreaterThan(k.value, 0)
        for (y, r) in zip(k.y, k.radius) { XCTAssertLessThanOrEqual(abs(y), r * (1 + 1e-12)) }
        let columns = (0..<2).map { RandomSubspace.column($0, rows: 4, seed: 7) }
        var p = w.map(Double.init)
        for j in 0..<2 { for i in 0..<4 { p[i] += k.y[j] * Double(columns[j][i]) } }
        XCTAssertEqual(k.maxLoss, lossByHand(p, xs), accuracy: 1e-6)
        XCTAssertEqual(stateBits(net), before)
    }

    /// Regenerating A block by block gives the stored A's products.
    func testStreamedSubspaceEqualsTheStoredOne() throws {
        let n = 40_000, p = 3
        var rng = RandomGenerator(seed: 5)
        let w = (0..<n).map { _ in Float(rng.normal()) }
        let g = (0..<n).map { _ in Float(rng.normal()) }
        let stored = RandomSubspace(rows: n, columns: p, seed: 11, store: true)
        let streamed = RandomSubspace(rows: n, columns: p, seed: 11, store: false)
        XCTAssertNil(streamed.stored)
        let y = [0.3, -1.5, 2.0]
        XCTAssertEqual(stored.combine(w, y), streamed.combine(w, y))
        for (a, b) in zip(stored.transposeTimes(g), streamed.transposeTimes(g)) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(a) + 1e-9) }
        for (a, b) in zip(try stored.pseudoInverseTimes(w), try streamed.pseudoInverseTimes(w)) { XCTAssertEqual(a, b, accuracy: 1e-9) }
    }
}
