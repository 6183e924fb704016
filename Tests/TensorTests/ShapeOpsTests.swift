import Foundation
import XCTest
@testable import Tensor

/// Reductions (sum, mean, max, variance) and shape ops (reshape, permute, transpose, slice,
/// gather, concat, stack, broadcast, sumTo): values against Float64 references written out here,
/// and first and second derivatives against finite differences.
final class ReductionTests: XCTestCase {
    let axesCases: [[Int]?] = [nil, [0], [1], [2], [-1], [0, 2], [0, 1], [1, 2], [0, 1, 2], [-3, -1]]

    func normalized(_ axes: [Int]?, rank: Int) -> [Int] {
        (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }.sorted()
    }

    func outShape(_ shape: [Int], _ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    func testSumMeanValues() throws {
        let x = sample([2, 3, 4], seed: 400)
        for axes in axesCases {
            for keep in [false, true] {
                let ax = normalized(axes, rank: 3)
                let ref = referenceReduce(x, axes: ax, initial: 0, +)
                let n = Double(ax.reduce(1) { $0 * x.shape[$1] })
                let s = try x.sum(axes: axes, keepDims: keep)
                assertClose(s, ref.values, shape: outShape(x.shape, ax, keepDims: keep), tol: 1e-6, "sum \(String(describing: axes)) keep \(keep)")
                let m = try x.mean(axes: axes, keepDims: keep)
                assertClose(m, ref.values.map { $0 / n }, shape: outShape(x.shape, ax, keepDims: keep), tol: 1e-6, "mean \(String(describing: axes))")
            }
        }
        XCTAssertEqual(try x.sum().shape, [])
        XCTAssertEqual(try x.sum().item(), Float(doubles(x).reduce(0, +)), accuracy: 1e-5)
    }

    func testMaxValues() throws {
        let x = sample([2, 3, 4], seed: 401)
        for axes in axesCases {
            for keep in [false, true] {
                let ax = normalized(axes, rank: 3)
                let ref = referenceReduce(x, axes: ax, initial: -.infinity, Swift.max)
                assertClose(try x.max(axes: axes, keepDims: keep), ref.values, shape: outShape(x.shape, ax, keepDims: keep), tol: 0,
                            "max \(String(describing: axes))")
            }
        }
    }

    func testVarianceValues() throws {
        let x = sample([3, 4, 2], seed: 402, low: -2, high: 2)
        for axes in axesCases {
            for unbiased in [true, false] {
                let ax = normalized(axes, rank: 3)
                let n = Double(ax.reduce(1) { $0 * x.shape[$1] })
                let sums = referenceReduce(x, axes: ax, initial: 0, +)
                // Second pass: Σ (x − mean)² per output cell.
                var ss = [Double](repeating: 0, count: sums.values.count)
                let xv = doubles(x)
                for i in 0..<x.count {
                    var idx = multiIndex(i, x.shape)
                    for a in ax { idx[a] = 0 }
                    let o = flatIndex(idx, sums.shape)
                    let d = xv[i] - sums.values[o] / n
                    ss[o] += d * d
                }
                let want = ss.map { $0 / (unbiased ? n - 1 : n) }
                assertClose(try x.variance(axes: axes, unbiased: unbiased), want, shape: outShape(x.shape, ax, keepDims: false),
                            tol: 1e-5, "var \(String(describing: axes)) unbiased \(unbiased)")
                XCTAssertEqual(try x.variance(axes: axes, keepDims: true, unbiased: unbiased).shape, sums.shape)
            }
        }
    }

    func testMaxGradientSplitsTies() throws {
        // As PyTorch's amax: tied maxima share the gradient equally.
        let x = Tensor([1, 3, 3, 2, 5, 5, 5, 0], shape: [2, 4]).requiringGrad()
        let g = try gradients(of: try x.max(axes: [1]).sum(), wrt: [x])[0]
        assertAllClose(g.scalars, [0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0], "ties")
    }

    func testArgmax() throws {
        // Rows [1, 4, 4] (a tie: the first wins) and [2, 9, 0].
        let x = Tensor([1, 4, 4, 2, 9, 0], shape: [2, 3])
        XCTAssertEqual(try x.argmax(axis: 1).scalars, [1, 1])
        XCTAssertEqual(try x.argmax(axis: 0).scalars, [1, 1, 0])
        XCTAssertEqual(try x.argmax(axis: -1).shape, [2])
    }

    func testLargeSumAccumulatesAccurately() throws {
        // 2¹⁸ copies of 0.1 (the Float32 nearest): a naive Float32 running sum drifts by ~1e-3 relative.
        let n = 1 << 18
        let x = Tensor.full(0.1, shape: [n])
        let s = try x.sum().item()
        XCTAssertEqual(Double(s), Double(Float(0.1)) * Double(n), accuracy: 1e-6 * Double(n) * 0.1)
        let y = Tensor.full(0.1, shape: [512, 512])
        let s0 = try y.sum(axes: [0]).scalars
        XCTAssertEqual(Double(s0[17]), Double(Float(0.1)) * 512, accuracy: 1e-4)
    }

    // MARK: Derivatives

    func testSumMeanDerivatives() throws {
        let x = sample([2, 3, 4], seed: 403)
        for axes in axesCases {
            for keep in [false, true] {
                try checkDerivatives("sum \(String(describing: axes)) keep \(keep)", [x]) { try $0[0].sum(axes: axes, keepDims: keep) }
            }
            try checkDerivatives("mean \(String(describing: axes))", [x]) { try $0[0].mean(axes: axes) }
        }
        try checkDerivatives("mean keepDims", [x]) { try $0[0].mean(axes: [0, 2], keepDims: true) }
    }

    func testMaxDerivatives() throws {
        let x = distinct([2, 3, 4], seed: 404)
        for axes in axesCases {
            try checkDerivatives("max \(String(describing: axes))", [x]) { try $0[0].max(axes: axes) }
        }
        try checkDerivatives("max keepDims", [x]) { try $0[0].max(axes: [1], keepDims: true) }
        try checkDerivatives("max·x", [x]) { xs in try (xs[0] - xs[0].max(axes: [2], keepDims: true)).exp() }
    }

    func testVarianceDerivatives() throws {
        let x = sample([3, 2, 4], seed: 405)
        try checkDerivatives("var all", [x]) { try $0[0].variance() }
        try checkDerivatives("var [0]", [x]) { try $0[0].variance(axes: [0]) }
        try checkDerivatives("var [0,2] biased keep", [x]) { try $0[0].variance(axes: [0, 2], keepDims: true, unbiased: false) }
        try checkDerivatives("var [-1]", [x]) { try $0[0].variance(axes: [-1]) }
    }
}

final class ShapeOpsTests: XCTestCase {
    func testReshapeValuesAndInference() throws {
        let x = sample([2, 3, 4], seed: 410)
        let y = try x.reshaped([4, -1])
        XCTAssertEqual(y.shape, [4, 6])
        XCTAssertEqual(y.scalars, x.scalars)
        XCTAssertEqual(try x.reshaped([-1]).shape, [24])
        XCTAssertEqual(x.flattened().shape, [24])
        XCTAssertEqual(try Tensor([5]).reshaped([]).shape, [])
        try checkDerivatives("reshape", [x]) { try $0[0].reshaped([6, 4]) }
        try checkDerivatives("reshape -1", [x]) { try $0[0].reshaped([2, -1, 2]) }
        try checkDerivatives("flatten", [x]) { $0[0].flattened() }
    }

    func testDescriptionShowsShapeAndValues() throws {
        XCTAssertEqual(Tensor([1, 2, 3, 4], shape: [2, 2]).description, "tensor([2, 2]) [1, 2, 3, 4]")
        XCTAssertEqual(Tensor(scalar: 0.5).description, "tensor([]) [0.5]")
        // More than 12 values: the first six, an ellipsis, the last three.
        XCTAssertEqual(try Tensor.arange(0, 20).description, "tensor([20]) [0, 1, 2, 3, 4, 5, …, 17, 18, 19]")
    }

    func testPermuteValues() throws {
        let x = sample([2, 3, 4], seed: 411)
        let xv = doubles(x)
        for order in [[0, 1, 2], [2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0]] {
            let y = try x.permuted(order)
            let outShape = order.map { x.shape[$0] }
            XCTAssertEqual(y.shape, outShape)
            // y[i0, i1, i2] = x[j] where j[order[d]] = i[d].
            let want = (0..<x.count).map { flat -> Double in
                let i = multiIndex(flat, outShape)
                var j = [0, 0, 0]
                for d in 0..<3 { j[order[d]] = i[d] }
                return xv[flatIndex(j, x.shape)]
            }
            assertClose(y, want, tol: 0, "permute \(order)")
            try checkDerivatives("permute \(order)", [x]) { try $0[0].permuted(order) }
        }
    }

    func testTransposeValues() throws {
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let t = try m.transposed()
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertEqual(t.scalars, [1, 4, 2, 5, 3, 6])
        let x = sample([2, 3, 4], seed: 412)
        XCTAssertEqual(try x.transposed(0, 2).shape, [4, 3, 2])
        XCTAssertEqual(try x.transposed(0, 2).scalars, try x.permuted([2, 1, 0]).scalars)
        XCTAssertEqual(try x.transposed().scalars, try x.permuted([0, 2, 1]).scalars)
        try checkDerivatives("transpose", [x]) { try $0[0].transposed() }
        try checkDerivatives("transpose 0,1", [x]) { try $0[0].transposed(0, 1) }
    }

    func testLargePermuteMatchesReference() throws {
        let saved = Parallelism.workers
        Parallelism.workers = 3
        defer { Parallelism.workers = saved }
        let x = sample([16, 40, 30, 7], seed: 413)
        let xv = doubles(x)
        let order = [2, 0, 3, 1]
        let y = try x.permuted(order)
        let outShape = order.map { x.shape[$0] }
        var wrong = 0
        for flat in stride(from: 0, to: y.count, by: 7) {
            let i = multiIndex(flat, outShape)
            var j = [0, 0, 0, 0]
            for d in 0..<4 { j[order[d]] = i[d] }
            if Double(y.scalars[flat]) != xv[flatIndex(j, x.shape)] { wrong += 1 }
        }
        XCTAssertEqual(wrong, 0)
    }

    func testNarrowAndSlice() throws {
        let x = sample([4, 3, 5], seed: 414)
        let xv = doubles(x)
        for (axis, start, length) in [(0, 1, 2), (1, 0, 1), (2, 2, 3), (-1, 0, 4), (1, 1, 2)] {
            let ax = axis < 0 ? axis + 3 : axis
            let y = try x.narrowed(axis: axis, start: start, length: length)
            var outShape = x.shape
            outShape[ax] = length
            let want = (0..<outShape.reduce(1, *)).map { flat -> Double in
                var i = multiIndex(flat, outShape)
                i[ax] += start
                return xv[flatIndex(i, x.shape)]
            }
            assertClose(y, want, shape: outShape, tol: 0, "narrow \(axis) \(start) \(length)")
            try checkDerivatives("narrow \(axis) \(start) \(length)", [x]) { try $0[0].narrowed(axis: axis, start: start, length: length) }
        }
        let s = try x.slice(1..<3)
        XCTAssertEqual(s.shape, [2, 3, 5])
        XCTAssertEqual(s.scalars, Array(x.scalars[15..<45]))
        try checkDerivatives("slice", [x]) { try $0[0].slice(2..<4) }
        try checkDerivatives("empty slice + full", [x]) { xs in
            try Tensor.concat([xs[0].slice(0..<0), xs[0].slice(0..<4)])
        }
    }

    func testGatherWithRepeatsAccumulates() throws {
        let x = sample([4, 3], seed: 415)
        let xv = doubles(x)
        let idx = [2, 0, 2, 3, 2, -1]
        let y = try x.gather(idx)
        XCTAssertEqual(y.shape, [6, 3])
        let want = idx.flatMap { i -> [Double] in let r = i < 0 ? i + 4 : i; return Array(xv[(r * 3)..<(r * 3 + 3)]) }
        assertClose(y, want, tol: 0, "gather")
        // d/dx Σ gather(x) = how many times each row was picked (row 2 three times, row 3 twice, row 1 never).
        let p = x.copy().requiringGrad()
        let g = try gradients(of: try p.gather(idx).sum(), wrt: [p])[0]
        XCTAssertEqual(g.scalars, [1, 1, 1, 0, 0, 0, 3, 3, 3, 2, 2, 2])
        try checkDerivatives("gather repeats", [x]) { try $0[0].gather(idx) }
        try checkDerivatives("gather 3-D", [sample([3, 2, 2], seed: 416)]) { try $0[0].gather([1, 1, 0]) }
    }

    func testConcat() throws {
        let a = sample([2, 3], seed: 417), b = sample([1, 3], seed: 418), c = sample([3, 3], seed: 419)
        let y0 = try Tensor.concat([a, b, c], axis: 0)
        XCTAssertEqual(y0.shape, [6, 3])
        XCTAssertEqual(y0.scalars, a.scalars + b.scalars + c.scalars)
        try checkDerivatives("concat 0", [a, b, c]) { try Tensor.concat($0, axis: 0) }

        let d = sample([2, 1], seed: 420), e = sample([2, 4], seed: 421)
        let y1 = try Tensor.concat([a, d, e], axis: 1)
        XCTAssertEqual(y1.shape, [2, 8])
        let av = a.scalars, dv = d.scalars, ev = e.scalars
        XCTAssertEqual(y1.scalars, Array(av[0..<3]) + [dv[0]] + Array(ev[0..<4]) + Array(av[3..<6]) + [dv[1]] + Array(ev[4..<8]))
        try checkDerivatives("concat 1", [a, d, e]) { try Tensor.concat($0, axis: 1) }
        try checkDerivatives("concat -1 3-D", [sample([2, 2, 1], seed: 422), sample([2, 2, 3], seed: 423)]) { try Tensor.concat($0, axis: -1) }
        // The same tensor twice: gradients add up.
        try checkDerivatives("concat x,x", [a]) { try Tensor.concat([$0[0], $0[0]], axis: 1) }
    }

    func testStack() throws {
        let a = sample([2, 3], seed: 424), b = sample([2, 3], seed: 425)
        let s0 = try Tensor.stack([a, b])
        XCTAssertEqual(s0.shape, [2, 2, 3])
        XCTAssertEqual(s0.scalars, a.scalars + b.scalars)
        let s2 = try Tensor.stack([a, b], axis: -1)
        XCTAssertEqual(s2.shape, [2, 3, 2])
        XCTAssertEqual(s2.scalars, zip(a.scalars, b.scalars).flatMap { [$0, $1] })
        let s1 = try Tensor.stack([a, b], axis: 1)
        XCTAssertEqual(s1.shape, [2, 2, 3])
        XCTAssertEqual(s1.scalars, Array(a.scalars[0..<3]) + Array(b.scalars[0..<3]) + Array(a.scalars[3..<6]) + Array(b.scalars[3..<6]))
        for axis in [0, 1, 2, -1] {
            try checkDerivatives("stack \(axis)", [a, b, sample([2, 3], seed: 426)]) { try Tensor.stack($0, axis: axis) }
        }
    }

    func testBroadcastToAndSumTo() throws {
        let x = sample([3, 1], seed: 427)
        let y = try x.broadcast(to: [2, 3, 4])
        XCTAssertEqual(y.shape, [2, 3, 4])
        let xv = doubles(x)
        assertClose(y, (0..<24).map { broadcastRead(xv, [3, 1], at: multiIndex($0, [2, 3, 4])) }, tol: 0, "broadcast")
        try checkDerivatives("broadcast [3,1]→[2,3,4]", [x]) { try $0[0].broadcast(to: [2, 3, 4]) }
        try checkDerivatives("broadcast []→[2,2]", [sample([], seed: 428)]) { try $0[0].broadcast(to: [2, 2]) }
        try checkDerivatives("broadcast [1,3]→[1,3]", [sample([1, 3], seed: 429)]) { try $0[0].broadcast(to: [1, 3]) }

        let z = sample([2, 3, 4], seed: 430)
        for target in [[3, 1], [4], [1, 4], [2, 1, 4], [1, 1, 1], [], [3, 4], [2, 3, 4]] {
            let s = try z.sumTo(target)
            XCTAssertEqual(s.shape, target)
            // Σ over the source cells that broadcast onto each target cell.
            var want = [Double](repeating: 0, count: target.reduce(1, *))
            let zv = doubles(z)
            for i in 0..<z.count {
                let idx = multiIndex(i, z.shape)
                let lead = 3 - target.count
                let t = (0..<target.count).map { target[$0] == 1 ? 0 : idx[lead + $0] }
                want[flatIndex(t, target)] += zv[i]
            }
            assertClose(s, want, tol: 1e-6, "sumTo \(target)")
            try checkDerivatives("sumTo \(target)", [z]) { try $0[0].sumTo(target) }
        }
    }
}
