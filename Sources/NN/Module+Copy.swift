import Tensor

extension Module {
    /// A deep copy: the same class and configuration, with new parameter and buffer tensors holding
    /// the same values, the same trainable flags, the same train/eval mode of every module, and
    /// nothing shared with the original (an optimizer over one does not move the other).
    /// Throws for a module class that does not override `makeBlankCopy()`.
    ///
    ///     let snapshot = try net.copy()
    public func copy() throws -> Module {
        let blank = try makeBlankCopy()
        let src = namedModules(), dst = blank.namedModules()
        guard src.count == dst.count else {
            throw NNError(summary, "cannot be copied: the copy has \(dst.count) modules, the original \(src.count)")
        }
        // Check the whole tree before writing, so a mismatch names the first culprit.
        for (a, b) in zip(src, dst) {
            let at = a.name.isEmpty ? "" : " at '\(a.name)'"
            guard type(of: a.module) == type(of: b.module) else {
                // A subclass inheriting its parent's makeBlankCopy() would come back as the parent.
                throw NNError(a.module.summary, "cannot be copied: \(type(of: a.module))\(at) does not override makeBlankCopy()")
            }
            guard a.name == b.name,
                  a.module.ownParameters.map(\.name) == b.module.ownParameters.map(\.name),
                  a.module.ownParameters.map(\.tensor.shape) == b.module.ownParameters.map(\.tensor.shape),
                  a.module.ownBuffers.map(\.name) == b.module.ownBuffers.map(\.name),
                  a.module.ownBuffers.map(\.tensor.shape) == b.module.ownBuffers.map(\.tensor.shape),
                  a.module.ownBuffers.map(\.dtype) == b.module.ownBuffers.map(\.dtype) else {
                throw NNError(a.module.summary, "cannot be copied: makeBlankCopy() built '\(b.name)' with other entries or shapes than '\(a.name)'")
            }
        }
        withNoGrad {
            for (a, b) in zip(src, dst) {
                for (p, q) in zip(a.module.ownParameters, b.module.ownParameters) {
                    try? q.tensor.assign(p.tensor)  // shapes checked above
                    q.tensor.requiringGrad(p.tensor.requiresGrad)
                }
                for (p, q) in zip(a.module.ownBuffers, b.module.ownBuffers) { try? q.tensor.assign(p.tensor) }
                copySettings(from: a.module, to: b.module)
            }
        }
        // Pre-order, so a child whose mode differs from its parent's is set after the parent.
        for (a, b) in zip(src, dst) { b.module.train(a.module.isTraining) }
        return blank
    }
}

/// The settings that may change after construction, which a blank built by a container (a
/// ResNet's BatchNorms, say) has at their initial values.
private func copySettings(from a: Module, to b: Module) {
    if let a = a as? BatchNorm, let b = b as? BatchNorm { b.momentum = a.momentum }
    if let a = a as? Dropout, let b = b as? Dropout { b.rng = a.rng }
}
