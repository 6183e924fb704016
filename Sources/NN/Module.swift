import Data
import Tensor

/// The base of every layer and model: ordered, named parameters, buffers and child modules, a
/// train/eval mode, and a forward pass through `callAsFunction`.
///
/// Subclasses register what they own in their initializer, in the order PyTorch's module would
/// (`self.conv1 = …` order); that order is the parameter order of `namedParameters`, of the
/// state dict, of optimizers and of every measure. Names are PyTorch's: a child's entries are
/// prefixed with its name and a dot (`layer1.0.conv1.weight`).
///
/// Parameters are leaf tensors; a parameter is *trainable* while it `requiresGrad` (`freeze` and
/// `unfreeze` switch that). Buffers (`running_mean`, …) are state that is not trained.
///
///     let y = try model(x)
open class Module {
    /// Whether the module is in training mode (batch statistics in BatchNorm, active Dropout).
    public private(set) var isTraining = true
    /// This module's own parameters, in registration order.
    public private(set) var ownParameters: [(name: String, tensor: Tensor)] = []
    /// This module's own buffers, in registration order, with the dtype a checkpoint stores them as.
    public private(set) var ownBuffers: [(name: String, tensor: Tensor, dtype: DType)] = []
    /// Direct children, in registration order.
    public private(set) var children: [(name: String, module: Module)] = []

    public init() {}

    /// The forward pass. Subclasses override it.
    ///
    ///     let logits = try net(images)
    open func callAsFunction(_ x: Tensor) throws -> Tensor {
        throw NNError(summary, "this module defines no forward pass")
    }

    /// One line naming the module and its configuration, Torch-style: `Linear(784 -> 256)`.
    open var summary: String { String(describing: type(of: self)) }

    /// A module of the same class and configuration, with its own (freshly initialized) tensors;
    /// `copy()` then fills in the values. Every concrete module overrides it; containers copy
    /// their children with `copy()`. The default throws, so `copy()` refuses unknown subclasses.
    ///
    ///     override func makeBlankCopy() throws -> Module { try Linear(inFeatures, outFeatures, seed: 0) }
    open func makeBlankCopy() throws -> Module {
        throw NNError(summary, "cannot be copied: \(type(of: self)) does not override makeBlankCopy()")
    }

    /// Sets training (`true`) or evaluation mode on this module and every descendant.
    ///
    ///     model.train(); …; model.eval()
    public func train(_ on: Bool = true) {
        isTraining = on
        for c in children { c.module.train(on) }
    }

    /// Evaluation mode: BatchNorm uses its running statistics, Dropout passes its input through.
    ///
    ///     model.eval()
    public func eval() { train(false) }

    // MARK: Registration (called from subclass initializers)

    /// Registers a parameter (made a leaf that requires grad) under `name`; returns it.
    ///
    ///     weight = registerParameter("weight", w)
    @discardableResult
    public func registerParameter(_ name: String, _ tensor: Tensor) -> Tensor {
        checkNewName(name)
        tensor.requiringGrad(true)
        ownParameters.append((name, tensor))
        return tensor
    }

    /// Registers a buffer (state that is saved but not trained) under `name`; returns it.
    ///
    ///     registerBuffer("num_batches_tracked", Tensor(scalar: 0), dtype: .int64)
    @discardableResult
    public func registerBuffer(_ name: String, _ tensor: Tensor, dtype: DType = .float32) -> Tensor {
        checkNewName(name)
        ownBuffers.append((name, tensor, dtype))
        return tensor
    }

    /// Registers a child module under `name`; returns it.
    ///
    ///     conv1 = registerChild("conv1", try Conv2d(3, 64, kernel: 3, rng: &rng))
    @discardableResult
    public func registerChild<M: Module>(_ name: String, _ module: M) -> M {
        checkNewName(name)
        precondition(module !== self, "a module cannot be its own child")
        children.append((name, module))
        module.train(isTraining)
        return module
    }

    private func checkNewName(_ name: String) {
        // Programmer errors in a layer's definition, not user input: names are fixed in code.
        precondition(!name.isEmpty && !name.contains("."), "module entry name '\(name)' must be non-empty and contain no '.'")
        precondition(!ownParameters.contains { $0.name == name } && !ownBuffers.contains { $0.name == name }
                     && !children.contains { $0.name == name }, "module entry '\(name)' registered twice")
    }

    // MARK: Traversal

    /// Every module of the tree in pre-order (this one first, named ""), with dotted names.
    ///
    ///     for (name, m) in net.namedModules() where m is BatchNorm { print(name) }
    public func namedModules() -> [(name: String, module: Module)] {
        var out: [(name: String, module: Module)] = []
        func walk(_ m: Module, _ prefix: String) {
            out.append((prefix, m))
            for c in m.children { walk(c.module, dotted(prefix, c.name)) }
        }
        walk(self, "")
        return out
    }
}

/// `prefix.name`, or `name` when the prefix is empty.
func dotted(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
