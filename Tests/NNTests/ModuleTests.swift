import XCTest
import Data
import NN
import Tensor

final class ModuleTests: XCTestCase {
    func testSequentialNamesChildrenByIndexOrByGivenName() throws {
        let s = Sequential(try Linear(3, 4, seed: 0), ReLU(), try Linear(4, 2, seed: 1))
        XCTAssertEqual(s.namedParameters().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        let named = try Sequential(named: [("enc", try Linear(3, 4, seed: 0)), ("act", ReLU()), ("head", try Linear(4, 2, bias: false, seed: 1))])
        XCTAssertEqual(named.namedParameters().map(\.name), ["enc.weight", "enc.bias", "head.weight"])
        XCTAssertThrowsError(try Sequential(named: [("a.b", ReLU())]))
        XCTAssertThrowsError(try Sequential(named: [("a", ReLU()), ("a", ReLU())]))
        XCTAssertEqual(try Sequential([])(Tensor([1, 2])).scalars, [1, 2])
    }

    func testMLPNamesItsLinearLayersFc1Fc2() throws {
        let mlp = try MLP([784, 256, 128, 10], seed: 0)
        XCTAssertEqual(mlp.namedParameters().map(\.name),
                       ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        XCTAssertEqual(mlp.namedParameters()[0].tensor.shape, [256, 784])
        XCTAssertEqual(mlp.parameterCount(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
        XCTAssertEqual(try mlp(sample([3, 784], seed: 1)).shape, [3, 10])
        XCTAssertEqual(try mlp(sample([3, 1, 28, 28], seed: 1)).shape, [3, 10])
        XCTAssertThrowsError(try MLP([10]))
    }

    /// No activation after the last layer: the output is the last Linear of relu(previous).
    func testMLPForwardIsLinearReluLinear() throws {
        let mlp = try MLP([3, 4, 2], seed: 5)
        let x = sample([50, 3], seed: 6, low: -3, high: 3)
        let fc1 = mlp[0] as! Linear, fc2 = mlp[2] as! Linear
        try fc2.bias!.assign(Tensor([-1, 1]))
        let expected = try fc2(fc1(x).relu())
        XCTAssertEqual(try mlp(x).scalars, expected.scalars)
        XCTAssertTrue(try mlp(x).scalars.contains { $0 < 0 })   // the last layer is not rectified
    }

    func testTrainAndEvalPropagateToEveryDescendant() throws {
        let net = try ResNet.resnet18(width: 4, seed: 0)
        XCTAssertTrue(net.namedModules().allSatisfy { $0.module.isTraining })
        net.eval()
        XCTAssertTrue(net.namedModules().allSatisfy { !$0.module.isTraining })
        net.train()
        XCTAssertTrue(net.namedModules().allSatisfy { $0.module.isTraining })
        // A child registered into an eval-mode parent takes the parent's mode.
        let s = Sequential([])
        s.eval()
        let t = try Sequential(named: [("inner", s)])
        XCTAssertTrue(t.namedModules().allSatisfy { $0.module.isTraining })
    }

    func testParameterPatternSyntax() {
        let m = ParameterPattern.matches
        XCTAssertTrue(m("*", "conv1.weight"))
        XCTAssertTrue(m("layer1", "layer1.0.conv1.weight"))
        XCTAssertFalse(m("layer1", "layer10.0.conv1.weight"))
        XCTAssertFalse(m("layer", "layer1.0.conv1.weight"))
        XCTAssertTrue(m("layer1.0", "layer1.0.bn1.bias"))
        XCTAssertTrue(m("linear.bias", "linear.bias"))
        XCTAssertFalse(m("linear.bias", "linear.weight"))
        XCTAssertTrue(m("*.bias", "layer2.0.shortcut.1.bias"))
        XCTAssertFalse(m("*.bias", "linear.weight"))
        XCTAssertTrue(m("layer*.*.shortcut", "layer3.0.shortcut.0.weight"))
        XCTAssertFalse(m("layer*.*.shortcut", "layer3.0.conv1.weight"))
        XCTAssertTrue(m("*bn*", "layer1.0.bn2.weight"))
        XCTAssertTrue(m("fc?", "fc2.weight"))
        XCTAssertFalse(m("fc?", "fc12.weight"))
        XCTAssertFalse(m("conv1.weigh", "conv1.weight"))
    }

    func testFreezeAndUnfreezeByPattern() throws {
        let net = try ResNet.resnet18(width: 4, seed: 0)
        XCTAssertEqual(try net.freeze("layer1"), 12)
        XCTAssertEqual(net.namedParameters(trainableOnly: true).count, 50)
        XCTAssertFalse(net.namedParameters(trainableOnly: true).contains { $0.name.hasPrefix("layer1.") })
        XCTAssertEqual(net.isTrainable("layer1.1.bn2.bias"), false)
        XCTAssertEqual(net.isTrainable("layer2.0.conv1.weight"), true)
        XCTAssertNil(net.isTrainable("nope"))
        XCTAssertEqual(try net.freeze("*"), 62)
        XCTAssertEqual(net.parameterCount(trainableOnly: true), 0)
        XCTAssertEqual(try net.unfreeze("linear"), 2)
        XCTAssertEqual(net.namedParameters(trainableOnly: true).map(\.name), ["linear.weight", "linear.bias"])
        XCTAssertEqual(try net.unfreeze("*.bias"), 21)   // 20 BatchNorm biases and the head's
        XCTAssertEqual(net.parameters(trainableOnly: true).count, 22)
        // Order stays parameter order.
        XCTAssertEqual(net.namedParameters(trainableOnly: true).first?.name, "bn1.bias")
        XCTAssertEqual(net.namedParameters(trainableOnly: true).last?.name, "linear.bias")
        // A pattern that selects nothing is an error naming it.
        XCTAssertThrowsError(try net.freeze("layr1")) { XCTAssertTrue(nnError($0).contains("'layr1'")) }
        XCTAssertThrowsError(try ReLU().freeze("*"))
    }

    func testFrozenParametersAreLeavesWithoutGradTracking() throws {
        let mlp = try MLP([3, 4, 2], seed: 0)
        try mlp.freeze("fc1")
        let loss = try crossEntropyLoss(mlp(sample([5, 3], seed: 1)), labels: [0, 1, 1, 0, 1])
        let fc1 = mlp[0] as! Linear
        XCTAssertFalse(fc1.weight.requiresGrad)
        // The loss does not depend (through the graph) on a frozen parameter: zero gradient.
        let g = try gradients(of: loss, wrt: [fc1.weight, fc1.bias!])
        XCTAssertTrue(g.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } })
        // wrt "all": the frozen parameter joins the graph for the duration only.
        let all = try mlp.withAllParametersTracked {
            try gradients(of: try crossEntropyLoss(mlp(sample([5, 3], seed: 1)), labels: [0, 1, 1, 0, 1]), wrt: mlp.parameters())
        }
        XCTAssertTrue(all[0].scalars.contains { $0 != 0 })
        XCTAssertFalse(fc1.weight.requiresGrad)
        XCTAssertEqual(mlp.namedParameters(trainableOnly: true).map(\.name), ["fc2.weight", "fc2.bias"])
        try mlp.unfreeze("fc1")
        let loss2 = try crossEntropyLoss(mlp(sample([5, 3], seed: 1)), labels: [0, 1, 1, 0, 1])
        XCTAssertTrue(try gradients(of: loss2, wrt: [fc1.weight])[0].scalars.contains { $0 != 0 })
    }

    func testPrintingShowsTheTreeTorchStyleAndTheCount() throws {
        XCTAssertEqual(try Linear(784, 256, seed: 0).description, "Linear(784 -> 256)")
        XCTAssertEqual(try Linear(4, 2, bias: false, seed: 0).description, "Linear(4 -> 2, no bias)")
        XCTAssertEqual(try Conv2d(3, 64, kernel: 3, padding: 1, bias: false, seed: 0).description,
                       "Conv2d(3 -> 64, 3x3, padding 1, no bias)")
        XCTAssertEqual(try Conv2d(16, 32, kernel: 1, stride: 2, seed: 0).description, "Conv2d(16 -> 32, 1x1, stride 2)")
        XCTAssertEqual(try BatchNorm2d(64).description, "BatchNorm2d(64)")
        XCTAssertEqual(try BatchNorm1d(8, momentum: nil).description, "BatchNorm1d(8, momentum nil)")
        XCTAssertEqual(try MaxPool2d(2).description, "MaxPool2d(2x2)")
        XCTAssertEqual(try AvgPool2d(3, stride: 1, padding: 1).description, "AvgPool2d(3x3, stride 1, padding 1)")
        XCTAssertEqual(try Dropout(0.25, seed: 0).description, "Dropout(p: 0.25)")
        let mlp = try MLP([784, 256, 10], seed: 0)
        XCTAssertEqual(mlp.description, """
            MLP(784 -> 256 -> 10) {
              (fc1): Linear(784 -> 256)
              (relu1): ReLU
              (fc2): Linear(256 -> 10)
            }
            203,530 parameters
            """)
        try mlp.freeze("fc1")
        XCTAssertTrue(mlp.description.hasSuffix("203,530 parameters (2,570 trainable)"))

        let net = try ResNet.resnet18(inChannels: 3, classes: 10, width: 64, seed: 0)
        let text = net.description
        XCTAssertTrue(text.hasPrefix("ResNet18(in: 3, classes: 10, width: 64) {\n  (conv1): Conv2d(3 -> 64, 3x3, padding 1, no bias)\n  (bn1): BatchNorm2d(64)\n  (layer1): Sequential {\n    (0): BasicBlock(64 -> 64) {\n      (conv1): Conv2d(64 -> 64, 3x3, padding 1, no bias)\n"), text)
        XCTAssertTrue(text.contains("      (shortcut): Sequential()\n"), text)
        XCTAssertTrue(text.contains("""
                (0): BasicBlock(64 -> 128, stride 2) {
                  (conv1): Conv2d(64 -> 128, 3x3, stride 2, padding 1, no bias)
            """), text)
        XCTAssertTrue(text.contains("""
                  (shortcut): Sequential {
                    (0): Conv2d(64 -> 128, 1x1, stride 2, no bias)
                    (1): BatchNorm2d(128)
                  }
            """), text)
        XCTAssertTrue(text.hasSuffix("  (linear): Linear(512 -> 10)\n}\n11,173,962 parameters"), text)
        XCTAssertTrue(try ResNet.resnet18(width: 4, headless: true, seed: 0).description.hasPrefix("ResNet18(in: 3, headless, width: 4) {"))
    }
}
