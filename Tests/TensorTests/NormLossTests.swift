import Foundation
import XCTest
@testable import Tensor

/// logsumexp / softmax / cross-entropy and batch normalization: values computed by hand (Float64
/// in the test) and derivatives against finite differences.
final class SoftmaxLossTests: XCTestCase {
    func testLogsumexpValues() throws {
        let x = sample([3, 4], seed: 1900, low: -3, high: 3)
        let xv = doubles(x)
        let rows = (0..<3).map { i in Foundation.log((0..<4).map { Foundation.exp(xv[i * 4 + $0]) }.reduce(0, +)) }
        let cols = (0..<4).map { j in Foundation.log((0..<3).map { Foundation.exp(xv[$0 * 4 + j]) }.reduce(0, +)) }
        assertClose(try x.logsumexp(axis: 1), rows, shape: [3], tol: 1e-6, "lse rows")
        assertClose(try x.logsumexp(), rows, shape: [3], tol: 1e-6, "lse default axis")
        assertClose(try x.logsumexp(axis: 0), cols, shape: [4], tol: 1e-6, "lse cols")
        assertClose(try x.logsumexp(axis: 0, keepDims: true), cols, shape: [1, 4], tol: 1e-6, "lse keepDims")
        // Stable for large inputs: log(e¹⁰⁰⁰ + e¹⁰⁰⁰) = 1000 + log 2.
        XCTAssertEqual(Double(try Tensor([1000, 1000]).logsumexp().item()), 1000 + Foundation.log(2.0), accuracy: 1e-3)
        XCTAssertEqual(Double(try Tensor([-1000, -1000]).logsumexp().item()), -1000 + Foundation.log(2.0), accuracy: 1e-3)
    }

    func testSoftmaxValues() throws {
        let x = sample([2, 3, 4], seed: 1901, low: -3, high: 3)
        let xv = doubles(x)
        for axis in [0, 1, 2, -1] {
            let ax = axis < 0 ? axis + 3 : axis
            let lse = referenceReduce(x, axes: [ax], initial: 0) { $0 + Foundation.exp($1) }
            let want = (0..<x.count).map { i -> Double in
                var idx = multiIndex(i, x.shape)
                idx[ax] = 0
                return xv[i] - Foundation.log(lse.values[flatIndex(idx, lse.shape)])
            }
            assertClose(try x.logSoftmax(axis: axis), want, shape: x.shape, tol: 1e-6, "logSoftmax \(axis)")
            assertClose(try x.softmax(axis: axis), want.map { Foundation.exp($0) }, shape: x.shape, tol: 1e-6, "softmax \(axis)")
        }
        let s = try x.softmax(axis: 1).sum(axes: [1]).scalars
        assertAllClose(s, [Double](repeating: 1, count: 8), rtol: 0, atol: 1e-6, "softmax sums to 1")
    }

    func testSoftmaxDerivatives() throws {
        let x = sample([2, 3, 4], seed: 1902, low: -2, high: 2)
        for axis in [0, 1, -1] {
            try checkDerivatives("logsumexp \(axis)", [x]) { try $0[0].logsumexp(axis: axis) }
            try checkDerivatives("logsumexp keep \(axis)", [x]) { try $0[0].logsumexp(axis: axis, keepDims: true) }
            try checkDerivatives("logSoftmax \(axis)", [x]) { try $0[0].logSoftmax(axis: axis) }
            try checkDerivatives("softmax \(axis)", [x]) { try $0[0].softmax(axis: axis) }
        }
    }

    func testCrossEntropyHandComputed() throws {
        // logits [[1, 2, 3]], label 2: log(e¹ + e² + e³) − 3.
        let one = try crossEntropy(Tensor([1, 2, 3], shape: [1, 3]), labels: [2]).item()
        XCTAssertEqual(Double(one), Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)) - 3, accuracy: 1e-6)
        XCTAssertEqual(Double(one), 0.40760596444, accuracy: 1e-6)

        // Two rows: the mean of the per-row losses.
        let logits: [[Double]] = [[0.5, -1, 2, 0], [3, 1, -2, 0.25]]
        let labels = [1, 0]
        func rowLoss(_ z: [Double], _ y: Int) -> Double { Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +)) - z[y] }
        let want = (rowLoss(logits[0], 1) + rowLoss(logits[1], 0)) / 2
        let got = try crossEntropy(Tensor(logits.flatMap { $0.map(Float.init) }, shape: [2, 4]), labels: labels).item()
        XCTAssertEqual(Double(got), want, accuracy: 1e-6)
    }

    func testCrossEntropyLabelSmoothingMatchesPyTorchDefinition() throws {
        // PyTorch: target t = (1 − s)·onehot(y) + s/C; loss = mean over rows of −Σ_c t_c log softmax(z)_c.
        let logits: [[Double]] = [[0.5, -1, 2, 0], [3, 1, -2, 0.25], [0, 0, 0, 1]]
        let labels = [1, 0, 3]
        let c = 4.0
        for s in [0.0, 0.1, 0.25, 1.0] {
            var total = 0.0
            for (z, y) in zip(logits, labels) {
                let lse = Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +))
                for k in 0..<4 {
                    let t = (k == y ? 1 - s : 0) + s / c
                    total -= t * (z[k] - lse)
                }
            }
            let got = try crossEntropy(Tensor(logits.flatMap { $0.map(Float.init) }, shape: [3, 4]), labels: labels, labelSmoothing: Float(s)).item()
            XCTAssertEqual(Double(got), total / 3, accuracy: 1e-6, "smoothing \(s)")
        }
    }

    func testCrossEntropyDerivatives() throws {
        let z = sample([4, 3], seed: 1903, low: -2, high: 2)
        try checkDerivatives("cross entropy", [z]) { try crossEntropy($0[0], labels: [2, 0, 1, 2]) }
        try checkDerivatives("cross entropy smoothing 0.1", [z]) { try crossEntropy($0[0], labels: [2, 0, 1, 2], labelSmoothing: 0.1) }
        // Closed form of the gradient: (softmax(z) − t) / N.
        let p = z.copy().requiringGrad()
        let g = try gradients(of: try crossEntropy(p, labels: [2, 0, 1, 2], labelSmoothing: 0.2), wrt: [p])[0]
        let zv = doubles(z), labels = [2, 0, 1, 2]
        var want: [Double] = []
        for i in 0..<4 {
            let row = Array(zv[(i * 3)..<(i * 3 + 3)])
            let e = row.map { Foundation.exp($0) }, sum = e.reduce(0, +)
            for k in 0..<3 { want.append((e[k] / sum - ((k == labels[i] ? 0.8 : 0) + 0.2 / 3)) / 4) }
        }
        assertAllClose(g.scalars, want, rtol: 1e-5, atol: 1e-7, "CE gradient closed form")
    }

    func testOneHotAndIntegerLabels() throws {
        XCTAssertEqual(try oneHot([2, 0], classes: 3).scalars, [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(try integerLabels(Tensor([3, 0, 7])), [3, 0, 7])
        assertTensorError("labels", mentions: ["2.5"]) { try integerLabels(Tensor([1, 2.5])) }
    }
}

final class BatchNormTests: XCTestCase {
    /// Per-channel batch statistics of [N, C] or [N, C, H, W] in Float64: mean, biased and unbiased variance.
    func stats(_ x: Tensor) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
        let c = x.shape[1]
        let axes = x.rank == 2 ? [0] : [0, 2, 3]
        let n = Double(axes.reduce(1) { $0 * x.shape[$1] })
        let xv = doubles(x)
        var mean = [Double](repeating: 0, count: c), ss = [Double](repeating: 0, count: c)
        for i in 0..<x.count { mean[multiIndex(i, x.shape)[1]] += xv[i] / n }
        for i in 0..<x.count { let ch = multiIndex(i, x.shape)[1]; ss[ch] += (xv[i] - mean[ch]) * (xv[i] - mean[ch]) }
        return (mean, ss.map { $0 / n }, ss.map { $0 / (n - 1) })
    }

    func normalize(_ x: Tensor, mean: [Double], variance: [Double], weight: [Double]?, bias: [Double]?, eps: Double = 1e-5) -> [Double] {
        let xv = doubles(x)
        return (0..<x.count).map { i in
            let ch = multiIndex(i, x.shape)[1]
            return (xv[i] - mean[ch]) / (variance[ch] + eps).squareRoot() * (weight?[ch] ?? 1) + (bias?[ch] ?? 0)
        }
    }

    func testTrainingHandComputed2D() throws {
        // Channel 0: 1, 2, 3, 6 → mean 3, biased var (4+1+0+9)/4 = 3.5, unbiased 14/3.
        // Channel 1: 0, 0, 4, 4 → mean 2, biased var 4, unbiased 16/3.
        let x = Tensor([1, 0, 2, 0, 3, 4, 6, 4], shape: [4, 2])
        let w = Tensor([2, 0.5]), b = Tensor([1, -1])
        let rm = Tensor([0.5, -1]), rv = Tensor([2, 3])
        let y = try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: true)
        let inv0 = 1 / (3.5 + 1e-5).squareRoot(), inv1 = 1 / (4 + 1e-5).squareRoot()
        let want: [Double] = [(1 - 3) * inv0 * 2 + 1, (0 - 2) * inv1 * 0.5 - 1,
                              (2 - 3) * inv0 * 2 + 1, (0 - 2) * inv1 * 0.5 - 1,
                              (3 - 3) * inv0 * 2 + 1, (4 - 2) * inv1 * 0.5 - 1,
                              (6 - 3) * inv0 * 2 + 1, (4 - 2) * inv1 * 0.5 - 1]
        assertAllClose(y.scalars, want, rtol: 1e-5, atol: 1e-6, "train output")
        // PyTorch: running = 0.9·running + 0.1·batch, the variance unbiased.
        assertAllClose(rm.scalars, [0.9 * 0.5 + 0.1 * 3, 0.9 * -1 + 0.1 * 2], "running mean")
        assertAllClose(rv.scalars, [0.9 * 2 + 0.1 * 14.0 / 3, 0.9 * 3 + 0.1 * 16.0 / 3], "running var")
        XCTAssertFalse(rm.requiresGrad)
        XCTAssertFalse(rv.requiresGrad)
    }

    func testTrainingAndRunningStats4D() throws {
        let x = sample([3, 2, 2, 3], seed: 2000, low: -2, high: 3)
        let st = stats(x)
        let w = Tensor([1.5, -0.5]), b = Tensor([0.25, 2])
        let rm = Tensor([0, 0]), rv = Tensor([1, 1])
        let y = try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: true, momentum: 0.1)
        assertAllClose(y.scalars, normalize(x, mean: st.mean, variance: st.biased, weight: [1.5, -0.5], bias: [0.25, 2]),
                       rtol: 1e-5, atol: 1e-5, "train output 4-D")
        assertAllClose(rm.scalars, st.mean.map { 0.1 * $0 }, "running mean 4-D")
        assertAllClose(rv.scalars, st.unbiased.map { 0.9 + 0.1 * $0 }, "running var 4-D")
        // A second step compounds: r₂ = 0.9·r₁ + 0.1·batch (another momentum too).
        let rm1 = doubles(rm), rv1 = doubles(rv)
        _ = try x.batchNorm(weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true, momentum: 0.3)
        assertAllClose(rm.scalars, zip(rm1, st.mean).map { 0.7 * $0 + 0.3 * $1 }, "running mean step 2")
        assertAllClose(rv.scalars, zip(rv1, st.unbiased).map { 0.7 * $0 + 0.3 * $1 }, "running var step 2")
        // Without affine parameters: zero mean, unit (biased) variance per channel.
        let plain = try x.batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        let ps = stats(plain)
        assertAllClose(ps.mean.map(Float.init), [0, 0], rtol: 0, atol: 1e-6, "normalized mean")
        assertAllClose(ps.biased.map(Float.init), [1, 1], rtol: 0, atol: 1e-4, "normalized var")
    }

    func testEvalUsesRunningStats() throws {
        let x = sample([2, 3, 2, 2], seed: 2001)
        let rm = Tensor([0.5, -0.25, 1]), rv = Tensor([2, 0.5, 1.5])
        let w = Tensor([1, 2, -1]), b = Tensor([0, 0.5, 1])
        let y = try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: false)
        assertAllClose(y.scalars, normalize(x, mean: [0.5, -0.25, 1], variance: [2, 0.5, 1.5], weight: [1, 2, -1], bias: [0, 0.5, 1]),
                       rtol: 1e-5, atol: 1e-6, "eval output")
        // Evaluation leaves the buffers alone.
        XCTAssertEqual(rm.scalars, [0.5, -0.25, 1])
        XCTAssertEqual(rv.scalars, [2, 0.5, 1.5])
        // 2-D eval, no affine.
        let x2 = Tensor([1, 2, 3, 4], shape: [2, 2])
        let y2 = try x2.batchNorm(weight: nil, bias: nil, runningMean: Tensor([1, 1]), runningVar: Tensor([4, 1]), training: false)
        assertAllClose(y2.scalars, [0, 1 / (1 + 1e-5).squareRoot(), 2 / (4 + 1e-5).squareRoot(), 3 / (1 + 1e-5).squareRoot()], "eval 2-D")
    }

    func testTrainingDerivatives() throws {
        // Input, weight and bias all differentiated (the statistics depend on the input).
        try checkDerivatives("batch norm train [N,C]", [sample([5, 3], seed: 2002, low: -2, high: 2), sample([3], seed: 2003, low: 0.5, high: 1.5),
                                                         sample([3], seed: 2004)]) {
            try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
        }
        try checkDerivatives("batch norm train [N,C,H,W]", [sample([2, 2, 2, 3], seed: 2005, low: -2, high: 2), sample([2], seed: 2006, low: 0.5, high: 1.5),
                                                             sample([2], seed: 2007)]) {
            try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
        }
        // With running buffers given (they are updated on every call but do not enter the output).
        let rm = Tensor.zeros([2]), rv = Tensor.ones([2])
        try checkDerivatives("batch norm train with buffers", [sample([4, 2], seed: 2008, low: -2, high: 2)]) {
            try $0[0].batchNorm(weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true)
        }
    }

    /// The fused first-order kernels (no graph) and the differentiable form used for double
    /// backward are two implementations of one gradient: they must agree.
    func testTrainingGradientFusedMatchesComposite() throws {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randn([6, 3, 4, 5], using: &rng).requiringGrad()
        let w = (Tensor.rand([3], using: &rng) + 0.5).requiringGrad()
        let b = Tensor.randn([3], using: &rng).requiringGrad()
        let gy = Tensor.randn([6, 3, 4, 5], using: &rng)
        let y = try x.batchNorm(weight: w, bias: b, runningMean: nil, runningVar: nil, training: true)
        let fused = try gradients(of: y, wrt: [x, w, b], seed: gy)
        let composite = try gradients(of: y, wrt: [x, w, b], seed: gy, createGraph: true)
        for (f, c) in zip(fused, composite) {
            XCTAssertEqual(f.shape, c.shape)
            for (u, v) in zip(f.scalars, c.scalars) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        }
        XCTAssertFalse(fused[0].requiresGrad)
        XCTAssertTrue(composite[0].requiresGrad)
    }

    func testEvalGradientFusedMatchesComposite() throws {
        var rng = RandomGenerator(seed: 6)
        let x = Tensor.randn([5, 3, 2, 4], using: &rng).requiringGrad()
        let w = (Tensor.rand([3], using: &rng) + 0.5).requiringGrad()
        let b = Tensor.randn([3], using: &rng).requiringGrad()
        let rm = Tensor.randn([3], using: &rng), rv = Tensor.rand([3], using: &rng) + 0.5
        let gy = Tensor.randn([5, 3, 2, 4], using: &rng)
        let y = try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: false)
        let fused = try gradients(of: y, wrt: [x, w, b], seed: gy)
        let composite = try gradients(of: y, wrt: [x, w, b], seed: gy, createGraph: true)
        for (f, c) in zip(fused, composite) {
            for (u, v) in zip(f.scalars, c.scalars) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        }
    }

    /// relu(batchNorm(x) + r) fused into BatchNorm's passes against the same three ops written
    /// separately: values and gradients in x, weight, bias and r, with and without a graph
    /// being recorded, training and evaluation, each half of the epilogue alone.
    func testResidualReluEpilogueMatchesSeparateOps() throws {
        var rng = RandomGenerator(seed: 7)
        let x = Tensor.randn([6, 3, 4, 5], using: &rng).requiringGrad()
        let w = (Tensor.rand([3], using: &rng) + 0.5).requiringGrad()
        let b = Tensor.randn([3], using: &rng).requiringGrad()
        let r = Tensor.randn([6, 3, 4, 5], using: &rng).requiringGrad()
        let gy = Tensor.randn([6, 3, 4, 5], using: &rng)
        for training in [true, false] {
            let rm = Tensor([0.2, -0.1, 0.3]), rv = Tensor([1.5, 0.5, 2])
            for (residual, relu) in [(r, true), (nil, true), (r, false)] as [(Tensor?, Bool)] {
                let what = "training \(training), residual \(residual != nil), relu \(relu)"
                func bn() throws -> Tensor {
                    try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: training)
                }
                var separate = try bn()
                if let residual { separate = try separate + residual }
                if relu { separate = try separate.relu() }
                let fused = try x.batchNorm(weight: w, bias: b, runningMean: rm, runningVar: rv, training: training,
                                            residual: residual, relu: relu)
                assertAllClose(fused.scalars, doubles(separate), rtol: 1e-6, atol: 1e-6, "\(what): values")
                XCTAssertGreaterThan(fused.scalars.filter { $0 == 0 }.count, relu ? 100 : -1, "\(what): some rectified")
                let wrt = [x, w, b] + (residual.map { [$0] } ?? [])
                for createGraph in [false, true] {
                    let want = try gradients(of: separate, wrt: wrt, seed: gy, createGraph: createGraph)
                    let got = try gradients(of: fused, wrt: wrt, seed: gy, createGraph: createGraph)
                    for (i, (g, e)) in zip(got, want).enumerated() {
                        assertAllClose(g.scalars, doubles(e), rtol: 1e-5, atol: 1e-5, "\(what), graph \(createGraph): gradient \(i)")
                    }
                    XCTAssertEqual(got[0].requiresGrad, createGraph, "\(what): dx differentiable iff recorded")
                }
            }
        }
    }

    func testResidualReluEpilogueDerivatives() throws {
        // First and second derivatives by finite differences (the relu's kinks: none of the seeded
        // pre-activations lies within the step of 0).
        try checkDerivatives("batch norm + residual + relu", [sample([3, 2, 2, 3], seed: 2012, low: -2, high: 2),
                                                               sample([2], seed: 2013, low: 0.5, high: 1.5),
                                                               sample([2], seed: 2014), sample([3, 2, 2, 3], seed: 2015)], h: 1.0 / 512) {
            try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true,
                                residual: $0[3], relu: true)
        }
        let x = Tensor.zeros([2, 2, 2, 2]), wrong = Tensor.zeros([2, 2, 2, 1])
        XCTAssertThrowsError(try x.batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true,
                                             residual: wrong)) { error in
            XCTAssertTrue("\(error)".contains("residual of shape [2, 2, 2, 1]"), "\(error)")
        }
    }

    func testEvalDerivatives() throws {
        let rm = Tensor([0.5, -0.25]), rv = Tensor([2, 0.5])
        try checkDerivatives("batch norm eval", [sample([3, 2, 2, 2], seed: 2009), sample([2], seed: 2010, low: 0.5, high: 1.5), sample([2], seed: 2011)]) {
            try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: false)
        }
    }

    func testDropout() throws {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.ones([4000])
        let y = try x.dropout(0.25, using: &rng)
        let vals = y.scalars
        XCTAssertTrue(vals.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3) < 1e-6 }, "entries are 0 or 1/(1 − p)")
        let dropped = Double(vals.filter { $0 == 0 }.count) / 4000
        // Binomial(4000, 0.25): σ of the fraction ≈ 0.0068; 5σ bound.
        XCTAssertEqual(dropped, 0.25, accuracy: 0.035)
        // Same mask as the documented stream: element i is dropped when uniform() < p.
        var ref = RandomGenerator(seed: 5)
        XCTAssertEqual(vals.map { $0 == 0 }, (0..<4000).map { _ in ref.uniform() < 0.25 })
        XCTAssertTrue(try x.dropout(0.5, training: false, using: &rng) === x)
        XCTAssertTrue(try x.dropout(0, using: &rng) === x)
    }
}
