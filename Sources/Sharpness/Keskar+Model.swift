import Data
import NN
import Tensor
import Train

/// How `keskar` maximizes the loss over the box (`method:` in the language).
///
///     let k = try keskar(net, data, method: .pga)
public enum KeskarMethod: String, Sendable, CaseIterable {
    /// L-BFGS-B on −L (Byrd, Lu, Nocedal & Zhu; the original's choice, the default).
    case lbfgsb
    /// Projected gradient ascent with Armijo backtracking.
    case pga

    /// `"lbfgsb"` or `"pga"`; anything else throws.
    ///
    ///     let m = try KeskarMethod(parsing: "lbfgsb")
    public init(parsing text: String) throws {
        guard let m = KeskarMethod(rawValue: text) else {
            throw SharpnessError("keskar", "unknown method '\(text)'; use \"lbfgsb\" or \"pga\"")
        }
        self = m
    }
}

/// (C_ε, A)-sharpness of a classifier (Keskar et al. 2016) — DESIGN.md's `keskar(model, data,
/// eps: 1e-3, iters: 10, subspace: nil, seed:, bn: "eval", wrt: "trainable")` →
/// `{value, loss, max_loss, iters}`:
///
///     φ = (max_{y ∈ C_ε} L(w + Ay) − L(w)) / (1 + L(w)) × 100,  C_ε = { y : |yᵢ| ≤ ε(|(A⁺w)ᵢ| + 1) },
///
/// with L the mean cross-entropy over ALL of `data` (evaluated in chunks of `batch` items, the
/// chunk losses weighted by size, the gradient through the reduction seam), w the selected
/// parameters (`wrt`), A the identity (`subspace: nil`) or an n×p matrix of i.i.d. N(0, 1) entries
/// drawn from `seed` (`subspace: p`; see `RandomSubspace`: stored when small, else regenerated on
/// the fly), A⁺ its pseudo-inverse (AᵀA)⁻¹Aᵀ by Cholesky in Double. The maximum is approximated
/// by `iters` iterations of L-BFGS-B on −L from y = 0 (or projected gradient ascent, `.pga`,
/// starting with step `pgaStep`). The weights are restored bit for bit afterwards, and BatchNorm
/// follows `bn` with its running statistics untouched.
///
///     let k = try keskar(net, train, eps: 1e-3, iters: 10); print(k.value, k.loss, k.maxLoss, k.iterations)
public func keskar(_ model: Module, _ data: Dataset, eps: Double = 1e-3, iters: Int = 10, subspace: Int? = nil,
                   seed: UInt64? = nil, bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable,
                   method: KeskarMethod = .lbfgsb, pgaStep: Double = 1, batch: Int = 512,
                   reduction: GradientReduction = LocalReduction(),
                   progress: MeasureProgress = .automatic) throws -> KeskarSharpness {
    let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "keskar")
    let source = try BatchSource.dataset(data, chunk: batch, op: "keskar")
    let layout = ParameterLayout(scope.tensors)
    let snapshot = WeightSnapshot(scope.tensors)
    defer { snapshot.restore() }
    let w = layout.flatten(scope.tensors)
    let space: KeskarSubspace = subspace.map { .random(dimension: $0, seed: resolvedSeed(seed)) } ?? .full
    let maximizer: KeskarMaximizer = method == .lbfgsb ? .lbfgsb : .projectedGradientAscent(step: pgaStep)
    return try scope.run {
        try KeskarSharpness.measure(at: w, eps: eps, iterations: iters, subspace: space, maximizer: maximizer,
                                    progress: progress) { p in
            layout.write(p, into: scope.tensors)
            let (loss, g) = try sourceLossAndGradient(scope, source, reduction: reduction)
            return (loss, g)
        }
    }
}
