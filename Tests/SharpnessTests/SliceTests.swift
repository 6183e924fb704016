import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

final class SliceTests: XCTestCase {
    func testTheOriginIsTheUnperturbedLossExactly() throws {
        let data = try blobData(30)
        let net = try MLP([4, 6, 3], seed: 1)
        try pretrain(net, data)
        let before = stateBits(net)
        let truth = try evaluate(net, data)
        let s = try slice1d(net, data, points: 5, seed: 2, progress: .silent)
        XCTAssertEqual(s.t, [-1, -0.5, 0, 0.5, 1])
        XCTAssertEqual(s.loss[2], truth.loss)
        XCTAssertEqual(s.acc[2], truth.acc)
        XCTAssertGreaterThan(s.loss[0], s.loss[2])
        XCTAssertEqual(stateBits(net), before)

        let p = try slice2d(net, data, xPoints: 3, yPoints: 5, seed: 2, progress: .silent)
        XCTAssertEqual(p.x, [-1, 0, 1])
        XCTAssertEqual(p.y.count, 5)
        XCTAssertEqual(p.loss.count, 5, "rows follow y")
        XCTAssertEqual(p.loss[0].count, 3)
        XCTAssertEqual(p.loss[2][1], truth.loss)
        // The x direction of the plane is slice1d's direction with the same seed.
        XCTAssertEqual(p.loss[2][0], s.loss[0])
        XCTAssertEqual(stateBits(net), before)

        // Along a given direction (a Hessian eigenvector) at its origin, the same.
        let e = try hessianEigs(net, data, k: 1, batch: nil, seed: 0, vectors: true, progress: .silent)
        let along = try slice1d(net, data, direction: .vector(e.vectors[0]), range: -0.5...0.5, points: 3, progress: .silent)
        XCTAssertEqual(along.loss[1], truth.loss)
        XCTAssertEqual(stateBits(net), before)
    }

    func testTheCheckpointLineHitsBothEndpoints() throws {
        let data = try tinyImages(18)
        let net = try tinyResNet(seed: 2)
        try pretrain(net, data, epochs: 1, batch: 6)
        let start = net.stateDict()
        let startLoss = try evaluate(net, data).loss
        try pretrain(net, data, epochs: 2, batch: 6)
        let end = net.stateDict()
        let endLoss = try evaluate(net, data).loss
        XCTAssertNotEqual(startLoss, endLoss)
        let before = stateBits(net)
        let line = try slice1d(net, data, direction: .between(.stateDict(start), .stateDict(end)), points: 5,
                               progress: .silent)
        XCTAssertEqual(line.t, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(line.loss[0], startLoss)
        XCTAssertEqual(line.loss[4], endLoss)
        XCTAssertEqual(stateBits(net), before)

        // Flat vectors over the selected parameters: the same ends for a model without buffers.
        let mlpData = try blobData(20)
        let mlp = try MLP([4, 5, 3], seed: 3)
        let w0 = mlp.parameters().flatMap(\.scalars)
        let l0 = try evaluate(mlp, mlpData).loss
        try pretrain(mlp, mlpData)
        let w1 = mlp.parameters().flatMap(\.scalars)
        let l1 = try evaluate(mlp, mlpData).loss
        let flat = try slice1d(mlp, mlpData, direction: .between(.vector(w0), .vector(w1)), range: -0.5...1.5,
                               points: 5, progress: .silent)
        XCTAssertEqual(flat.t, [-0.5, 0, 0.5, 1, 1.5])
        XCTAssertEqual(flat.loss[1], l0)
        XCTAssertEqual(flat.loss[3], l1)
        XCTAssertThrowsError(try slice1d(mlp, mlpData, direction: .between(.vector(w0), .stateDict(end)), progress: .silent))
    }

    /// Li et al.'s filter normalization: every filter of a random direction has its weight
    /// filter's norm; biases and BatchNorm parameters get zero, or the weights when included.
    func testFilterNormalization() throws {
        let net = try tinyResNet(seed: 4)
        let scope = try MeasurementScope(model: net, wrt: .trainable, bn: .eval, op: "test")
        let d = try sliceDirection(.random, scope: scope, normalization: .filter, includeBiasAndBN: false, seed: 1, op: "test")
        for ((name, p), dir) in zip(scope.parameters, d) {
            if p.rank <= 1 {
                XCTAssertTrue(dir.allSatisfy { $0 == 0 }, name)
                continue
            }
            let filters = p.shape[0], size = p.count / filters
            let w = p.scalars
            for f in 0..<filters {
                let wn = (f * size ..< (f + 1) * size).reduce(0.0) { $0 + Double(w[$1]) * Double(w[$1]) }.squareRoot()
                let dn = (f * size ..< (f + 1) * size).reduce(0.0) { $0 + Double(dir[$1]) * Double(dir[$1]) }.squareRoot()
                XCTAssertEqual(dn, wn, accuracy: 1e-5 * wn, "\(name) filter \(f)")
            }
        }
        let included = try sliceDirection(.random, scope: scope, normalization: .filter, includeBiasAndBN: true, seed: 1, op: "test")
        for ((_, p), dir) in zip(scope.parameters, included) where p.rank <= 1 { XCTAssertEqual(dir, p.scalars) }
    }
}
