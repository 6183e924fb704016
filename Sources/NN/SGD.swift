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
/// Arithmetic per element is in Float64, rounded once to Float32 when stored.
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
        let lr = self.lr, wd = weightDecay, mom = momentum, damp = 1 - dampening, nest = nesterov
        let first = buffers[index] == nil
        let buf: Tensor? = mom != 0 ? (buffers[index] ?? Tensor.zeros(param.shape)) : nil
        if mom != 0 { buffers[index] = buf }
        // Raw pointers for the worker threads; each element is touched by exactly one of them.
        nonisolated(unsafe) let g = gradient.withUnsafeBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let p = param.withUnsafeMutableBufferPointer { $0.baseAddress! }
        guard let buf else {
            forEachChunk(n) { r in
                for j in r { p[j] = Float(Double(p[j]) - lr * (Double(g[j]) + wd * Double(p[j]))) }
            }
            return
        }
        nonisolated(unsafe) let b = buf.withUnsafeMutableBufferPointer { $0.baseAddress! }
        forEachChunk(n) { r in
            for j in r {
                let d = Double(g[j]) + wd * Double(p[j])
                let m = first ? d : mom * Double(b[j]) + damp * d
                b[j] = Float(m)
                p[j] = Float(Double(p[j]) - lr * (nest ? d + mom * m : m))
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
