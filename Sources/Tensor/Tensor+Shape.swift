extension Tensor {
    /// Same values, new shape (shares storage). One dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var shape = newShape
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        let holes = shape.filter { $0 == -1 }.count
        if holes > 1 || shape.contains(where: { $0 < -1 }) {
            throw TensorError("reshape", "invalid target shape \(shapeText(newShape))")
        }
        if holes == 1, let i = shape.firstIndex(of: -1) {
            guard known > 0, count % known == 0 else {
                throw TensorError("reshape", "cannot reshape \(shapeText(self.shape)) to \(shapeText(newShape))")
            }
            shape[i] = count / known
        }
        guard shape.reduce(1, *) == count else {
            throw TensorError("reshape", "cannot reshape \(shapeText(self.shape)) (\(count) elements) to \(shapeText(newShape))")
        }
        if shape == self.shape { return self }
        let src = self.shape
        return Tensor.result(Tensor(storage: storage, shape: shape), op: "reshape", inputs: [self]) { g, _ in
            [try g.reshaped(src)]
        }
    }

    /// A 1-D view of all the values.
    public func flattened() -> Tensor {
        // count always matches, so this cannot fail.
        (try? reshaped([count])) ?? self
    }

    /// Reorders the axes: result axis i is input axis `order[i]` (a copy).
    public func permuted(_ order: [Int]) throws -> Tensor {
        guard order.count == rank, Set(order) == Set(0..<rank) else {
            throw TensorError("permute", "order \(order) is not a permutation of the \(rank) axes of \(shapeText(shape))")
        }
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = order.map { inStrides[$0] }
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        let rows = count / Swift.max(inner, 1)
        let src = ptr, dst = out.ptr
        parallelFor(rows, grain: Swift.max(1, 4096 / Swift.max(inner, 1))) { r in
            for row in r {
                var rem = row, off = 0
                for d in stride(from: rank - 2, through: 0, by: -1) {
                    off += (rem % outShape[d]) * strides[d]; rem /= outShape[d]
                }
                let o = dst + row * inner
                for j in 0..<inner { o[j] = src[off + j * innerStride] }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.result(out, op: "permute", inputs: [self]) { g, _ in [try g.permuted(inverse)] }
    }

    /// Swaps two axes (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        guard rank >= 2 else { throw TensorError("transpose", "needs at least 2 axes, got \(shapeText(shape))") }
        let i = try normalizeAxis(a, op: "transpose"), j = try normalizeAxis(b, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(i, j)
        return try permuted(order)
    }

    func normalizeAxis(_ axis: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw TensorError(op, "axis \(axis) out of range for shape \(shapeText(shape))")
        }
        return a
    }

    /// Elements `start ..< start + length` along `axis` (a copy).
    public func narrowed(axis: Int, start: Int, length: Int) throws -> Tensor {
        let ax = try normalizeAxis(axis, op: "slice")
        guard rank > 0, start >= 0, length >= 0, start + length <= shape[ax] else {
            throw TensorError("slice", "range \(start)..<\(start + length) out of bounds for axis \(ax) of \(shapeText(shape))")
        }
        if start == 0 && length == shape[ax] { return self }
        var outShape = shape
        outShape[ax] = length
        let out = Tensor(uninitializedShape: outShape)
        let inner = shape[(ax + 1)...].reduce(1, *)
        let outer = shape[..<ax].reduce(1, *)
        let full = shape[ax]
        for o in 0..<outer {
            (out.ptr + o * length * inner).update(from: ptr + (o * full + start) * inner, count: length * inner)
        }
        let srcShape = shape
        return Tensor.result(out, op: "slice", inputs: [self]) { g, _ in
            [try g.padded(axis: ax, start: start, fullShape: srcShape)]
        }
    }

    /// The transpose of `narrowed`: places self at `start` along `axis` in zeros of `fullShape`.
    func padded(axis ax: Int, start: Int, fullShape: [Int]) throws -> Tensor {
        let out = Tensor(storage: Storage(zeros: fullShape.reduce(1, *)), shape: fullShape)
        let inner = fullShape[(ax + 1)...].reduce(1, *)
        let outer = fullShape[..<ax].reduce(1, *)
        let full = fullShape[ax], length = shape[ax]
        for o in 0..<outer {
            (out.ptr + (o * full + start) * inner).update(from: ptr + o * length * inner, count: length * inner)
        }
        return Tensor.result(out, op: "pad", inputs: [self]) { g, _ in
            [try g.narrowed(axis: ax, start: start, length: length)]
        }
    }

    /// Rows `range` along the first axis.
    public func slice(_ range: Range<Int>) throws -> Tensor {
        try narrowed(axis: 0, start: range.lowerBound, length: range.count)
    }

    /// Rows picked by index along the first axis (repeats allowed; negatives count from the end).
    public func gather(_ indices: [Int]) throws -> Tensor {
        guard rank > 0 else { throw TensorError("gather", "cannot index a scalar") }
        let n = shape[0]
        var idx = indices
        for (k, i) in indices.enumerated() {
            let j = i < 0 ? i + n : i
            guard j >= 0 && j < n else {
                throw TensorError("gather", "index \(i) out of range for first axis of \(shapeText(shape))")
            }
            idx[k] = j
        }
        return rowGather(idx)
    }

    func rowGather(_ idx: [Int]) -> Tensor {
        let inner = count / Swift.max(shape[0], 1)
        var outShape = shape
        outShape[0] = idx.count
        let out = Tensor(uninitializedShape: outShape)
        for (k, i) in idx.enumerated() { (out.ptr + k * inner).update(from: ptr + i * inner, count: inner) }
        let n = shape[0]
        return Tensor.result(out, op: "gather", inputs: [self]) { g, _ in [g.rowScatterAdd(idx, rows: n)] }
    }

    /// The transpose of `rowGather`: adds row k of self into row idx[k] of zeros.
    func rowScatterAdd(_ idx: [Int], rows: Int) -> Tensor {
        let inner = count / Swift.max(shape[0], 1)
        var outShape = shape
        outShape[0] = rows
        let out = Tensor(storage: Storage(zeros: rows * inner), shape: outShape)
        for (k, i) in idx.enumerated() {
            let o = out.ptr + i * inner, s = ptr + k * inner
            for j in 0..<inner { o[j] += s[j] }
        }
        return Tensor.result(out, op: "scatter_add", inputs: [self]) { g, _ in [g.rowGather(idx)] }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ parts: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = parts.first else { throw TensorError("concat", "no tensors to join") }
        let ax = try first.normalizeAxis(axis, op: "concat")
        for p in parts where p.rank != first.rank || (0..<first.rank).contains(where: { $0 != ax && p.shape[$0] != first.shape[$0] }) {
            throw TensorError("concat", "shapes \(parts.map { shapeText($0.shape) }.joined(separator: ", ")) differ off axis \(ax)")
        }
        var outShape = first.shape
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let out = Tensor(uninitializedShape: outShape)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        let outer = first.shape[..<ax].reduce(1, *)
        var start = 0
        var starts: [Int] = []
        for p in parts {
            starts.append(start)
            let len = p.shape[ax]
            for o in 0..<outer {
                (out.ptr + (o * outShape[ax] + start) * inner).update(from: p.ptr + o * len * inner, count: len * inner)
            }
            start += len
        }
        return result(out, op: "concat", inputs: parts) { g, needs in
            try parts.indices.map { i in
                needs[i] ? try g.narrowed(axis: ax, start: starts[i], length: parts[i].shape[ax]) : nil
            }
        }
    }

    /// Stacks same-shaped tensors along a new axis.
    public static func stack(_ parts: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = parts.first else { throw TensorError("stack", "no tensors to stack") }
        for p in parts where p.shape != first.shape {
            throw TensorError("stack", "shapes \(shapeText(first.shape)) and \(shapeText(p.shape)) differ")
        }
        let ax = axis < 0 ? axis + first.rank + 1 : axis
        guard ax >= 0 && ax <= first.rank else {
            throw TensorError("stack", "axis \(axis) out of range for \(first.rank + 1) axes")
        }
        var s = first.shape
        s.insert(1, at: ax)
        return try concat(try parts.map { try $0.reshaped(s) }, axis: ax)
    }

    /// Repeats along broadcast dimensions to reach `target` (a copy); its transpose is `sumTo`.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let shp = try broadcastShape(shape, target, op: "broadcast")
        guard shp == target else {
            throw TensorError("broadcast", "cannot broadcast \(shapeText(shape)) to \(shapeText(target))")
        }
        let (dims, ss, _) = coalesce(target, broadcastStrides(shape, to: target), broadcastStrides(shape, to: target))
        let expanded = Tensor(uninitializedShape: target)
        let srcShape = shape
        if expanded.count == 0 { return expanded }
        let inner = dims[dims.count - 1], istride = ss[ss.count - 1]
        let rows = expanded.count / inner
        let src = ptr, dst = expanded.ptr
        parallelFor(rows, grain: Swift.max(1, (1 << 15) / inner)) { r in
            for row in r {
                var rem = row, off = 0
                for d in stride(from: dims.count - 2, through: 0, by: -1) {
                    off += (rem % dims[d]) * ss[d]; rem /= dims[d]
                }
                let o = dst + row * inner
                if istride == 0 { o.update(repeating: src[off], count: inner) }
                else { for j in 0..<inner { o[j] = src[off + j * istride] } }
            }
        }
        return Tensor.result(expanded, op: "broadcast", inputs: [self]) { g, _ in [try g.sumTo(srcShape)] }
    }

    /// Sums over the dimensions that broadcasting added or stretched, giving `target`'s shape.
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        guard target.count <= rank else {
            throw TensorError("sumTo", "cannot reduce \(shapeText(shape)) to \(shapeText(target))")
        }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for i in 0..<target.count {
            if target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
            else if target[i] != shape[lead + i] {
                throw TensorError("sumTo", "cannot reduce \(shapeText(shape)) to \(shapeText(target))")
            }
        }
        return try sum(axes: axes, keepDims: true).reshaped(target)
    }
}
