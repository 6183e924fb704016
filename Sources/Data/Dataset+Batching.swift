import Tensor

/// One mini-batch: rows of a data set, and which rows they were.
public struct Batch: Sendable {
    /// Inputs, batch size first.
    public let x: Tensor
    /// Labels, shape [batch size].
    public let y: Tensor
    /// Row indices into the source data set.
    public let indices: [Int]
    /// Rows in this batch.
    public var count: Int { indices.count }
}

/// The mini-batches of one pass over a data set, in a fixed order (drawn once, when made).
/// A random-access collection: `batches.count`, `batches[i]`, `for b in batches`. Rows are copied
/// when a batch is accessed, so a pass holds only one batch at a time.
///
///     for b in try data.batches(size: 128) { print(b.x.shape) }
public struct Batches: RandomAccessCollection, Sendable {
    /// The data set the rows come from.
    public let dataset: Dataset
    /// The order rows are visited in.
    public let order: [Int]
    /// Rows per batch (the last may have fewer unless `dropLast`).
    public let batchSize: Int
    /// Whether a last, smaller batch is left out.
    public let dropLast: Bool

    /// Always 0.
    public var startIndex: Int { 0 }
    /// The number of batches.
    public var endIndex: Int { dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize }

    /// Batch `i` (its rows copied out of the data set now).
    public subscript(i: Int) -> Batch {
        precondition(i >= 0 && i < endIndex, "batch index \(i) out of range 0..<\(endIndex)")
        let idx = Array(order[i * batchSize ..< Swift.min(order.count, (i + 1) * batchSize)])
        return Batch(x: gatherRows(dataset.x, idx), y: Tensor(idx.map { Float(dataset.labels[$0]) }, shape: [idx.count]),
                     indices: idx)
    }
}

extension Dataset {
    /// Batches of `size` rows in data order; the last, smaller batch is kept unless `dropLast`.
    ///
    ///     let bs = try d.batches(size: 32)   // 1000 items → 32 batches, the last of 8
    public func batches(size: Int, dropLast: Bool = false) throws -> Batches {
        try batches(order: Array(0 ..< count), size: size, dropLast: dropLast)
    }

    /// Batches of `size` rows in the order of `rng.permutation(count)` (advances `rng`).
    ///
    ///     var rng = RandomGenerator(seed: 0); let bs = try d.batches(size: 128, shuffle: &rng)
    public func batches(size: Int, shuffle rng: inout RandomGenerator, dropLast: Bool = false) throws -> Batches {
        try batches(order: rng.permutation(count), size: size, dropLast: dropLast)
    }

    private func batches(order: [Int], size: Int, dropLast: Bool) throws -> Batches {
        guard size >= 1 else { throw DataError(name, "batch size must be at least 1, got \(size)") }
        return Batches(dataset: self, order: order, batchSize: size, dropLast: dropLast)
    }
}
