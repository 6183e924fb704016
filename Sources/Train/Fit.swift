import Data
import NN
import Tensor

/// Trains a classifier — DESIGN.md's `fit(model, data, opt, epochs:, batch:, schedule:, test:,
/// eval:, track:, checkpoint:)` — and returns its `History`: `epoch`, `lr`, `train_loss`,
/// `train_acc`, `test_loss`/`test_acc` (with `test:`), `NAME_loss`/`NAME_acc` per `eval` set, and
/// `m`/`m_epoch` per tracker.
///
/// Each epoch: the learning rate is set from `schedule` (once, at its start); the data are
/// shuffled (`seed` fixes the order; `shuffle: false` keeps data order); the model trains in
/// training mode on batches of `batch` (a last, smaller batch kept unless `dropLast`), minimizing
/// mean cross-entropy over the trainable parameters only; gradients pass through the reduction
/// seam; then the model is evaluated in eval mode, the due trackers run, and checkpoints are
/// written. `resume:` continues from a checkpoint up to `epochs` in total, exactly as if never
/// stopped. Ctrl-C stops before the next batch with `Cancelled`; a NaN/Inf loss stops with
/// `NonFiniteLoss`. This form loses the history so far when it throws; the `into:` form keeps it.
///
///     let log = try fit(net, data.train, opt, epochs: 10, batch: 128,
///                       schedule: .multistep(milestones: [6, 8], gamma: 0.2), test: data.test)
@discardableResult
public func fit(_ model: Module, _ data: Dataset, _ optimizer: Optimizer, epochs: Int, batch: Int,
                schedule: Schedule = .constant, test: Dataset? = nil, eval: [(name: String, data: Dataset)] = [],
                track: [Tracker] = [], checkpoint: CheckpointPolicy? = nil, resume: String? = nil,
                shuffle: Bool = true, seed: UInt64? = nil, dropLast: Bool = false,
                transform: BatchTransform? = nil) throws -> History {
    var options = FitOptions()
    options.schedule = schedule
    options.test = test
    options.eval = eval
    options.track = track
    options.checkpoint = checkpoint
    options.shuffle = shuffle
    options.seed = seed
    options.dropLast = dropLast
    options.transform = transform
    var history = History()
    try fit(model, data, optimizer, epochs: epochs, batch: batch, options: options, resume: resume, into: &history)
    return history
}

/// `fit` with every option (`FitOptions`), filling `history` as it goes: when training stops
/// with an error — `Cancelled` (Ctrl-C), `NonFiniteLoss`, a failing tracker — `history` holds
/// every completed epoch and measurement, and the model the weights after the last completed
/// step. This is how the REPL keeps a partial history after Ctrl-C.
///
///     var log = History(); do { try fit(net, d, opt, epochs: 50, batch: 128, options: o, into: &log) } catch is Cancelled { print(log) }
public func fit(_ model: Module, _ data: Dataset, _ optimizer: Optimizer, epochs: Int, batch: Int,
                options: FitOptions, resume: String? = nil, into history: inout History) throws {
    let loop = try options.loop(model, data, optimizer, epochs: epochs, batch: batch)
    try loop.run(into: &history, resume: resume)
}

/// DESIGN.md's `every(n, m)`: a tracker that runs `measure` at epochs 0, n, 2n, … and at the end.
///
///     let t = every(2, "w_norm") { model, epoch in .number(norm(model)) }
public func every(_ n: Int, _ name: String, _ measure: @escaping (Module, Int) throws -> TrackedValue) -> Tracker {
    Tracker(name: name, every: n, measure: measure)
}
