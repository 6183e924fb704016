// Pooling over NCHW images. Max pooling remembers where each maximum came from, so its backward
// is a scatter and the scatter's backward a gather (both linear, so second derivatives are exact).

struct PoolGeometry {
    let n, c, h, w, k, stride, padding, ho, wo: Int

    init(_ shape: [Int], kernel: Int, stride: Int?, padding: Int, op: String) throws {
        guard shape.count == 4 else { throw TensorError(op, "input must be [N, C, H, W], got \(shapeText(shape))") }
        let s = stride ?? kernel
        guard kernel >= 1, s >= 1, padding >= 0, padding * 2 <= kernel else {
            throw TensorError(op, "kernel \(kernel), stride \(s), padding \(padding): need kernel, stride ≥ 1 and padding ≤ kernel/2")
        }
        (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        (k, self.stride, self.padding) = (kernel, s, padding)
        guard h + 2 * padding >= kernel, w + 2 * padding >= kernel else {
            throw TensorError(op, "kernel \(kernel) is larger than the padded input \(shapeText(shape))")
        }
        ho = (h + 2 * padding - kernel) / s + 1
        wo = (w + 2 * padding - kernel) / s + 1
    }
}

extension Tensor {
    /// Max pooling (PyTorch's `max_pool2d`; padding counts as −∞).
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        let gm = try PoolGeometry(shape, kernel: kernel, stride: stride, padding: padding, op: "max_pool2d")
        let out = Tensor(uninitializedShape: [gm.n, gm.c, gm.ho, gm.wo])
        var where_ = [Int](repeating: 0, count: out.count)
        let x = ptr, o = out.ptr
        where_.withUnsafeMutableBufferPointer { idx in
            let ib = idx.baseAddress!
            parallelFor(gm.n * gm.c, grain: 4) { planes in
                for pl in planes {
                    let base = pl * gm.h * gm.w
                    for oy in 0..<gm.ho {
                        for ox in 0..<gm.wo {
                            var best = -Float.infinity, bi = -1
                            for ky in 0..<gm.k {
                                let iy = oy * gm.stride - gm.padding + ky
                                if iy < 0 || iy >= gm.h { continue }
                                for kx in 0..<gm.k {
                                    let ix = ox * gm.stride - gm.padding + kx
                                    if ix < 0 || ix >= gm.w { continue }
                                    let v = x[base + iy * gm.w + ix]
                                    if v > best || bi < 0 || v.isNaN { best = v; bi = base + iy * gm.w + ix }
                                }
                            }
                            let oi = (pl * gm.ho + oy) * gm.wo + ox
                            o[oi] = best
                            ib[oi] = bi
                        }
                    }
                }
            }
        }
        let idx = where_, src = shape
        return Tensor.result(out, op: "max_pool2d", inputs: [self]) { g, _ in [g.scatterFlat(idx, into: src)] }
    }

    /// out[idx[i]] += self[i] over a zero tensor of `shape`.
    func scatterFlat(_ idx: [Int], into shape: [Int]) -> Tensor {
        let out = Tensor(storage: Storage(zeros: shape.reduce(1, *)), shape: shape)
        for (i, j) in idx.enumerated() { out.ptr[j] += ptr[i] }
        let srcShape = self.shape
        return Tensor.result(out, op: "scatter", inputs: [self]) { g, _ in [g.gatherFlat(idx, shape: srcShape)] }
    }

    /// out[i] = self[idx[i]], shaped `shape`.
    func gatherFlat(_ idx: [Int], shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        for (i, j) in idx.enumerated() { out.ptr[i] = ptr[j] }
        let srcShape = self.shape
        return Tensor.result(out, op: "gather_flat", inputs: [self]) { g, _ in [g.scatterFlat(idx, into: srcShape)] }
    }

    /// Average pooling (PyTorch's `avg_pool2d` with count_include_pad = true).
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        let gm = try PoolGeometry(shape, kernel: kernel, stride: stride, padding: padding, op: "avg_pool2d")
        return Tensor.avgPoolOp(self, gm)
    }

    static func avgPoolKernel(_ x: Tensor, _ gm: PoolGeometry, transpose: Bool) -> Tensor {
        // Forward: [N,C,H,W] → [N,C,Ho,Wo]; transpose: spreads [N,C,Ho,Wo] back over the windows.
        let out = transpose ? Tensor(storage: Storage(zeros: gm.n * gm.c * gm.h * gm.w), shape: [gm.n, gm.c, gm.h, gm.w])
                            : Tensor(uninitializedShape: [gm.n, gm.c, gm.ho, gm.wo])
        let scale = 1 / Float(gm.k * gm.k)
        let xp = x.ptr, op = out.ptr
        parallelFor(gm.n * gm.c, grain: 4) { planes in
            for pl in planes {
                let big = pl * gm.h * gm.w, small = pl * gm.ho * gm.wo
                for oy in 0..<gm.ho {
                    for ox in 0..<gm.wo {
                        var s: Float = 0
                        let gv = transpose ? xp[small + oy * gm.wo + ox] * scale : 0
                        for ky in 0..<gm.k {
                            let iy = oy * gm.stride - gm.padding + ky
                            if iy < 0 || iy >= gm.h { continue }
                            for kx in 0..<gm.k {
                                let ix = ox * gm.stride - gm.padding + kx
                                if ix < 0 || ix >= gm.w { continue }
                                if transpose { op[big + iy * gm.w + ix] += gv } else { s += xp[big + iy * gm.w + ix] }
                            }
                        }
                        if !transpose { op[small + oy * gm.wo + ox] = s * scale }
                    }
                }
            }
        }
        return out
    }

    static func avgPoolOp(_ x: Tensor, _ gm: PoolGeometry) -> Tensor {
        result(avgPoolKernel(x, gm, transpose: false), op: "avg_pool2d", inputs: [x]) { g, _ in [avgPoolTransposeOp(g, gm)] }
    }

    static func avgPoolTransposeOp(_ g: Tensor, _ gm: PoolGeometry) -> Tensor {
        result(avgPoolKernel(g, gm, transpose: true), op: "avg_pool2d_backward", inputs: [g]) { u, _ in [avgPoolOp(u, gm)] }
    }

    /// Mean over H and W: [N, C, H, W] → [N, C].
    public func globalAvgPool() throws -> Tensor {
        guard rank == 4 else { throw TensorError("global_avgpool", "input must be [N, C, H, W], got \(shapeText(shape))") }
        return try mean(axes: [2, 3])
    }
}
