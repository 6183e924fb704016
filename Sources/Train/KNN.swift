import Data
import Foundation
import NN
import Tensor

/// The encoder's output for every item of `data`, in order, as one N×F tensor: forward passes
/// of `batch` items without gradients, in eval mode (the model's modes are restored after).
///
///     let f = try embed(encoder, data.test)     // [N, 8·width] for a headless ResNet
public func embed(_ encoder: Module, _ data: Dataset, batch: Int = 512) throws -> Tensor {
    guard batch >= 1 else { throw TrainError("embed", "batch must be at least 1, got \(batch)") }
    guard data.count > 0 else { throw TrainError("embed", "the data set \(data.name) is empty") }
    let modes = ModeSnapshot(encoder)
    defer { modes.restore() }
    encoder.eval()
    return try withNoGrad {
        var parts: [Tensor] = []
        for b in try data.batches(size: batch) {
            try Cancellation.check()
            let f = try encoder(b.x)
            guard f.rank == 2, f.shape[0] == b.count else {
                throw TrainError("embed", "the encoder must give one feature row per item ([N, F]), got shape \(shapeText(f.shape)) for \(b.count) items")
            }
            parts.append(f)
        }
        return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: 0)
    }
}

/// k-nearest-neighbour accuracy of an encoder's features (Wu et al. 2018's monitor, as in the
/// SimCLR and MoCo CIFAR code): features of `bank` and `test` are L2-normalized; each test item
/// takes its k most cosine-similar bank items, each voting for its label with weight
/// exp(cos/τ) (or 1 when `temperature` is nil); the prediction is the label with the largest
/// total (the smallest label on a tie). Returns the fraction of test items predicted right.
/// k is capped at the bank's size.
///
///     let acc = try knnAccuracy(encoder, bank: train, test: test, k: 200, temperature: 0.1)
public func knnAccuracy(_ encoder: Module, bank: Dataset, test: Dataset, k: Int = 200, temperature: Double? = 0.1,
                        batch: Int = 512) throws -> Double {
    guard k >= 1 else { throw TrainError("knn_accuracy", "k must be at least 1, got \(k)") }
    if let t = temperature, !(t > 0) { throw TrainError("knn_accuracy", "temperature must be positive, got \(t)") }
    let bankFeatures = try unitRows(embed(encoder, bank, batch: batch))
    let testFeatures = try unitRows(embed(encoder, test, batch: batch))
    guard bankFeatures.shape[1] == testFeatures.shape[1] else {
        throw TrainError("knn_accuracy", "bank and test features differ in size")
    }
    let neighbours = Swift.min(k, bank.count)
    let classes = Swift.max(bank.classCount, test.classCount)
    let bankLabels = bank.labels
    var correct = 0
    let chunk = 256
    var start = 0
    while start < test.count {
        try Cancellation.check()
        let rows = Swift.min(chunk, test.count - start)
        let q = try testFeatures.narrowed(axis: 0, start: start, length: rows)
        let sims = try withNoGrad { try q.matmul(bankFeatures, transposeB: true) }
        sims.withUnsafeBufferPointer { s in
            var heap = TopK(capacity: neighbours)
            var votes = [Double](repeating: 0, count: classes)
            for r in 0 ..< rows {
                heap.removeAll()
                let row = s.baseAddress! + r * bank.count
                for j in 0 ..< bank.count { heap.offer(row[j], j) }
                for c in votes.indices { votes[c] = 0 }
                for (sim, j) in heap.items {
                    votes[bankLabels[j]] += temperature.map { exp(Double(sim) / $0) } ?? 1
                }
                var best = 0
                for c in 1 ..< classes where votes[c] > votes[best] { best = c }
                if best == test.labels[start + r] { correct += 1 }
            }
        }
        start += rows
    }
    return Double(correct) / Double(test.count)
}

/// Rows divided by their L2 norms (a zero row stays zero).
func unitRows(_ f: Tensor) throws -> Tensor {
    try withNoGrad { try f / (f * f).sum(axes: [1], keepDims: true).sqrt().clamp(min: 1e-12) }
}

/// The k largest (value, index) pairs seen, in a min-heap: a candidate below the current k-th
/// largest is rejected with one comparison. Ties keep the earlier index.
struct TopK {
    let capacity: Int
    private(set) var items: [(Float, Int)] = []

    init(capacity: Int) {
        self.capacity = capacity
        items.reserveCapacity(capacity)
    }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func offer(_ v: Float, _ i: Int) {
        if items.count < capacity {
            items.append((v, i))
            var c = items.count - 1
            while c > 0 {
                let p = (c - 1) / 2
                guard less(items[c], items[p]) else { break }
                items.swapAt(c, p)
                c = p
            }
        } else if v > items[0].0 {
            items[0] = (v, i)
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < items.count && less(items[l], items[m]) { m = l }
                if r < items.count && less(items[r], items[m]) { m = r }
                if m == p { break }
                items.swapAt(p, m)
                p = m
            }
        }
    }

    /// Heap order: the root is the pair to evict first (smallest value; on equal values the later index).
    private func less(_ a: (Float, Int), _ b: (Float, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 > b.1) }
}
