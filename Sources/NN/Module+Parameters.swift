import Data
import Tensor

extension Module {
    /// Parameters with their dotted names, in PyTorch's order (`named_parameters()`): pre-order
    /// over the module tree, each module's own parameters in registration order.
    /// `trainableOnly` keeps those that require grad (not frozen).
    ///
    ///     for (name, p) in net.namedParameters() { print(name, p.shape) }
    public func namedParameters(trainableOnly: Bool = false) -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (prefix, m) in namedModules() {
            for p in m.ownParameters where !trainableOnly || p.tensor.requiresGrad {
                out.append((dotted(prefix, p.name), p.tensor))
            }
        }
        return out
    }

    /// The parameter tensors in parameter order; `trainableOnly` drops frozen ones. This is the
    /// list a fit loop differentiates with respect to and hands (as gradients) to an optimizer.
    ///
    ///     let grads = try gradients(of: loss, wrt: net.parameters(trainableOnly: true))
    public func parameters(trainableOnly: Bool = false) -> [Tensor] {
        namedParameters(trainableOnly: trainableOnly).map(\.tensor)
    }

    /// Number of parameter values (scalars); `trainableOnly` counts the unfrozen ones.
    ///
    ///     net.parameterCount()   // 11173962 for ResNet-18, width 64, 10 classes
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        namedParameters(trainableOnly: trainableOnly).reduce(0) { $0 + $1.tensor.count }
    }

    /// Buffers with their dotted names, in PyTorch's order (`named_buffers()`).
    ///
    ///     net.namedBuffers().map(\.name)   // ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", …]
    public func namedBuffers() -> [(name: String, tensor: Tensor, dtype: DType)] {
        var out: [(name: String, tensor: Tensor, dtype: DType)] = []
        for (prefix, m) in namedModules() {
            for b in m.ownBuffers { out.append((dotted(prefix, b.name), b.tensor, b.dtype)) }
        }
        return out
    }

    /// The live tensors of the state dict (parameters and buffers) in PyTorch's `state_dict()`
    /// order: pre-order over modules, each module's parameters then its buffers.
    func stateEntries() -> [(name: String, tensor: Tensor, dtype: DType)] {
        var out: [(name: String, tensor: Tensor, dtype: DType)] = []
        for (prefix, m) in namedModules() {
            for p in m.ownParameters { out.append((dotted(prefix, p.name), p.tensor, .float32)) }
            for b in m.ownBuffers { out.append((dotted(prefix, b.name), b.tensor, b.dtype)) }
        }
        return out
    }

    /// A snapshot (copies) of every parameter and buffer under PyTorch's names, in `state_dict()`
    /// order, with the dtype each is saved as (`num_batches_tracked` is I64).
    ///
    ///     let best = net.stateDict(); …; try net.loadStateDict(best)
    public func stateDict() -> TensorBundle {
        var bundle = TensorBundle()
        for e in stateEntries() { bundle.set(e.name, e.tensor.copy(), dtype: e.dtype) }
        return bundle
    }

    /// Copies a state dict's values into this module's parameters and buffers, in place (the
    /// tensors keep their identity, so optimizers holding them stay valid).
    ///
    /// Nothing is written unless the whole load can succeed. Strict (the default, as PyTorch's
    /// `load_state_dict`): any missing, unexpected or mis-shaped tensor is an error that names each
    /// one. Not strict: missing and unexpected names are returned instead (mis-shaped ones still
    /// throw). `source` names the state dict in errors (the file path for checkpoints).
    ///
    ///     try net.loadStateDict(try Safetensors.read("net.safetensors"), source: "net.safetensors")
    @discardableResult
    public func loadStateDict(_ bundle: TensorBundle, strict: Bool = true,
                              source: String = "state dict") throws -> StateDictMismatch {
        let entries = stateEntries()
        let known = Set(entries.map(\.name))
        var report = StateDictMismatch()
        for e in entries {
            guard let t = bundle.tensors[e.name] else { report.missing.append(e.name); continue }
            if t.shape != e.tensor.shape { report.misshaped.append((e.name, file: t.shape, model: e.tensor.shape)) }
        }
        let order = bundle.names.filter { bundle.tensors[$0] != nil } + bundle.tensors.keys.filter { !bundle.names.contains($0) }.sorted()
        report.unexpected = order.filter { !known.contains($0) }
        if !report.misshaped.isEmpty || (strict && !(report.missing.isEmpty && report.unexpected.isEmpty)) {
            throw NNError(source, "does not fit \(summary):\n" + report.lines.joined(separator: "\n"))
        }
        withNoGrad {
            for e in entries {
                // Shapes were checked above, so assign cannot fail.
                if let t = bundle.tensors[e.name] { try? e.tensor.assign(t) }
            }
        }
        return report
    }
}

/// How a state dict differs from a module: names the module has that the dict lacks, names the
/// dict has that the module lacks, and tensors whose shapes differ.
///
///     let r = try net.loadStateDict(encoderState, strict: false); print(r.missing)   // ["linear.weight", "linear.bias"]
public struct StateDictMismatch: CustomStringConvertible, Sendable {
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var misshaped: [(name: String, file: [Int], model: [Int])] = []

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misshaped.isEmpty }

    /// One line per problem tensor.
    public var lines: [String] {
        missing.map { "  missing: \($0)" }
            + unexpected.map { "  unexpected: \($0)" }
            + misshaped.map { "  shape mismatch: \($0.name) is \(shapeText($0.file)) in the state dict but \(shapeText($0.model)) in the model" }
    }

    public var description: String { isEmpty ? "state dict matches" : lines.joined(separator: "\n") }
}
