import XCTest
import Data
import NN
import Tensor
@testable import Train

final class FitTests: XCTestCase {
    func testHistoryColumnsAndLengths() throws {
        let data = try blobs(60)
        let (train, test) = try data.split(at: 40)
        let net = try MLP([2, 8, 3], seed: 0)
        let opt = try SGD(net, lr: 0.1)
        let h = try quietFit(net, train, opt, epochs: 3, batch: 16) { o in
            o.test = test
            o.eval = [(name: "shifted", data: test)]
            o.track = [every(2, "norm") { _, e in .number(Double(e)) }]
        }
        XCTAssertEqual(h.columnNames, ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                                       "shifted_loss", "shifted_acc", "norm", "norm_epoch"])
        for name in h.columnNames.prefix(8) { XCTAssertEqual(h.numbers(name)?.count, 3, name) }
        XCTAssertEqual(h.numbers("epoch"), [1, 2, 3])
        XCTAssertEqual(h.numbers("norm_epoch"), [0, 2, 3])
        XCTAssertEqual(h.numbers("norm"), [0, 2, 3])
        XCTAssertEqual(h.numbers("test_loss"), h.numbers("shifted_loss"))
        for a in h.numbers("train_acc")! + h.numbers("test_acc")! { XCTAssert(a >= 0 && a <= 1) }
        // The last test row is what evaluate says of the final model.
        let r = try evaluate(net, test)
        XCTAssertEqual(h.numbers("test_loss")!.last!, r.loss)
        XCTAssertEqual(h.numbers("test_acc")!.last!, r.acc)
        XCTAssertEqual(h.epochCount, 3)
    }

    func testKeywordFormMatchesOptionsForm() throws {
        let data = try blobs(30)
        let a = try MLP([2, 6, 3], seed: 1), b = try MLP([2, 6, 3], seed: 1)
        let ha = try fit(a, data, try SGD(a, lr: 0.1), epochs: 2, batch: 8, test: data, seed: 4)
        let hb = try quietFit(b, data, try SGD(b, lr: 0.1), epochs: 2, batch: 8) { $0.test = data; $0.seed = 4 }
        XCTAssertEqual(ha, hb)
        XCTAssertEqual(stateBits(a), stateBits(b))
    }

    /// train_loss is the size-weighted mean of the batch losses of the training forwards (in
    /// train mode), and train_acc the fraction they got right; a last, smaller batch (50 = 3·16 + 2)
    /// counts with its weight. The reference replays the same shuffled batches by hand.
    func testTrainLossIsSizeWeightedMeanOfBatchLosses() throws {
        let data = try blobs(50)
        let net = try bnDropoutNet(), ref = try bnDropoutNet()
        let opt = try SGD(net, lr: 0.2, momentum: 0.9), refOpt = try SGD(ref, lr: 0.2, momentum: 0.9)
        let h = try quietFit(net, data, opt, epochs: 2, batch: 16) { $0.seed = 11 }

        var rng = RandomGenerator(seed: 11)   // the documented shuffling stream
        var expectedLoss: [Double] = [], expectedAcc: [Double] = []
        ref.train()
        for _ in 0..<2 {
            var sum = 0.0, hits = 0, sizes: [Int] = []
            for b in try data.batches(size: 16, shuffle: &rng) {
                let logits = try ref(b.x)
                let labels = b.indices.map { data.labels[$0] }
                let loss = try crossEntropyLoss(logits, labels: labels)
                sum += Double(try loss.item()) * Double(b.count)
                hits += try correctCount(logits, labels: labels)
                sizes.append(b.count)
                try refOpt.step(gradients: try gradients(of: loss, wrt: ref.parameters(trainableOnly: true)))
            }
            XCTAssertEqual(sizes, [16, 16, 16, 2])
            expectedLoss.append(sum / 50)
            expectedAcc.append(Double(hits) / 50)
        }
        XCTAssertEqual(h.numbers("train_loss"), expectedLoss)
        XCTAssertEqual(h.numbers("train_acc"), expectedAcc)
        XCTAssertEqual(stateBits(net), stateBits(ref))
    }

    func testLRColumnFollowsMultistepAndIsTheRateUsed() throws {
        let data = try blobs(24)
        let net = try MLP([2, 4, 3], seed: 2)
        let opt = try SGD(net, lr: 0.5)
        var seen: [Double] = []
        let schedule = Schedule.multistep(milestones: [2, 4], gamma: 0.1)
        let h = try quietFit(net, data, opt, epochs: 6, batch: 12) { o in
            o.schedule = schedule
            o.transform = { x, _ in seen.append(opt.lr); return x }
        }
        let expected = (0..<6).map { schedule.lr(epoch: $0, base: 0.5) }
        XCTAssertEqual(h.numbers("lr"), expected)
        XCTAssertEqual(expected[0], 0.5)
        XCTAssertEqual(expected[2], 0.5 * 0.1)
        XCTAssertEqual(expected[5], 0.5 * 0.1 * 0.1)
        XCTAssertEqual(seen, expected.flatMap { [$0, $0] })   // two batches per epoch, each at its epoch's rate
    }

    func testOnlyTrainableParametersChange() throws {
        let data = try blobs(40)
        let net = try MLP([2, 8, 8, 3], seed: 3)
        try net.freeze("fc1")
        let before = stateBits(net)
        let opt = try SGD(net, lr: 0.1, momentum: 0.9, weightDecay: 1e-2)   // over all parameters, frozen ones too
        try quietFit(net, data, opt, epochs: 2, batch: 16)
        let after = stateBits(net)
        XCTAssertEqual(after["fc1.weight"], before["fc1.weight"])
        XCTAssertEqual(after["fc1.bias"], before["fc1.bias"])
        for name in ["fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"] { XCTAssertNotEqual(after[name], before[name], name) }

        try net.freeze("*")
        XCTAssertThrowsError(try quietFit(net, data, opt, epochs: 1, batch: 16)) { e in
            XCTAssertTrue("\(e)".contains("frozen"), "\(e)")
        }
    }

    func testReductionSeamIsCalledOncePerStepWithTheBatchSize() throws {
        let data = try blobs(50)
        let net = try MLP([2, 5, 3], seed: 4)
        let opt = try SGD(net, lr: 0.1)
        let counter = CountingReduction()
        try quietFit(net, data, opt, epochs: 2, batch: 16) { $0.reduction = counter }
        XCTAssertEqual(counter.sizes, [16, 16, 16, 2, 16, 16, 16, 2])
        XCTAssertEqual(counter.gradientCounts, Array(repeating: 4, count: 8))
        XCTAssertEqual(opt.stepCount, 8)

        // The optimizer sees only what the seam returns: zero gradients leave plain SGD's weights alone.
        let before = stateBits(net)
        let zero = CountingReduction(zero: true)
        try quietFit(net, data, opt, epochs: 1, batch: 16, { $0.reduction = zero; $0.dropLast = true })
        XCTAssertEqual(zero.sizes, [16, 16, 16])
        XCTAssertEqual(stateBits(net), before)
    }

    func testNaNLossStopsWithEpochAndStep() throws {
        let data = try blobs(64, dimensions: 4)
        let net = try MLP([4, 16, 3], seed: 5)
        let opt = try SGD(net, lr: 1e12)
        let counter = CountingReduction()
        var h = History()
        var stop: NonFiniteLoss?
        do {
            try fit(net, data, opt, epochs: 20, batch: 8, options: quiet { $0.reduction = counter }, into: &h)
        } catch let e as NonFiniteLoss {
            stop = e
        }
        let e = try XCTUnwrap(stop, "a learning rate of 1e12 should blow the loss up")
        XCTAssertFalse(e.loss.isFinite)
        XCTAssertEqual(e.steps, 8)
        // Steps before the bad one all went through the seam; the bad one did not.
        XCTAssertEqual(counter.sizes.count, (e.epoch - 1) * 8 + e.step - 1)
        XCTAssertEqual(h.epochCount, e.epoch - 1)
        let text = "\(e)"
        XCTAssertTrue(text.contains("epoch \(e.epoch), step \(e.step) of 8"), text)
        XCTAssertTrue(text.contains("\(e.loss)"), text)
    }

    func testTransformGetsEveryTrainingBatchWithASeededGenerator() throws {
        let data = try blobs(30)
        func run() throws -> ([Int], [Float]) {
            let net = try MLP([2, 4, 3], seed: 6)
            var sizes: [Int] = [], draws: [Float] = []
            try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 2, batch: 8) { o in
                o.seed = 9
                o.transform = { x, rng in
                    sizes.append(x.shape[0])
                    draws.append(rng.uniform())
                    return try x + Tensor.randn(x.shape, seed: 1) * 0.01
                }
            }
            return (sizes, draws)
        }
        let (sizes, draws) = try run()
        XCTAssertEqual(sizes, [8, 8, 8, 6, 8, 8, 8, 6])
        XCTAssertEqual(Set(draws).count, draws.count)
        XCTAssertEqual(try run().1, draws)   // the same seed, the same augmentation stream
    }

    func testProgressShowsEachEpochWithLossAndFinalSummary() throws {
        let data = try blobs(40)
        let net = try MLP([2, 4, 3], seed: 7)
        var lines: [String] = []
        var labels: [String] = []
        try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 2, batch: 10) { o in
            o.test = data
            o.progress = { label, total in
                labels.append("\(label) \(total)")
                var t = 0.0
                return ProgressReporter(label, total: total, unit: "batch", isTerminal: false,
                                        sink: { lines.append($0) }, clock: { t += 1; return t })
            }
        }
        XCTAssertEqual(labels, ["fit epoch 1/2 4", "fit epoch 2/2 4"])
        let finals = lines.filter { $0.contains("done 4/4") }
        XCTAssertEqual(finals.count, 2, "\(lines)")
        XCTAssertTrue(finals[0].contains("train_loss") && finals[0].contains("test_acc"), finals[0])
        XCTAssertTrue(lines.contains { $0.contains("img/s") && $0.contains("loss ") }, "\(lines)")
    }

    func testBadArgumentsAreErrors() throws {
        let data = try blobs(10)
        let net = try MLP([2, 4, 3], seed: 8)
        let opt = try SGD(net, lr: 0.1)
        XCTAssertThrowsError(try quietFit(net, data, opt, epochs: 1, batch: 0))
        XCTAssertThrowsError(try quietFit(net, data, opt, epochs: 1, batch: 20, { $0.dropLast = true }))
        XCTAssertThrowsError(try quietFit(net, data, opt, epochs: 1, batch: 4) {
            $0.track = [every(1, "test_acc") { _, _ in 0 }]; $0.test = data
        }) { e in XCTAssertTrue("\(e)".contains("'test_acc'"), "\(e)") }
        let other = try MLP([2, 4, 3], seed: 9)
        XCTAssertThrowsError(try quietFit(net, data, try SGD(other, lr: 0.1), epochs: 1, batch: 4)) { e in
            XCTAssertTrue("\(e)".contains("not the model's"), "\(e)")
        }
    }

    func testFitLeavesTheModelInItsModeAndFrozenBatchNormCanStayInEval() throws {
        let data = try blobs(32)
        let net = try bnDropoutNet()
        net.eval()
        try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 1, batch: 8)
        XCTAssertFalse(net.isTraining)

        // A frozen BatchNorm kept in eval mode: its running statistics do not move.
        let probe = try bnDropoutNet()
        try probe.freeze("fc1"); try probe.freeze("bn1")
        let bn = probe[1] as! BatchNorm
        let stats = (bn.runningMean.scalars, bn.runningVar.scalars)
        try quietFit(probe, data, try SGD(probe, lr: 0.1), epochs: 2, batch: 8) { $0.trainMode = .frozenBatchNormInEval }
        XCTAssertEqual(bn.runningMean.scalars, stats.0)
        XCTAssertEqual(bn.runningVar.scalars, stats.1)
        // The default trains every module: the statistics move.
        try quietFit(probe, data, try SGD(probe, lr: 0.1), epochs: 1, batch: 8)
        XCTAssertNotEqual(bn.runningMean.scalars, stats.0)

        let again = try bnDropoutNet()
        let bn2 = again[1] as! BatchNorm
        let before = bn2.runningMean.scalars
        try quietFit(again, data, try SGD(again, lr: 0.1), epochs: 1, batch: 8) { $0.trainMode = .keepingEval([bn2]) }
        XCTAssertEqual(bn2.runningMean.scalars, before)
    }
}
