import Foundation
import XCTest
import Data
import NN
import Tensor
@testable import Train

/// NT-Xent in Float64 from its definition (an independent reference for the tests).
private func ntXentReference(_ z: [[Double]], tau: Double) -> Double {
    let rows = z.count, n = rows / 2
    let u = z.map { r -> [Double] in
        let norm = max(sqrt(r.reduce(0) { $0 + $1 * $1 }), 1e-12)
        return r.map { $0 / norm }
    }
    var total = 0.0
    for i in 0 ..< rows {
        let twin = i < n ? i + n : i - n
        var terms: [Double] = []
        for j in 0 ..< rows where j != i { terms.append(zip(u[i], u[j]).reduce(0) { $0 + $1.0 * $1.1 } / tau) }
        let m = terms.max()!
        let lse = m + log(terms.reduce(0) { $0 + exp($1 - m) })
        total += lse - zip(u[i], u[twin]).reduce(0) { $0 + $1.0 * $1.1 } / tau
    }
    return total / Double(rows)
}

private func tensor(_ rows: [[Double]]) throws -> Tensor {
    try Tensor.from(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, rows[0].count])
}

final class NTXentTests: XCTestCase {
    /// Two images, orthogonal embeddings, τ = 1: every row sees its twin at cos 1 and two others at
    /// cos 0, so each row's loss is log(e + 2) − 1.
    func testValueWorkedOutByHand() throws {
        let z = try tensor([[1, 0], [0, 1], [2, 0], [0, 3]])
        let loss = try ntXent(z, temperature: 1).item()
        XCTAssertEqual(Double(loss), log(M_E + 2) - 1, accuracy: 1e-6)
    }

    func testMatchesTheFloat64DefinitionOnARandomBatch() throws {
        var rng = RandomGenerator(seed: 7)
        let z = (0 ..< 8).map { _ in (0 ..< 5).map { _ in Double(Float(rng.normal())) } }
        for tau in [0.1, 0.5, 2.0] {
            let got = Double(try ntXent(try tensor(z), temperature: tau).item())
            XCTAssertEqual(got, ntXentReference(z, tau: tau), accuracy: 2e-5 * max(1, abs(got)), "τ = \(tau)")
        }
    }

    /// The autodiff gradient against central differences of the Float64 definition.
    func testGradientMatchesFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 11)
        let z = (0 ..< 6).map { _ in (0 ..< 3).map { _ in Double(Float(rng.normal())) } }
        let zt = try tensor(z).requiringGrad()
        let g = try gradients(of: try ntXent(zt, temperature: 0.5), wrt: [zt])[0].scalars
        let h = 1e-6
        for i in 0 ..< 6 { for j in 0 ..< 3 {
            var zp = z, zm = z
            zp[i][j] += h
            zm[i][j] -= h
            let fd = (ntXentReference(zp, tau: 0.5) - ntXentReference(zm, tau: 0.5)) / (2 * h)
            XCTAssertEqual(Double(g[i * 3 + j]), fd, accuracy: 1e-4, "∂/∂z[\(i)][\(j)]")
        } }
    }

    func testRejectsAnOddNumberOfRowsAndBadTemperatures() throws {
        XCTAssertThrowsError(try ntXent(Tensor.ones([3, 2]))) { XCTAssertTrue("\($0)".contains("2N×d"), "\($0)") }
        XCTAssertThrowsError(try ntXent(Tensor.ones([4]))) { XCTAssertTrue("\($0)".contains("2N×d"), "\($0)") }
        XCTAssertThrowsError(try ntXent(Tensor.ones([4, 2]), temperature: 0)) { XCTAssertTrue("\($0)".contains("temperature"), "\($0)") }
    }
}

final class KNNTests: XCTestCase {
    /// An identity encoder on 2-D points: the weighted vote checked against a brute-force
    /// Float64 computation.
    func testWeightedVoteMatchesBruteForce() throws {
        var rng = RandomGenerator(seed: 3)
        func points(_ n: Int) -> ([[Double]], [Int]) {
            var xs: [[Double]] = [], ys: [Int] = []
            for _ in 0 ..< n {
                let c = Int(rng.next() % 3)
                let angle = Double(c) * 2.1 + 0.6 * rng.normal()
                xs.append([cos(angle) * (1 + rng.uniformDouble()), sin(angle) * (1 + rng.uniformDouble())])
                ys.append(c)
            }
            return (xs, ys)
        }
        let (bx, by) = points(60), (tx, ty) = points(40)
        let bank = try Dataset(x: tensor(bx), y: Tensor(by.map(Float.init), shape: [60]))
        let test = try Dataset(x: tensor(tx), y: Tensor(ty.map(Float.init), shape: [40]))
        for (k, tau) in [(5, 0.1 as Double?), (12, nil), (200, 0.5)] {
            var correct = 0
            for (p, label) in zip(tx, ty) {
                let pn = p.map { $0 / hypot(p[0], p[1]) }
                let sims = bx.map { b in (b[0] * pn[0] + b[1] * pn[1]) / hypot(b[0], b[1]) }
                let nearest = sims.indices.sorted { sims[$0] > sims[$1] }.prefix(min(k, 60))
                var votes = [0.0, 0.0, 0.0]
                for j in nearest { votes[by[j]] += tau.map { exp(sims[j] / $0) } ?? 1 }
                if votes.indices.max(by: { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }) == label { correct += 1 }
            }
            let got = try knnAccuracy(Identity(), bank: bank, test: test, k: k, temperature: tau)
            XCTAssertEqual(got, Double(correct) / 40, "k \(k), τ \(String(describing: tau))")
        }
    }

    func testTopKKeepsTheLargestValues() {
        var heap = TopK(capacity: 3)
        for (i, v) in [5, 1, 9, 3, 9, 7, 2].enumerated() { heap.offer(Float(v), i) }
        XCTAssertEqual(heap.items.map(\.0).sorted(), [7, 9, 9])
        XCTAssertEqual(Set(heap.items.map(\.1)), [2, 4, 5])
    }
}

final class BatchNormRecalibrationTests: XCTestCase {
    /// Three equal batches: the running mean is the mean of the batch means, the running variance
    /// the mean of the unbiased batch variances (worked out here in Float64).
    func testRunningStatisticsAreTheAverageOfTheBatchStatistics() throws {
        let bn = try BatchNorm1d(2)
        let net = Sequential([Identity(), bn])
        net.eval()
        var rng = RandomGenerator(seed: 5)
        let xs = (0 ..< 12).map { _ in [Double(Float(rng.normal() * 2 + 1)), Double(Float(rng.normal() * 0.5 - 3))] }
        let data = try Dataset(x: tensor(xs), y: Tensor.zeros([12]))
        let layers = try recalibrateBatchNorm(net, data, batch: 4)
        XCTAssertEqual(layers, 1)
        for c in 0 ..< 2 {
            var means: [Double] = [], vars: [Double] = []
            for b in 0 ..< 3 {
                let v = xs[(4 * b) ..< (4 * b + 4)].map { $0[c] }
                let m = v.reduce(0, +) / 4
                means.append(m)
                vars.append(v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 3)
            }
            XCTAssertEqual(Double(bn.runningMean.scalars[c]), means.reduce(0, +) / 3, accuracy: 1e-5)
            XCTAssertEqual(Double(bn.runningVar.scalars[c]), vars.reduce(0, +) / 3, accuracy: 1e-5)
        }
        XCTAssertEqual(bn.numBatchesTracked.scalars, [3])
        XCTAssertEqual(bn.momentum, 0.1, "the momentum is restored")
        XCTAssertFalse(net.isTraining, "the mode is restored")
    }
}

/// A small conv encoder with BatchNorm: 1×8×8 images → 6 features.
private func tinyEncoder(seed: UInt64) throws -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return try Sequential(named: [
        ("conv", try Conv2d(1, 6, kernel: 3, padding: 1, rng: &rng)),
        ("bn", try BatchNorm2d(6)),
        ("relu", ReLU()),
        ("pool", GlobalAvgPool()),
    ])
}

private func tinyImages(_ n: Int, seed: UInt64) throws -> Dataset {
    var rng = RandomGenerator(seed: seed)
    var pixels: [Float] = [], labels: [Float] = []
    for i in 0 ..< n {
        let c = i % 2
        for y in 0 ..< 8 { for x in 0 ..< 8 {
            let stripe: Float = c == 0 ? (x % 4 < 2 ? 0.8 : 0.2) : (y % 4 < 2 ? 0.8 : 0.2)
            pixels.append(Swift.min(1, Swift.max(0, stripe + 0.1 * Float(rng.normal()))))
        } }
        labels.append(Float(c))
    }
    return try Dataset(x: Tensor.from(pixels, shape: [n, 1, 8, 8]), y: Tensor.from(labels, shape: [n]), name: "stripes")
}

private func quietProgress(_ label: String, _ total: Int) -> ProgressReporter {
    ProgressReporter(label, total: total, unit: "batch", isTerminal: false, sink: { _ in })
}

final class SimCLRTests: XCTestCase {
    private func model(seed: UInt64) throws -> SimCLRModel {
        var rng = RandomGenerator(seed: seed + 1)
        return SimCLRModel(encoder: try tinyEncoder(seed: seed), head: try projectionHead(features: 6, out: 4, rng: &rng))
    }

    func testPretrainingRecordsTheContrastiveLossAndTheMonitor() throws {
        let data = try tinyImages(24, seed: 1)
        let m = try model(seed: 2)
        var o = SimCLROptions()
        o.seed = 9
        o.knn = (bank: data, test: try tinyImages(10, seed: 4))
        o.knnK = 5
        o.progress = quietProgress
        var seen: [Int] = []
        o.track = [every(2, "probe") { encoder, epoch in
            XCTAssertTrue(encoder === m.encoder, "trackers see the encoder")
            seen.append(epoch)
            return .number(Double(epoch))
        }]
        var hist = History()
        try pretrainSimCLR(m, data, try Adam(m, lr: 1e-2), epochs: 3, batch: 8, options: o, into: &hist)
        XCTAssertEqual(hist.columnNames, ["epoch", "lr", "train_loss", "knn_acc", "probe", "probe_epoch"])
        XCTAssertEqual(seen, [0, 2, 3])
        let losses = try XCTUnwrap(hist.numbers("train_loss"))
        // A batch of 8 images: 16 views, 15 candidates per row; uniform similarities give log 15.
        XCTAssertEqual(losses[0], log(15), accuracy: 0.6)
        XCTAssertLessThan(losses[2], losses[0])
        for a in try XCTUnwrap(hist.numbers("knn_acc")) { XCTAssertTrue((0 ... 1).contains(a)) }
    }

    /// A time budget smaller than one epoch: the first epoch runs, no other starts.
    func testTimeLimitStopsBeforeAnEpochThatWouldPassIt() throws {
        let data = try tinyImages(16, seed: 1)
        let m = try model(seed: 2)
        var o = SimCLROptions()
        o.seed = 3
        o.timeLimit = 1e-6
        var lines: [String] = []
        o.progress = { label, total in ProgressReporter(label, total: total, unit: "batch", isTerminal: false, sink: { lines.append($0) }) }
        var h = History()
        try pretrainSimCLR(m, data, try Adam(m, lr: 1e-2), epochs: 3, batch: 8, options: o, into: &h)
        XCTAssertEqual(h.epochCount, 1)
        XCTAssertTrue(lines.joined().contains("stopped after epoch 1 of 3"), lines.joined())
    }

    /// Stopped after epoch 1 and resumed from its checkpoint: the same weights, bit for bit, as an
    /// uninterrupted run (augmentation draws and Adam's state included).
    func testResumeContinuesExactly() throws {
        let data = try tinyImages(16, seed: 1)
        let dir = try makeTempDir(self)
        var o = SimCLROptions()
        o.seed = 3
        o.progress = quietProgress
        let straight = try model(seed: 2)
        var h1 = History()
        try pretrainSimCLR(straight, data, try Adam(straight, lr: 1e-2), epochs: 3, batch: 8, options: o, into: &h1)

        let first = try model(seed: 2)
        o.checkpoint = CheckpointPolicy(directory: dir, every: 1)
        var h2 = History()
        try pretrainSimCLR(first, data, try Adam(first, lr: 1e-2), epochs: 1, batch: 8, options: o, into: &h2)
        let resumed = try model(seed: 5)
        var h3 = History()
        try pretrainSimCLR(resumed, data, try Adam(resumed, lr: 1e-2), epochs: 3, batch: 8, options: o,
                           resume: dir + "/epoch-0001.safetensors", into: &h3)
        XCTAssertEqual(stateBits(resumed), stateBits(straight))
        XCTAssertEqual(h3.numbers("train_loss"), h1.numbers("train_loss"))
    }

    /// A normalized data set is augmented on its pixels and normalized after: the same loss as
    /// raw pixels whose augmentation ends with the normalization.
    func testNormalizedDataIsAugmentedOnItsPixels() throws {
        let raw = try tinyImages(16, seed: 1)
        let normalized = try raw.normalized()
        var o = SimCLROptions()
        o.seed = 3
        o.progress = quietProgress
        let a = try model(seed: 2), b = try model(seed: 2)
        var ha = History(), hb = History()
        try pretrainSimCLR(a, normalized, try Adam(a, lr: 1e-2), epochs: 1, batch: 8, options: o, into: &ha)
        o.augmentation = Augmentation.simclr().then(.normalize(normalized.normalization!))
        try pretrainSimCLR(b, raw, try Adam(b, lr: 1e-2), epochs: 1, batch: 8, options: o, into: &hb)
        XCTAssertEqual(try XCTUnwrap(ha.numbers("train_loss"))[0], try XCTUnwrap(hb.numbers("train_loss"))[0], accuracy: 1e-5)
    }
}

final class LinearProbeTests: XCTestCase {
    private func options(_ configure: (inout LinearProbeOptions) -> Void) -> LinearProbeOptions {
        var o = LinearProbeOptions()
        o.epochs = 3
        o.batch = 8
        o.lr = 0.05
        o.seed = 4
        o.progress = quietProgress
        configure(&o)
        return o
    }

    /// Training on precomputed features is the same training as running the frozen encoder every
    /// step (forced here with an identity transform); the encoder given is never touched.
    func testFrozenFeaturesTrainTheSameHeadAsTheFullForwardPass() throws {
        let train = try tinyImages(24, seed: 1), test = try tinyImages(12, seed: 2)
        let encoder = try tinyEncoder(seed: 6)
        _ = try recalibrateBatchNorm(encoder, train)
        let before = stateBits(encoder)
        let fast = options { $0.test = test }
        let slow = options { $0.test = test; $0.transform = { x, _ in x } }
        let p1 = try LinearProbe(encoder: encoder, data: train, options: fast)
        var h1 = History()
        try p1.train(train, options: fast, into: &h1)
        let p2 = try LinearProbe(encoder: encoder, data: train, options: slow)
        var h2 = History()
        try p2.train(train, options: slow, into: &h2)

        XCTAssertEqual(stateBits(encoder), before, "the encoder given is not changed")
        XCTAssertEqual(stateBits(p1.encoder), before, "the classifier's frozen copy keeps its weights and BN statistics")
        XCTAssertEqual(stateBits(p2.encoder), before)
        for (a, b) in zip(p1.head.weight.scalars + p1.head.bias!.scalars, p2.head.weight.scalars + p2.head.bias!.scalars) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
        for c in ["train_loss", "test_loss"] {
            for (a, b) in zip(try XCTUnwrap(h1.numbers(c)), try XCTUnwrap(h2.numbers(c))) { XCTAssertEqual(a, b, accuracy: 1e-5, c) }
        }
        XCTAssertEqual(h1.numbers("test_acc"), h2.numbers("test_acc"))
        XCTAssertEqual(p1.classifier.namedParameters(trainableOnly: true).map(\.name), ["linear.weight", "linear.bias"])
        let e = try evaluate(p1.classifier, test)
        XCTAssertEqual(e.acc, try XCTUnwrap(h1.numbers("test_acc")).last!, accuracy: 1e-12)
    }

    func testFullFineTuningTrainsTheEncoderCopy() throws {
        let train = try tinyImages(16, seed: 1)
        let encoder = try tinyEncoder(seed: 6)
        let before = stateBits(encoder)
        let o = options { $0.full = true }
        let p = try LinearProbe(encoder: encoder, data: train, options: o)
        var h = History()
        try p.train(train, options: o, into: &h)
        XCTAssertEqual(stateBits(encoder), before)
        XCTAssertNotEqual(stateBits(p.encoder)["conv.weight"], before["conv.weight"])
        XCTAssertEqual(p.classifier.namedParameters(trainableOnly: true).map(\.name).count, 6)
    }
}
