import XCTest
import Data
import NN
import Tensor

final class LayerTests: XCTestCase {
    // MARK: Initialization

    func testLinearInitBoundsAreOneOverSqrtFanIn() throws {
        let fc = try Linear(100, 50, seed: 3)
        XCTAssertEqual(fc.weight.shape, [50, 100])
        XCTAssertEqual(fc.bias?.shape, [50])
        let b = Float(0.1)   // 1/√100
        XCTAssertTrue(fc.weight.scalars.allSatisfy { abs($0) <= b })
        XCTAssertTrue(fc.bias!.scalars.allSatisfy { abs($0) <= b })
        // Uniform over (−b, b): the extremes come close to ±b, the mean is near 0, variance b²/3.
        let w = fc.weight.scalars.map(Double.init)
        XCTAssertGreaterThan(w.max()!, 0.099)
        XCTAssertLessThan(w.min()!, -0.099)
        let mean = w.reduce(0, +) / Double(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, 0.01 / 3, accuracy: 0.0003)
        XCTAssertTrue(fc.weight.requiresGrad && fc.bias!.requiresGrad)
    }

    func testConvInitBoundsUseInTimesKernelArea() throws {
        let conv = try Conv2d(4, 6, kernel: 5, seed: 1)   // fan_in = 4·5·5 = 100
        XCTAssertEqual(conv.weight.shape, [6, 4, 5, 5])
        XCTAssertEqual(Init.fanIn(conv.weight.shape), 100)
        XCTAssertTrue(conv.weight.scalars.allSatisfy { abs($0) <= 0.1 })
        XCTAssertGreaterThan(conv.weight.scalars.map(abs).max()!, 0.098)
        XCTAssertTrue(conv.bias!.scalars.allSatisfy { abs($0) <= 0.1 })
        XCTAssertEqual(Init.kaimingUniformBound(fanIn: 27, a: 5.0.squareRoot()), 1 / 27.0.squareRoot(), accuracy: 1e-15)
        // a = 0 (He uniform for ReLU): √(6 / fan_in).
        XCTAssertEqual(Init.kaimingUniformBound(fanIn: 24, a: 0), 0.5, accuracy: 1e-15)
        XCTAssertNil(try Conv2d(3, 8, kernel: 3, bias: false, seed: 0).bias)
    }

    func testSeededInitIsDeterministicAndDrawsWeightThenBias() throws {
        let a = try Linear(7, 5, seed: 11), b = try Linear(7, 5, seed: 11), c = try Linear(7, 5, seed: 12)
        XCTAssertEqual(a.weight.scalars, b.weight.scalars)
        XCTAssertEqual(a.bias!.scalars, b.bias!.scalars)
        XCTAssertNotEqual(a.weight.scalars, c.weight.scalars)
        // The stream: 35 weights from U(−b, b), then 5 biases, b = 1/√7.
        var rng = RandomGenerator(seed: 11)
        let wb = Init.kaimingUniformBound(fanIn: 7, a: 5.0.squareRoot()), bb = 1 / 7.0.squareRoot()
        XCTAssertEqual(wb, bb, accuracy: 1e-15)
        let draws = (0..<40).map { i in
            let b = i < 35 ? wb : bb
            return Float(-b + 2 * b * rng.uniformDouble())
        }
        XCTAssertEqual(a.weight.scalars, Array(draws[0..<35]))
        XCTAssertEqual(a.bias!.scalars, Array(draws[35..<40]))
        // Seeding from the global generator is reproducible too.
        GlobalRandom.seed(5)
        let g1 = try Conv2d(2, 3, kernel: 3)
        GlobalRandom.seed(5)
        let g2 = try Conv2d(2, 3, kernel: 3)
        XCTAssertEqual(g1.weight.scalars, g2.weight.scalars)
    }

    // MARK: Forward passes against hand computation

    func testLinearForward() throws {
        let fc = try Linear(3, 2, seed: 0)
        try fc.weight.assign(Tensor([1, 2, 3, -1, 0, 1], shape: [2, 3]))
        try fc.bias!.assign(Tensor([0.5, -0.5]))
        let y = try fc(Tensor([1, 1, 1, 2, 0, -1], shape: [2, 3]))
        XCTAssertEqual(y.scalars, [6.5, -0.5, -0.5, -3.5])
        XCTAssertEqual(try fc(Tensor([1, 1, 1])).scalars, [6.5, -0.5])
        XCTAssertThrowsError(try fc(Tensor([1, 2], shape: [1, 2])))
    }

    func testConvForwardAddsBiasPerChannel() throws {
        let conv = try Conv2d(1, 2, kernel: 2, seed: 0)
        try conv.weight.assign(Tensor([1, 0, 0, 1, 0, 1, 1, 0], shape: [2, 1, 2, 2]))
        try conv.bias!.assign(Tensor([10, 20]))
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [1, 1, 3, 3])
        let y = try conv(x)
        XCTAssertEqual(y.shape, [1, 2, 2, 2])
        // Channel 0: x[i][j] + x[i+1][j+1]; channel 1: x[i][j+1] + x[i+1][j].
        XCTAssertEqual(y.scalars, [16, 18, 22, 24, 26, 28, 32, 34])
    }

    func testPoolingFlattenAndActivations() throws {
        let x = Tensor((1...16).map(Float.init), shape: [1, 1, 4, 4])
        XCTAssertEqual(try MaxPool2d(2)(x).scalars, [6, 8, 14, 16])
        XCTAssertEqual(try AvgPool2d(2)(x).scalars, [3.5, 5.5, 11.5, 13.5])
        XCTAssertEqual(try GlobalAvgPool()(x).shape, [1, 1])
        XCTAssertEqual(try GlobalAvgPool()(x).scalars, [8.5])
        XCTAssertEqual(try Flatten()(x).shape, [1, 16])
        XCTAssertEqual(try ReLU()(Tensor([-1, 0, 2])).scalars, [0, 0, 2])
        XCTAssertEqual(try Identity()(Tensor([-1, 0, 2])).scalars, [-1, 0, 2])
        // Global average pooling equals kuangliu's avg_pool2d(out, 4) on a 4×4 map.
        let m = sample([2, 3, 4, 4], seed: 1)
        XCTAssertEqual(try GlobalAvgPool()(m).scalars.count, 6)
        assertClose(try GlobalAvgPool()(m).scalars, try m.avgPool2d(kernel: 4).scalars.map(Double.init), tol: 1e-6)
    }

    func testDropoutIsSeededAndInactiveInEval() throws {
        let x = Tensor.ones([1000])
        let d1 = try Dropout(0.5, seed: 3), d2 = try Dropout(0.5, seed: 3)
        let y1 = try d1(x), y2 = try d2(x)
        XCTAssertEqual(y1.scalars, y2.scalars)
        XCTAssertTrue(y1.scalars.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = y1.scalars.filter { $0 == 2 }.count
        XCTAssertTrue(kept > 430 && kept < 570, "\(kept)")
        XCTAssertNotEqual(try d1(x).scalars, y1.scalars)   // the generator moves on
        d1.eval()
        XCTAssertEqual(try d1(x).scalars, x.scalars)
        XCTAssertThrowsError(try Dropout(1))
    }

    // MARK: BatchNorm

    /// x = [[1, 2], [3, 6], [5, 10], [7, 14]]: channel means 4 and 8, biased variances 5 and 20,
    /// unbiased 20/3 and 80/3.
    func testBatchNormRunningStatisticsAndNumBatchesTracked() throws {
        let bn = try BatchNorm1d(2)
        let x = Tensor([1, 2, 3, 6, 5, 10, 7, 14], shape: [4, 2])
        XCTAssertEqual(bn.runningMean.scalars, [0, 0])
        XCTAssertEqual(bn.runningVar.scalars, [1, 1])
        XCTAssertEqual(bn.numBatchesTracked.scalars, [0])
        let y = try bn(x)
        let s0 = (5 + 1e-5).squareRoot(), s1 = (20 + 1e-5).squareRoot()
        assertClose(y.scalars, [-3 / s0, -6 / s1, -1 / s0, -2 / s1, 1 / s0, 2 / s1, 3 / s0, 6 / s1], tol: 1e-6, "train output")
        assertClose(bn.runningMean.scalars, [0.4, 0.8], tol: 1e-7, "running_mean")
        assertClose(bn.runningVar.scalars, [0.9 + 0.1 * 20 / 3, 0.9 + 0.1 * 80 / 3], tol: 1e-6, "running_var")
        XCTAssertEqual(bn.numBatchesTracked.scalars, [1])

        // A second batch, 2x: means 8, 16; unbiased variances 80/3, 320/3.
        _ = try bn(x * 2)
        assertClose(bn.runningMean.scalars, [0.9 * 0.4 + 0.8, 0.9 * 0.8 + 1.6], tol: 1e-6, "running_mean 2")
        assertClose(bn.runningVar.scalars, [0.9 * (0.9 + 2.0 / 3) + 0.1 * 80 / 3, 0.9 * (0.9 + 8.0 / 3) + 0.1 * 320 / 3],
                    tol: 1e-6, "running_var 2")
        XCTAssertEqual(bn.numBatchesTracked.scalars, [2])

        // Eval uses the running statistics and changes nothing.
        bn.eval()
        let rm = bn.runningMean.scalars.map(Double.init), rv = bn.runningVar.scalars.map(Double.init)
        let e = try bn(x)
        let input: [Double] = [1, 2, 3, 6, 5, 10, 7, 14]
        assertClose(e.scalars, input.enumerated().map { (i, v) in (v - rm[i % 2]) / (rv[i % 2] + 1e-5).squareRoot() },
                    tol: 1e-6, "eval output")
        XCTAssertEqual(bn.numBatchesTracked.scalars, [2])
        XCTAssertEqual(bn.runningMean.scalars.map(Double.init), rm)
    }

    func testBatchNormWithoutMomentumIsACumulativeAverage() throws {
        let bn = try BatchNorm1d(2, momentum: nil)
        let x = Tensor([1, 2, 3, 6, 5, 10, 7, 14], shape: [4, 2])
        _ = try bn(x)
        assertClose(bn.runningMean.scalars, [4, 8], tol: 1e-6)
        assertClose(bn.runningVar.scalars, [20.0 / 3, 80.0 / 3], tol: 1e-6)
        _ = try bn(x * 2)
        assertClose(bn.runningMean.scalars, [6, 12], tol: 1e-6)
        assertClose(bn.runningVar.scalars, [(20.0 / 3 + 80.0 / 3) / 2, (80.0 / 3 + 320.0 / 3) / 2], tol: 1e-6)
    }

    /// BatchNorm2d: statistics over N, H and W per channel, affine weight and bias applied.
    func testBatchNorm2dOverBatchAndSpace() throws {
        let bn = try BatchNorm2d(1)
        try bn.weight.assign(Tensor([2]))
        try bn.bias.assign(Tensor([1]))
        let x = Tensor([0, 2, 4, 6, 8, 10, 12, 14], shape: [2, 1, 2, 2])   // mean 7, biased var 21, unbiased 24
        let y = try bn(x)
        let s = (21 + 1e-5).squareRoot()
        assertClose(y.scalars, [0, 2, 4, 6, 8, 10, 12, 14].map { 2 * ($0 - 7) / s + 1 }, tol: 1e-6)
        assertClose(bn.runningMean.scalars, [0.7], tol: 1e-7)
        assertClose(bn.runningVar.scalars, [0.9 + 2.4], tol: 1e-6)
        XCTAssertEqual(bn.numBatchesTracked.scalars, [1])
        XCTAssertThrowsError(try bn(Tensor([1, 2], shape: [1, 2])))
        XCTAssertThrowsError(try bn(Tensor.zeros([2, 3, 2, 2])))
        // BatchNorm1d on [N, C, L] takes statistics over N and L.
        let bn1 = try BatchNorm1d(1)
        let y1 = try bn1(x.reshaped([2, 1, 4]))
        XCTAssertEqual(y1.shape, [2, 1, 4])
        assertClose(bn1.runningVar.scalars, [0.9 + 2.4], tol: 1e-6)
    }

    func testBatchNormInAnEvalModelUsesRunningStats() throws {
        let net = try Sequential(Conv2d(1, 2, kernel: 3, padding: 1, seed: 0), BatchNorm2d(2), ReLU())
        let bn = net[1] as! BatchNorm2d
        let x = sample([3, 1, 5, 5], seed: 2)
        _ = try net(x)
        net.eval()
        let before = bn.runningMean.scalars
        let y = try net(x)
        XCTAssertEqual(bn.runningMean.scalars, before)
        XCTAssertEqual(bn.numBatchesTracked.scalars, [1])
        let conv = net[0] as! Conv2d
        let z = try conv(x)
        let rm = try bn.runningMean.reshaped([1, 2, 1, 1]), rv = try bn.runningVar.reshaped([1, 2, 1, 1])
        let expected = try ((z - rm) / (rv + 1e-5).sqrt()).relu()
        assertClose(y.scalars, expected.scalars.map(Double.init), tol: 1e-5)
    }

    // MARK: Losses

    func testCrossEntropyMeanAndLabelSmoothing() throws {
        let logits = Tensor([1, 2, 3, 0, 0, 0], shape: [2, 3])
        let lse0 = log(exp(1.0) + exp(2.0) + exp(3.0)), lse1 = log(3.0)
        let plain = ((lse0 - 1) + lse1) / 2
        XCTAssertEqual(Double(try crossEntropyLoss(logits, labels: [0, 2]).item()), plain, accuracy: 1e-6)
        XCTAssertEqual(Double(try crossEntropyLoss(logits, labels: Tensor([0, 2])).item()), plain, accuracy: 1e-6)
        // PyTorch: (1 − s)·nll + s·mean over classes of −log p.
        let s = 0.1
        let smooth0 = (1 - s) * (lse0 - 1) + s * ((lse0 - 1) + (lse0 - 2) + (lse0 - 3)) / 3
        let smooth1 = lse1
        XCTAssertEqual(Double(try crossEntropyLoss(logits, labels: [0, 2], labelSmoothing: 0.1).item()),
                       (smooth0 + smooth1) / 2, accuracy: 1e-6)
        XCTAssertThrowsError(try crossEntropyLoss(logits, labels: Tensor([0.5, 1])))
        XCTAssertThrowsError(try crossEntropyLoss(logits, labels: [0, 3]))
    }

    func testMSEIsTheMeanOverEveryElement() throws {
        let p = Tensor([1, 2, 3, 4], shape: [2, 2]), t = Tensor([0, 2, 5, 1], shape: [2, 2])
        XCTAssertEqual(try mseLoss(p, t).item(), (1 + 0 + 4 + 9) / 4)
        XCTAssertThrowsError(try mseLoss(p, Tensor([1, 2, 3, 4])))
        let q = Tensor([1, 2, 3, 4], shape: [2, 2]).requiringGrad()
        let g = try gradients(of: try mseLoss(q, t), wrt: [q])[0]
        XCTAssertEqual(g.scalars, [0.5, 0, -1, 1.5])   // 2(p − t)/4
    }
}
