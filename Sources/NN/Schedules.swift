import Foundation

/// Learning-rate schedules, stepped once per epoch, as pure functions of the epoch (counted from
/// 0) and the base learning rate, so a resumed run gets exactly the rate it would have had.
///
/// - `constant`: base.
/// - `multistep(milestones, gamma)`: PyTorch's `MultiStepLR`: base · gamma^(number of milestones
///   ≤ epoch), a milestone listed twice counting twice.
/// - `step(size, gamma)`: PyTorch's `StepLR`: base · gamma^⌊epoch / size⌋.
/// - `cosine(tMax, etaMin)`: PyTorch's `CosineAnnealingLR` closed form:
///   etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2 (past tMax it keeps following the cosine).
/// - `warmup(epochs, startFactor, then)`: PyTorch's `SequentialLR([LinearLR(startFactor, 1,
///   total_iters: epochs), then], milestones: [epochs])`: base·(startFactor + (1 − startFactor)·
///   epoch/epochs) for epoch < epochs, then `then` at epoch − epochs.
///
///     Schedule.multistep(milestones: [60, 120, 160], gamma: 0.2).lr(epoch: 120, base: 0.1)   // 0.004
public indirect enum Schedule: Sendable, Equatable {
    case constant
    case multistep(milestones: [Int], gamma: Double)
    case step(size: Int, gamma: Double)
    case cosine(tMax: Int, etaMin: Double)
    case warmup(epochs: Int, startFactor: Double, then: Schedule)

    /// Linear warm-up over `epochs` from base·startFactor (PyTorch's LinearLR default 1/3), then `then`.
    ///
    ///     let s = Schedule.linearWarmup(epochs: 5, then: .cosine(tMax: 95, etaMin: 0))
    public static func linearWarmup(epochs: Int, startFactor: Double = 1.0 / 3, then: Schedule = .constant) -> Schedule {
        .warmup(epochs: epochs, startFactor: startFactor, then: then)
    }

    /// The learning rate of epoch `epoch` (0-based) for base rate `base`.
    ///
    ///     Schedule.cosine(tMax: 10, etaMin: 0).lr(epoch: 5, base: 0.1)   // 0.05
    public func lr(epoch: Int, base: Double) -> Double {
        let e = max(epoch, 0)
        switch self {
        case .constant:
            return base
        case let .multistep(milestones, gamma):
            return base * Foundation.pow(gamma, Double(milestones.filter { $0 <= e }.count))
        case let .step(size, gamma):
            return base * Foundation.pow(gamma, Double(e / size))
        case let .cosine(tMax, etaMin):
            return etaMin + (base - etaMin) * (1 + Foundation.cos(Double.pi * Double(e) / Double(tMax))) / 2
        case let .warmup(epochs, startFactor, then):
            guard e < epochs else { return then.lr(epoch: e - epochs, base: base) }
            return base * (startFactor + (1 - startFactor) * Double(e) / Double(epochs))
        }
    }

    /// Checks the parameters (positive periods, finite factors); returns self.
    ///
    ///     let s = try Schedule.cosine(tMax: 0, etaMin: 0).validated()   // throws
    @discardableResult
    public func validated() throws -> Schedule {
        func fail(_ m: String) -> NNError { NNError("schedule", m) }
        switch self {
        case .constant: break
        case let .multistep(milestones, gamma):
            guard gamma.isFinite, gamma >= 0 else { throw fail("multistep gamma must be ≥ 0, got \(gamma)") }
            guard milestones.allSatisfy({ $0 >= 0 }) else { throw fail("multistep milestones must be ≥ 0, got \(milestones)") }
        case let .step(size, gamma):
            guard size > 0 else { throw fail("step size must be positive, got \(size)") }
            guard gamma.isFinite, gamma >= 0 else { throw fail("step gamma must be ≥ 0, got \(gamma)") }
        case let .cosine(tMax, etaMin):
            guard tMax > 0 else { throw fail("cosine T_max must be positive, got \(tMax)") }
            guard etaMin.isFinite, etaMin >= 0 else { throw fail("cosine eta_min must be ≥ 0, got \(etaMin)") }
        case let .warmup(epochs, startFactor, then):
            guard epochs > 0 else { throw fail("warm-up epochs must be positive, got \(epochs)") }
            guard startFactor > 0, startFactor <= 1 else { throw fail("warm-up start factor must be in (0, 1], got \(startFactor)") }
            try then.validated()
        }
        return self
    }

    /// Sets the optimizer's learning rate for `epoch` from its initial rate.
    ///
    ///     schedule.apply(to: opt, epoch: e)
    public func apply(to optimizer: Optimizer, epoch: Int) {
        optimizer.lr = lr(epoch: epoch, base: optimizer.initialLR)
    }
}

extension Schedule: CustomStringConvertible {
    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .multistep(m, g): return "multistep(\(m), gamma: \(g))"
        case let .step(s, g): return "step(\(s), gamma: \(g))"
        case let .cosine(t, e): return "cosine(T_max: \(t), eta_min: \(e))"
        case let .warmup(n, f, then): return "warmup(\(n) epochs from ×\(f), then \(then))"
        }
    }
}
