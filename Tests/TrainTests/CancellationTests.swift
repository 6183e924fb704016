import XCTest
import Data
import NN
import Tensor
@testable import Train

final class CancellationTests: XCTestCase {
    override func tearDown() {
        Cancellation.clear()
        super.tearDown()
    }

    /// Ctrl-C during a measure at the end of epoch 1: training stops before epoch 2's first batch,
    /// the weights are those of a plain one-epoch run, the history keeps epoch 1.
    func testCancelFromATrackerStopsBeforeTheNextBatch() throws {
        let data = try blobs(40)
        let net = try bnDropoutNet(), ref = try bnDropoutNet()
        let counter = CountingReduction()
        var h = History()
        var cancelled = false
        do {
            try fit(net, data, try SGD(net, lr: 0.1, momentum: 0.9), epochs: 3, batch: 16, options: quiet { o in
                o.seed = 5
                o.reduction = counter
                o.test = data
                o.track = [every(1, "stop") { _, e in if e == 1 { Cancellation.request() }; return .number(Double(e)) }]
            }, into: &h)
        } catch is Cancelled {
            cancelled = true
        }
        XCTAssertTrue(cancelled)
        Cancellation.clear()
        XCTAssertEqual(counter.sizes.count, 3)      // epoch 1's three steps, none of epoch 2's
        XCTAssertEqual(h.epochCount, 1)
        XCTAssertEqual(h.numbers("stop_epoch"), [0, 1])
        XCTAssertEqual(h.numbers("test_acc")?.count, 1)

        let hr = try quietFit(ref, data, try SGD(ref, lr: 0.1, momentum: 0.9), epochs: 1, batch: 16) { o in
            o.seed = 5
            o.test = data
            o.track = [every(1, "stop") { _, e in .number(Double(e)) }]
        }
        XCTAssertEqual(stateBits(net), stateBits(ref))
        XCTAssertEqual(h, hr)
    }

    /// Ctrl-C while the third batch is being prepared: that step completes, the fourth never runs.
    func testCancelFromATransformStopsAfterTheCurrentStep() throws {
        let data = try blobs(80)
        let net = try MLP([2, 8, 3], seed: 4), ref = try MLP([2, 8, 3], seed: 4)
        let opt = try SGD(net, lr: 0.1, momentum: 0.9)
        var calls = 0
        var h = History()
        XCTAssertThrowsError(try fit(net, data, opt, epochs: 2, batch: 8, options: quiet { o in
            o.shuffle = false
            o.track = [every(1, "zero") { _, _ in 0 }]
            o.transform = { x, _ in calls += 1; if calls == 3 { Cancellation.request() }; return x }
        }, into: &h)) { XCTAssertTrue($0 is Cancelled, "\($0)") }
        Cancellation.clear()
        XCTAssertEqual(calls, 3)
        XCTAssertEqual(opt.stepCount, 3)
        XCTAssertEqual(h.epochCount, 0)
        XCTAssertEqual(h.numbers("zero_epoch"), [0])

        // The same three steps by fitting one epoch on the first three batches, in order.
        try quietFit(ref, try data.prefix(24), try SGD(ref, lr: 0.1, momentum: 0.9), epochs: 1, batch: 8) { $0.shuffle = false }
        XCTAssertEqual(stateBits(net), stateBits(ref))
    }

    func testAFlagAlreadySetStopsBeforeTheFirstBatch() throws {
        let data = try blobs(16)
        let net = try MLP([2, 3], seed: 5)
        let before = stateBits(net)
        Cancellation.request()
        XCTAssertThrowsError(try quietFit(net, data, try SGD(net, lr: 0.1), epochs: 1, batch: 8)) { XCTAssertTrue($0 is Cancelled) }
        Cancellation.clear()
        XCTAssertEqual(stateBits(net), before)
    }
}
