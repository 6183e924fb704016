import Foundation
import XCTest
@testable import Tensor

/// conv2d, max/avg pooling and global average pooling: forward against direct Float64 loops written
/// here, derivatives (first and second) against finite differences.
final class ConvPoolTests: XCTestCase {

    // MARK: References

    /// Pooling windows over padded planes; `combine` sees only the in-bounds values of each window.
    func referencePool(_ x: Tensor, kernel k: Int, stride s: Int, padding p: Int, _ combine: ([Double]) -> Double) -> (shape: [Int], values: [Double]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        let xv = doubles(x)
        var out: [Double] = []
        for plane in 0..<(n * c) {
            for i in 0..<ho {
                for j in 0..<wo {
                    var window: [Double] = []
                    for a in 0..<k {
                        for b in 0..<k {
                            let y = i * s - p + a, xx = j * s - p + b
                            if y >= 0 && y < h && xx >= 0 && xx < w { window.append(xv[(plane * h + y) * w + xx]) }
                        }
                    }
                    out.append(combine(window))
                }
            }
        }
        return ([n, c, ho, wo], out)
    }

    // (input shape, weight shape, stride, padding)
    let convConfigs: [([Int], [Int], Int, Int)] = [
        ([2, 2, 5, 4], [3, 2, 3, 3], 1, 0),   // non-square input
        ([2, 2, 5, 4], [3, 2, 3, 3], 1, 1),
        ([1, 3, 6, 5], [2, 3, 3, 3], 2, 1),
        ([2, 2, 7, 6], [2, 2, 3, 3], 2, 0),
        ([2, 3, 4, 3], [4, 3, 1, 1], 1, 0),   // 1×1 (pointwise path, no im2col)
        ([2, 3, 5, 4], [2, 3, 1, 1], 2, 0),   // 1×1 with stride 2 (im2col path)
        ([2, 2, 7, 8], [3, 2, 2, 2], 2, 0),   // windows that do not overlap: dx written in place
        ([1, 2, 7, 7], [2, 2, 2, 3], 3, 0),
        ([1, 2, 4, 5], [3, 2, 2, 3], 1, 1),   // non-square kernel
        ([3, 1, 5, 5], [2, 1, 5, 5], 1, 2),   // kernel as large as the input
        ([1, 2, 2, 1], [2, 2, 1, 6], 1, 3),   // padding wider than the output row
    ]

    func testConvForwardAgainstDirectLoops() throws {
        for (i, (xs, ws, s, p)) in convConfigs.enumerated() {
            let x = sample(xs, seed: UInt64(800 + i)), w = sample(ws, seed: UInt64(900 + i))
            let ref = referenceConv(x, w, stride: s, padding: p)
            let y = try x.conv2d(w, stride: s, padding: p)
            assertClose(y, ref.values, shape: ref.shape, tol: 1e-5, "conv \(xs) * \(ws) stride \(s) padding \(p)")
        }
    }

    func testConvForwardMultithreadedAndManyChannels() throws {
        let saved = Parallelism.workers
        Parallelism.workers = 4
        defer { Parallelism.workers = saved }
        for (xs, ws, s, p) in [([3, 8, 9, 7], [5, 8, 3, 3], 1, 1), ([2, 6, 8, 8], [4, 6, 3, 3], 2, 1), ([2, 11, 3, 1], [3, 11, 1, 6], 1, 3)] {
            let x = sample(xs, seed: 850), w = sample(ws, seed: 851)
            let ref = referenceConv(x, w, stride: s, padding: p)
            assertClose(try x.conv2d(w, stride: s, padding: p), ref.values, shape: ref.shape, tol: 1e-5, "conv \(xs) * \(ws)")
            // And the input/weight gradients agree with the single-threaded run.
            let px = x.copy().requiringGrad(), pw = w.copy().requiringGrad()
            let seedT = sample(ref.shape, seed: 852)
            let g4 = try gradients(of: try px.conv2d(pw, stride: s, padding: p), wrt: [px, pw], seed: seedT)
            Parallelism.workers = 1
            let g1 = try gradients(of: try px.conv2d(pw, stride: s, padding: p), wrt: [px, pw], seed: seedT)
            Parallelism.workers = 4
            for k in 0..<2 { assertClose(g4[k].scalars, doubles(g1[k]), tol: 1e-6, "threads vs one, grad \(k)") }
        }
    }

    func testConvSplitIntoGroupsAndWorkers() throws {
        // A tiny im2col budget makes groups of one and two images inside each worker's share of the
        // batch (and single-image groups skip the regrouping copies); every split gives the same values.
        let savedBudget = ConvGeometry.budget, savedWorkers = Parallelism.workers
        defer { ConvGeometry.budget = savedBudget; Parallelism.workers = savedWorkers }
        for (xs, ws, s, p) in [([7, 3, 6, 5], [4, 3, 3, 3], 1, 1), ([5, 2, 7, 6], [3, 2, 3, 3], 2, 1), ([5, 4, 6, 6], [2, 4, 1, 1], 2, 0)] {
            let x = sample(xs, seed: 860).requiringGrad(), w = sample(ws, seed: 861).requiringGrad()
            let ref = referenceConv(x, w, stride: s, padding: p)
            let seedT = sample(ref.shape, seed: 862)
            var first: [Tensor]? = nil
            for (budget, workers) in [(1 << 20, 1), (1, 2), (2 * ws[1] * ws[2] * ws[3] * ref.shape[2] * ref.shape[3], 3)] {
                ConvGeometry.budget = budget
                Parallelism.workers = workers
                let y = try x.conv2d(w, stride: s, padding: p)
                assertClose(y, ref.values, shape: ref.shape, tol: 1e-5, "conv \(xs) * \(ws), budget \(budget), \(workers) workers")
                let g = try gradients(of: y, wrt: [x, w], seed: seedT)
                if let first {
                    for k in 0..<2 { assertClose(g[k].scalars, doubles(first[k]), tol: 1e-6, "gradient \(k), budget \(budget), \(workers) workers") }
                } else {
                    first = g
                }
            }
        }
    }

    func testConvDerivatives() throws {
        for (i, (xs, ws, s, p)) in convConfigs.enumerated() {
            let x = sample(xs, seed: UInt64(1000 + i)), w = sample(ws, seed: UInt64(1100 + i), low: -0.5, high: 0.5)
            try checkDerivatives("conv \(xs) * \(ws) stride \(s) padding \(p)", [x, w]) {
                try $0[0].conv2d($0[1], stride: s, padding: p)
            }
        }
    }

    func testConvWithSharedWeightAndBias() throws {
        // Two convolutions with the same weight (gradients accumulate) and a per-channel bias.
        try checkDerivatives("conv∘tanh∘conv", [sample([1, 2, 5, 5], seed: 1200), sample([2, 2, 3, 3], seed: 1201, low: -0.5, high: 0.5),
                                                sample([1, 2, 1, 1], seed: 1202)]) { v in
            let h = try (try v[0].conv2d(v[1], padding: 1) + v[2]).tanh()
            return try h.conv2d(v[1], stride: 2)
        }
    }

    // MARK: Pooling

    let poolConfigs: [([Int], Int, Int?, Int)] = [
        ([2, 2, 4, 4], 2, nil, 0),
        ([1, 2, 5, 6], 3, 2, 1),   // overlapping windows with padding
        ([1, 3, 5, 4], 3, 1, 1),
        ([2, 1, 5, 5], 2, 1, 0),
        ([1, 2, 6, 3], 2, 3, 1),
    ]

    func testMaxPoolForward() throws {
        for (i, (xs, k, s, p)) in poolConfigs.enumerated() {
            let x = sample(xs, seed: UInt64(1300 + i), low: -2, high: 2)
            let ref = referencePool(x, kernel: k, stride: s ?? k, padding: p) { $0.max()! }
            assertClose(try x.maxPool2d(kernel: k, stride: s, padding: p), ref.values, shape: ref.shape, tol: 0, "max pool \(xs) k\(k) s\(s ?? k) p\(p)")
        }
        // Padding counts as −∞: an all-negative input stays negative at the borders.
        let neg = Tensor.full(-3, shape: [1, 1, 2, 2])
        XCTAssertEqual(try neg.maxPool2d(kernel: 2, stride: 1, padding: 1).scalars, [Float](repeating: -3, count: 9))
    }

    func testAvgPoolForward() throws {
        for (i, (xs, k, s, p)) in poolConfigs.enumerated() {
            let x = sample(xs, seed: UInt64(1400 + i), low: -2, high: 2)
            // count_include_pad: the divisor is always k², padded cells count as zeros.
            let ref = referencePool(x, kernel: k, stride: s ?? k, padding: p) { $0.reduce(0, +) / Double(k * k) }
            assertClose(try x.avgPool2d(kernel: k, stride: s, padding: p), ref.values, shape: ref.shape, tol: 1e-6, "avg pool \(xs) k\(k) s\(s ?? k) p\(p)")
        }
        // A hand-sized case: 2×2 of ones, kernel 2, stride 1, padding 1 → corners see 1 cell in 4.
        let ones = Tensor.ones([1, 1, 2, 2])
        XCTAssertEqual(try ones.avgPool2d(kernel: 2, stride: 1, padding: 1).scalars, [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
    }

    func testGlobalAvgPool() throws {
        let x = sample([2, 3, 4, 5], seed: 1500)
        let ref = referenceReduce(x, axes: [2, 3], initial: 0, +)
        assertClose(try x.globalAvgPool(), ref.values.map { $0 / 20 }, shape: [2, 3], tol: 1e-6, "global avg pool")
        try checkDerivatives("global avg pool", [x]) { try $0[0].globalAvgPool() }
    }

    func testPoolDerivatives() throws {
        for (i, (xs, k, s, p)) in poolConfigs.enumerated() {
            // Distinct values 0.125 apart: no ties, and every step stays on the same argmax.
            let xd = distinct(xs, seed: UInt64(1600 + i))
            try checkDerivatives("max pool \(xs) k\(k) s\(s ?? k) p\(p)", [xd]) { try $0[0].maxPool2d(kernel: k, stride: s, padding: p) }
            let x = sample(xs, seed: UInt64(1700 + i))
            try checkDerivatives("avg pool \(xs) k\(k) s\(s ?? k) p\(p)", [x]) { try $0[0].avgPool2d(kernel: k, stride: s, padding: p) }
        }
        // Pooling inside a smooth function (second derivative through the scatter/gather pair).
        try checkDerivatives("tanh(maxpool(x²))", [distinct([1, 2, 4, 4], seed: 1800, spacing: 0.0625)]) {
            try (try $0[0] * $0[0]).maxPool2d(kernel: 2).tanh()
        }
        try checkDerivatives("conv→avgpool", [sample([1, 2, 6, 6], seed: 1801), sample([2, 2, 3, 3], seed: 1802, low: -0.5, high: 0.5)]) {
            try $0[0].conv2d($0[1], padding: 1).avgPool2d(kernel: 2)
        }
    }

    func testMaxPoolGradientRoutesToArgmax() throws {
        let x = Tensor([1, 5, 2, 0,
                        3, 4, 8, 7,
                        9, 0, 1, 1,
                        2, 6, 3, 2], shape: [1, 1, 4, 4]).requiringGrad()
        let y = try x.maxPool2d(kernel: 2)
        XCTAssertEqual(y.scalars, [5, 8, 9, 3])
        let g = try gradients(of: y, wrt: [x], seed: Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2]))[0]
        XCTAssertEqual(g.scalars, [0, 1, 0, 0,
                                   0, 0, 2, 0,
                                   3, 0, 0, 0,
                                   0, 0, 4, 0])
    }
}
