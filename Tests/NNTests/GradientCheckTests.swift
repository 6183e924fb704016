import XCTest
import NN
import Tensor

/// The gradient of a tiny model's loss with respect to every parameter, against central finite
/// differences of the loss itself.
final class GradientCheckTests: XCTestCase {
    func testTinyConvBatchNormModelGradientMatchesFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 21)
        let net = Sequential(try Conv2d(1, 2, kernel: 3, padding: 1, rng: &rng), try BatchNorm2d(2), Tanh(),
                             try AvgPool2d(2), Flatten(), try Linear(8, 3, rng: &rng))
        let x = sample([3, 1, 4, 4], seed: 22)
        let labels = [0, 2, 1]
        func loss() throws -> Tensor { try crossEntropyLoss(net(x), labels: labels, labelSmoothing: 0.1) }
        let params = net.parameters()
        let grads = try gradients(of: try loss(), wrt: params)
        XCTAssertEqual(params.count, 6)
        let h: Float = 1.0 / 64
        for (k, (p, g)) in zip(params, grads).enumerated() {
            var numeric: [Double] = []
            for i in 0..<p.count {
                let old = p.scalars[i]
                p.withUnsafeMutableBufferPointer { $0[i] = old + h }
                let up = Double(try withNoGrad { try loss() }.item())
                p.withUnsafeMutableBufferPointer { $0[i] = old - h }
                let down = Double(try withNoGrad { try loss() }.item())
                p.withUnsafeMutableBufferPointer { $0[i] = old }
                numeric.append((up - down) / (2 * Double(h)))
            }
            assertClose(g.scalars, numeric, tol: 2e-3, "parameter \(net.namedParameters()[k].name)")
        }
    }

    /// A frozen parameter does not take part: the gradient list is the trainable ones only.
    func testGradientsWithRespectToTrainableParameters() throws {
        let mlp = try MLP([4, 3, 2], seed: 1)
        try mlp.freeze("fc2.weight")
        let trainable = mlp.namedParameters(trainableOnly: true)
        XCTAssertEqual(trainable.map(\.name), ["fc1.weight", "fc1.bias", "fc2.bias"])
        let loss = try crossEntropyLoss(mlp(sample([5, 4], seed: 2)), labels: [0, 1, 0, 1, 1])
        let g = try gradients(of: loss, wrt: trainable.map(\.tensor))
        XCTAssertEqual(g.map(\.shape), [[3, 4], [3], [2]])
        // The bias of a mean cross-entropy: mean over rows of softmax − onehot, summing to 0.
        XCTAssertEqual(Double(g[2].scalars.reduce(0, +)), 0, accuracy: 1e-6)
    }
}
