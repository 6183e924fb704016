import XCTest
import Data
import NN
import Tensor
@testable import Train

/// The loop under `fit` with another objective, as SimCLR's pre-training uses it: no labels, no
/// accuracy, its own per-epoch column, trackers and checkpoints with resume.
final class LoopReuseTests: XCTestCase {
    private func loop(_ net: MLP, _ data: Dataset, epochs: Int, dir: String? = nil) throws -> TrainingLoop {
        var l = TrainingLoop(model: net, optimizer: try Adam(net, lr: 1e-2), data: data, epochs: epochs, batchSize: 8,
                             objective: { batch, rng in
                                 // Reconstruct a noisy copy of the input (labels unused).
                                 let noisy = try batch.x + Tensor.randn(batch.x.shape, using: &rng) * 0.1
                                 return StepOutput(loss: try mseLoss(try net(noisy), batch.x), count: batch.count)
                             }, reportsAccuracy: false)
        l.label = "pretrain"
        l.seed = 1
        l.evaluations = [EpochEvaluation(columns: ["recon"]) { model in
            [Double(try withNoGrad { try mseLoss(try model(data.x), data.x) }.item())]
        }]
        l.trackers = [Tracker(name: "w", every: 2) { model, _ in
            .number(Double(try withNoGrad { try model.parameters()[0].pow(2).sum() }.item()))
        }]
        l.progress = { label, total in ProgressReporter(label, total: total, isTerminal: false, sink: { _ in }) }
        if let dir { l.checkpoint = CheckpointPolicy(directory: dir, every: 1, best: "recon", goal: .min) }
        return l
    }

    func testACustomObjectiveRecordsItsColumnsAndResumes() throws {
        let data = try blobs(30, dimensions: 4)
        let dir = try makeTempDir(self)
        let a = try MLP([4, 3, 4], seed: 2)
        var ha = History()
        try loop(a, data, epochs: 3).run(into: &ha)
        XCTAssertEqual(ha.columnNames, ["epoch", "lr", "train_loss", "recon", "w", "w_epoch"])
        XCTAssertEqual(ha.numbers("w_epoch"), [0, 2, 3])
        XCTAssertLessThan(ha.numbers("recon")!.last!, ha.numbers("recon")!.first! * 1.5)

        let b = try MLP([4, 3, 4], seed: 2)
        var hb = History()
        try loop(b, data, epochs: 1, dir: dir).run(into: &hb)
        let c = try MLP([4, 3, 4], seed: 7)
        var hc = History()
        try loop(c, data, epochs: 3).run(into: &hc, resume: dir + "/epoch-0001.safetensors")
        XCTAssertEqual(stateBits(c), stateBits(a))
        // hb's run ended at epoch 1, so its tracker also measured there ("at the end"): the
        // resumed history carries that extra point; everything per epoch is identical.
        for name in ["epoch", "lr", "train_loss", "recon"] { XCTAssertEqual(hc.numbers(name), ha.numbers(name), name) }
        XCTAssertEqual(hc.numbers("w_epoch"), [0, 1, 2, 3])
        XCTAssertEqual(try TrainingCheckpoint(path: dir + "/best.safetensors").metadata["loop"], "pretrain")

        // A checkpoint of another loop does not resume this one.
        let d = try MLP([4, 3, 4], seed: 2)
        var l = try loop(d, data, epochs: 3)
        l.label = "fit"
        var hd = History()
        XCTAssertThrowsError(try l.run(into: &hd, resume: dir + "/epoch-0001.safetensors")) {
            XCTAssertTrue("\($0)".contains("the training loop is fit here but pretrain"), "\($0)")
        }
    }
}
