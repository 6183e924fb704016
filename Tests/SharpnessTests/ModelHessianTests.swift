import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

/// The model-level Hessian against an independent truth: the dense Hessian assembled column by
/// column from one-hot HVPs and diagonalized by Jacobi rotations in Double.
final class ModelHessianTests: XCTestCase {
    func testLanczosMatchesTheAssembledDenseHessianTopAndBottom() throws {
        let data = try blobData(48)
        let net = try MLP([4, 6, 3], seed: 2)
        try pretrain(net, data)
        let h = try ModelHessian(model: net, data: data)
        XCTAssertEqual(h.dimension, 4 * 6 + 6 + 6 * 3 + 3)
        let dense = try denseHessian(h)
        let n = h.dimension
        // Symmetric up to Float32 rounding of the products.
        let scale = dense.map(abs).max()!
        for i in 0..<n { for j in 0..<i {
            XCTAssertEqual(dense[i * n + j], dense[j * n + i], accuracy: 1e-5 * scale, "H[\(i),\(j)]")
        } }
        let exact = try JacobiEigen.decompose(matrix: dense, dimension: n, vectors: false).values   // ascending

        let top = try hessianEigs(net, data, k: 4, which: .largestAlgebraic, batch: nil, tol: 1e-5, seed: 1,
                                  progress: .silent)
        assertRelativelyClose(top.values, Array(exact.reversed().prefix(4)), 1e-4, "top")
        XCTAssertTrue(top.converged.allSatisfy { $0 }, "\(top.residuals)")
        XCTAssertEqual(top.dimension, n)
        XCTAssertNil(top.batch)

        let bottom = try hessianEigs(net, data, k: 2, which: .smallestAlgebraic, batch: nil, tol: 1e-5, seed: 2,
                                     progress: .silent)
        assertRelativelyClose(bottom.values, Array(exact.prefix(2)), 1e-4, "bottom")

        let lm = try hessianEigs(net, data, k: 3, batch: nil, seed: 3, progress: .silent)
        assertRelativelyClose(lm.values, expected(exact, k: 3, which: .largestMagnitude), 1e-4, "LM")
        // The residual of the record is recomputed: ‖Hv − λv‖/|λ| ≤ tol.
        for r in lm.residuals { XCTAssertLessThanOrEqual(r, 1e-4) }

        let power = try hessianEigs(net, data, k: 2, batch: nil, method: .power, seed: 4, progress: .silent)
        assertRelativelyClose(power.values, expected(exact, k: 2, which: .largestMagnitude), 1e-4, "power")
        print("tiny MLP Hessian: top \(top.values), bottom \(bottom.values), Lanczos hvps \(top.hvps)")
    }

    func testTraceWithinThreeStandardErrorsOfTheExactTrace() throws {
        let data = try blobData(40)
        let net = try MLP([4, 5, 3], seed: 3)
        try pretrain(net, data)
        let dense = try denseHessian(try ModelHessian(model: net, data: data))
        let n = Int(Double(dense.count).squareRoot())
        let exact = (0..<n).reduce(0.0) { $0 + dense[$1 * n + $1] }
        let t = try hessianTrace(net, data, probes: 200, batch: nil, seed: 5, progress: .silent)
        XCTAssertEqual(t.samples.count, 200)
        XCTAssertLessThanOrEqual(abs(t.trace - exact), 3 * t.stderr, "estimate \(t.trace) ± \(t.stderr), exact \(exact)")
        XCTAssertGreaterThan(t.stderr, 0)
    }

    func testWholeDataOperatorIsTheSizeWeightedMeanOfBatchOperators() throws {
        let data = try blobData(50)
        let net = try MLP([4, 6, 3], seed: 4)
        try pretrain(net, data, epochs: 1)
        var rng = RandomGenerator(seed: 11)
        let v = (0..<(4 * 6 + 6 + 6 * 3 + 3)).map { _ in Float(rng.normal()) }

        let whole = try ModelHessian(model: net, data: data, chunk: 16)
        XCTAssertEqual(whole.batchSizes, [16, 16, 16, 2])
        let hv = try whole.apply(v)
        var expected = [Double](repeating: 0, count: v.count)
        for b in try data.batches(size: 16) {
            let part = try ModelHessian(model: net, batch: b).apply(v)
            for i in part.indices { expected[i] += Double(b.count) / 50 * Double(part[i]) }
        }
        let scale = expected.map(abs).max()!
        for i in hv.indices { XCTAssertEqual(Double(hv[i]), expected[i], accuracy: 1e-5 * scale) }

        // Given batches weigh the same way; one chunk of everything is the same operator.
        let listed = try ModelHessian(model: net, batches: Array(try data.batches(size: 16))).apply(v)
        XCTAssertEqual(listed, hv)
        let oneChunk = try ModelHessian(model: net, data: data, chunk: 64).apply(v)
        for i in hv.indices { XCTAssertEqual(Double(oneChunk[i]), expected[i], accuracy: 1e-5 * scale) }

        // Recomputing every graph (no memory for kept graphs) gives the same products, bit for bit.
        let uncached = try ModelHessian(model: net, data: data, chunk: 16, graphMemory: -1)
        XCTAssertEqual(try uncached.apply(v), hv)
        XCTAssertEqual(try uncached.apply(v), hv)
        XCTAssertEqual(uncached.cachedGraphs, 0)
        XCTAssertEqual(try whole.apply(v), hv)
        XCTAssertEqual(whole.cachedGraphs, 4)
    }

    func testAPatternSelectsTheHessianBlockOfThoseParameters() throws {
        let data = try blobData(36)
        let net = try MLP([4, 5, 3], seed: 6)
        try pretrain(net, data)
        let full = try denseHessian(try ModelHessian(model: net, data: data))
        let n = 4 * 5 + 5 + 5 * 3 + 3
        let last = try ModelHessian(model: net, data: data, wrt: .pattern("fc2"))
        XCTAssertEqual(last.parameterNames, ["fc2.weight", "fc2.bias"])
        let block = try denseHessian(last)
        let m = last.dimension, offset = n - m
        XCTAssertEqual(m, 18)
        let scale = full.map(abs).max()!
        for i in 0..<m { for j in 0..<m {
            XCTAssertEqual(block[i * m + j], full[(offset + i) * n + offset + j], accuracy: 1e-6 * scale)
        } }

        // Frozen parameters: the default follows the trainable flags, "all" takes them anyway
        // and leaves the flags as they were.
        try net.freeze("fc1")
        let trainable = try ModelHessian(model: net, data: data)
        XCTAssertEqual(trainable.parameterNames, ["fc2.weight", "fc2.bias"])
        let all = try ModelHessian(model: net, data: data, wrt: .all)
        XCTAssertEqual(all.dimension, n)
        let allDense = try denseHessian(all)
        for i in 0..<(n * n) { XCTAssertEqual(allDense[i], full[i], accuracy: 1e-6 * scale) }
        XCTAssertEqual(net.isTrainable("fc1.weight"), false)
        XCTAssertThrowsError(try ModelHessian(model: net, data: data, wrt: .pattern("nothing*here")))
        try net.freeze("*")
        XCTAssertThrowsError(try hessianEigs(net, data, progress: .silent))
    }

    func testTrialsOnRandomBatchesSummarizeThePerTrialValues() throws {
        let data = try blobData(120)
        let net = try MLP([4, 6, 3], seed: 7)
        try pretrain(net, data, epochs: 2)
        let e = try hessianEigs(net, data, k: 5, batch: 24, trials: 4, seed: 13, progress: .silent)
        XCTAssertEqual(e.trials.count, 4)
        XCTAssertEqual(e.batch, 24)
        let v = e.trials.map(\.values)
        XCTAssertNotEqual(v[0], v[1], "each trial draws its own batch")
        for i in 0..<5 {
            let column = v.map { $0[i] }
            let mean = column.reduce(0, +) / 4
            let std = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3).squareRoot()
            XCTAssertEqual(e.mean![i], mean, accuracy: 1e-12 * abs(mean))
            XCTAssertEqual(e.std![i], std, accuracy: 1e-9 * std)
        }
        let maxes = v.map { abs($0[0]) }, ratios = v.map { abs($0[0] / $0[4]) }
        let maxMean = maxes.reduce(0, +) / 4, ratioMean = ratios.reduce(0, +) / 4
        XCTAssertEqual(e.max!.mean, maxMean, accuracy: 1e-12 * maxMean)
        XCTAssertEqual(e.max!.std, (maxes.reduce(0) { $0 + ($1 - maxMean) * ($1 - maxMean) } / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(e.ratio5!.mean, ratioMean, accuracy: 1e-12 * ratioMean)
        XCTAssertEqual(e.ratio5!.std, (ratios.reduce(0) { $0 + ($1 - ratioMean) * ($1 - ratioMean) } / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(e.hvps, e.trials.reduce(0) { $0 + $1.hvps })

        // Trial t is the Hessian on the t-th batch the seed draws: the first trial's top eigenvalue
        // equals the dense truth on that batch.
        var rng = RandomGenerator(seed: 13)
        let first = try data.randomSubset(24, using: &rng)
        let dense = try denseHessian(try ModelHessian(model: net, data: first))
        let exact = try JacobiEigen.decompose(matrix: dense, dimension: e.dimension, vectors: false).values
        assertRelativelyClose([v[0][0]], expected(exact, k: 1, which: .largestMagnitude), 1e-4, "trial 1")

        // Same seed, same record.
        let again = try hessianEigs(net, data, k: 5, batch: 24, trials: 4, seed: 13, progress: .silent)
        XCTAssertEqual(again.trials.map(\.values), v)
        let one = try hessianEigs(net, data, k: 5, batch: 24, trials: 1, seed: 13, progress: .silent)
        XCTAssertNil(one.mean)
        XCTAssertNil(one.max)
    }

    func testDensityIsADistributionOverTheSpectrum() throws {
        let data = try blobData(30)
        let net = try MLP([4, 5, 3], seed: 8)
        try pretrain(net, data)
        let d = try hessianDensity(net, data, steps: 20, probes: 3, points: 400, batch: nil, seed: 1, progress: .silent)
        XCTAssertEqual(d.x.count, 400)
        let dx = d.x[1] - d.x[0]
        XCTAssertEqual(d.density.reduce(0, +) * dx, 1, accuracy: 0.02)
        XCTAssertEqual(d.hvps, 60)
    }
}
