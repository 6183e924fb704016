import XCTest
import Data
import NN
import Tensor
@testable import Train

final class TrackingTests: XCTestCase {
    func testTrackersRunAtZeroEveryNAndTheEnd() throws {
        let data = try blobs(16)
        let net = try MLP([2, 3], seed: 0)
        var calls: [String] = []
        var modes: [Bool] = []
        let h = try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 5, batch: 8) { o in
            o.track = [
                every(2, "two") { m, e in calls.append("two@\(e)"); modes.append(m.isTraining); return .number(Double(10 * e)) },
                every(1, "one") { _, e in calls.append("one@\(e)"); return .number(Double(e)) },
                every(5, "five") { _, e in .number(Double(e)) },
                every(7, "seven") { _, e in .number(Double(e)) },
            ]
        }
        XCTAssertEqual(h.numbers("two_epoch"), [0, 2, 4, 5])
        XCTAssertEqual(h.numbers("two"), [0, 20, 40, 50])
        XCTAssertEqual(h.numbers("one_epoch"), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(h.numbers("five_epoch"), [0, 5])
        XCTAssertEqual(h.numbers("seven_epoch"), [0, 5])
        XCTAssertEqual(calls.prefix(4), ["two@0", "one@0", "one@1", "two@2"])
        XCTAssertEqual(modes, [false, false, false, false])   // measures see the model in eval mode
        XCTAssertTrue(net.isTraining)

        let t = Tracker(name: "x", every: 3) { _, _ in 0 }
        XCTAssertEqual(t.epochs(through: 10), [0, 3, 6, 9, 10])
        XCTAssertEqual(t.epochs(through: 9), [0, 3, 6, 9])
        XCTAssertEqual(t.epochs(through: 0), [0])
    }

    /// A user closure returning a record: stored as a list of records under `m`, with `m_FIELD` lists.
    func testTrackerReturningARecord() throws {
        let (train, test) = try blobs(60).split(at: 40)
        let net = try MLP([2, 8, 3], seed: 1)
        let h = try quietFit(net, train, try SGD(net, lr: 0.2), epochs: 3, batch: 10) { o in
            o.track = [every(1, "probe") { model, epoch in
                let r = try evaluate(model, test)
                return TrackedValue([("loss", r.loss), ("acc", r.acc), ("epoch_times_two", Double(2 * epoch))])
            }]
            o.test = test
        }
        XCTAssertEqual(h.fields(of: "probe"), ["loss", "acc", "epoch_times_two"])
        XCTAssertEqual(h["probe"]?.count, 4)
        XCTAssertEqual(h.field("probe", "epoch_times_two"), [0, 2, 4, 6])
        XCTAssertEqual(Array(h.field("probe", "acc")!.dropFirst()), h.numbers("test_acc"))
        XCTAssertEqual(Array(h.field("probe", "loss")!.dropFirst()), h.numbers("test_loss"))
        XCTAssertTrue(h.flattened.map(\.name).contains("probe_acc"))
    }

    func testATrackerMustKeepItsKindOfValue() throws {
        let data = try blobs(16)
        let net = try MLP([2, 3], seed: 2)
        var h = History()
        XCTAssertThrowsError(try fit(net, data, try SGD(net, lr: 0.1), epochs: 3, batch: 8, options: quiet { o in
            o.track = [every(1, "flip") { _, e in e == 0 ? .number(1) : TrackedValue(["a": 1]) }]
        }, into: &h)) { e in
            XCTAssertTrue("\(e)".contains("tracker 'flip'") && "\(e)".contains("epoch 1"), "\(e)")
        }
        XCTAssertEqual(h.numbers("flip"), [1])
        XCTAssertEqual(h.epochCount, 1)
    }

    func testErrorsOfAMeasurePropagate() throws {
        struct Boom: Error {}
        let data = try blobs(16)
        let net = try MLP([2, 3], seed: 3)
        XCTAssertThrowsError(try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 2, batch: 8) { o in
            o.track = [every(2, "boom") { _, e in if e > 0 { throw Boom() }; return 0 }]
        }) { XCTAssertTrue($0 is Boom) }
    }
}
