import Data
import Tensor

/// Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics, per trainable parameter p
/// with gradient g:
///
///     d = g + weight_decay·p
///     if momentum ≠ 0:  buf = d on the parameter's first step, else momentum·buf + (1 − dampening)·d
///                       d = nesterov ? d + momentum·buf : buf
///     p ← p − lr·d
///
/// In Float32, op by op as PyTorch's single-tensor SGD runs them (`d_p.add(p, alpha=wd)`,
/// `buf.mul_(momentum).add_(d_p, alpha=1 − dampening)`, `d_p.add(buf, alpha=momentum)`,
/// `p.add_(d_p, alpha=−lr)`): each op rounds to Float32, the hyperparameters enter as Float32,
/// and an add with alpha rounds once (PyTorch's vector kernels fuse it into one multiply-add).
///
///     let opt = try SGD(net, lr: 0.1, momentum: 0.9, weightDecay: 5e-4)
public final class SGD: Optimizer {
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    /// Momentum buffers by parameter index (nil until the parameter's first step).
    var buffers: [Tensor?]

    public override class var kindName: String { "SGD" }

    /// Over `parameters` as `model.namedParameters()` gives them.
    public init(parameters: [(name: String, tensor: Tensor)], lr: Double = 1e-3, momentum: Double = 0,
                dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) throws {
        guard momentum >= 0, momentum.isFinite else { throw NNError("SGD", "momentum must be ≥ 0, got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw NNError("SGD", "weight decay must be ≥ 0, got \(weightDecay)") }
        guard dampening.isFinite else { throw NNError("SGD", "dampening must be finite, got \(dampening)") }
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw NNError("SGD", "Nesterov momentum requires a momentum and zero dampening")
        }
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = Array(repeating: nil, count: parameters.count)
        try super.init(parameters: parameters, lr: lr)
    }

    /// Over every parameter of `model` (frozen ones are skipped at each step).
    ///
    ///     let opt = try SGD(net, lr: 0.01, momentum: 0.9, nesterov: true)
    public convenience init(_ model: Module, lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) throws {
        try self.init(parameters: model.namedParameters(), lr: lr, momentum: momentum, dampening: dampening,
                      weightDecay: weightDecay, nesterov: nesterov)
    }

    public override func update(_ index: Int, gradient: Tensor) {
        let param = parameters[index].tensor
        let n = param.count
        // The scalars as PyTorch hands them to its Float32 kernels.
        let wd = Float(weightDecay), mom = Float(momentum), damp = Float(1 - dampening), step = Float(-lr)
        let decay = weightDecay != 0, nest = nesterov
        // Raw pointers for the worker threads; each element is touched by exactly one of them.
        nonisolated(unsafe) let g = gradient.withUnsafeBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let p = param.withUnsafeMutableBufferPointer { $0.baseAddress! }
        guard momentum != 0 else {
            forEachChunk(n) { r in
                sweepVec(r) { j in
                    let d = decay ? addScaled(loadVec(g + j), wd, loadVec(p + j)) : loadVec(g + j)
                    storeVec(addScaled(loadVec(p + j), step, d), p + j)
                } scalar: { j in
                    let d = decay ? addScaled(g[j], wd, p[j]) : g[j]
                    p[j] = addScaled(p[j], step, d)
                }
            }
            return
        }
        let first = buffers[index] == nil
        let buf = buffers[index] ?? Tensor.zeros(param.shape)
        buffers[index] = buf
        nonisolated(unsafe) let b = buf.withUnsafeMutableBufferPointer { $0.baseAddress! }
        forEachChunk(n) { r in
            sweepVec(r) { j in
                var d = decay ? addScaled(loadVec(g + j), wd, loadVec(p + j)) : loadVec(g + j)
                let m = first ? d : addScaled(loadVec(b + j) * mom, damp, d)
                storeVec(m, b + j)
                d = nest ? addScaled(d, mom, m) : m
                storeVec(addScaled(loadVec(p + j), step, d), p + j)
            } scalar: { j in
                var d = decay ? addScaled(g[j], wd, p[j]) : g[j]
                let m = first ? d : addScaled(b[j] * mom, damp, d)
                b[j] = m
                d = nest ? addScaled(d, mom, m) : m
                p[j] = addScaled(p[j], step, d)
            }
        }
    }

    public override var hyperparameters: [(String, String)] {
        [("lr", "\(lr)"), ("momentum", "\(momentum)"), ("dampening", "\(dampening)"),
         ("weight_decay", "\(weightDecay)"), ("nesterov", "\(nesterov)")]
    }

    public override func stateTensors(_ index: Int) -> [(key: String, tensor: Tensor, dtype: DType)] {
        buffers[index].map { [("momentum_buffer", $0, .float32)] } ?? []
    }

    public override func stateShape(_ key: String, _ index: Int) -> [Int]? {
        key == "momentum_buffer" ? parameters[index].tensor.shape : nil
    }

    public override func setState(_ key: String, _ index: Int, _ value: Tensor) {
        if key == "momentum_buffer" { buffers[index] = value }
    }

    public override func resetState() {
        super.resetState()
        buffers = Array(repeating: nil, count: parameters.count)
    }
}

// MARK: Float32 update loops shared by the optimizers (loads and stores: Tensor's loadVec/storeVec)

/// a + alpha·b rounded once to Float32, as PyTorch's `add(b, alpha=)` (a fused multiply-add in its
/// vector kernels). The product of two Floats is exact in Double, so only the sum rounds there.
@inline(__always) func addScaled(_ a: Vec, _ alpha: Float, _ b: Vec) -> Vec {
    let s = Double(alpha)
    let lo = SIMD4<Double>(a.lowHalf) + s * SIMD4<Double>(b.lowHalf)
    let hi = SIMD4<Double>(a.highHalf) + s * SIMD4<Double>(b.highHalf)
    return Vec(lowHalf: SIMD4<Float>(lo), highHalf: SIMD4<Float>(hi))
}

@inline(__always) func addScaled(_ a: Float, _ alpha: Float, _ b: Float) -> Float {
    Float(Double(a) + Double(alpha) * Double(b))
}

/// a + b·c rounded once (elementwise b·c, as `addcmul`'s fused form).
@inline(__always) func addProduct(_ a: Vec, _ b: Vec, _ c: Vec) -> Vec {
    let lo = SIMD4<Double>(a.lowHalf) + SIMD4<Double>(b.lowHalf) * SIMD4<Double>(c.lowHalf)
    let hi = SIMD4<Double>(a.highHalf) + SIMD4<Double>(b.highHalf) * SIMD4<Double>(c.highHalf)
    return Vec(lowHalf: SIMD4<Float>(lo), highHalf: SIMD4<Float>(hi))
}

@inline(__always) func addProduct(_ a: Float, _ b: Float, _ c: Float) -> Float {
    Float(Double(a) + Double(b) * Double(c))
}

/// Runs `vector` at every multiple-of-8 offset of the chunk and `scalar` on the tail.
@inline(__always) func sweepVec(_ r: Range<Int>, vector: (Int) -> Void, scalar: (Int) -> Void) {
    var j = r.lowerBound
    while j + 8 <= r.upperBound { vector(j); j += 8 }
    while j < r.upperBound { scalar(j); j += 1 }
}

