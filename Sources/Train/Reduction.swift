import Tensor

/// The one seam every gradient passes through between backward and the optimizer (DESIGN.md,
/// "Scale-out"). The fit loop calls `reduce` exactly once per step, with the gradients of the
/// batch's mean loss with respect to the trainable parameters (in parameter order) and the number
/// of items the batch held on this process; the optimizer sees only what it returns.
///
/// Locally this is the identity (`LocalReduction`). A data-parallel run on Open MPI slots in
/// here without touching the loop or the measures: each rank computes the gradient of its shard
/// of the batch, and an all-reduce returns Σ_r b_r·g_r / Σ_r b_r (the gradient of the whole
/// batch's mean loss), so every rank steps identically. The Hessian operator (Sharpness layer)
/// must send its Hessian-vector products through the same seam, with the same weighting, so
/// that a measure's HVP over a sharded batch equals the one-process HVP.
///
///     struct Averaging: GradientReduction { func reduce(_ g: [Tensor], batchSize: Int) throws -> [Tensor] { g } }
public protocol GradientReduction {
    /// Combines this process's gradients (one per trainable parameter, each its parameter's
    /// shape) of a batch of `batchSize` items into the gradients the optimizer applies. The
    /// result must have the same count and shapes.
    ///
    ///     let g = try reduction.reduce(grads, batchSize: batch.count)
    func reduce(_ grads: [Tensor], batchSize: Int) throws -> [Tensor]
}

/// The single-process reduction: gradients pass through unchanged (the default everywhere).
///
///     let r: GradientReduction = LocalReduction()
public struct LocalReduction: GradientReduction {
    public init() {}

    /// Returns `grads` as they are.
    ///
    ///     let same = try LocalReduction().reduce(grads, batchSize: 128)
    public func reduce(_ grads: [Tensor], batchSize: Int) throws -> [Tensor] { grads }
}
