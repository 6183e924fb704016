import Data
import NN
import Tensor

/// What `evaluate` returns — DESIGN.md's `{loss, acc}`.
///
///     let r = try evaluate(net, test); print(r.loss, r.acc)
public struct Evaluation: Sendable, Equatable, CustomStringConvertible {
    /// Size-weighted mean cross-entropy over the data set.
    public let loss: Double
    /// Fraction of items whose arg-max logit is their label, in [0, 1].
    public let acc: Double
    /// Items evaluated.
    public let count: Int

    /// A result from its parts.
    ///
    ///     Evaluation(loss: 0.3, acc: 0.9, count: 1000)
    public init(loss: Double, acc: Double, count: Int) {
        self.loss = loss
        self.acc = acc
        self.count = count
    }

    /// `{loss: 0.3124, acc: 0.8931}`.
    public var description: String { "{loss: \(loss), acc: \(acc)}" }
}

/// Loss and accuracy of a classifier on a data set: evaluation mode (BatchNorm's running
/// statistics, no dropout), no graph, batches of `batch` in data order; the loss is the mean
/// cross-entropy weighted by batch size (the mean over all items), the accuracy a fraction.
/// Afterwards every module is back in the mode it was in. Polls `Cancellation.check()` before
/// each batch.
///
///     let r = try evaluate(net, data.test)   // {loss: 0.31, acc: 0.89}
public func evaluate(_ model: Module, _ data: Dataset, batch: Int = 512) throws -> Evaluation {
    guard data.count > 0 else { throw TrainError("evaluate", "the data set \(data.name) is empty") }
    guard batch >= 1 else { throw TrainError("evaluate", "batch must be at least 1, got \(batch)") }
    let modes = ModeSnapshot(model)
    defer { modes.restore() }
    model.eval()
    return try withNoGrad {
        var lossSum = 0.0, correct = 0
        for b in try data.batches(size: batch) {
            try Cancellation.check()
            let logits = try model(b.x)
            let labels = b.indices.map { data.labels[$0] }
            let loss = try crossEntropyLoss(logits, labels: labels)
            lossSum += Double(try loss.item()) * Double(b.count)
            correct += try correctCount(logits, labels: labels)
        }
        return Evaluation(loss: lossSum / Double(data.count), acc: Double(correct) / Double(data.count), count: data.count)
    }
}

/// How many rows of `logits` [N, C] have their largest value (the first, on ties) at the label.
///
///     let hits = try correctCount(logits, labels: [0, 2, 1])
public func correctCount(_ logits: Tensor, labels: [Int]) throws -> Int {
    guard logits.rank == 2, logits.shape[0] == labels.count else {
        throw TrainError("accuracy", "logits of shape \(logits.shape) for \(labels.count) labels; expected [\(labels.count), classes]")
    }
    let n = logits.shape[0], c = logits.shape[1]
    guard c > 0 else { return 0 }
    return logits.withUnsafeBufferPointer { p in
        var hits = 0
        for i in 0..<n {
            var best = 0
            var top = p[i * c]
            for j in 1..<c where p[i * c + j] > top {
                top = p[i * c + j]
                best = j
            }
            if best == labels[i] { hits += 1 }
        }
        return hits
    }
}

/// The train/eval mode of every module of a model, to put back later (a module's mode can
/// differ from its parent's: a frozen encoder kept in eval mode inside a training classifier).
///
///     let modes = ModeSnapshot(net); net.eval(); …; modes.restore()
public struct ModeSnapshot {
    private let modes: [(module: Module, training: Bool)]

    /// Records the mode of `model` and of each descendant.
    public init(_ model: Module) {
        modes = model.namedModules().map { ($0.module, $0.module.isTraining) }
    }

    /// Puts every module back in its recorded mode.
    public func restore() {
        // Pre-order: a parent's train(_:) resets its subtree, and its descendants come after it.
        for (m, training) in modes where m.isTraining != training { m.train(training) }
    }
}
