import Foundation

/// When `fit` writes training checkpoints, and where: every `every` epochs (and after the last
/// epoch) to `DIR/epoch-NNNN.safetensors`, and/or to `DIR/best.safetensors` whenever the metric
/// `best` improves on its best value so far (strictly; the first value counts as an improvement).
/// Each file is a whole training checkpoint (see `TrainingCheckpoint`) that `fit(resume:)` continues.
///
/// `best` names a history column measured every epoch (`test_acc`, `train_loss`, `NAME_acc`), or
/// a tracked number `m`, or a field `m_FIELD` of a tracked record (compared when it is measured).
/// `goal` says whether larger or smaller is better; nil infers it from the name: `…acc` → larger,
/// `…loss` → smaller.
///
///     let policy = CheckpointPolicy(directory: "runs/a", every: 5, best: "test_acc")
public struct CheckpointPolicy: Sendable, Equatable {
    /// Whether larger or smaller values of the `best` metric are better.
    public enum Goal: String, Sendable {
        case max, min
    }

    /// The directory the files go to (created when missing).
    public var directory: String
    /// Period in epochs for `epoch-NNNN.safetensors`; nil for none.
    public var every: Int?
    /// The metric of `best.safetensors`; nil for none.
    public var best: String?
    /// Larger or smaller is better; nil infers it from the metric's name.
    public var goal: Goal?

    /// A policy; at least one of `every` and `best` is needed.
    ///
    ///     CheckpointPolicy(directory: "ckpt", every: 1)
    public init(directory: String, every: Int? = nil, best: String? = nil, goal: Goal? = nil) {
        self.directory = directory
        self.every = every
        self.best = best
        self.goal = goal
    }

    /// The periodic file of `epoch`: `DIR/epoch-0004.safetensors`.
    ///
    ///     policy.path(epoch: 4)
    public func path(epoch: Int) -> String {
        (directory as NSString).appendingPathComponent(String(format: "epoch-%04d.safetensors", epoch))
    }

    /// The best-epoch file: `DIR/best.safetensors`.
    public var bestPath: String { (directory as NSString).appendingPathComponent("best.safetensors") }

    /// Whether a periodic checkpoint is due after `epoch` of a run of `lastEpoch` epochs.
    func isDue(epoch: Int, lastEpoch: Int) -> Bool {
        guard let every else { return false }
        return epoch % every == 0 || epoch == lastEpoch
    }

    /// The goal, given or inferred from the metric's name.
    func resolvedGoal() throws -> Goal? {
        guard let best else { return nil }
        if let goal { return goal }
        if best.hasSuffix("acc") || best.hasSuffix("accuracy") { return .max }
        if best.hasSuffix("loss") { return .min }
        throw TrainError("checkpoint", "cannot tell whether a larger or a smaller '\(best)' is better; give the goal (max or min)")
    }

    /// Checks the policy against the columns the run records and the trackers' names.
    func validate(columns: [String], trackers: [String]) throws {
        if every == nil && best == nil {
            throw TrainError("checkpoint", "the policy for \(directory) names neither a period (every) nor a metric (best)")
        }
        if let every, every < 1 { throw TrainError("checkpoint", "every must be at least 1 epoch, got \(every)") }
        if directory.isEmpty { throw TrainError("checkpoint", "the directory is empty") }
        if let best {
            let epochColumns = Set(trackers.map { $0 + "_epoch" })
            let known = !epochColumns.contains(best)
                && (columns.contains(best) || trackers.contains { best.hasPrefix($0 + "_") })
            guard known else {
                throw TrainError("checkpoint", "best metric '\(best)' is not recorded by this run (columns: \(columns.joined(separator: ", ")))")
            }
            _ = try resolvedGoal()
        }
    }
}
