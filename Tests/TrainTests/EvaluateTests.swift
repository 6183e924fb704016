import Foundation
import XCTest
import Data
import NN
import Tensor
@testable import Train

final class EvaluateTests: XCTestCase {
    /// A linear model on three points, batch 2 (so the size weighting matters): loss and accuracy
    /// against log-softmax worked out in Double.
    func testEvaluateMatchesHandComputation() throws {
        let lin = try Linear(2, 3, seed: 0)
        let w: [Double] = [1, -1, 0.5, 2, -0.3, 0.7], b: [Double] = [0.1, -0.2, 0.05]
        try lin.weight.assign(Tensor(w.map(Float.init), shape: [3, 2]))
        try lin.bias!.assign(Tensor(b.map(Float.init), shape: [3]))
        let xs: [[Double]] = [[1, 2], [0, -1], [3, 0.5]]
        let ys = [1, 0, 2]
        let data = try Dataset(x: Tensor(xs.flatMap { $0.map(Float.init) }, shape: [3, 2]), y: Tensor(ys.map(Float.init)))

        var loss = 0.0, hits = 0
        for (x, y) in zip(xs, ys) {
            let z = (0..<3).map { k in w[2 * k] * x[0] + w[2 * k + 1] * x[1] + b[k] }
            let m = z.max()!
            let lse = m + log(z.map { exp($0 - m) }.reduce(0, +))
            loss += lse - z[y]
            if z.firstIndex(of: m) == y { hits += 1 }
        }
        // Logits: (−0.9, 4.3, 1.15), (1.1, −2.2, −0.65), (2.6, 2.3, −0.5): predictions 1, 0, 0.
        XCTAssertEqual(hits, 2)
        let r = try evaluate(lin, data, batch: 2)
        XCTAssertEqual(r.loss, loss / 3, accuracy: 1e-6)
        XCTAssertEqual(r.acc, 2.0 / 3)
        XCTAssertEqual(r.count, 3)
        XCTAssertEqual(try evaluate(lin, data, batch: 512).acc, 2.0 / 3)
        XCTAssertEqual(try evaluate(lin, data, batch: 1).loss, loss / 3, accuracy: 1e-6)
    }

    func testEvaluateUsesEvalModeBuildsNoGraphAndRestoresModes() throws {
        let data = try blobs(20)
        let net = try bnDropoutNet()
        let bn = net[1] as! BatchNorm
        net.train()
        net[3].eval()   // a child in another mode than its parent
        let stats = bn.runningMean.scalars
        let a = try evaluate(net, data, batch: 7)
        let b = try evaluate(net, data, batch: 20)
        XCTAssertEqual(a.acc, b.acc)                    // eval mode: no dropout, running statistics
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-6)
        XCTAssertEqual(bn.runningMean.scalars, stats)   // statistics untouched
        XCTAssertTrue(net.isTraining)
        XCTAssertTrue(net[1].isTraining)
        XCTAssertFalse(net[3].isTraining)
    }

    func testEvaluateRejectsEmptyDataAndBadBatch() throws {
        let net = try MLP([2, 3], seed: 0)
        let empty = try Dataset(x: Tensor.zeros([0, 2]), y: Tensor([Float]()))
        XCTAssertThrowsError(try evaluate(net, empty)) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try evaluate(net, try blobs(4), batch: 0))
    }

    func testCorrectCountTakesTheFirstMaximum() throws {
        let logits = Tensor([1, 3, 3, 0, 0, 0, 5, -1, 2], shape: [3, 3])
        XCTAssertEqual(try correctCount(logits, labels: [1, 0, 0]), 3)
        XCTAssertEqual(try correctCount(logits, labels: [2, 1, 2]), 0)
    }
}
