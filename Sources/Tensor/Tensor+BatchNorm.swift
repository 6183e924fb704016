// Batch normalization in training mode as one op with fused kernels: statistics in two passes
// (vector Float sums over chunks of at most 4096 values, Double across chunks), the normalization
// and affine map in one more, and a first-order backward in two, all of a channel's passes back
// to back while its planes are in cache. The composite form (mean,
// subtract, square, …) made a ResNet step mostly elementwise traffic. Its vector-Jacobian product
// has two implementations of the same formula: the fused kernels when no graph is being recorded
// (plain training), and differentiable ops when it is (createGraph: true), so Hessian-vector
// products through BatchNorm stay exact.

import CKernels

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

/// Per-channel work (`Channel`), and sweeps that run it over the channels on all cores. The
/// training sweeps do all of a channel's passes before the next channel, so that its planes (at
/// batch 128, 400 KB for a 28×28 channel) are read from memory once and then from the core's L2:
/// statistics and map forward, gradient sums and input gradient backward.
enum BatchNormKernels {
    /// One channel's planes: `at(i)` is the offset of image i's plane.
    struct Channel {
        let l: ChannelLayout, ch: Int
        @inline(__always) func at(_ i: Int) -> Int { (i * l.c + ch) * l.s }

        /// A channel's planes are short runs C·S floats apart (28×28: 3 KB in 50 KB), each too short
        /// for the hardware prefetchers: the passes that read from memory ask for the plane of the
        /// image about 4 KB ahead.
        var ahead: Int { Swift.max(1, 1024 / Swift.max(l.s, 1)) }
        @inline(__always) func prefetch(_ p: UnsafePointer<Float>?, _ i: Int) {
            if let p, i < l.n { lc_prefetch(p + at(i), 4 * l.s) }
        }

        /// Mean and biased variance (two passes).
        func stats(_ x: UnsafePointer<Float>) -> (mean: Double, variance: Double) {
            // The variance from centred values, not E[x²] − mean² (cancellation).
            var s = 0.0
            for i in 0..<l.n { prefetch(x, i + ahead); s += inChunks(x + at(i), l.s) { vectorSum($0, $1) } }
            let mu = s / Double(l.perChannel)
            let muf = Float(mu), shift = mu - Double(muf)
            var q = 0.0
            for i in 0..<l.n { q += inChunks(x + at(i), l.s) { vectorCenteredSquares($0, $1, muf) } }
            // Centred on Float(mu): Σ(x − mu)² = Σ(x − muf)² − n·(mu − muf)².
            return (mu, Swift.max(0, q / Double(l.perChannel) - shift * shift))
        }

        /// y = x·k + d (+ residual) (then relu).
        func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ k: Float, _ d: Float,
                    residual r: UnsafePointer<Float>?, relu: Bool) {
            for i in 0..<l.n {
                prefetch(r, i + ahead)
                vectorAffine(x + at(i), y + at(i), l.s, k, d, residual: r.map { $0 + at(i) }, relu: relu)
            }
        }

        /// Σ g and Σ g·(x − mean), where g is gy, or, given a relu's output `mask`, gy where
        /// mask > 0 (else 0), which is then also written to `masked`.
        func gradientSums(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: Double,
                          mask: UnsafePointer<Float>?, masked: UnsafeMutablePointer<Float>?) -> (sumG: Double, sumGX: Double) {
            let mu = Float(mean)
            var a = 0.0, b = 0.0
            for i in 0..<l.n {
                prefetch(gy, i + ahead); prefetch(x, i + ahead); prefetch(mask, i + ahead)
                var j = 0
                while j < l.s {
                    let off = at(i) + j, len = Swift.min(chunk, l.s - j)
                    let (fa, fb) = if let mask, let masked {
                        vectorMaskedGradientSums(gy + off, mask + off, x + off, masked + off, len, mu)
                    } else {
                        vectorGradientSums(gy + off, x + off, len, mu)
                    }
                    a += Double(fa); b += Double(fb)
                    j += len
                }
            }
            return (a, b)
        }

        /// gx = k1·g + k2·x + k3 (the closed form of BatchNorm's input gradient).
        func inputGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                           _ k1: Float, _ k2: Float, _ k3: Float) {
            for i in 0..<l.n { vectorLinear2(g + at(i), x + at(i), gx + at(i), l.s, k1, k2, k3) }
        }
    }

    /// body(channel) for every channel, split over the cores when the tensor is large.
    static func eachChannel(_ l: ChannelLayout, _ body: (Channel) -> Void) {
        parallelFor(l.c, grain: l.grain) { channels in
            for ch in channels { body(Channel(l: l, ch: ch)) }
        }
    }

    /// Training forward: per channel the batch mean and biased variance, then y = x̂·w + b (+ r)
    /// (then relu) with x̂ = (x − mean)/√(variance + eps). Returns the statistics.
    static func trainingForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ l: ChannelLayout, eps: Double,
                                weight: [Double], bias: [Double], residual: UnsafePointer<Float>?,
                                relu: Bool) -> (mean: [Double], variance: [Double]) {
        var mean = [Double](repeating: 0, count: l.c), variance = mean
        mean.withUnsafeMutableBufferPointer { mp in
            variance.withUnsafeMutableBufferPointer { vp in
                nonisolated(unsafe) let (m, v, r) = (mp.baseAddress!, vp.baseAddress!, residual)
                eachChannel(l) { c in
                    let (mu, va) = c.stats(x)
                    let inv = invStd(va, eps)
                    c.affine(x, y, Float(inv * weight[c.ch]), Float(bias[c.ch] - mu * inv * weight[c.ch]), residual: r, relu: relu)
                    m[c.ch] = mu; v[c.ch] = va
                }
            }
        }
        return (mean, variance)
    }

    static func invStd(_ variance: Double, _ eps: Double) -> Double { 1 / (variance + eps).squareRoot() }

    /// Training backward (no graph): per channel Σ g and Σ g·(x − mean), g being gy or, given
    /// `mask`, gy masked by relu (written to `masked`), then, when `gx` is given, the input
    /// gradient from them. Returns the sums (the weight and bias gradients are made of them).
    static func trainingBackward(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ l: ChannelLayout,
                                 mean: [Double], invStd: [Double], weight: [Double],
                                 mask: UnsafePointer<Float>?, masked: UnsafeMutablePointer<Float>?,
                                 gx: UnsafeMutablePointer<Float>?) -> (sumG: [Double], sumGX: [Double]) {
        var sg = [Double](repeating: 0, count: l.c), sgx = sg
        let m = Double(l.perChannel)
        sg.withUnsafeMutableBufferPointer { gp in
            sgx.withUnsafeMutableBufferPointer { xp in
                nonisolated(unsafe) let (g1, g2, mk, out, dx) = (gp.baseAddress!, xp.baseAddress!, mask, masked, gx)
                eachChannel(l) { c in
                    let ch = c.ch
                    let (a, b) = c.gradientSums(gy, x, mean: mean[ch], mask: mk, masked: out)
                    g1[ch] = a; g2[ch] = b
                    guard let dx else { return }
                    let s = invStd[ch], w = weight[ch], sumGXhat = b * s
                    c.inputGradient(out.map { UnsafePointer($0) } ?? gy, x, dx, Float(w * s), Float(-w * s * s * sumGXhat / m),
                                    Float(-w * s * a / m + w * s * s * mean[ch] * sumGXhat / m))
                }
            }
        }
        return (sg, sgx)
    }

    /// y = x·scale[c] + shift[c] (evaluation-mode BatchNorm).
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ l: ChannelLayout,
                       scale: [Float], shift: [Float]) {
        eachChannel(l) { c in c.affine(x, y, scale[c.ch], shift[c.ch], residual: nil, relu: false) }
    }

    /// Per-channel Σ gy and Σ gy·x (the scale gradient of `channelAffine`).
    static func productSums(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ l: ChannelLayout) -> [Double] {
        var sums = [Double](repeating: 0, count: l.c)
        sums.withUnsafeMutableBufferPointer { sp in
            nonisolated(unsafe) let out = sp.baseAddress!
            eachChannel(l) { c in out[c.ch] = c.gradientSums(gy, x, mean: 0, mask: nil, masked: nil).sumGX }
        }
        return sums
    }
}

extension Tensor {
    /// Training-mode batch norm, then + residual and relu when asked (one pass each way: a residual
    /// block's epilogue cost two more passes forward and one back as separate ops); returns the
    /// output and the batch mean and biased variance.
    func batchNormTraining(weight: Tensor?, bias: Tensor?, eps: Float, residual: Tensor? = nil,
                           relu: Bool = false) -> (Tensor, mean: [Double], variance: [Double]) {
        let l = ChannelLayout(shape)
        let w = (0..<l.c).map { Double(weight?.ptr[$0] ?? 1) }
        let b = (0..<l.c).map { Double(bias?.ptr[$0] ?? 0) }
        let out = Tensor(uninitializedShape: shape)
        let (mean, variance) = BatchNormKernels.trainingForward(ptr, out.ptr, l, eps: Double(eps), weight: w, bias: b,
                                                                residual: residual?.ptr, relu: relu)
        let invStd = variance.map { BatchNormKernels.invStd($0, Double(eps)) }
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
                let gx0 = needs[0] ? Tensor(uninitializedShape: x.shape) : nil
                let (sg, sgx) = BatchNormKernels.trainingBackward(gy.ptr, x.ptr, l, mean: mean, invStd: invStd, weight: w,
                                                                  mask: mask?.ptr, masked: mask != nil ? g.ptr : nil, gx: gx0?.ptr)
                gx = gx0
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
                    gs = Tensor(BatchNormKernels.productSums(gy.ptr, x.ptr, l).map { Float($0) }, shape: [l.c])
                }
            }
            let gb = shift != nil && needs[2] ? try gy.sum(axes: axes) : nil
            return [gx, gs] + (shift != nil ? [gb] : [])
        }
    }
}
