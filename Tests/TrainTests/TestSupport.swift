import Foundation
import XCTest
import Data
import NN
import Tensor
@testable import Train

// Shared helpers for the Train tests.

/// A fresh directory under the system temp dir, removed when the test case ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "losscape-train-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// Options whose progress goes nowhere (the tests run quietly), and whatever `configure` sets.
func quiet(_ configure: (inout FitOptions) -> Void = { _ in }) -> FitOptions {
    var o = FitOptions()
    o.progress = { label, total in ProgressReporter(label, total: total, unit: "batch", isTerminal: false, sink: { _ in }) }
    configure(&o)
    return o
}

/// `fit` in its `into:` form with quiet progress; returns the history.
@discardableResult
func quietFit(_ model: Module, _ data: Dataset, _ opt: Optimizer, epochs: Int, batch: Int,
              resume: String? = nil, _ configure: (inout FitOptions) -> Void = { _ in }) throws -> History {
    var h = History()
    try fit(model, data, opt, epochs: epochs, batch: batch, options: quiet(configure), resume: resume, into: &h)
    return h
}

/// Every parameter and buffer of the model as raw bit patterns, by name (for bit-identity checks).
func stateBits(_ model: Module) -> [String: [UInt32]] {
    let sd = model.stateDict()
    var out: [String: [UInt32]] = [:]
    for name in sd.names { out[name] = sd.tensors[name]!.scalars.map(\.bitPattern) }
    return out
}

/// Gaussian blobs in `dimensions` dimensions.
func blobs(_ count: Int, classes: Int = 3, dimensions: Int = 2, seed: UInt64 = 1) throws -> Dataset {
    try Dataset.blobs(count: count, classes: classes, dimensions: dimensions, spread: 1, separation: 3, seed: seed)
}

/// A small classifier with BatchNorm and Dropout: fc1 → bn1 → relu1 → drop1 → fc2.
func bnDropoutNet(inputs: Int = 2, hidden: Int = 12, classes: Int = 3, seed: UInt64 = 3) throws -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return try Sequential(named: [
        ("fc1", try Linear(inputs, hidden, rng: &rng)),
        ("bn1", try BatchNorm1d(hidden)),
        ("relu1", ReLU()),
        ("drop1", try Dropout(0.25, seed: seed &+ 100)),
        ("fc2", try Linear(hidden, classes, rng: &rng)),
    ])
}

/// Counts calls to the reduction seam and the batch sizes it was told; passes gradients through
/// (or replaces them by zeros).
final class CountingReduction: GradientReduction {
    var sizes: [Int] = []
    var gradientCounts: [Int] = []
    let zero: Bool
    init(zero: Bool = false) { self.zero = zero }
    func reduce(_ grads: [Tensor], batchSize: Int) throws -> [Tensor] {
        sizes.append(batchSize)
        gradientCounts.append(grads.count)
        return zero ? grads.map { Tensor.zeros($0.shape) } : grads
    }
}
