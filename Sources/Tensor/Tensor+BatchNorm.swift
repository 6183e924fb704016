// Batch normalization in training mode as one op with fused kernels: statistics in two passes
// (vector Float sums over chunks of at most 4096 values, Double across chunks), the normalization
// and affine map in one more, and a first-order backward in two. The composite form (mean,
// subtract, square, …) made a ResNet step mostly elementwise traffic. Its vector-Jacobian product
// has two implementations of the same formula: the fused kernels when no graph is being recorded
// (plain training), and differentiable ops when it is (createGraph: true), so Hessian-vector
// products through BatchNorm stay exact.

/// [N, C] or [N, C, H, W] seen as N blocks of C planes of S values.
struct ChannelLayout {
    let n, c, s: Int
    init(_ shape: [Int]) { (n, c, s) = (shape[0], shape[1], shape.count == 4 ? shape[2] * shape[3] : 1) }
    var perChannel: Int { n * s }
    /// Channels per chunk so that loops split over the cores only when the tensor is large.
    var grain: Int { Swift.max(1, Parallelism.grain / Swift.max(perChannel, 1)) }
}

/// Planes are summed in Float (vector partial sums) in chunks of this many values, then in Double.
private let chunk = 4096

/// Σ over p[0..<n] of `f`'s Float partial results on chunks of at most `chunk` values, in Double.
@inline(__always) private func inChunks(_ p: UnsafePointer<Float>, _ n: Int, _ f: (UnsafePointer<Float>, Int) -> Float) -> Double {
    var total = 0.0, j = 0
    while j < n { let len = Swift.min(chunk, n - j); total += Double(f(p + j, len)); j += len }
    return total
}

enum BatchNormKernels {
    /// Per-channel mean and biased variance (two passes).
    static func stats(_ x: UnsafePointer<Float>, _ l: ChannelLayout) -> (mean: [Double], variance: [Double]) {
        var mean = [Double](repeating: 0, count: l.c), variance = [Double](repeating: 0, count: l.c)
        mean.withUnsafeMutableBufferPointer { mp in
            variance.withUnsafeMutableBufferPointer { vp in
                nonisolated(unsafe) let (m, v) = (mp.baseAddress!, vp.baseAddress!)
                parallelFor(l.c, grain: l.grain) { channels in
                    for ch in channels {
                        // The variance from centred values, not E[x²] − mean² (cancellation).
                        var s = 0.0
                        for i in 0..<l.n { s += inChunks(x + (i * l.c + ch) * l.s, l.s) { vectorSum($0, $1) } }
                        let mu = s / Double(l.perChannel)
                        var q = 0.0
                        let muf = Float(mu), shift = mu - Double(muf)
                        for i in 0..<l.n {
                            q += inChunks(x + (i * l.c + ch) * l.s, l.s) { vectorCenteredSquares($0, $1, muf) }
                        }
                        m[ch] = mu
                        // Centred on Float(mu): Σ(x − mu)² = Σ(x − muf)² − n·(mu − muf)².
                        v[ch] = Swift.max(0, q / Double(l.perChannel) - shift * shift)
                    }
                }
            }
        }
        return (mean, variance)
    }

    /// y = x·scale[c] + shift[c] (+ residual) (then relu).
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ l: ChannelLayout,
                       scale: [Float], shift: [Float], residual: UnsafePointer<Float>? = nil, relu: Bool = false) {
        scale.withUnsafeBufferPointer { sp in
            shift.withUnsafeBufferPointer { hp in
                nonisolated(unsafe) let (a, b, r) = (sp.baseAddress!, hp.baseAddress!, residual)
                parallelFor(l.c, grain: l.grain) { channels in
                    for ch in channels {
                        let k = a[ch], d = b[ch]
                        for i in 0..<l.n {
                            let off = (i * l.c + ch) * l.s
                            vectorAffine(x + off, y + off, l.s, k, d, residual: r.map { $0 + off }, relu: relu)
                        }
                    }
                }
            }
        }
    }

    /// Per-channel Σ g and Σ g·(x − mean), where g is gy, or, given a relu's output `mask`, gy where
    /// mask > 0 (else 0), which is then also written to `masked`.
    static func gradientSums(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ l: ChannelLayout,
                             mean: [Double], mask: UnsafePointer<Float>? = nil,
                             masked: UnsafeMutablePointer<Float>? = nil) -> (sumG: [Double], sumGX: [Double]) {
        var sg = [Double](repeating: 0, count: l.c), sgx = [Double](repeating: 0, count: l.c)
        sg.withUnsafeMutableBufferPointer { gp in
            sgx.withUnsafeMutableBufferPointer { xp in
                nonisolated(unsafe) let (g1, g2, m, out) = (gp.baseAddress!, xp.baseAddress!, mask, masked)
                parallelFor(l.c, grain: l.grain) { channels in
                    for ch in channels {
                        let mu = Float(mean[ch])
                        var a = 0.0, b = 0.0
                        for i in 0..<l.n {
                            var j = 0
                            while j < l.s {
                                let off = (i * l.c + ch) * l.s + j, len = Swift.min(chunk, l.s - j)
                                let (fa, fb) = if let m, let out {
                                    vectorMaskedGradientSums(gy + off, m + off, x + off, out + off, len, mu)
                                } else {
                                    vectorGradientSums(gy + off, x + off, len, mu)
                                }
                                a += Double(fa); b += Double(fb)
                                j += len
                            }
                        }
                        g1[ch] = a; g2[ch] = b
                    }
                }
            }
        }
        return (sg, sgx)
    }

    /// gx = k1·gy + k2·x + k3 per channel (the closed form of BatchNorm's input gradient).
    static func inputGradient(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                              _ l: ChannelLayout, k1: [Float], k2: [Float], k3: [Float]) {
        let (a, b, c) = (k1, k2, k3)
        parallelFor(l.c, grain: l.grain) { channels in
            for ch in channels {
                let u = a[ch], v = b[ch], w = c[ch]
                for i in 0..<l.n {
                    let off = (i * l.c + ch) * l.s
                    vectorLinear2(gy + off, x + off, gx + off, l.s, u, v, w)
                }
            }
        }
    }
}

extension Tensor {
    /// Training-mode batch norm, then + residual and relu when asked (one pass each way: a residual
    /// block's epilogue cost two more passes forward and one back as separate ops); returns the
    /// output and the batch mean and biased variance.
    func batchNormTraining(weight: Tensor?, bias: Tensor?, eps: Float, residual: Tensor? = nil,
                           relu: Bool = false) -> (Tensor, mean: [Double], variance: [Double]) {
        let l = ChannelLayout(shape)
        let (mean, variance) = BatchNormKernels.stats(ptr, l)
        let invStd = variance.map { 1 / ($0 + Double(eps)).squareRoot() }
        let w = (0..<l.c).map { Double(weight?.ptr[$0] ?? 1) }
        let b = (0..<l.c).map { Double(bias?.ptr[$0] ?? 0) }
        let scale = (0..<l.c).map { Float(invStd[$0] * w[$0]) }
        let shift = (0..<l.c).map { Float(b[$0] - mean[$0] * invStd[$0] * w[$0]) }
        let out = Tensor(uninitializedShape: shape)
        BatchNormKernels.affine(ptr, out.ptr, l, scale: scale, shift: shift, residual: residual?.ptr, relu: relu)
        // relu's mask (out > 0 exactly where its input was): a second handle on the output's
        // storage, without the graph node (which would hold the closure that holds it).
        let mask = relu ? Tensor(storage: out.storage, shape: shape) : nil

        let x = self
        let inputs = [x] + [weight, bias, residual].compactMap { $0 }
        let result = Tensor.result(out, op: "batch_norm", inputs: inputs) { gy, needs in
            let iw = 1, ib = iw + (weight != nil ? 1 : 0), ir = ib + (bias != nil ? 1 : 0)
            let needW = weight != nil && needs[iw], needB = bias != nil && needs[ib]
            var g = gy, gx: Tensor?, gw: Tensor?, gb: Tensor?
            if GradMode.isEnabled {
                if let mask { g = gy.keeping(where: mask) }
                (gx, gw, gb) = try x.batchNormTrainingBackwardComposite(g, weight: weight, eps: eps,
                                                                         input: needs[0], weight: needW, bias: needB)
            } else {
                if mask != nil { g = Tensor(uninitializedShape: x.shape) }
                let (sg, sgx) = BatchNormKernels.gradientSums(gy.ptr, x.ptr, l, mean: mean, mask: mask?.ptr,
                                                              masked: mask != nil ? g.ptr : nil)
                let m = Double(l.perChannel)
                if needs[0] {
                    var k1 = [Float](repeating: 0, count: l.c), k2 = k1, k3 = k1
                    for ch in 0..<l.c {
                        let s = invStd[ch], sumGXhat = sgx[ch] * s
                        k1[ch] = Float(w[ch] * s)
                        k2[ch] = Float(-w[ch] * s * s * sumGXhat / m)
                        k3[ch] = Float(-w[ch] * s * sg[ch] / m + w[ch] * s * s * mean[ch] * sumGXhat / m)
                    }
                    let t = Tensor(uninitializedShape: x.shape)
                    BatchNormKernels.inputGradient(g.ptr, x.ptr, t.ptr, l, k1: k1, k2: k2, k3: k3)
                    gx = t
                }
                if needW { gw = Tensor((0..<l.c).map { Float(sgx[$0] * invStd[$0]) }, shape: [l.c]) }
                if needB { gb = Tensor(sg.map { Float($0) }, shape: [l.c]) }
            }
            // The residual's gradient is the (masked) output gradient itself.
            let gr: Tensor? = residual != nil && needs[ir] ? g : nil
            return [gx] + (weight != nil ? [gw] : []) + (bias != nil ? [gb] : []) + (residual != nil ? [gr] : [])
        }
        return (result, mean, variance)
    }

    /// The same gradients as the fused kernels, written with differentiable ops (for double backward).
    func batchNormTrainingBackwardComposite(_ gy: Tensor, weight: Tensor?, eps: Float, input: Bool, weight needW: Bool,
                                            bias needB: Bool) throws -> (Tensor?, Tensor?, Tensor?) {
        let axes = rank == 2 ? [0] : [0, 2, 3]
        let pshape = rank == 2 ? [1, shape[1]] : [1, shape[1], 1, 1]
        let centered = try self - mean(axes: axes, keepDims: true)
        let invStd = try ((centered * centered).mean(axes: axes, keepDims: true) + eps).pow(-0.5)
        let xhat = try centered * invStd
        var gx: Tensor? = nil
        if input {
            let gxhat = try weight.map { try gy * $0.reshaped(pshape) } ?? gy
            let inner = try gxhat - gxhat.mean(axes: axes, keepDims: true)
                - xhat * (gxhat * xhat).mean(axes: axes, keepDims: true)
            gx = try invStd * inner
        }
        let gw = needW ? try (gy * xhat).sum(axes: axes) : nil
        let gb = needB ? try gy.sum(axes: axes) : nil
        return (gx, gw, gb)
    }
}

extension Tensor {
    /// y[n, c, …] = x[n, c, …]·scale[c] + shift[c] in one pass: evaluation-mode BatchNorm (the
    /// composite form cost three broadcast passes). Differentiable in x, scale and shift; the scale
    /// gradient Σ gy·x uses a fused kernel unless a graph is being recorded.
    func channelAffine(scale: Tensor, shift: Tensor?) throws -> Tensor {
        guard rank == 2 || rank == 4, scale.shape == [shape[1]], shift.map({ $0.shape == [shape[1]] }) ?? true else {
            throw TensorError("channel_affine", "input \(shapeText(shape)) with scale \(shapeText(scale.shape))")
        }
        let l = ChannelLayout(shape)
        let out = Tensor(uninitializedShape: shape)
        BatchNormKernels.affine(ptr, out.ptr, l, scale: scale.scalars, shift: shift?.scalars ?? [Float](repeating: 0, count: l.c))
        let x = self
        let inputs = [x, scale] + (shift.map { [$0] } ?? [])
        return Tensor.result(out, op: "channel_affine", inputs: inputs) { gy, needs in
            let axes = x.rank == 2 ? [0] : [0, 2, 3]
            let gx = needs[0] ? try gy.channelAffine(scale: scale, shift: nil) : nil
            var gs: Tensor? = nil
            if needs[1] {
                if GradMode.isEnabled {
                    gs = try (gy * x).sum(axes: axes)
                } else {
                    let (_, sums) = BatchNormKernels.gradientSums(gy.ptr, x.ptr, l, mean: [Double](repeating: 0, count: l.c))
                    gs = Tensor(sums.map { Float($0) }, shape: [l.c])
                }
            }
            let gb = shift != nil && needs[2] ? try gy.sum(axes: axes) : nil
            return [gx, gs] + (shift != nil ? [gb] : [])
        }
    }
}
