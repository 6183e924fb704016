import Foundation
import XCTest
import NN

/// Schedules against PyTorch's formulas (epochs counted from 0, one step per epoch).
final class ScheduleTests: XCTestCase {
    func testMultiStepAsThePaper() {
        let s = Schedule.multistep(milestones: [60, 120, 160], gamma: 0.2)
        let want: [(Int, Double)] = [(0, 0.1), (59, 0.1), (60, 0.02), (119, 0.02), (120, 0.004),
                                     (159, 0.004), (160, 0.0008), (999, 0.0008)]
        for (e, lr) in want { XCTAssertEqual(s.lr(epoch: e, base: 0.1), lr, accuracy: 1e-15, "epoch \(e)") }
        // A milestone listed twice counts twice (PyTorch keeps a Counter).
        XCTAssertEqual(Schedule.multistep(milestones: [2, 2], gamma: 0.5).lr(epoch: 2, base: 1), 0.25)
        XCTAssertEqual(Schedule.multistep(milestones: [6, 8], gamma: 0.2).lr(epoch: 8, base: 0.1), 0.1 * 0.2 * 0.2, accuracy: 1e-15)
    }

    func testStepAndConstant() {
        XCTAssertEqual(Schedule.constant.lr(epoch: 50, base: 0.3), 0.3)
        let s = Schedule.step(size: 30, gamma: 0.1)
        XCTAssertEqual(s.lr(epoch: 29, base: 1), 1)
        XCTAssertEqual(s.lr(epoch: 30, base: 1), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.lr(epoch: 65, base: 1), 0.01, accuracy: 1e-15)
    }

    func testCosineClosedForm() {
        let s = Schedule.cosine(tMax: 10, etaMin: 0.001)
        XCTAssertEqual(s.lr(epoch: 0, base: 0.1), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.lr(epoch: 5, base: 0.1), 0.0505, accuracy: 1e-15)
        XCTAssertEqual(s.lr(epoch: 3, base: 0.1), 0.001 + 0.099 * (1 + 0.5877852522924731) / 2, accuracy: 1e-15)
        XCTAssertEqual(s.lr(epoch: 10, base: 0.1), 0.001, accuracy: 1e-15)
        // Past T_max the closed form rises again along the cosine.
        XCTAssertEqual(s.lr(epoch: 13, base: 0.1), s.lr(epoch: 7, base: 0.1), accuracy: 1e-15)
    }

    /// SequentialLR([LinearLR(0.1, 1.0, total_iters: 5), MultiStepLR([3], 0.5)], milestones: [5]).
    func testLinearWarmupThenAnotherSchedule() {
        let s = Schedule.linearWarmup(epochs: 5, startFactor: 0.1, then: .multistep(milestones: [3], gamma: 0.5))
        let want: [(Int, Double)] = [(0, 0.01), (1, 0.028), (2, 0.046), (4, 0.082), (5, 0.1), (7, 0.1), (8, 0.05), (20, 0.05)]
        for (e, lr) in want { XCTAssertEqual(s.lr(epoch: e, base: 0.1), lr, accuracy: 1e-15, "epoch \(e)") }
        // PyTorch's LinearLR default start factor is 1/3.
        XCTAssertEqual(Schedule.linearWarmup(epochs: 3).lr(epoch: 0, base: 0.3), 0.1, accuracy: 1e-15)
        XCTAssertEqual(Schedule.linearWarmup(epochs: 3).lr(epoch: 3, base: 0.3), 0.3)
        let wc = Schedule.linearWarmup(epochs: 2, startFactor: 0.5, then: .cosine(tMax: 4, etaMin: 0))
        XCTAssertEqual(wc.lr(epoch: 4, base: 1), 0.5, accuracy: 1e-15)   // cosine at its epoch 2
    }

    func testApplySetsTheOptimizerRateFromItsInitialRate() throws {
        let opt = try SGD(MLP([2, 2], seed: 0), lr: 0.1)
        let s = Schedule.multistep(milestones: [2], gamma: 0.1)
        s.apply(to: opt, epoch: 3)
        XCTAssertEqual(opt.lr, 0.01, accuracy: 1e-15)
        s.apply(to: opt, epoch: 1)   // pure in the epoch: resume gives the same rate
        XCTAssertEqual(opt.lr, 0.1)
    }

    func testValidation() {
        XCTAssertThrowsError(try Schedule.cosine(tMax: 0, etaMin: 0).validated())
        XCTAssertThrowsError(try Schedule.step(size: 0, gamma: 0.1).validated())
        XCTAssertThrowsError(try Schedule.linearWarmup(epochs: 2, startFactor: 0, then: .constant).validated())
        XCTAssertThrowsError(try Schedule.linearWarmup(epochs: 2, then: .cosine(tMax: -1, etaMin: 0)).validated())
        XCTAssertNoThrow(try Schedule.multistep(milestones: [60, 120, 160], gamma: 0.2).validated())
    }
}
