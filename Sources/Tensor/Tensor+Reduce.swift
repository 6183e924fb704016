// Reductions over any set of axes. Each maximal run of adjacent reduced axes is one pass of an
// (outer, reduced, inner) kernel, so NCHW statistics over (0, 2, 3) are two cache-friendly passes.

/// out[o, i] = Σ_r x[o, r, i]; contiguous sums (inner = 1) accumulate in Double for accuracy.
func sumKernel(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, reduced: Int, inner: Int) {
    if inner == 1 {
        parallelFor(outer, grain: Swift.max(1, (1 << 15) / Swift.max(reduced, 1))) { r in
            for o in r {
                let p = x + o * reduced
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                var j = 0
                while j + 4 <= reduced {
                    s0 += Double(p[j]); s1 += Double(p[j + 1]); s2 += Double(p[j + 2]); s3 += Double(p[j + 3])
                    j += 4
                }
                while j < reduced { s0 += Double(p[j]); j += 1 }
                out[o] = Float((s0 + s1) + (s2 + s3))
            }
        }
    } else {
        parallelFor(outer * inner, grain: 1 << 14) { r in
            // Split the flat (outer, inner) range into per-outer spans; accumulate whole rows at a time.
            var k = r.lowerBound
            while k < r.upperBound {
                let o = k / inner, i0 = k % inner
                let i1 = Swift.min(inner, i0 + (r.upperBound - k))
                let dst = out + o * inner
                var acc = [Double](repeating: 0, count: i1 - i0)
                acc.withUnsafeMutableBufferPointer { a in
                    for rr in 0..<reduced {
                        let src = x + (o * reduced + rr) * inner
                        for i in i0..<i1 { a[i - i0] += Double(src[i]) }
                    }
                    for i in i0..<i1 { dst[i] = Float(a[i - i0]) }
                }
                k += i1 - i0
            }
        }
    }
}

func maxKernel(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, reduced: Int, inner: Int) {
    for o in 0..<outer {
        let dst = out + o * inner
        dst.update(from: x + o * reduced * inner, count: inner)
        for rr in 1..<Swift.max(reduced, 1) {
            let src = x + (o * reduced + rr) * inner
            for i in 0..<inner where src[i] > dst[i] || src[i].isNaN { dst[i] = src[i] }
        }
    }
}

extension Tensor {
    func normalizeAxes(_ axes: [Int]?, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let norm = try axes.map { try normalizeAxis($0, op: op) }
        guard Set(norm).count == norm.count else { throw TensorError(op, "repeated axis in \(axes)") }
        return norm.sorted()
    }

    /// Applies a (outer, reduced, inner) kernel over each run of adjacent axes, last run first.
    func reduce(axes: [Int], op: String,
                _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void) -> Tensor {
        var cur = self.detached()
        var shp = shape
        var runs: [(Int, Int)] = []
        for a in axes {
            if let last = runs.last, last.1 == a { runs[runs.count - 1].1 = a + 1 } else { runs.append((a, a + 1)) }
        }
        for (lo, hi) in runs.reversed() {
            let outer = shp[..<lo].reduce(1, *), reduced = shp[lo..<hi].reduce(1, *), inner = shp[hi...].reduce(1, *)
            var newShape = shp
            for i in lo..<hi { newShape[i] = 1 }
            let out = Tensor(uninitializedShape: newShape)
            if reduced == 0 { out.ptr.initialize(repeating: 0, count: out.count) } else { kernel(cur.ptr, out.ptr, outer, reduced, inner) }
            cur = out
            shp = newShape
        }
        return cur
    }

    /// Sum over `axes` (all when nil); `keepDims` leaves reduced axes as size 1.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizeAxes(axes, op: "sum")
        let kept = reduce(axes: ax, op: "sum") { sumKernel($0, $1, outer: $2, reduced: $3, inner: $4) }
        let out = keepDims ? kept : Tensor(storage: kept.storage, shape: shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
        let keptShape = kept.shape, src = shape
        return Tensor.result(out, op: "sum", inputs: [self]) { g, _ in [try g.reshaped(keptShape).broadcast(to: src)] }
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizeAxes(axes, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return try sum(axes: ax, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// Variance over `axes`, unbiased (n − 1) by default as PyTorch.
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, unbiased: Bool = true) throws -> Tensor {
        let ax = try normalizeAxes(axes, op: "var")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let centered = try self - mean(axes: ax, keepDims: true)
        return try (centered * centered).sum(axes: ax, keepDims: keepDims) / Float(Swift.max(unbiased ? n - 1 : n, 1))
    }

    /// Maximum over `axes`; the gradient is shared equally among tied maxima (as PyTorch's amax).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizeAxes(axes, op: "max")
        guard count > 0 else { throw TensorError("max", "empty tensor of shape \(shapeText(shape))") }
        let kept = reduce(axes: ax, op: "max") { maxKernel($0, $1, outer: $2, reduced: $3, inner: $4) }
        let out = keepDims ? kept : Tensor(storage: kept.storage, shape: shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
        let keptShape = kept.shape, src = shape
        // Capture the maxima detached: with keepDims `kept` is `out`, which owns this node (a retain cycle).
        return Tensor.result(out, op: "max", inputs: [self]) { [kept = kept.detached()] g, _ in
            let hit = try self.detached().eq(kept)
            let ties = try hit.sum(axes: ax, keepDims: true)
            return [try g.reshaped(keptShape).broadcast(to: src) * (try hit / ties)]
        }
    }

    /// Index of the maximum along `axis` (first one on ties), as whole-number floats; no gradient.
    public func argmax(axis: Int) throws -> Tensor {
        let ax = try normalizeAxis(axis, op: "argmax")
        guard rank > 0, shape[ax] > 0 else { throw TensorError("argmax", "empty axis in \(shapeText(shape))") }
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        outShape.remove(at: ax)
        let out = Tensor(uninitializedShape: outShape)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = ptr[o * n * inner + i], bi = 0
                for k in 1..<n {
                    let v = ptr[(o * n + k) * inner + i]
                    if v > best || (v.isNaN && !best.isNaN) { best = v; bi = k }
                }
                out.ptr[o * inner + i] = Float(bi)
            }
        }
        return out
    }
}

extension Tensor {
    /// Σ self ⊙ other over all elements (same shapes), as a scalar; differentiable in both.
    public func dot(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError("dot", "shapes \(shapeText(shape)) and \(shapeText(other.shape)) differ")
        }
        let pa = ptr, pb = other.ptr
        var total = 0.0
        var j = 0
        while j + 4 <= count {
            total += Double(pa[j]) * Double(pb[j]) + Double(pa[j + 1]) * Double(pb[j + 1])
                + Double(pa[j + 2]) * Double(pb[j + 2]) + Double(pa[j + 3]) * Double(pb[j + 3])
            j += 4
        }
        while j < count { total += Double(pa[j]) * Double(pb[j]); j += 1 }
        let out = Tensor(scalar: Float(total))
        return Tensor.result(out, op: "dot", inputs: [self, other]) { g, needs in
            [needs[0] ? try other * g : nil, needs[1] ? try self * g : nil]
        }
    }
}
