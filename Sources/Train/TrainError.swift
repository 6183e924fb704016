/// Every failure of the Train layer (bad arguments, unreadable or mismatched checkpoints) throws
/// this: where it happened (`fit`, `evaluate`, a tracker, or a checkpoint file) and what was
/// wrong, specific enough to fix the call or the file.
///
///     catch let e as TrainError { print(e) }   // "run/epoch-0002.safetensors: batch size 64 here but 32 in the checkpoint"
public struct TrainError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The operation (`fit`, `evaluate`), the tracker, or the file path.
    public let location: String
    /// What is wrong, in words.
    public let message: String

    /// An error at `location`.
    ///
    ///     TrainError("fit", "batch must be at least 1, got 0")
    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Thrown when a training loss turns NaN or ±Inf. The step whose loss it was is not applied, so
/// the model holds the weights after the previous step (BatchNorm's running statistics, though,
/// have seen that batch's forward pass); the history so far is in the `into:` argument of `fit`.
///
///     catch let e as NonFiniteLoss { print(e.epoch, e.step, e.loss) }
public struct NonFiniteLoss: Error, CustomStringConvertible, Equatable, Sendable {
    /// Which loop (`fit`, `simclr`).
    public let location: String
    /// The epoch (1-based) the loss blew up in.
    public let epoch: Int
    /// The step within that epoch (1-based).
    public let step: Int
    /// Steps in that epoch.
    public let steps: Int
    /// The loss value (NaN, +Inf or −Inf).
    public let loss: Double

    /// The error for step `step` of `steps` in `epoch`.
    ///
    ///     NonFiniteLoss(epoch: 2, step: 3, steps: 8, loss: .nan)
    public init(location: String = "fit", epoch: Int, step: Int, steps: Int, loss: Double) {
        self.location = location
        self.epoch = epoch
        self.step = step
        self.steps = steps
        self.loss = loss
    }

    public static func == (a: NonFiniteLoss, b: NonFiniteLoss) -> Bool {
        a.location == b.location && a.epoch == b.epoch && a.step == b.step && a.steps == b.steps
            && a.loss.bitPattern == b.loss.bitPattern
    }

    public var description: String {
        "\(location): the training loss became \(loss) at epoch \(epoch), step \(step) of \(steps); "
            + "stopped before that step's update (the weights are those after the previous step) — "
            + "try a smaller learning rate"
    }
}
