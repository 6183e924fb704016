import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

/// Measures recorded during training through Train's trackers (the paper's Figures 2, 3, 5).
final class MeasureTrackingTests: XCTestCase {
    func testRAGTrackedEveryTwoEpochsBeforeTrainingAndAtTheEnd() throws {
        let data = try blobData(40)
        let net = try MLP([4, 8, 3], seed: 1)
        let initial = net.stateDict()
        var settings = MeasureSettings(seed: 5)
        settings.progress = .silent
        var h = History()
        try fit(net, data, try SGD(net, lr: 0.1), epochs: 5, batch: 8,
                options: quietOptions(track: [every(2, .rag(batch: 8), on: data, settings: settings),
                                              try every(5, "hessian_max", on: data, settings: settings)]),
                into: &h)
        XCTAssertEqual(h.numbers("rag_epoch"), [0, 2, 4, 5])
        XCTAssertEqual(h.fields(of: "rag"), ["rag", "loss_adv", "loss"])
        XCTAssertEqual(h.field("rag", "rag")?.count, 4)
        XCTAssertEqual(h.numbers("hessian_max_epoch"), [0, 5])
        XCTAssertEqual(h.numbers("hessian_max")?.count, 2)

        // The epoch-0 value is rag() on the initial weights with the tracker's derived seed.
        let fresh = try MLP([4, 8, 3], seed: 1)
        try fresh.loadStateDict(initial)
        let r = try rag(fresh, data, batch: 8, seed: mixSeed(5, 0), progress: .silent)
        XCTAssertEqual(h["rag"]?.first, r.trackedValue)
        // Training lowered the loss the measure sees.
        XCTAssertLessThan(h.field("rag", "loss")!.last!, h.field("rag", "loss")!.first!)
    }

    func testEveryMeasureNameGivesItsRecord() throws {
        let data = try blobData(24)
        let net = try MLP([4, 5, 3], seed: 2)
        var s = MeasureSettings(seed: 1)
        s.progress = .silent
        XCTAssertEqual(try TrackedMeasure(name: "eigs").measure(net, data, settings: s).fields, ["max", "ratio5"])
        XCTAssertEqual(try TrackedMeasure(name: "trace").measure(net, data, settings: s).fields, ["trace", "stderr"])
        XCTAssertEqual(try TrackedMeasure.keskar(iters: 2).measure(net, data, settings: s).fields, ["value", "loss", "max_loss"])
        XCTAssertNotNil(try TrackedMeasure(name: "hessian_max").measure(net, data, settings: s).number)
        XCTAssertThrowsError(try TrackedMeasure(name: "sharpest"))
    }
}
