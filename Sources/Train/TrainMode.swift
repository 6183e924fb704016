import NN

/// How a training loop puts the model into training mode before each epoch's batches — the hook
/// for modules that must stay in evaluation mode while the rest trains.
///
/// NN's `Module.train()` sets a whole subtree, and NN has no per-module "stay in eval" flag; this
/// policy is that flag, kept in the Train layer. A frozen encoder under a linear probe (issue 7)
/// keeps its BatchNorm in eval mode, so its running statistics neither move nor normalize with
/// batch statistics: use `.keepingEval([encoder])`, or `.frozenBatchNormInEval` to do it for every
/// BatchNorm whose parameters are all frozen. Evaluation (`evaluate`, the epoch's test and extra
/// sets, trackers) always runs the whole model in eval mode.
///
///     let mode = TrainMode.keepingEval([encoder])   // fit(…, trainMode: mode)
public struct TrainMode {
    private let body: (Module) -> Void

    /// A policy from a closure that sets the modes of the model's modules.
    ///
    ///     let mode = TrainMode { model in model.train(); head.eval() }
    public init(_ body: @escaping (Module) -> Void) { self.body = body }

    /// Applies the policy to the model.
    public func callAsFunction(_ model: Module) { body(model) }

    /// Everything in training mode (`model.train()`, PyTorch's `model.train()`); the default.
    public static var all: TrainMode { TrainMode { $0.train() } }

    /// Training mode except for `modules` (and everything inside them), which stay in eval mode.
    ///
    ///     fit(…, trainMode: .keepingEval([encoder]))
    public static func keepingEval(_ modules: [Module]) -> TrainMode {
        TrainMode { model in
            model.train()
            for m in modules { m.eval() }
        }
    }

    /// Training mode except for BatchNorm layers whose parameters (weight and bias) are all
    /// frozen: they stay in eval mode (running statistics used, never updated).
    ///
    ///     try net.freeze("*"); try net.unfreeze("linear"); fit(…, trainMode: .frozenBatchNormInEval)
    public static var frozenBatchNormInEval: TrainMode {
        TrainMode { model in
            model.train()
            for (_, m) in model.namedModules() where m is BatchNorm {
                if m.ownParameters.allSatisfy({ !$0.tensor.requiresGrad }) { m.eval() }
            }
        }
    }
}
