import Data
import Foundation
import NN
import Tensor
import Train

/// The eigensolver behind `hessianEigs` (`method:` in the language).
///
///     let e = try hessianEigs(net, data, method: .power)
public enum EigenMethod: String, Sendable, CaseIterable {
    /// Lanczos with full reorthogonalization and thick restarts (the default).
    case lanczos
    /// Power iteration with deflation.
    case power

    /// `"lanczos"` or `"power"`; anything else throws.
    ///
    ///     let m = try EigenMethod(parsing: "power")
    public init(parsing text: String) throws {
        guard let m = EigenMethod(rawValue: text) else {
            throw SharpnessError("hessian_eigs", "unknown method '\(text)'; use \"lanczos\" or \"power\"")
        }
        self = m
    }
}

extension SpectrumEnd {
    /// `"LM"`, `"LA"` or `"SA"`; anything else throws.
    ///
    ///     let which = try SpectrumEnd(parsing: "SA")
    public init(parsing text: String) throws {
        guard let w = SpectrumEnd(rawValue: text) else {
            throw SharpnessError("hessian_eigs", "unknown which '\(text)'; use \"LM\" (largest magnitude), \"LA\" (largest) or \"SA\" (smallest)")
        }
        self = w
    }
}

/// The `hessian_eigs` record. With one trial, `values`, `residuals` and `converged` are that
/// trial's (values in `which` order, residual ‖Hv − λv‖/|λ| recomputed at the end); with
/// `trials > 1` each trial's are in `trials`, and `mean`, `std` (n − 1, per eigenvalue), `max`
/// (|λ₁|) and `ratio5` (|λ₁/λ₅| per trial) summarize them as the paper's Table 2.
///
///     let e = try hessianEigs(net, data, k: 10, trials: 10); print(e.max!.mean, e.ratio5!.std)
public struct HessianEigs: Sendable {
    /// One result per trial (one random batch each, or the whole data set).
    public var trials: [Eigenpairs]
    /// Operator applications over all trials.
    public var hvps: Int
    /// Per eigenvalue index: mean over trials (nil for one trial).
    public var mean: [Double]?
    /// Per eigenvalue index: sample std (n − 1) over trials (nil for one trial).
    public var std: [Double]?
    /// |λ₁| over trials (nil for one trial).
    public var max: MeanStd?
    /// |λ₁/λ₅| taken per trial, over trials (nil for one trial or k < 5).
    public var ratio5: MeanStd?
    /// Items per trial's batch; nil when each trial used the whole data set.
    public var batch: Int?
    /// The seed the batches and start vectors came from.
    public var seed: UInt64
    /// Names of the parameters the Hessian is taken with respect to.
    public var parameterNames: [String]
    /// Number of parameter values (the Hessian is dimension × dimension).
    public var dimension: Int

    /// The first (or only) trial's eigenvalues.
    public var values: [Double] { trials[0].values }
    /// The first (or only) trial's relative residuals.
    public var residuals: [Double] { trials[0].residuals }
    /// The first (or only) trial's converged flags.
    public var converged: [Bool] { trials[0].converged }
    /// The first (or only) trial's unit eigenvectors (`vectors: true`), flat over the parameters.
    public var vectors: [[Float]] { trials[0].vectors }
}

/// Top-k eigenpairs of the loss Hessian of a classifier — DESIGN.md's `hessian_eigs(model, data,
/// k: 10, which: "LM", batch: 512, trials: 1, method: "lanczos", bn: "eval", wrt: "trainable",
/// tol: 1e-4, seed:, vectors: false)`.
///
/// Each trial draws a random batch of `batch` items (without replacement, seeded; `batch: nil` or
/// a batch at least the data set's size uses the whole data set, walked in chunks of `chunk`) and
/// runs the eigensolver on the exact Hessian of the mean cross-entropy there (`ModelHessian`).
/// `seed` fixes the batches and the start vectors (nil draws it from `GlobalRandom`). Progress is
/// shown per HVP (one trial) or per trial; Ctrl-C stops between HVPs with `Cancelled`.
///
///     let e = try hessianEigs(net, train, k: 10, batch: 512, trials: 10, seed: 0)
public func hessianEigs(_ model: Module, _ data: Dataset, k: Int = 10, which: SpectrumEnd = .largestMagnitude,
                        batch: Int? = 512, trials: Int = 1, method: EigenMethod = .lanczos,
                        bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable, tol: Double = 1e-4,
                        seed: UInt64? = nil, vectors: Bool = false, chunk: Int = 512,
                        maxSteps: Int? = nil, reduction: GradientReduction = LocalReduction(),
                        progress: MeasureProgress = .automatic) throws -> HessianEigs {
    guard trials >= 1 else { throw SharpnessError("hessian_eigs", "trials must be at least 1, got \(trials)") }
    let s = resolvedSeed(seed)
    var rng = RandomGenerator(seed: s)
    let outer = trials > 1 ? ProgressHook(progress, label: "hessian_eigs", total: trials, unit: "trial") : nil
    var runs: [Eigenpairs] = []
    var names: [String] = [], dimension = 0
    for t in 0..<trials {
        let h = try trialHessian(model, data, batch: batch, chunk: chunk, bn: bn, wrt: wrt, reduction: reduction,
                                 rng: &rng, op: "hessian_eigs")
        names = h.parameterNames
        dimension = h.dimension
        let inner: MeasureProgress = trials > 1 ? .silent : progress
        let start = mixSeed(s, 1000 + t)
        let r: Eigenpairs
        switch method {
        case .lanczos:
            r = try Lanczos.eigenpairs(of: h, k: k, which: which, tol: tol, seed: start, maxSteps: maxSteps,
                                       vectors: vectors, progress: inner)
        case .power:
            r = try PowerIteration.eigenpairs(of: h, k: k, which: which, tol: tol, seed: start,
                                              maxIterations: maxSteps ?? 1000, vectors: vectors, progress: inner)
        }
        runs.append(r)
        outer?.update(t + 1, String(format: "|λ1| %.6g  hvps %d", abs(r.values[0]), runs.reduce(0) { $0 + $1.hvps }))
    }
    var result = HessianEigs(trials: runs, hvps: runs.reduce(0) { $0 + $1.hvps }, batch: usesWholeData(data, batch) ? nil : batch,
                             seed: s, parameterNames: names, dimension: dimension)
    if trials > 1 {
        let summary = try EigenpairTrials(runs)
        result.mean = summary.mean
        result.std = summary.std
        result.max = summary.max
        result.ratio5 = summary.ratio5
        outer?.finish(String(format: "|λ1| %.6g ± %.2g", summary.max.mean, summary.max.std))
    }
    return result
}

/// Whether a trial uses the whole data set rather than a random batch.
func usesWholeData(_ data: Dataset, _ batch: Int?) -> Bool {
    guard let batch else { return true }
    return batch >= data.count
}

/// The Hessian operator of one trial: a random batch of `batch` items drawn with `rng` (kept in
/// data order, one batch), or the whole data set in chunks.
func trialHessian(_ model: Module, _ data: Dataset, batch: Int?, chunk: Int, bn: BatchNormPolicy,
                  wrt: ParameterFilter, reduction: GradientReduction, rng: inout RandomGenerator,
                  op: String) throws -> ModelHessian {
    if let batch, batch < 1 { throw SharpnessError(op, "batch must be at least 1, got \(batch)") }
    let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: op)
    let source: BatchSource
    if usesWholeData(data, batch) {
        source = try .dataset(data, chunk: chunk, op: op)
    } else {
        source = try .whole(try data.randomSubset(batch!, using: &rng), op: op)
    }
    return ModelHessian(scope: scope, source: source, reduction: reduction, graphMemory: nil)
}
