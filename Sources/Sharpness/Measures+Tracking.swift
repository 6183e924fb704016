import Data
import NN
import Tensor
import Train

/// A measure to record during training (`every(n, "rag")` in the language), with its options.
///
///     let t = every(2, .rag(), on: train)   // history columns rag, rag_epoch
public enum TrackedMeasure {
    /// RAG → record `{rag, loss_adv, loss}`.
    case rag(batch: Int = 128, step: Double = 0.1, shuffle: Bool = true)
    /// |λ₁| (largest-magnitude Hessian eigenvalue; the mean over trials when trials > 1) → number.
    case hessianMax(batch: Int? = 512, trials: Int = 1)
    /// The paper's Table 2 pair → record `{max, ratio5}`: |λ₁| and |λ₁/λ₅| (means over trials).
    case eigs(k: Int = 10, batch: Int? = 512, trials: Int = 1)
    /// Hutchinson's trace → record `{trace, stderr}`.
    case trace(probes: Int = 100, batch: Int? = 512)
    /// (C_ε, A)-sharpness → record `{value, loss, max_loss}`.
    case keskar(eps: Double = 1e-3, iters: Int = 10, subspace: Int? = nil)

    /// The measure a name stands for, with default options: `"rag"`, `"hessian_max"`,
    /// `"eigs"` (or `"hessian_eigs"`), `"trace"` (or `"hessian_trace"`), `"keskar"`.
    ///
    ///     let m = try TrackedMeasure(name: "rag")
    public init(name: String) throws {
        switch name {
        case "rag": self = .rag()
        case "hessian_max", "lambda_max", "max": self = .hessianMax()
        case "eigs", "hessian_eigs": self = .eigs()
        case "trace", "hessian_trace": self = .trace()
        case "keskar", "sharpness": self = .keskar()
        default:
            throw SharpnessError("every", "unknown measure '\(name)'; measures that can be tracked: rag, hessian_max, eigs, trace, keskar (or pass a function)")
        }
    }

    /// The history column it records under by default.
    ///
    ///     TrackedMeasure.rag().defaultName   // "rag"
    public var defaultName: String {
        switch self {
        case .rag: return "rag"
        case .hessianMax: return "hessian_max"
        case .eigs: return "eigs"
        case .trace: return "trace"
        case .keskar: return "keskar"
        }
    }

    /// Runs the measure once on `model` and `data`.
    ///
    ///     let v = try TrackedMeasure.rag().measure(net, train, settings: MeasureSettings(seed: 0))
    public func measure(_ model: Module, _ data: Dataset, settings: MeasureSettings = MeasureSettings(),
                        seed: UInt64? = nil) throws -> TrackedValue {
        let seed = seed ?? settings.seed
        let (bn, wrt, red, progress) = (settings.bn, settings.wrt, settings.reduction, settings.progress)
        switch self {
        case let .rag(batch, step, shuffle):
            return try Sharpness.rag(model, data, batch: batch, step: step, shuffle: shuffle, seed: seed, bn: bn, wrt: wrt,
                           reduction: red, progress: progress).trackedValue
        case let .hessianMax(batch, trials):
            let e = try hessianEigs(model, data, k: 1, batch: batch, trials: trials, bn: bn, wrt: wrt, seed: seed,
                                    reduction: red, progress: progress)
            return .number(e.max?.mean ?? abs(e.values[0]))
        case let .eigs(k, batch, trials):
            guard k >= 5 else { throw SharpnessError("every", "eigs needs k ≥ 5 for ratio5, got \(k)") }
            let e = try hessianEigs(model, data, k: k, batch: batch, trials: trials, bn: bn, wrt: wrt, seed: seed,
                                    reduction: red, progress: progress)
            let max = e.max?.mean ?? abs(e.values[0])
            let ratio = e.ratio5?.mean ?? abs(e.values[0] / e.values[4])
            return TrackedValue([("max", max), ("ratio5", ratio)])
        case let .trace(probes, batch):
            let t = try hessianTrace(model, data, probes: probes, batch: batch, bn: bn, wrt: wrt, seed: seed,
                                     reduction: red, progress: progress)
            return TrackedValue([("trace", t.trace), ("stderr", t.stderr)])
        case let .keskar(eps, iters, subspace):
            let k = try Sharpness.keskar(model, data, eps: eps, iters: iters, subspace: subspace, seed: seed, bn: bn, wrt: wrt,
                               reduction: red, progress: progress)
            return TrackedValue([("value", k.value), ("loss", k.loss), ("max_loss", k.maxLoss)])
        }
    }
}

/// What every tracked measure shares: BatchNorm policy, parameters, seed, reduction seam and
/// progress.
///
///     var s = MeasureSettings(); s.bn = .train
public struct MeasureSettings {
    public var bn: BatchNormPolicy = .eval
    public var wrt: ParameterFilter = .trainable
    /// The base seed; each measurement uses a seed derived from it and the epoch (nil: one drawn
    /// from `GlobalRandom` when the tracker is made).
    public var seed: UInt64? = nil
    public var reduction: GradientReduction = LocalReduction()
    public var progress: MeasureProgress = .automatic

    /// Settings with the given policy, parameters and seed (automatic progress, local reduction).
    ///
    ///     let s = MeasureSettings(bn: .train, wrt: .pattern("linear"), seed: 0)
    public init(bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable, seed: UInt64? = nil) {
        self.bn = bn
        self.wrt = wrt
        self.seed = seed
    }
}

/// A Train `Tracker` that records `measure` on `data` at epochs 0, n, 2n, … and at the end of
/// `fit`, as the history columns `name` and `name_epoch` (`name` defaults to the measure's:
/// `rag`, `hessian_max`, `eigs`, `trace`, `keskar`). Measurement e uses the seed
/// mixSeed(base, e), so a run repeats exactly and the epochs draw different batches.
///
///     let log = try fit(net, train, opt, epochs: 10, batch: 128, track: [every(2, .rag(), on: train)])
///     log.numbers("rag_epoch")   // [0, 2, 4, 6, 8, 10]
public func every(_ n: Int, _ measure: TrackedMeasure, on data: Dataset, settings: MeasureSettings = MeasureSettings(),
                  name: String? = nil) -> Tracker {
    let base = resolvedSeed(settings.seed)
    return Tracker(name: name ?? measure.defaultName, every: n) { model, epoch in
        try measure.measure(model, data, settings: settings, seed: mixSeed(base, epoch))
    }
}

/// The same from a measure's name (what the language's `every(n, "rag")` passes).
///
///     let t = try every(2, "rag", on: train)
public func every(_ n: Int, _ name: String, on data: Dataset, settings: MeasureSettings = MeasureSettings()) throws -> Tracker {
    let m = try TrackedMeasure(name: name)
    return every(n, m, on: data, settings: settings, name: name)
}
