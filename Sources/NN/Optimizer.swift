import Dispatch
import Data
import Tensor

/// The base of the optimizers: holds every parameter of a model by name (frozen ones too), and
/// updates the trainable ones in place, outside any graph, with PyTorch's update rules.
///
/// `step(gradients:)` takes one gradient per *trainable* parameter, in parameter order — exactly
/// `model.parameters(trainableOnly: true)` at the time of the step, the list a fit loop
/// differentiates with respect to and reduces (the scale-out seam) before handing it over.
/// Frozen parameters are skipped and their state is left as it is, as PyTorch skips parameters
/// whose `grad` is None.
///
/// Per-parameter state (momentum buffers, Adam's moments and step counts) is exported and
/// imported by parameter name (`stateDict()`), so a training checkpoint can hold it beside the
/// model's state dict.
///
///     let grads = try gradients(of: loss, wrt: net.parameters(trainableOnly: true)); try opt.step(gradients: grads)
open class Optimizer {
    /// Every parameter the optimizer was given, with its name, in parameter order.
    public let parameters: [(name: String, tensor: Tensor)]
    /// The learning rate of the next step (schedules set it once per epoch).
    public var lr: Double
    /// The learning rate given at construction (PyTorch's `initial_lr`, the base of schedules).
    public let initialLR: Double
    /// How many times `step` ran.
    public private(set) var stepCount = 0

    /// `parameters` as `model.namedParameters()` gives them (all of them; trainability is read at
    /// each step).
    public init(parameters: [(name: String, tensor: Tensor)], lr: Double) throws {
        guard lr >= 0, lr.isFinite else { throw NNError(Self.kindName, "learning rate must be ≥ 0, got \(lr)") }
        var seen = Set<String>()
        for p in parameters where !seen.insert(p.name).inserted {
            throw NNError(Self.kindName, "parameter name '\(p.name)' appears twice")
        }
        self.parameters = parameters
        self.lr = lr
        self.initialLR = lr
    }

    /// The optimizer's name in errors and checkpoints (`SGD`, `Adam`, `AdamW`).
    open class var kindName: String { "Optimizer" }

    /// The parameters that the next step updates (those that require grad), in order.
    ///
    ///     opt.trainableParameters.map(\.name)
    public var trainableParameters: [(name: String, tensor: Tensor)] { parameters.filter { $0.tensor.requiresGrad } }

    /// One update of every trainable parameter from its gradient (one per trainable parameter,
    /// in parameter order, each of its parameter's shape).
    ///
    ///     try opt.step(gradients: grads)
    public func step(gradients: [Tensor]) throws {
        let live = parameters.indices.filter { parameters[$0].tensor.requiresGrad }
        guard gradients.count == live.count else {
            throw NNError(Self.kindName, "\(gradients.count) gradients for \(live.count) trainable parameters (of \(parameters.count)); pass one per trainable parameter, in parameter order")
        }
        for (g, i) in zip(gradients, live) where g.shape != parameters[i].tensor.shape {
            throw NNError(Self.kindName, "gradient of shape \(shapeText(g.shape)) for \(parameters[i].name) of shape \(shapeText(parameters[i].tensor.shape))")
        }
        withNoGrad {
            for (g, i) in zip(gradients, live) { update(i, gradient: g) }
        }
        stepCount += 1
    }

    /// Differentiates `loss` with respect to the trainable parameters and steps (a convenience
    /// for scripts; a fit loop computes and reduces the gradients itself).
    ///
    ///     try opt.step(loss: crossEntropyLoss(net(x), labels: y))
    public func step(loss: Tensor) throws {
        try step(gradients: try gradients(of: loss, wrt: trainableParameters.map(\.tensor)))
    }

    /// Updates parameter `index` in place from `gradient` (already checked). Subclasses override.
    open func update(_ index: Int, gradient: Tensor) {}

    // MARK: State

    /// Hyperparameters as text, for the checkpoint's metadata and printing.
    open var hyperparameters: [(String, String)] { [("lr", "\(lr)")] }

    /// The state tensors of parameter `index`, by key (`momentum_buffer`, `exp_avg`, …), each with
    /// the dtype it is saved as. Subclasses override.
    open func stateTensors(_ index: Int) -> [(key: String, tensor: Tensor, dtype: DType)] { [] }

    /// Whether `key` names state this optimizer keeps, and the shape it must have for parameter `index`.
    open func stateShape(_ key: String, _ index: Int) -> [Int]? { nil }

    /// Sets parameter `index`'s state `key` from a loaded tensor (shape already checked).
    open func setState(_ key: String, _ index: Int, _ value: Tensor) {}

    /// Clears every parameter's state (as a fresh optimizer).
    open func resetState() { stepCount = 0 }

    /// The optimizer state as named tensors, `<parameter name>.<key>` (e.g.
    /// `layer1.0.conv1.weight.momentum_buffer`, `linear.bias.exp_avg`, `linear.bias.step` as I64),
    /// with metadata `optimizer` (the kind), `lr`, `initial_lr`, `steps` and the hyperparameters.
    /// A training checkpoint stores it beside the model's state dict (see `TensorBundle.prefixed`).
    ///
    ///     try Safetensors.write(opt.stateDict(), to: "opt.safetensors")
    public func stateDict() -> TensorBundle {
        var b = TensorBundle()
        for i in parameters.indices {
            for s in stateTensors(i) { b.set(parameters[i].name + "." + s.key, s.tensor.copy(), dtype: s.dtype) }
        }
        b.metadata["optimizer"] = Self.kindName
        b.metadata["initial_lr"] = "\(initialLR)"
        b.metadata["steps"] = "\(stepCount)"
        for (k, v) in hyperparameters { b.metadata[k] = v }
        return b
    }

    /// Restores state saved by `stateDict()` of the same kind of optimizer over parameters of the
    /// same names and shapes: the learning rate, the step count and every state tensor. Parameters
    /// absent from the bundle start fresh. Unknown names, unknown keys and mis-shaped tensors are
    /// an error naming each one (`source` says where the bundle came from); nothing changes then.
    ///
    ///     try opt.loadStateDict(try Safetensors.read("opt.safetensors"), source: "opt.safetensors")
    public func loadStateDict(_ bundle: TensorBundle, source: String = "optimizer state") throws {
        if let kind = bundle.metadata["optimizer"], kind != Self.kindName {
            throw NNError(source, "holds \(kind) state, not \(Self.kindName) state")
        }
        let index = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { ($1.name, $0) })
        var problems: [String] = []
        var plan: [(String, Int, Tensor)] = []
        for name in bundle.names.sorted() {
            guard let t = bundle.tensors[name] else { continue }
            guard let dot = name.lastIndex(of: "."), let i = index[String(name[..<dot])] else {
                problems.append("  unexpected: \(name) (no parameter of that name)")
                continue
            }
            let key = String(name[name.index(after: dot)...])
            guard let shape = stateShape(key, i) else {
                problems.append("  unexpected: \(name) (\(Self.kindName) keeps no '\(key)')")
                continue
            }
            guard t.shape == shape else {
                problems.append("  shape mismatch: \(name) is \(shapeText(t.shape)) but \(shapeText(shape)) is expected")
                continue
            }
            plan.append((key, i, t))
        }
        var lr = self.lr, steps = stepCount
        if let s = bundle.metadata["lr"] {
            if let v = Double(s), v >= 0 { lr = v } else { problems.append("  bad metadata: lr = '\(s)'") }
        }
        if let s = bundle.metadata["steps"] {
            if let v = Int(s), v >= 0 { steps = v } else { problems.append("  bad metadata: steps = '\(s)'") }
        }
        guard problems.isEmpty else {
            throw NNError(source, "does not fit this \(Self.kindName) optimizer:\n" + problems.joined(separator: "\n"))
        }
        resetState()
        for (key, i, t) in plan { setState(key, i, t.copy()) }
        self.lr = lr
        stepCount = steps
    }
}

extension Optimizer: CustomStringConvertible {
    /// `SGD(lr: 0.1, momentum: 0.9, …) over 62 parameters (62 trainable)`.
    public var description: String {
        "\(Self.kindName)(" + hyperparameters.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
            + ") over \(parameters.count) parameters (\(trainableParameters.count) trainable)"
    }
}

/// Runs `body` over `0..<n` in contiguous chunks on `Parallelism.workers` threads when n is large
/// (optimizer updates are elementwise and independent); small tensors run inline. Never called
/// around BLAS (OpenBLAS runs its own threads).
func forEachChunk(_ n: Int, _ body: (Range<Int>) -> Void) {
    let workers = Parallelism.workers, grain = 1 << 16
    guard n >= 2 * grain, workers > 1 else { body(0..<n); return }
    let chunks = min(workers, (n + grain - 1) / grain)
    let per = (n + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per, hi = min(n, lo + per)
            if lo < hi { work(lo..<hi) }
        }
    }
}
