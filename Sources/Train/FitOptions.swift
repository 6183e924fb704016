import Data
import NN
import Tensor

/// Everything `fit` takes besides the model, the data, the optimizer, the epochs and the batch
/// size, with its defaults. The keyword form of `fit` fills one; the `into:` form (the one that
/// keeps the history when training is interrupted) takes it whole.
///
///     var o = FitOptions(); o.test = data.test; o.track = [every(2, "norm") { m, _ in 0 }]
public struct FitOptions {
    /// Learning rate per epoch, stepped once per epoch from the optimizer's initial rate.
    public var schedule: Schedule = .constant
    /// The test set: `test_loss`, `test_acc` after every epoch.
    public var test: Dataset? = nil
    /// Extra evaluation sets, in order: `NAME_loss`, `NAME_acc` after every epoch.
    public var eval: [(name: String, data: Dataset)] = []
    /// Measures recorded every N epochs (`m`, `m_epoch`).
    public var track: [Tracker] = []
    /// Periodic and best-epoch checkpoints.
    public var checkpoint: CheckpointPolicy? = nil
    /// A fresh random order every epoch (else data order).
    public var shuffle = true
    /// Seeds the shuffling generator (and, as a second stream, `transform`'s); nil draws it from
    /// `GlobalRandom`.
    public var seed: UInt64? = nil
    /// Leave out a last, smaller batch (kept by default; `train_loss` weights it by its size).
    public var dropLast = false
    /// Applied to each training batch's inputs (augmentation).
    public var transform: BatchTransform? = nil
    /// Batch size of the per-epoch evaluations.
    public var evalBatch = 512
    /// Label smoothing of the training loss (the evaluations use plain cross-entropy).
    public var labelSmoothing: Float = 0
    /// How the model is put in training mode (`.keepingEval([encoder])` for a frozen encoder).
    public var trainMode: TrainMode = .all
    /// The gradient reduction seam (the identity on one process).
    public var reduction: GradientReduction = LocalReduction()
    /// Makes each epoch's progress reporter from its label and number of batches.
    public var progress: ((_ label: String, _ batches: Int) -> ProgressReporter)? = nil

    /// The defaults: constant schedule, no test set, shuffled, kept last batch, local reduction.
    ///
    ///     var o = FitOptions(); o.seed = 0
    public init() {}

    /// The training loop these options describe (what `fit` runs).
    ///
    ///     let loop = try FitOptions().loop(net, train, opt, epochs: 5, batch: 64)
    public func loop(_ model: Module, _ data: Dataset, _ optimizer: Optimizer, epochs: Int, batch: Int) throws -> TrainingLoop {
        for (name, _) in eval where name.isEmpty || name == "train" {
            throw TrainError("fit", "an evaluation set needs a name other than '\(name)'")
        }
        var loop = TrainingLoop(model: model, optimizer: optimizer, data: data, epochs: epochs, batchSize: batch,
                                objective: classificationObjective(model, transform: transform, labelSmoothing: labelSmoothing))
        loop.schedule = schedule
        loop.shuffle = shuffle
        loop.seed = seed
        loop.dropLast = dropLast
        loop.reduction = reduction
        loop.trainMode = trainMode
        loop.trackers = track
        loop.checkpoint = checkpoint
        loop.label = "fit"
        if let progress { loop.progress = progress }
        let batchSize = evalBatch
        if let test { loop.evaluations.append(.classification("test", test, batch: batchSize)) }
        for (name, set) in eval { loop.evaluations.append(.classification(name, set, batch: batchSize)) }
        return loop
    }
}
