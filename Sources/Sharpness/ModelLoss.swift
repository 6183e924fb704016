import Data
import Foundation
import NN
import Tensor
import Train

// The loss every model-level measure uses — L(w) = mean cross-entropy of the classifier — on one
// batch, a list of batches, or a whole data set walked in chunks, with the size weighting
// Σ bᵢ Lᵢ / Σ bᵢ (the mean over all items) and the gradient through the reduction seam.

/// The batches a measure's loss is taken over: given batches, or a data set cut into chunks in
/// data order (rows are copied out one chunk at a time, so memory stays bounded).
struct BatchSource {
    /// Items per batch.
    let sizes: [Int]
    private let fetch: (Int) throws -> (x: Tensor, labels: [Int])

    var count: Int { sizes.count }
    var items: Int { sizes.reduce(0, +) }

    /// Inputs and integer labels of batch i.
    func batch(_ i: Int) throws -> (x: Tensor, labels: [Int]) { try fetch(i) }

    static func batches(_ batches: [Batch], op: String) throws -> BatchSource {
        guard !batches.isEmpty else { throw SharpnessError(op, "no batches") }
        guard batches.allSatisfy({ $0.count > 0 }) else { throw SharpnessError(op, "an empty batch") }
        let labels = try batches.map { try integerLabels($0.y, op: op) }
        return BatchSource(sizes: batches.map(\.count)) { i in (batches[i].x, labels[i]) }
    }

    static func dataset(_ data: Dataset, chunk: Int, op: String) throws -> BatchSource {
        guard data.count > 0 else { throw SharpnessError(op, "the data set \(data.name) is empty") }
        guard chunk >= 1 else { throw SharpnessError(op, "batch must be at least 1, got \(chunk)") }
        let bs = try data.batches(size: chunk)
        return BatchSource(sizes: bs.map(\.count)) { i in
            let b = bs[i]
            return (b.x, b.indices.map { data.labels[$0] })
        }
    }

    /// The whole data set as one batch.
    static func whole(_ data: Dataset, op: String) throws -> BatchSource {
        try dataset(data, chunk: max(data.count, 1), op: op)
    }

    private init(sizes: [Int], fetch: @escaping (Int) throws -> (x: Tensor, labels: [Int])) {
        self.sizes = sizes
        self.fetch = fetch
    }
}

/// Mean cross-entropy of the model on (x, labels), with the graph when grad mode is on.
func meanCrossEntropy(_ model: Module, _ x: Tensor, _ labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
    let logits = try model(x)
    return (try crossEntropyLoss(logits, labels: labels), logits)
}

/// Loss and gradient (w.r.t. the scope's parameters) on one batch, the gradient not reduced.
/// Call inside `scope.run`.
func batchLossAndGradient(_ scope: MeasurementScope, _ x: Tensor, _ labels: [Int]) throws -> (loss: Double, gradient: [Tensor]) {
    try withGradMode(true) {
        let (loss, _) = try meanCrossEntropy(scope.model, x, labels)
        let g = try gradients(of: loss, wrt: scope.tensors)
        return (Double(try loss.item()), g)
    }
}

/// Σ bᵢLᵢ/Σbᵢ over the source and the gradient of that mean, passed once through the reduction
/// seam (batchSize = the items of the source). Call inside `scope.run`.
func sourceLossAndGradient(_ scope: MeasurementScope, _ source: BatchSource,
                           reduction: GradientReduction) throws -> (loss: Double, gradient: [Float]) {
    let layout = ParameterLayout(scope.tensors)
    let total = Double(source.items)
    try Cancellation.check()
    if source.count == 1 {
        let (x, labels) = try source.batch(0)
        let (loss, g) = try batchLossAndGradient(scope, x, labels)
        return (loss, layout.flatten(try reduction.reduce(g, batchSize: source.items)))
    }
    var lossSum = 0.0
    var acc = [Float](repeating: 0, count: layout.dimension)
    for i in 0..<source.count {
        try Cancellation.check()
        let (x, labels) = try source.batch(i)
        let (loss, g) = try batchLossAndGradient(scope, x, labels)
        lossSum += loss * Double(labels.count)
        axpy(Float(Double(labels.count) / total), layout.flatten(g), &acc)
    }
    let reduced = try reduction.reduce(layout.split(acc), batchSize: source.items)
    return (lossSum / total, layout.flatten(reduced))
}

/// Size-weighted mean loss and accuracy over the source, without a graph, with the same
/// arithmetic as Train's `evaluate` (Σ item·count / N in Double). Call inside `scope.run`.
func sourceLossAndAccuracy(_ scope: MeasurementScope, _ source: BatchSource) throws -> (loss: Double, acc: Double) {
    try withNoGrad {
        var lossSum = 0.0, correct = 0
        for i in 0..<source.count {
            try Cancellation.check()
            let (x, labels) = try source.batch(i)
            let (loss, logits) = try meanCrossEntropy(scope.model, x, labels)
            lossSum += Double(try loss.item()) * Double(labels.count)
            correct += try correctCount(logits, labels: labels)
        }
        let n = Double(source.items)
        return (lossSum / n, Double(correct) / n)
    }
}

/// Resident memory of this process in bytes (0 where /proc is missing).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// MemAvailable from /proc/meminfo in bytes, nil where unknown.
func availableMemoryBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let parts = line.split(separator: " ")
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return nil
}

/// A seed for a measure: the one given, else one drawn from `GlobalRandom` (which `seed(n)` in
/// the language resets), so unseeded runs differ and seeded ones repeat.
func resolvedSeed(_ seed: UInt64?) -> UInt64 { seed ?? GlobalRandom.generator.next() }

/// SplitMix64's finalizer: decorrelates derived seeds (seed, index) → stream.
func mixSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
    var x = seed ^ (UInt64(truncatingIfNeeded: index) &+ 1) &* 0x9E37_79B9_7F4A_7C15
    x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
    x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
    return x ^ (x >> 31)
}
