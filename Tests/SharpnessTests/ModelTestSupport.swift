import Foundation
import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

// Helpers for the model-level measure tests: small models and data, dense Hessians assembled
// from HVPs, bit patterns of a model's state.

/// Gaussian blobs, N×D.
func blobData(_ count: Int, dimensions: Int = 4, classes: Int = 3, seed: UInt64 = 1) throws -> Dataset {
    try Dataset.blobs(count: count, classes: classes, dimensions: dimensions, spread: 1.5, separation: 2, seed: seed)
}

/// Every parameter and buffer of the model as raw bit patterns, by name.
func stateBits(_ model: Module) -> [String: [UInt32]] {
    let sd = model.stateDict()
    var out: [String: [UInt32]] = [:]
    for name in sd.names { out[name] = sd.tensors[name]!.scalars.map(\.bitPattern) }
    return out
}

/// The dense Hessian (row-major, Double) assembled column by column: column j = H eⱼ.
func denseHessian(_ h: some SymmetricOperator) throws -> [Double] {
    let n = h.dimension
    var m = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
        var e = [Float](repeating: 0, count: n)
        e[j] = 1
        let col = try h.apply(e)
        for i in 0..<n { m[i * n + j] = Double(col[i]) }
    }
    return m
}

/// A few SGD epochs so that the model sits somewhere meaningful (not at its random start).
func pretrain(_ model: Module, _ data: Dataset, epochs: Int = 3, lr: Double = 0.1, batch: Int = 16) throws {
    var o = FitOptions()
    o.progress = { label, total in ProgressReporter(label, total: total, unit: "batch", isTerminal: false, sink: { _ in }) }
    o.seed = 0
    var h = History()
    try fit(model, data, try SGD(model, lr: lr, momentum: 0.9), epochs: epochs, batch: batch, options: o, into: &h)
}

/// Quiet fit options with the given trackers.
func quietOptions(track: [Tracker] = []) -> FitOptions {
    var o = FitOptions()
    o.progress = { label, total in ProgressReporter(label, total: total, unit: "batch", isTerminal: false, sink: { _ in }) }
    o.seed = 0
    o.track = track
    return o
}

/// A ResNet with one BasicBlock per stage, width 2, on 1×8×8 images: BatchNorm everywhere,
/// projection shortcuts, a few hundred parameters.
func tinyResNet(seed: UInt64 = 5) throws -> ResNet {
    var rng = RandomGenerator(seed: seed)
    return try ResNet(blocks: [1, 1, 1, 1], inChannels: 1, classes: 3, width: 2, rng: &rng)
}

/// Random 1×8×8 images with labels 0…2.
func tinyImages(_ count: Int, seed: UInt64 = 9) throws -> Dataset {
    var rng = RandomGenerator(seed: seed)
    let x = Tensor.randn([count, 1, 8, 8], using: &rng)
    let y = Tensor((0..<count).map { Float($0 % 3) }, shape: [count])
    return try Dataset(x: x, y: y, name: "tiny")
}
