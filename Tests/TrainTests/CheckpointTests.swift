import Foundation
import XCTest
import Data
import NN
import Tensor
@testable import Train

final class CheckpointTests: XCTestCase {
    override func tearDown() {
        Cancellation.clear()
        super.tearDown()
    }

    /// Everything that draws random numbers is in play: shuffling, an augmenting transform (the
    /// loop's second stream), Dropout's generator, and a tracker drawing from GlobalRandom.
    private func options(_ test: Dataset, dir: String? = nil, period: Int = 1) -> FitOptions {
        quiet { o in
            o.seed = 21
            o.test = test
            o.schedule = .multistep(milestones: [1, 3], gamma: 0.5)
            o.transform = { x, rng in try x + Tensor.randn(x.shape, using: &rng) * 0.05 }
            o.track = [every(2, "noise") { _, _ in .number(GlobalRandom.generator.uniformDouble()) }]
            if let dir { o.checkpoint = CheckpointPolicy(directory: dir, every: period) }
        }
    }

    private func sgd(_ net: Module) throws -> SGD { try SGD(net, lr: 0.1, momentum: 0.9, weightDecay: 5e-3) }

    /// 4 epochs straight against 2 epochs, a checkpoint, and a resume for the last 2 (in a
    /// "fresh process": new model and optimizer, GlobalRandom reseeded): the final weights, the
    /// buffers and the history are bit-identical.
    func testResumeContinuesBitIdentically() throws {
        let (train, test) = try blobs(70).split(at: 50)   // 50 = 3·16 + 2: a last, smaller batch
        let dir = try makeTempDir(self)

        GlobalRandom.seed(77)
        let straight = try bnDropoutNet()
        var hs = History()
        try fit(straight, train, try sgd(straight), epochs: 4, batch: 16, options: options(test), into: &hs)
        let straightGlobal = GlobalRandom.generator.state

        GlobalRandom.seed(77)
        let first = try bnDropoutNet()
        var h1 = History()
        try fit(first, train, try sgd(first), epochs: 2, batch: 16, options: options(test, dir: dir), into: &h1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/epoch-0001.safetensors"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/epoch-0002.safetensors"))

        GlobalRandom.seed(12345)   // a new process would start elsewhere
        let resumed = try bnDropoutNet(seed: 99)   // other initial weights and dropout stream: all replaced
        var h2 = History()
        try fit(resumed, train, try sgd(resumed), epochs: 4, batch: 16, options: options(test),
                resume: dir + "/epoch-0002.safetensors", into: &h2)

        XCTAssertEqual(stateBits(resumed), stateBits(straight))
        XCTAssertEqual(h2, hs)
        XCTAssertEqual(h2.numbers("noise_epoch"), [0, 2, 4])
        XCTAssertEqual((resumed[3] as! Dropout).rng.state, (straight[3] as! Dropout).rng.state)
        XCTAssertEqual(GlobalRandom.generator.state, straightGlobal)   // GlobalRandom continued too
    }

    /// The realistic path: Ctrl-C in the middle of epoch 3, resume from the last checkpoint.
    func testResumeAfterAnInterruptedRun() throws {
        let (train, test) = try blobs(70).split(at: 50)
        let dir = try makeTempDir(self)
        GlobalRandom.seed(5)
        let straight = try bnDropoutNet()
        let hs = try quietFit(straight, train, try sgd(straight), epochs: 4, batch: 16) { $0 = options(test) }

        GlobalRandom.seed(5)
        let run = try bnDropoutNet()
        var calls = 0
        var o = options(test, dir: dir)
        let augment = o.transform!
        o.transform = { x, rng in
            calls += 1
            if calls == 10 { Cancellation.request() }   // epoch 3, batch 2
            return try augment(x, &rng)
        }
        var h = History()
        XCTAssertThrowsError(try fit(run, train, try sgd(run), epochs: 4, batch: 16, options: o, into: &h)) {
            XCTAssertTrue($0 is Cancelled)
        }
        Cancellation.clear()
        XCTAssertEqual(h.epochCount, 2)

        let resumed = try bnDropoutNet()
        let h2 = try quietFit(resumed, train, try sgd(resumed), epochs: 4, batch: 16, resume: dir + "/epoch-0002.safetensors") {
            $0 = options(test)
        }
        XCTAssertEqual(stateBits(resumed), stateBits(straight))
        XCTAssertEqual(h2, hs)
    }

    func testCheckpointHoldsModelOptimizerGeneratorsAndHistory() throws {
        let data = try blobs(30)
        let dir = try makeTempDir(self)
        let net = try bnDropoutNet()
        let opt = try sgd(net)
        let h = try quietFit(net, data, opt, epochs: 3, batch: 8) { o in
            o.seed = 3
            o.checkpoint = CheckpointPolicy(directory: dir, every: 2)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(files, ["epoch-0002.safetensors", "epoch-0003.safetensors"])   // every 2, and the end

        let c = try TrainingCheckpoint(path: dir + "/epoch-0003.safetensors")
        XCTAssertEqual(c.epoch, 3)
        XCTAssertEqual(c.history, h)
        XCTAssertEqual(c.modelState.names.sorted(), net.stateDict().names.sorted())   // PyTorch names: fc1.weight, bn1.running_mean, …
        XCTAssertEqual(c.modelState.dtype(of: "bn1.num_batches_tracked"), .int64)
        XCTAssertNotNil(c.optimizerState["fc1.weight.momentum_buffer"])
        XCTAssertEqual(c.optimizerState.metadata["momentum"], "0.9")
        for key in ["rng.shuffle", "rng.augment", "rng.global", "rng.module.drop1", "seed", "lr", "schedule"] {
            XCTAssertNotNil(c.metadata[key], key)
        }
        XCTAssertEqual(c.metadata["seed"], "3")
        let fresh = try bnDropoutNet(seed: 50)
        try c.loadModel(into: fresh)
        XCTAssertEqual(stateBits(fresh), stateBits(net))
    }

    func testBestCheckpointFollowsTheMetric() throws {
        let (train, test) = try blobs(90).split(at: 60)
        let dir = try makeTempDir(self)
        let net = try MLP([2, 8, 3], seed: 8)
        let h = try quietFit(net, train, try SGD(net, lr: 0.05), epochs: 5, batch: 16) { o in
            o.test = test
            o.checkpoint = CheckpointPolicy(directory: dir, best: "test_loss")
        }
        let losses = h.numbers("test_loss")!
        let bestEpoch = losses.indices.min { losses[$0] < losses[$1] }! + 1
        let c = try TrainingCheckpoint(path: dir + "/best.safetensors")
        XCTAssertEqual(c.epoch, bestEpoch)
        XCTAssertEqual(c.metadata["best.epoch"], "\(bestEpoch)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["best.safetensors"])
        let fresh = try MLP([2, 8, 3], seed: 0)
        try c.loadModel(into: fresh)
        XCTAssertEqual(try evaluate(fresh, test).loss, losses[bestEpoch - 1])

        // Larger-is-better inferred from the name; an unknown metric or goal is an error up front.
        XCTAssertEqual(try CheckpointPolicy(directory: dir, best: "test_acc").resolvedGoal(), .max)
        XCTAssertThrowsError(try quietFit(net, train, try SGD(net, lr: 0.05), epochs: 1, batch: 16) { o in
            o.checkpoint = CheckpointPolicy(directory: dir, best: "test_acc")
        }) { XCTAssertTrue("\($0)".contains("'test_acc' is not recorded"), "\($0)") }
        XCTAssertThrowsError(try quietFit(net, train, try SGD(net, lr: 0.05), epochs: 1, batch: 16) { o in
            o.track = [every(1, "sharp") { _, _ in 1 }]
            o.checkpoint = CheckpointPolicy(directory: dir, best: "sharp")
        }) { XCTAssertTrue("\($0)".contains("larger or a smaller"), "\($0)") }
    }

    func testBestCheckpointOnATrackedRecordField() throws {
        let data = try blobs(30)
        let dir = try makeTempDir(self)
        let net = try MLP([2, 4, 3], seed: 9)
        var values: [Double] = [3, 1, 2, 0.5]
        try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 3, batch: 10) { o in
            o.track = [every(1, "m") { _, _ in TrackedValue(["score": values.removeFirst()]) }]
            o.checkpoint = CheckpointPolicy(directory: dir, best: "m_score", goal: .min)
        }
        XCTAssertEqual(try TrainingCheckpoint(path: dir + "/best.safetensors").epoch, 3)   // 0.5 at epoch 3 (epoch 0 has no checkpoint)
    }

    func testTruncatedOrMismatchedCheckpointsAreErrorsNamingTheFile() throws {
        let (train, test) = try blobs(40).split(at: 30)
        let dir = try makeTempDir(self)
        let net = try bnDropoutNet()
        try quietFit(net, train, try sgd(net), epochs: 1, batch: 8) { $0 = options(test, dir: dir) }
        let path = dir + "/epoch-0001.safetensors"

        func resumeError(_ model: Module, _ opt: Optimizer, file: String = path, batch: Int = 8,
                         _ configure: (inout FitOptions) -> Void = { _ in }) -> String {
            var o = options(test)
            configure(&o)
            var h = History()
            do {
                try fit(model, train, opt, epochs: 3, batch: batch, options: o, resume: file, into: &h)
                return "no error"
            } catch {
                return "\(error)"
            }
        }

        // Truncated.
        let bytes = try Foundation.Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir + "/cut.safetensors"
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
        var m = try bnDropoutNet()
        var e = resumeError(m, try sgd(m), file: cut)
        XCTAssertTrue(e.contains(cut), e)
        // Missing.
        e = resumeError(m, try sgd(m), file: dir + "/nope.safetensors")
        XCTAssertTrue(e.contains("nope.safetensors"), e)
        // Another architecture: the file and the tensors are named; the model is untouched.
        let wide = try bnDropoutNet(hidden: 20)
        let before = stateBits(wide)
        e = resumeError(wide, try sgd(wide))
        XCTAssertTrue(e.contains(path) && e.contains("fc1.weight"), e)
        XCTAssertEqual(stateBits(wide), before)
        // Another optimizer, other hyperparameters, another batch size, other columns.
        m = try bnDropoutNet()
        e = resumeError(m, try Adam(m, lr: 0.1))
        XCTAssertTrue(e.contains(path) && e.contains("SGD"), e)
        e = resumeError(m, try SGD(m, lr: 0.1, momentum: 0.5, weightDecay: 5e-3))
        XCTAssertTrue(e.contains(path) && e.contains("momentum"), e)
        e = resumeError(m, try sgd(m), batch: 4)
        XCTAssertTrue(e.contains(path) && e.contains("batch size is 4 here but 8"), e)
        e = resumeError(m, try sgd(m)) { $0.test = nil }
        XCTAssertTrue(e.contains(path) && e.contains("columns"), e)
        // A model-only checkpoint.
        let modelOnly = dir + "/model.safetensors"
        try Checkpoint.save(m, to: modelOnly)
        e = resumeError(m, try sgd(m), file: modelOnly)
        XCTAssertTrue(e.contains(modelOnly) && e.contains("not a training checkpoint"), e)
        // Asking for fewer epochs than the checkpoint holds.
        var h = History()
        XCTAssertThrowsError(try fit(m, train, try sgd(m), epochs: 0, batch: 8, options: options(test), resume: path, into: &h)) {
            XCTAssertTrue("\($0)".contains("past the 0 epochs"), "\($0)")
        }
        // And the intact file still resumes.
        XCTAssertEqual(resumeError(m, try sgd(m)), "no error")
    }
}
