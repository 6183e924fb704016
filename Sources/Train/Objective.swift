import Data
import NN
import Tensor

/// A transform of a training batch's inputs before the forward pass (augmentation), drawing from
/// the loop's own seeded generator (saved in checkpoints). A Data `Augmentation` plugs in as
/// `{ x, rng in try augmentation(x, rng: &rng) }`.
///
///     let flip: BatchTransform = { x, rng in rng.uniform() < 0.5 ? x : x }
public typealias BatchTransform = (Tensor, inout RandomGenerator) throws -> Tensor

/// What one training step's forward pass produced: the loss to differentiate and what the
/// epoch's statistics need.
///
///     StepOutput(loss: loss, count: batch.count, correct: hits)
public struct StepOutput {
    /// The batch's mean loss, a scalar with a graph to the trainable parameters.
    public var loss: Tensor
    /// Items in the batch: the weight of this loss in `train_loss`, and the `batchSize` the
    /// reduction seam is told.
    public var count: Int
    /// Items classified correctly (for `train_acc`); nil when the objective has no accuracy.
    public var correct: Int?

    /// What a step produced.
    ///
    ///     StepOutput(loss: try mseLoss(y, x), count: 128)
    public init(loss: Tensor, count: Int, correct: Int? = nil) {
        self.loss = loss
        self.count = count
        self.correct = correct
    }
}

/// The forward pass of one training step: from a batch (and the loop's augmentation generator)
/// to the loss. The loop does the rest — cancellation, the NaN check, backward, the reduction
/// seam, the optimizer step, the statistics, progress. `fit` uses `classificationObjective`;
/// SimCLR's pre-training passes its own (two augmented views, NT-Xent).
///
///     let objective: TrainingObjective = { batch, rng in StepOutput(loss: try loss(batch), count: batch.count) }
public typealias TrainingObjective = (_ batch: Batch, _ rng: inout RandomGenerator) throws -> StepOutput

/// Mean cross-entropy of `model` on the batch (its inputs passed through `transform` first), with
/// the number of correct arg-max predictions: `fit`'s objective.
///
///     let objective = classificationObjective(net, transform: nil)
public func classificationObjective(_ model: Module, transform: BatchTransform? = nil,
                                    labelSmoothing: Float = 0) -> TrainingObjective {
    return { batch, rng in
        let x = try transform.map { try $0(batch.x, &rng) } ?? batch.x
        let logits = try model(x)
        let labels = try integerLabels(batch.y, op: "fit")
        let loss = try crossEntropyLoss(logits, labels: labels, labelSmoothing: labelSmoothing)
        let correct = try withNoGrad { try correctCount(logits, labels: labels) }
        return StepOutput(loss: loss, count: batch.count, correct: correct)
    }
}

/// Columns a loop fills after every epoch from the trained model (in eval mode): `fit`'s
/// test set and extra sets (`NAME_loss`, `NAME_acc`), or SimCLR's k-NN monitor.
///
///     let e = EpochEvaluation.classification("test", testSet)   // columns test_loss, test_acc
public struct EpochEvaluation {
    /// The history columns, in order.
    public let columns: [String]
    /// One value per column.
    public let run: (Module) throws -> [Double]

    /// Columns and the closure filling them (one value per column, in order).
    ///
    ///     EpochEvaluation(columns: ["knn_acc"]) { encoder in [try knn(encoder)] }
    public init(columns: [String], run: @escaping (Module) throws -> [Double]) {
        self.columns = columns
        self.run = run
    }

    /// `NAME_loss` and `NAME_acc` from `evaluate(model, data, batch:)`.
    ///
    ///     EpochEvaluation.classification("cifar10_1", shifted)
    public static func classification(_ name: String, _ data: Dataset, batch: Int = 512) -> EpochEvaluation {
        EpochEvaluation(columns: [name + "_loss", name + "_acc"]) { model in
            let r = try evaluate(model, data, batch: batch)
            return [r.loss, r.acc]
        }
    }
}
