import XCTest
import Data
import NN
import Tensor
@testable import Train

final class LearningTests: XCTestCase {
    /// A real learning check: an MLP on four Gaussian blobs in 8 dimensions (centres drawn with
    /// σ = 5, points with σ = 1 around them). The classes are nearly separable — a nearest-class-mean
    /// rule computed from the training half is the yardstick and scores close to 1 — so a working
    /// loop must reach at least 95 % on the held-out half within 8 epochs, while chance is 25 % and
    /// a loop that does not step (or steps the wrong way) stays near chance.
    func testMLPLearnsGaussianBlobs() throws {
        let all = try Dataset.blobs(count: 1000, classes: 4, dimensions: 8, spread: 1, separation: 5, seed: 2024)
        let (train, test) = try all.split(at: 600)
        let baseline = try nearestMeanAccuracy(train: train, test: test)
        let net = try MLP([8, 32, 4], seed: 1)
        let opt = try SGD(net, lr: 0.05, momentum: 0.9)
        let before = try evaluate(net, test).acc
        let h = try quietFit(net, train, opt, epochs: 8, batch: 32) { o in
            o.test = test
            o.seed = 0
        }
        let acc = h.numbers("test_acc")!.last!
        XCTAssertGreaterThanOrEqual(baseline, 0.95, "the blobs should be nearly separable")
        XCTAssertGreaterThanOrEqual(acc, 0.95, "test accuracy \(acc) (nearest mean \(baseline), untrained \(before))")
        XCTAssertLessThan(h.numbers("train_loss")!.last!, h.numbers("train_loss")!.first!)
        XCTAssertLessThan(h.numbers("train_loss")!.last!, 0.2)
    }

    /// Accuracy of assigning each test point to the class whose training mean is nearest.
    private func nearestMeanAccuracy(train: Dataset, test: Dataset) throws -> Double {
        let d = train.itemShape[0], k = train.classCount
        var means = [Double](repeating: 0, count: k * d), counts = [Double](repeating: 0, count: k)
        let xs = train.x.scalars
        for (i, l) in train.labels.enumerated() {
            counts[l] += 1
            for j in 0..<d { means[l * d + j] += Double(xs[i * d + j]) }
        }
        for c in 0..<k { for j in 0..<d { means[c * d + j] /= counts[c] } }
        let ts = test.x.scalars
        var hits = 0
        for (i, l) in test.labels.enumerated() {
            let dist = (0..<k).map { c in (0..<d).reduce(0.0) { $0 + pow(Double(ts[i * d + $1]) - means[c * d + $1], 2) } }
            if dist.firstIndex(of: dist.min()!) == l { hits += 1 }
        }
        return Double(hits) / Double(test.count)
    }
}
