import Data
import NN
import Tensor
import Train

/// Hutchinson's estimate of the loss Hessian's trace — DESIGN.md's `hessian_trace(model, data,
/// probes: 100, ...)` → `{trace, stderr}`: the mean of zᵀHz over Rademacher probes z, with its
/// standard error, on a random batch of `batch` items (seeded; `batch: nil` = the whole data set,
/// in chunks of `chunk`). `bn`, `wrt` and the seam as `hessianEigs`.
///
///     let t = try hessianTrace(net, train, probes: 100, seed: 0); print(t.trace, "±", t.stderr)
public func hessianTrace(_ model: Module, _ data: Dataset, probes: Int = 100, batch: Int? = 512,
                         bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable, seed: UInt64? = nil,
                         chunk: Int = 512, reduction: GradientReduction = LocalReduction(),
                         progress: MeasureProgress = .automatic) throws -> TraceEstimate {
    let s = resolvedSeed(seed)
    var rng = RandomGenerator(seed: s)
    let h = try trialHessian(model, data, batch: batch, chunk: chunk, bn: bn, wrt: wrt, reduction: reduction,
                             rng: &rng, op: "hessian_trace")
    return try Hutchinson.trace(of: h, probes: probes, seed: mixSeed(s, 2000), progress: progress)
}
