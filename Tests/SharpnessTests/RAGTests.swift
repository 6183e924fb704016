import Foundation
import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

/// RAG on softmax regression, recomputed by hand in Double: the permutation, each ascent step,
/// the previous batch's loss with the wrap-around for the first batch, and the size weighting
/// with a last smaller batch.
final class RAGTests: XCTestCase {
    struct Softmax {
        var w: [[Double]]   // classes × inputs
        var b: [Double]

        func logits(_ x: [Double]) -> [Double] {
            zip(w, b).map { row, bias in zip(row, x).reduce(bias) { $0 + $1.0 * $1.1 } }
        }

        /// Mean cross-entropy on the rows, and its gradient (dW, db).
        func lossAndGradient(_ xs: [[Double]], _ ys: [Int]) -> (Double, [[Double]], [Double]) {
            var loss = 0.0
            var dw = w.map { $0.map { _ in 0.0 } }, db = b.map { _ in 0.0 }
            for (x, y) in zip(xs, ys) {
                let z = logits(x)
                let m = z.max()!
                let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
                loss += lse - z[y]
                for c in 0..<z.count {
                    let p = exp(z[c] - lse) - (c == y ? 1 : 0)
                    db[c] += p / Double(xs.count)
                    for j in 0..<x.count { dw[c][j] += p * x[j] / Double(xs.count) }
                }
            }
            return (loss / Double(xs.count), dw, db)
        }

        func ascended(_ dw: [[Double]], _ db: [Double], _ eta: Double) -> Softmax {
            Softmax(w: zip(w, dw).map { zip($0, $1).map { $0 + eta * $1 } }, b: zip(b, db).map { $0 + eta * $1 })
        }
    }

    func byHand(_ net: Linear, _ data: Dataset, order: [Int], batch: Int, eta: Double)
        -> (rag: Double, lossAdv: Double, loss: Double, seriesAdv: [Double], series: [Double], sizes: [Int]) {
        let inputs = net.inFeatures
        let wf = net.weight.scalars
        let model = Softmax(w: (0..<net.outFeatures).map { c in (0..<inputs).map { Double(wf[c * inputs + $0]) } },
                            b: net.bias!.scalars.map(Double.init))
        let xf = data.x.scalars
        let rows = stride(from: 0, to: order.count, by: batch).map { Array(order[$0 ..< min(order.count, $0 + batch)]) }
        func xs(_ r: [Int]) -> [[Double]] { r.map { i in (0..<inputs).map { Double(xf[i * inputs + $0]) } } }
        func ys(_ r: [Int]) -> [Int] { r.map { data.labels[$0] } }
        let m = rows.count
        var adv: [Double] = [], plain: [Double] = [], sizes: [Int] = []
        for i in 0..<m {
            let (_, dw, db) = model.lossAndGradient(xs(rows[i]), ys(rows[i]))
            let previous = rows[(i + m - 1) % m]
            adv.append(model.ascended(dw, db, eta).lossAndGradient(xs(previous), ys(previous)).0)
            plain.append(model.lossAndGradient(xs(previous), ys(previous)).0)
            sizes.append(previous.count)
        }
        let total = Double(sizes.reduce(0, +))
        let la = zip(adv, sizes).reduce(0) { $0 + $1.0 * Double($1.1) } / total
        let l = zip(plain, sizes).reduce(0) { $0 + $1.0 * Double($1.1) } / total
        return ((la - l) / (1 + l), la, l, adv, plain, sizes)
    }

    func testRAGMatchesTheHandComputationWithWrapAroundAndALastSmallerBatch() throws {
        let data = try blobData(11, dimensions: 3, classes: 4, seed: 4)
        let net = try Linear(3, 4, seed: 8)
        let before = stateBits(net)
        for shuffle in [true, false] {
            let r = try rag(net, data, batch: 4, step: 0.5, shuffle: shuffle, seed: 21, progress: .silent)
            var rng = RandomGenerator(seed: 21)
            let order = shuffle ? rng.permutation(11) : Array(0..<11)
            let h = byHand(net, data, order: order, batch: 4, eta: 0.5)
            XCTAssertEqual(r.series.sizes, [3, 4, 4], "the first evaluation is on the last, smaller batch")
            XCTAssertEqual(h.sizes, r.series.sizes)
            for (a, b) in zip(r.series.lossAdv, h.seriesAdv) { XCTAssertEqual(a, b, accuracy: 1e-5 * b) }
            for (a, b) in zip(r.series.loss, h.series) { XCTAssertEqual(a, b, accuracy: 1e-5 * b) }
            XCTAssertEqual(r.lossAdv, h.lossAdv, accuracy: 1e-5 * h.lossAdv)
            XCTAssertEqual(r.loss, h.loss, accuracy: 1e-5 * h.loss)
            XCTAssertEqual(r.rag, h.rag, accuracy: 1e-5)
            XCTAssertGreaterThan(r.rag, 0, "an ascent step raises the loss")
            XCTAssertEqual(r.trackedValue.fields, ["rag", "loss_adv", "loss"])
            XCTAssertEqual(stateBits(net), before, "weights restored bit for bit")
        }
        // Same seed, same numbers; another seed, another permutation.
        let a = try rag(net, data, batch: 4, step: 0.5, seed: 3, progress: .silent)
        let b = try rag(net, data, batch: 4, step: 0.5, seed: 3, progress: .silent)
        XCTAssertEqual(a.series.lossAdv, b.series.lossAdv)
    }

    func testOneBatchEvaluatesOnItselfAndCtrlCRestoresTheWeights() throws {
        let data = try blobData(6, dimensions: 3, classes: 4, seed: 5)
        let net = try Linear(3, 4, seed: 9)
        let r = try rag(net, data, batch: 128, step: 0.2, shuffle: false, progress: .silent)
        let h = byHand(net, data, order: Array(0..<6), batch: 128, eta: 0.2)
        XCTAssertEqual(r.series.sizes, [6])
        XCTAssertEqual(r.rag, h.rag, accuracy: 1e-5)

        let before = stateBits(net)
        var polls = 0
        let big = try blobData(64, dimensions: 3, classes: 4, seed: 6)
        XCTAssertThrowsError(try rag(net, big, batch: 4, progress: .report { step, _ in
            polls += 1
            if step == 3 { Cancellation.request() }
        })) { XCTAssertTrue($0 is Cancelled) }
        Cancellation.clear()
        XCTAssertEqual(polls, 3)
        XCTAssertEqual(stateBits(net), before)
        XCTAssertThrowsError(try rag(net, big, batch: 0, progress: .silent))
    }

    /// Only the selected parameters move: with wrt the bias alone, RAG is the hand computation
    /// with the weight's gradient step left out.
    func testWrtPatternPerturbsOnlyTheSelection() throws {
        let data = try blobData(9, dimensions: 3, classes: 4, seed: 7)
        let net = try Linear(3, 4, seed: 10)
        let r = try rag(net, data, batch: 4, step: 0.5, shuffle: false, wrt: .pattern("bias"), progress: .silent)
        let full = try rag(net, data, batch: 4, step: 0.5, shuffle: false, progress: .silent)
        XCTAssertEqual(r.loss, full.loss)
        XCTAssertNotEqual(r.lossAdv, full.lossAdv)
        XCTAssertGreaterThan(r.lossAdv, r.loss)
    }
}
