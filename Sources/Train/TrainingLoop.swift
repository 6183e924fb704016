import Data
import Dispatch
import Foundation
import NN
import Tensor

/// The epoch/batch loop under `fit`, reusable by any trainer with another objective (SimCLR's
/// pre-training): per epoch it sets the learning rate from the schedule, shuffles with its own
/// seeded generator, puts the model in training mode (`trainMode`), and for every batch polls
/// `Cancellation.check()`, runs the objective, stops on a NaN/Inf loss (`NonFiniteLoss`),
/// differentiates with respect to the optimizer's trainable parameters, passes the gradients
/// through the reduction seam once and steps the optimizer. After the epoch it appends the row
/// (`epoch`, `lr`, `train_loss`, [`train_acc`], the evaluations' columns), runs the due trackers,
/// and writes the checkpoints the policy asks for. Progress goes through the shared
/// `ProgressReporter`, one bar per epoch.
///
/// Interruption: `run(into:)` fills the history as it goes and Swift writes an `inout` argument
/// back when the function throws, so after `Cancelled` (or `NonFiniteLoss`, or any error) the
/// history holds every completed epoch and measurement; the model holds the weights after the
/// last completed step, and is back in the train/eval mode it had before the call.
///
/// Resume: `run(into:resume: path)` restores the model, the optimizer, the generators and the
/// history from a checkpoint this loop wrote, and continues up to `epochs` (the total, counted
/// from the first epoch), exactly as if never stopped.
///
///     var loop = TrainingLoop(model: net, optimizer: opt, data: train, epochs: 10, batchSize: 128,
///                             objective: classificationObjective(net))
///     var log = History(); try loop.run(into: &log)
public struct TrainingLoop {
    /// The model trained (and evaluated, measured, checkpointed).
    public let model: Module
    /// The optimizer; its trainable parameters are what the loop differentiates with respect to.
    public let optimizer: Optimizer
    /// The training set.
    public let data: Dataset
    /// The last epoch to train (the total, also when resuming).
    public var epochs: Int
    /// Items per training batch (the last may have fewer unless `dropLast`).
    public var batchSize: Int
    /// The forward pass of a step (`classificationObjective` for `fit`).
    public var objective: TrainingObjective
    /// Whether the objective reports correct predictions, giving a `train_acc` column.
    public var reportsAccuracy: Bool
    /// The learning rate of epoch e (1-based) is `schedule.lr(epoch: e − 1, base: optimizer.initialLR)`.
    public var schedule: Schedule = .constant
    /// Visit the data in a fresh random order every epoch (else in data order).
    public var shuffle = true
    /// Seeds the shuffling generator (and, as a second stream, the transform's); nil draws the
    /// seed from `GlobalRandom`.
    public var seed: UInt64? = nil
    /// Leave out a last, smaller batch.
    public var dropLast = false
    /// The gradient reduction seam (DESIGN.md, scale-out).
    public var reduction: GradientReduction = LocalReduction()
    /// How the model is put into training mode before each epoch's batches.
    public var trainMode: TrainMode = .all
    /// Columns filled after every epoch, in eval mode.
    public var evaluations: [EpochEvaluation] = []
    /// Measures recorded at epoch 0, every N epochs and at the end (`m`, `m_epoch`).
    public var trackers: [Tracker] = []
    /// Periodic and best-epoch checkpoints; nil writes none.
    public var checkpoint: CheckpointPolicy? = nil
    /// A wall-clock budget in seconds: no epoch starts when the time spent so far plus the last
    /// epoch's duration would pass it (the run ends early, its history complete up to there).
    public var timeLimit: Double? = nil
    /// The loop's name in progress, errors and checkpoints (`fit`, `simclr`).
    public var label = "fit"
    /// Makes the progress reporter of an epoch from its label and number of batches (tests
    /// inject a sink here).
    public var progress: (_ label: String, _ batches: Int) -> ProgressReporter = {
        ProgressReporter($0, total: $1, unit: "batch")
    }

    /// A loop with the defaults above; set the other properties before `run`.
    ///
    ///     var loop = TrainingLoop(model: net, optimizer: opt, data: d, epochs: 5, batchSize: 32,
    ///                             objective: classificationObjective(net))
    public init(model: Module, optimizer: Optimizer, data: Dataset, epochs: Int, batchSize: Int,
                objective: @escaping TrainingObjective, reportsAccuracy: Bool = true) {
        self.model = model
        self.optimizer = optimizer
        self.data = data
        self.epochs = epochs
        self.batchSize = batchSize
        self.objective = objective
        self.reportsAccuracy = reportsAccuracy
    }

    /// The history columns this loop records, in order.
    ///
    ///     loop.columns   // ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc"]
    public var columns: [String] {
        ["epoch", "lr", "train_loss"] + (reportsAccuracy ? ["train_acc"] : [])
            + evaluations.flatMap(\.columns) + trackers.flatMap { [$0.name, $0.epochColumn] }
    }

    /// Trains; see the type's documentation. `history` is replaced by this run's history (or the
    /// checkpoint's, continued, when resuming) and holds what was recorded even when this throws.
    ///
    ///     var log = History(); do { try loop.run(into: &log) } catch is Cancelled { print(log) }
    public func run(into history: inout History, resume: String? = nil) throws {
        try validate()
        let modes = ModeSnapshot(model)
        defer { modes.restore() }
        var state: LoopState
        if let resume {
            (state, history) = try TrainingCheckpoint.restore(from: resume, into: self)
        } else {
            state = LoopState(seed: seed ?? GlobalRandom.generator.next())
            history = History(columns: columns)
            try runTrackers(epoch: 0, history: &history)
        }
        if state.bestMetric != checkpoint?.best {
            state.bestMetric = checkpoint?.best
            state.bestValue = nil
            state.bestEpoch = nil
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var lastEpoch = 0.0
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        while state.epoch < epochs {
            if let limit = timeLimit, state.epoch > 0 || lastEpoch > 0, elapsed() + lastEpoch > limit {
                let note = progress("\(label) time limit", 1)
                note.update(step: 1)
                note.finish(summary: "stopped after epoch \(state.epoch) of \(epochs): another epoch (\(Int(lastEpoch)) s) would pass \(Int(limit)) s")
                break
            }
            let before = elapsed()
            try runEpoch(state.epoch + 1, state: &state, history: &history)
            lastEpoch = elapsed() - before
        }
    }

    // MARK: One epoch

    private func runEpoch(_ epoch: Int, state: inout LoopState, history: inout History) throws {
        let lr = schedule.lr(epoch: epoch - 1, base: optimizer.initialLR)
        optimizer.lr = lr
        let params = optimizer.trainableParameters.map(\.tensor)
        guard !params.isEmpty else {
            throw TrainError(label, "every parameter the optimizer holds is frozen; there is nothing to train")
        }
        let batches = shuffle
            ? try data.batches(size: batchSize, shuffle: &state.shuffleRNG, dropLast: dropLast)
            : try data.batches(size: batchSize, dropLast: dropLast)
        trainMode(model)
        let bar = progress("\(label) epoch \(epoch)/\(epochs)", batches.count)
        let start = DispatchTime.now().uptimeNanoseconds
        var lossSum = 0.0, seen = 0, correct = 0
        for i in batches.indices {
            try Cancellation.check()
            let out = try objective(batches[i], &state.augmentRNG)
            let value = Double(try out.loss.item())
            guard value.isFinite else {
                throw NonFiniteLoss(location: label, epoch: epoch, step: i + 1, steps: batches.count, loss: value)
            }
            let grads = try gradients(of: out.loss, wrt: params)
            let reduced = try reduction.reduce(grads, batchSize: out.count)
            try optimizer.step(gradients: reduced)
            lossSum += value * Double(out.count)
            seen += out.count
            correct += out.correct ?? 0
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let rate = seconds > 0 ? String(format: "  %.0f img/s", Double(seen) / seconds) : ""
            bar.update(step: i + 1, info: String(format: "loss %.4f", lossSum / Double(seen)) + rate)
        }

        // The row: every value first, then appended together (an interrupted evaluation leaves no half row).
        var row: [(String, Double)] = [("epoch", Double(epoch)), ("lr", lr), ("train_loss", lossSum / Double(max(seen, 1)))]
        if reportsAccuracy { row.append(("train_acc", Double(correct) / Double(max(seen, 1)))) }
        if !evaluations.isEmpty {
            let modes = ModeSnapshot(model)
            defer { modes.restore() }
            model.eval()
            for e in evaluations {
                let values = try e.run(model)
                guard values.count == e.columns.count else {
                    throw TrainError(label, "an evaluation gave \(values.count) values for the columns \(e.columns)")
                }
                row += zip(e.columns, values).map { ($0, $1) }
            }
        }
        for (name, value) in row { try history.append(.number(value), to: name) }
        bar.finish(summary: row.dropFirst(2).map { "\($0.0) \(String(format: "%.4f", $0.1))" }.joined(separator: "  "))

        try runTrackers(epoch: epoch, history: &history)
        state.epoch = epoch
        try writeCheckpoints(epoch: epoch, state: &state, history: history)
    }

    // MARK: Trackers

    private func runTrackers(epoch: Int, history: inout History) throws {
        for t in trackers where t.isDue(epoch: epoch, lastEpoch: epochs) {
            let modes = ModeSnapshot(model)
            model.eval()
            let value: TrackedValue
            do {
                defer { modes.restore() }
                value = try t.measure(model, epoch)
            }
            if let problem = value.problem() {
                throw TrainError("tracker '\(t.name)'", "returned \(problem) at epoch \(epoch)")
            }
            if let first = history[t.name]?.first, !first.sameKind(as: value) {
                throw TrainError("tracker '\(t.name)'", "returned \(value) at epoch \(epoch), but \(first) before; every value must be a number, or a record with the same fields")
            }
            if checkpoint?.best == t.name, let fields = value.fields {
                throw TrainError("checkpoint", "best metric '\(t.name)' is a record; name one of its fields: "
                                 + fields.map { t.name + "_" + $0 }.joined(separator: ", "))
            }
            try history.append(value, to: t.name)
            try history.append(.number(Double(epoch)), to: t.epochColumn)
        }
    }

    // MARK: Checkpoints

    private func writeCheckpoints(epoch: Int, state: inout LoopState, history: History) throws {
        guard let policy = checkpoint else { return }
        var paths: [String] = []
        if let metric = policy.best {
            if let value = history.value(of: metric, atEpoch: epoch), !value.isNaN {
                let goal = try policy.resolvedGoal() ?? .max
                let better = state.bestValue.map { goal == .max ? value > $0 : value < $0 } ?? true
                if better {
                    state.bestValue = value
                    state.bestEpoch = epoch
                    paths.append(policy.bestPath)
                }
            }
        }
        if policy.isDue(epoch: epoch, lastEpoch: epochs) { paths.append(policy.path(epoch: epoch)) }
        for path in paths { try TrainingCheckpoint.write(to: path, loop: self, state: state, history: history) }
    }

    // MARK: Checks

    private func validate() throws {
        guard epochs >= 0 else { throw TrainError(label, "epochs must be ≥ 0, got \(epochs)") }
        guard batchSize >= 1 else { throw TrainError(label, "batch must be at least 1, got \(batchSize)") }
        guard data.count > 0 else { throw TrainError(label, "the training set \(data.name) is empty") }
        if dropLast && data.count < batchSize {
            throw TrainError(label, "with dropLast, \(data.count) items make no full batch of \(batchSize)")
        }
        try schedule.validated()
        let owned = Set(model.parameters().map(ObjectIdentifier.init))
        let strangers = optimizer.parameters.filter { !owned.contains(ObjectIdentifier($0.tensor)) }.map(\.name)
        guard strangers.isEmpty else {
            throw TrainError(label, "the optimizer holds parameters that are not the model's: \(strangers.prefix(5).joined(separator: ", "))")
        }
        for t in trackers {
            guard !t.name.isEmpty else { throw TrainError(label, "a tracker has an empty name") }
            guard t.every >= 1 else { throw TrainError("tracker '\(t.name)'", "every must be at least 1 epoch, got \(t.every)") }
        }
        var seen = Set<String>()
        let repeated = columns.filter { !seen.insert($0).inserted }
        guard repeated.isEmpty else {
            throw TrainError(label, "two history columns would be named \(repeated.map { "'\($0)'" }.joined(separator: ", ")); rename a tracker or an evaluation set")
        }
        if let policy = checkpoint {
            try policy.validate(columns: columns, trackers: trackers.map(\.name))
            do {
                try FileManager.default.createDirectory(atPath: policy.directory, withIntermediateDirectories: true)
            } catch {
                throw TrainError(policy.directory, "cannot create the checkpoint directory (\(error.localizedDescription))")
            }
        }
    }
}

/// Where a loop stands between epochs: what a checkpoint holds beside the model, the optimizer
/// and the history.
struct LoopState {
    /// Completed epochs.
    var epoch = 0
    /// The seed the generators started from (kept for the record).
    var seed: UInt64
    var shuffleRNG: RandomGenerator
    var augmentRNG: RandomGenerator
    var bestMetric: String?
    var bestValue: Double?
    var bestEpoch: Int?

    /// The shuffling generator is seeded with `seed` (so `data.batches(size:shuffle:)` with
    /// `RandomGenerator(seed: seed)` gives epoch 1's order); the transform's is a second stream.
    init(seed: UInt64) {
        self.seed = seed
        shuffleRNG = RandomGenerator(seed: seed)
        augmentRNG = RandomGenerator(seed: seed ^ 0x5851_F42D_4C95_7F2D)
    }
}
