import Data
import NN
import Tensor

/// Everything a linear probe takes besides the encoder and the training data, with the paper's
/// fine-tuning defaults (SGD, lr 0.01, momentum 0.9, batch 128, 10 epochs).
///
///     var o = LinearProbeOptions(); o.test = data.test; o.lr = 0.03
public struct LinearProbeOptions {
    public var epochs = 10
    public var batch = 128
    public var lr = 0.01
    public var momentum = 0.9
    public var weightDecay = 0.0
    public var nesterov = false
    public var schedule: Schedule = .constant
    /// The test set: `test_loss`, `test_acc` after every epoch.
    public var test: Dataset? = nil
    /// Extra evaluation sets (`NAME_loss`, `NAME_acc`), e.g. a shifted test set.
    public var eval: [(name: String, data: Dataset)] = []
    /// Measures of the classifier (encoder + head), as `fit`'s.
    public var track: [Tracker] = []
    /// Train the encoder too (its BatchNorm in training mode); else it is frozen, in eval mode.
    public var full = false
    /// Outputs of the head; nil: the labels' range (the data sets' class counts).
    public var classes: Int? = nil
    /// Seeds the head's initialization and the shuffling; nil draws from `GlobalRandom`.
    public var seed: UInt64? = nil
    /// Augments each training batch (then every step runs the encoder).
    public var transform: BatchTransform? = nil
    /// Batch size of the evaluations and of the feature pass.
    public var evalBatch = 512
    public var progress: ((_ label: String, _ batches: Int) -> ProgressReporter)? = nil

    public init() {}
}

/// A linear classifier on an encoder's features (the paper's fine-tuning of SimCLR and random
/// features): `classifier` = `encoder` (a deep copy of the given one — the original is never
/// changed) followed by a new `linear` head, parameters `encoder.*` then `linear.weight`,
/// `linear.bias`. Unless `full`, the copy's parameters are frozen, so SGD, `params`, `grad` and
/// every measure act on the head alone by default (`wrt: "all"` includes the encoder), and its
/// BatchNorm layers stay in eval mode while the head trains.
///
/// Training a frozen encoder's head without augmentation computes the encoder's features once
/// (eval mode, no gradients) and trains the head on them: the same batches, the same losses and
/// updates as running the encoder every step, at a fraction of the cost.
///
///     let probe = try LinearProbe(encoder: enc, data: train, options: o)
///     var log = History(); try probe.train(train, options: o, into: &log)
public final class LinearProbe {
    public let classifier: Sequential
    public let encoder: Module
    public let head: Linear
    let seed: UInt64

    public init(encoder original: Module, data: Dataset, options: LinearProbeOptions) throws {
        guard data.count > 0 else { throw TrainError("linear_probe", "the training set \(data.name) is empty") }
        encoder = try original.copy()
        if !options.full { _ = try encoder.freeze("*") }
        let sample = try data.subset(indices: [0])
        let features = try embed(encoder, sample).shape[1]
        let classes = options.classes
            ?? ([data] + [options.test].compactMap { $0 } + options.eval.map(\.data)).map(\.classCount).max()!
        guard classes >= 1 else { throw TrainError("linear_probe", "classes must be at least 1, got \(classes)") }
        seed = options.seed ?? GlobalRandom.generator.next()
        var rng = RandomGenerator(seed: seed)
        head = try Linear(features, classes, rng: &rng)
        classifier = try Sequential(named: [("encoder", encoder), ("linear", head)])
    }

    /// Trains the head (or everything, with `full`) with SGD and mean cross-entropy; `history` gets
    /// `fit`'s columns and keeps what was recorded when this throws.
    public func train(_ data: Dataset, options o: LinearProbeOptions, into history: inout History) throws {
        var fitOptions = FitOptions()
        fitOptions.schedule = o.schedule
        fitOptions.seed = seed
        fitOptions.transform = o.transform
        fitOptions.evalBatch = o.evalBatch
        fitOptions.progress = o.progress
        let classifier = self.classifier
        let frozenFeatures = !o.full && o.transform == nil
        if frozenFeatures {
            let batch = o.evalBatch
            let features = { (d: Dataset) in try Dataset(x: embed(self.encoder, d, batch: batch), y: d.y, name: d.name) }
            fitOptions.test = try o.test.map(features)
            fitOptions.eval = try o.eval.map { ($0.name, try features($0.data)) }
            fitOptions.track = o.track.map { t in
                Tracker(name: t.name, every: t.every) { _, epoch in
                    let modes = ModeSnapshot(classifier)
                    defer { modes.restore() }
                    classifier.eval()
                    return try t.measure(classifier, epoch)
                }
            }
            var loop = try fitOptions.loop(head, try features(data), sgd(head, o), epochs: o.epochs, batch: o.batch)
            loop.label = "linear_probe"
            try loop.run(into: &history)
        } else {
            fitOptions.test = o.test
            fitOptions.eval = o.eval
            fitOptions.track = o.track
            fitOptions.trainMode = o.full ? .all : .keepingEval([encoder])
            var loop = try fitOptions.loop(classifier, data, sgd(classifier, o), epochs: o.epochs, batch: o.batch)
            loop.label = "linear_probe"
            try loop.run(into: &history)
        }
    }

    private func sgd(_ m: Module, _ o: LinearProbeOptions) throws -> SGD {
        try SGD(m, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov)
    }
}

/// Sets every BatchNorm layer's running statistics to those of `data`: the statistics are reset
/// and one pass in training mode, without gradients, over `data` in order (batches of `batch`)
/// accumulates them as a cumulative average (PyTorch's `momentum=None`): the running mean is the
/// mean of the batch means, the running variance the mean of the batches' unbiased variances.
/// Momenta and train/eval modes are restored after. This is the paper's random-feature baseline's
/// recalibration: a randomly initialized network's default statistics (0 and 1) do not match
/// what its layers actually output. Returns the number of BatchNorm layers recalibrated.
///
///     try recalibrateBatchNorm(encoder, train)
@discardableResult
public func recalibrateBatchNorm(_ model: Module, _ data: Dataset, batch: Int = 512) throws -> Int {
    guard batch >= 1 else { throw TrainError("recalibrate_bn", "batch must be at least 1, got \(batch)") }
    guard data.count > 0 else { throw TrainError("recalibrate_bn", "the data set \(data.name) is empty") }
    let layers = model.namedModules().compactMap { $0.module as? BatchNorm }
    guard !layers.isEmpty else { return 0 }
    let modes = ModeSnapshot(model)
    let momenta = layers.map(\.momentum)
    defer {
        for (l, m) in zip(layers, momenta) { l.momentum = m }
        modes.restore()
    }
    for l in layers {
        l.momentum = nil
        l.runningMean.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        l.runningVar.withUnsafeMutableBufferPointer { $0.update(repeating: 1) }
        l.numBatchesTracked.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
    model.train()
    try withNoGrad {
        for b in try data.batches(size: batch) {
            try Cancellation.check()
            _ = try model(b.x)
        }
    }
    return layers.count
}
