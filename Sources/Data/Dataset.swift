import Tensor

/// A labelled data set: `x` holds N items (N×C×H×W images, or N×D feature rows) and `y` their N
/// class labels as whole-number floats. A reference type: subsets and batches are new data sets
/// (or batches) holding copies of the chosen rows; the tensors of one data set are never mutated.
///
///     let d = try Dataset(x: Tensor.zeros([4, 2]), y: Tensor([0, 1, 0, 1]), name: "toy")
public final class Dataset: Sendable, CustomStringConvertible {
    /// Inputs, first axis = items.
    public let x: Tensor
    /// Labels, shape [N], whole numbers ≥ 0.
    public let y: Tensor
    /// The labels as integers (same order as `y`).
    public let labels: [Int]
    /// A short name for messages and plots, e.g. `fashion-mnist/train`.
    public let name: String
    /// Names of the classes, indexed by label, when the source has them.
    public let classNames: [String]?
    /// The per-channel statistics `x` was standardized with, if it was.
    public let normalization: ChannelStats?

    /// Wraps tensors as a data set, checking that `y` has one whole-number label ≥ 0 per row of `x`.
    ///
    ///     let d = try Dataset(x: x, y: y, name: "blobs")
    public init(x: Tensor, y: Tensor, name: String = "data", classNames: [String]? = nil,
                normalization: ChannelStats? = nil) throws {
        guard x.rank >= 1 else { throw DataError(name, "x must have a first axis of items, got a scalar") }
        guard y.rank == 1 else { throw DataError(name, "y must be a 1-D tensor of labels, got shape \(shapeText(y.shape))") }
        guard y.count == x.shape[0] else {
            throw DataError(name, "x has \(x.shape[0]) items (shape \(shapeText(x.shape))) but y has \(y.count) labels")
        }
        var labels = [Int](repeating: 0, count: y.count)
        try y.withUnsafeBufferPointer { ys in
            for (i, v) in ys.enumerated() {
                guard v >= 0, let l = Int(exactly: v) else {
                    throw DataError(name, "label \(v) at index \(i) is not a whole number ≥ 0")
                }
                labels[i] = l
            }
        }
        if let classNames, let bad = labels.firstIndex(where: { $0 >= classNames.count }) {
            throw DataError(name, "label \(labels[bad]) at index \(bad) is beyond the \(classNames.count) named classes")
        }
        self.x = x
        self.y = y
        self.labels = labels
        self.name = name
        self.classNames = classNames
        self.normalization = normalization
    }

    /// Trusted construction: labels already checked against `y`.
    init(x: Tensor, labels: [Int], name: String, classNames: [String]?, normalization: ChannelStats?) {
        self.x = x
        self.y = Tensor(labels.map(Float.init), shape: [labels.count])
        self.labels = labels
        self.name = name
        self.classNames = classNames
        self.normalization = normalization
    }

    /// Number of items.
    public var count: Int { labels.count }

    /// Number of classes: the largest label + 1 (or the number of class names), 0 when empty.
    public var classCount: Int { max(classNames?.count ?? 0, (labels.max() ?? -1) + 1) }

    /// Shape of one item (`[C, H, W]` or `[D]`).
    public var itemShape: [Int] { Array(x.shape.dropFirst()) }

    /// How many items each label has, indexed by label.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classCount)
        for l in labels { c[l] += 1 }
        return c
    }

    /// The same data under another name.
    public func named(_ newName: String) -> Dataset {
        Dataset(x: x, labels: labels, name: newName, classNames: classNames, normalization: normalization)
    }

    /// `Dataset(name: x [shape], N labels, K classes)`.
    public var description: String { "Dataset(\(name): x \(shapeText(x.shape)), \(count) labels, \(classCount) classes)" }

    /// A data set of the rows at `indices` (in that order, repeats allowed).
    ///
    ///     let d3 = try d.subset(indices: [0, 5, 9])
    public func subset(indices: [Int]) throws -> Dataset {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DataError(name, "index \(bad) out of range for \(count) items")
        }
        return rows(indices)
    }

    /// Rows at valid indices (unchecked).
    func rows(_ indices: [Int]) -> Dataset {
        Dataset(x: gatherRows(x, indices), labels: indices.map { labels[$0] }, name: name, classNames: classNames,
                normalization: normalization)
    }
}

/// Copies rows `indices` (all valid) of `t` along the first axis into a new tensor.
func gatherRows(_ t: Tensor, _ indices: [Int]) -> Tensor {
    var shape = t.shape
    shape[0] = indices.count
    let out = Tensor.zeros(shape)
    let inner = t.shape.dropFirst().reduce(1, *)
    guard inner > 0, !indices.isEmpty else { return out }
    t.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            guard let s = src.baseAddress, let d = dst.baseAddress else { return }
            for (k, i) in indices.enumerated() { (d + k * inner).update(from: s + i * inner, count: inner) }
        }
    }
    return out
}
