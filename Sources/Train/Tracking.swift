import NN

/// A measure recorded during training every `every` epochs — DESIGN.md's `every(n, m)`.
///
/// It runs before the first epoch (epoch 0), after every epoch that is a multiple of `every`, and
/// after the last epoch when that is not a multiple. Its values go to the history column `name`
/// and the epochs they were taken at to `name_epoch`. The measure gets the model (in evaluation
/// mode; the loop restores the mode afterwards) and the epoch (0 = before training), and returns
/// a number or a record; every value of one tracker must have the same kind (and the same record
/// fields). A measure may poll `Cancellation.check()`; a `Cancelled` it throws stops `fit`.
///
///     let t = Tracker(name: "norm", every: 2) { model, epoch in .number(weightNorm(model)) }
public struct Tracker {
    /// The history column (and `name_epoch` for its epochs).
    public let name: String
    /// The period in epochs (≥ 1).
    public let every: Int
    /// Computes the value at an epoch.
    public let measure: (Module, Int) throws -> TrackedValue

    /// `every(n, m)` in the language: `measure` runs at epochs 0, n, 2n, … and at the end.
    ///
    ///     let t = Tracker(name: "acc", every: 1) { m, _ in .number(try evaluate(m, test).acc) }
    public init(name: String, every: Int, measure: @escaping (Module, Int) throws -> TrackedValue) {
        self.name = name
        self.every = every
        self.measure = measure
    }

    /// The history column of the epochs measured: `name_epoch`.
    public var epochColumn: String { name + "_epoch" }

    /// Whether the tracker runs after `epoch` (0 = before training) of a run of `lastEpoch` epochs.
    ///
    ///     Tracker(name: "x", every: 3) { _, _ in 0 }.isDue(epoch: 10, lastEpoch: 10)   // true: the end
    public func isDue(epoch: Int, lastEpoch: Int) -> Bool {
        epoch == 0 || (every > 0 && epoch % every == 0) || epoch == lastEpoch
    }

    /// Every epoch the tracker runs at in a run of `lastEpoch` epochs: 0, n, 2n, …, and `lastEpoch`.
    ///
    ///     Tracker(name: "x", every: 3) { _, _ in 0 }.epochs(through: 10)   // [0, 3, 6, 9, 10]
    public func epochs(through lastEpoch: Int) -> [Int] {
        (0...max(0, lastEpoch)).filter { isDue(epoch: $0, lastEpoch: lastEpoch) }
    }
}
