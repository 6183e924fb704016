import Data
import NN
import Tensor

/// An encoder with SimCLR's projection head on top: what contrastive pre-training trains. Its
/// parameters are `encoder.*` then `head.*` (the order optimizers and checkpoints see); the
/// forward pass is head(encoder(x)). After pre-training only the encoder is kept (the head is
/// thrown away, as in the paper).
///
///     let m = try SimCLRModel(encoder: enc, head: projectionHead(features: 128, rng: &rng))
public final class SimCLRModel: Module {
    public let encoder: Module
    public let head: Module

    public init(encoder: Module, head: Module) {
        self.encoder = encoder
        self.head = head
        super.init()
        registerChild("encoder", encoder)
        registerChild("head", head)
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try head(encoder(x)) }

    public override var summary: String { "SimCLRModel" }
}

/// SimCLR's projection head: a 2-layer MLP features → hidden → out with a ReLU between
/// (children `0`, `1`, `2`; PyTorch's default initialization). `hidden: nil` uses the
/// encoder's feature count, as Chen et al. do; `out` is 128 in the paper.
///
///     let head = try projectionHead(features: 128, rng: &rng)   // 128 → 128 → 128
public func projectionHead(features: Int, hidden: Int? = nil, out: Int = 128,
                           rng: inout RandomGenerator) throws -> Sequential {
    let h = hidden ?? features
    guard features >= 1, h >= 1, out >= 1 else {
        throw TrainError("simclr", "the projection head needs positive sizes, got \(features) → \(h) → \(out)")
    }
    return Sequential([try Linear(features, h, rng: &rng), ReLU(), try Linear(h, out, rng: &rng)])
}

/// One pre-training step's forward pass: two augmented views of every image of the batch
/// (rows i and i + N), through encoder and head, into NT-Xent. Labels are not used.
///
///     loop.objective = simclrObjective(model, augmentation: .simclr(), temperature: 0.5)
public func simclrObjective(_ model: Module, augmentation: Augmentation, temperature: Double) -> TrainingObjective {
    return { batch, rng in
        let views = try augmentation.pairedViews(batch.x, rng: &rng)
        return StepOutput(loss: try ntXent(model(views), temperature: temperature), count: batch.count)
    }
}

/// Everything SimCLR pre-training takes besides the model, data, optimizer, epochs and batch.
///
///     var o = SimCLROptions(); o.knn = (bank: train.subset(first: 5000), test: test)
public struct SimCLROptions {
    /// NT-Xent's τ (0.5, the common CIFAR value).
    public var temperature = 0.5
    /// The two-view augmentation (SimCLR's pipeline, on pixels in [0, 1]; a normalized data set is
    /// augmented on its de-normalized pixels and normalized again after).
    public var augmentation = Augmentation.simclr()
    /// Learning rate per epoch.
    public var schedule: Schedule = .constant
    /// Seeds shuffling and augmentation; nil draws from `GlobalRandom`.
    public var seed: UInt64? = nil
    /// Leave out a last, smaller batch (SimCLR's usual choice: every step sees 2·batch views).
    public var dropLast = true
    /// A k-NN monitor after every epoch (`knn_acc`): features of `bank` vote for those of `test`.
    public var knn: (bank: Dataset, test: Dataset)? = nil
    /// Neighbours of the monitor.
    public var knnK = 200
    /// Vote weights exp(cos/τ) with this τ; nil: one vote per neighbour.
    public var knnTemperature: Double? = 0.1
    /// Measures of the encoder (trackers receive the encoder, not encoder + head).
    public var track: [Tracker] = []
    /// Periodic and best-epoch checkpoints of encoder + head + optimizer + generators.
    public var checkpoint: CheckpointPolicy? = nil
    /// A wall-clock budget in seconds (`TrainingLoop.timeLimit`): no epoch starts that would pass it.
    public var timeLimit: Double? = nil
    /// The gradient reduction seam.
    public var reduction: GradientReduction = LocalReduction()
    /// Makes each epoch's progress reporter.
    public var progress: ((_ label: String, _ batches: Int) -> ProgressReporter)? = nil

    public init() {}
}

/// SimCLR pre-training (Chen et al. 2020): for every batch, two augmented views of each image go
/// through encoder and projection head, and the optimizer (Adam, lr 1e-3 in the paper) minimizes
/// NT-Xent over the trainable parameters. The same loop as `fit` — seeded shuffling and
/// augmentation, progress, Ctrl-C at the next batch, NaN check, checkpoints that resume exactly —
/// recording `epoch`, `lr`, `train_loss` (the NT-Xent), `knn_acc` with a monitor, and tracked
/// measures of the encoder. `history` keeps what was recorded when this throws.
///
///     var log = History()
///     try pretrainSimCLR(model, train, Adam(model, lr: 1e-3), epochs: 10, batch: 128, options: o, into: &log)
public func pretrainSimCLR(_ model: SimCLRModel, _ data: Dataset, _ optimizer: Optimizer, epochs: Int, batch: Int,
                           options: SimCLROptions = SimCLROptions(), resume: String? = nil,
                           into history: inout History) throws {
    guard data.x.rank == 4 else {
        throw TrainError("simclr", "needs images N×C×H×W, got \(data.name) with x of shape \(shapeText(data.x.shape))")
    }
    var augmentation = options.augmentation
    var pixels = data
    if let stats = data.normalization {
        pixels = data.denormalized()
        augmentation = augmentation.then(.normalize(stats))
    }
    var loop = TrainingLoop(model: model, optimizer: optimizer, data: pixels, epochs: epochs, batchSize: batch,
                            objective: simclrObjective(model, augmentation: augmentation, temperature: options.temperature),
                            reportsAccuracy: false)
    loop.label = "simclr"
    loop.schedule = options.schedule
    loop.seed = options.seed
    loop.dropLast = options.dropLast && data.count >= batch
    loop.reduction = options.reduction
    loop.checkpoint = options.checkpoint
    loop.timeLimit = options.timeLimit
    if let progress = options.progress { loop.progress = progress }
    let encoder = model.encoder
    loop.trackers = options.track.map { t in Tracker(name: t.name, every: t.every) { _, epoch in try t.measure(encoder, epoch) } }
    if let (bank, test) = options.knn {
        let k = options.knnK, tau = options.knnTemperature
        loop.evaluations = [EpochEvaluation(columns: ["knn_acc"]) { _ in
            [try knnAccuracy(encoder, bank: bank, test: test, k: k, temperature: tau)]
        }]
    }
    try loop.run(into: &history, resume: resume)
}
