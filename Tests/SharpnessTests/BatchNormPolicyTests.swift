import XCTest
import Data
import NN
@testable import Sharpness
import Tensor
import Train

/// Every measure, in either BatchNorm policy, leaves a BatchNorm model exactly as it found it:
/// weights, running statistics, num_batches_tracked, train/eval modes, trainable flags.
final class BatchNormPolicyTests: XCTestCase {
    func testMeasuresLeaveRunningStatisticsAndWeightsBitIdentical() throws {
        let data = try tinyImages(24)
        let net = try tinyResNet()
        try pretrain(net, data, epochs: 1, lr: 0.05, batch: 8)   // running statistics away from 0 and 1
        try net.freeze("conv1")
        let before = stateBits(net)
        XCTAssertNotEqual(before["bn1.running_mean"]!, [UInt32](repeating: 0, count: 2))
        XCTAssertEqual(try net.bn1.numBatchesTracked.item(), 3)
        for training in [true, false] {
            net.train(training)
            for bn in BatchNormPolicy.allCases {
                let label = "\(bn), model \(training ? "training" : "eval")"
                _ = try hessianEigs(net, data, k: 2, batch: 12, bn: bn, seed: 1, maxSteps: 20, progress: .silent)
                _ = try hessianTrace(net, data, probes: 2, batch: nil, bn: bn, wrt: .all, seed: 1, chunk: 10, progress: .silent)
                _ = try rag(net, data, batch: 10, seed: 2, bn: bn, progress: .silent)
                _ = try keskar(net, data, iters: 2, bn: bn, batch: 10, progress: .silent)
                _ = try slice1d(net, data, points: 3, seed: 3, bn: bn, progress: .silent)
                XCTAssertEqual(stateBits(net), before, label)
                XCTAssertTrue(net.namedModules().allSatisfy { $0.module.isTraining == training }, label)
                XCTAssertEqual(net.isTrainable("conv1.weight"), false, label)
                XCTAssertEqual(net.isTrainable("linear.weight"), true, label)
            }
        }
    }

    func testThePolicyDecidesWhichStatisticsNormalize() throws {
        let data = try tinyImages(24)
        let net = try tinyResNet()
        try pretrain(net, data, epochs: 1, lr: 0.05, batch: 8)
        net.train()
        // eval: the loss is evaluate's, to the bit (running statistics, same arithmetic).
        let evalSlice = try slice1d(net, data, points: 1, seed: 0, bn: .eval, progress: .silent)
        XCTAssertEqual(evalSlice.t, [-1])
        let origin = try slice1d(net, data, range: 0...0, points: 1, bn: .eval, progress: .silent)
        XCTAssertEqual(origin.loss[0], try evaluate(net, data).loss)
        // train: batch statistics, a different loss and a different Hessian.
        let trainOrigin = try slice1d(net, data, range: 0...0, points: 1, bn: .train, progress: .silent)
        XCTAssertNotEqual(trainOrigin.loss[0], origin.loss[0])
        let he = try ModelHessian(model: net, data: data, bn: .eval)
        let ht = try ModelHessian(model: net, data: data, bn: .train)
        var rng = RandomGenerator(seed: 1)
        let v = (0..<he.dimension).map { _ in Float(rng.normal()) }
        XCTAssertNotEqual(try he.apply(v), try ht.apply(v))
        // The train-policy Hessian is symmetric too (double backward through batch statistics).
        let dense = try denseHessian(try ModelHessian(model: net, data: data, wrt: .pattern("*bn2"), bn: .train))
        let n = Int(Double(dense.count).squareRoot())
        let scale = dense.map(abs).max()!
        for i in 0..<n { for j in 0..<i { XCTAssertEqual(dense[i * n + j], dense[j * n + i], accuracy: 1e-4 * scale) } }
        XCTAssertTrue(net.isTraining)
        XCTAssertThrowsError(try BatchNormPolicy(parsing: "batch"))
    }
}
