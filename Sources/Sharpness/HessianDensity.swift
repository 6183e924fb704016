import Data
import NN
import Tensor
import Train

/// The loss Hessian's spectral density by stochastic Lanczos quadrature with Gaussian smoothing
/// (PyHessian's ESD) — DESIGN.md's `hessian_density(model, data, ...)` → `{x, density}`: `probes`
/// runs of `steps` Lanczos steps from random unit vectors, the quadrature nodes smoothed with a
/// Gaussian of width `sigma` (default 1% of the node range) on `points` grid points. On a random
/// batch of `batch` items (seeded; nil = the whole data set, in chunks); `bn`, `wrt` and the seam
/// as `hessianEigs`.
///
///     let d = try hessianDensity(net, train, steps: 80, probes: 5, seed: 0)   // plot(d.x, d.density)
public func hessianDensity(_ model: Module, _ data: Dataset, steps: Int = 100, probes: Int = 10,
                           sigma: Double? = nil, points: Int = 1000, batch: Int? = 512,
                           bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable, seed: UInt64? = nil,
                           probe: ProbeDistribution = .rademacher, chunk: Int = 512,
                           reduction: GradientReduction = LocalReduction(),
                           progress: MeasureProgress = .automatic) throws -> SpectralDensity {
    let s = resolvedSeed(seed)
    var rng = RandomGenerator(seed: s)
    let h = try trialHessian(model, data, batch: batch, chunk: chunk, bn: bn, wrt: wrt, reduction: reduction,
                             rng: &rng, op: "hessian_density")
    return try SpectralDensity.estimate(of: h, steps: steps, probes: probes, seed: mixSeed(s, 3000), probe: probe,
                                        sigma: sigma, points: points, progress: progress)
}
