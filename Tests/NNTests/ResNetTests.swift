import XCTest
import Data
import NN
import Tensor

/// ResNet-18 against kuangliu/pytorch-cifar's models/resnet.py, names and shapes derived by hand.
final class ResNetTests: XCTestCase {
    /// `named_parameters()` of kuangliu's ResNet18(): stem, then per block conv1, bn1, conv2, bn2,
    /// and for the first block of layers 2–4 the projection shortcut; then the head. 62 tensors.
    static let kuangliuNames: [String] = [
        "conv1.weight", "bn1.weight", "bn1.bias",
        "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
        "layer1.0.conv2.weight", "layer1.0.bn2.weight", "layer1.0.bn2.bias",
        "layer1.1.conv1.weight", "layer1.1.bn1.weight", "layer1.1.bn1.bias",
        "layer1.1.conv2.weight", "layer1.1.bn2.weight", "layer1.1.bn2.bias",
        "layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias",
        "layer2.0.conv2.weight", "layer2.0.bn2.weight", "layer2.0.bn2.bias",
        "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.weight", "layer2.0.shortcut.1.bias",
        "layer2.1.conv1.weight", "layer2.1.bn1.weight", "layer2.1.bn1.bias",
        "layer2.1.conv2.weight", "layer2.1.bn2.weight", "layer2.1.bn2.bias",
        "layer3.0.conv1.weight", "layer3.0.bn1.weight", "layer3.0.bn1.bias",
        "layer3.0.conv2.weight", "layer3.0.bn2.weight", "layer3.0.bn2.bias",
        "layer3.0.shortcut.0.weight", "layer3.0.shortcut.1.weight", "layer3.0.shortcut.1.bias",
        "layer3.1.conv1.weight", "layer3.1.bn1.weight", "layer3.1.bn1.bias",
        "layer3.1.conv2.weight", "layer3.1.bn2.weight", "layer3.1.bn2.bias",
        "layer4.0.conv1.weight", "layer4.0.bn1.weight", "layer4.0.bn1.bias",
        "layer4.0.conv2.weight", "layer4.0.bn2.weight", "layer4.0.bn2.bias",
        "layer4.0.shortcut.0.weight", "layer4.0.shortcut.1.weight", "layer4.0.shortcut.1.bias",
        "layer4.1.conv1.weight", "layer4.1.bn1.weight", "layer4.1.bn1.bias",
        "layer4.1.conv2.weight", "layer4.1.bn2.weight", "layer4.1.bn2.bias",
        "linear.weight", "linear.bias",
    ]

    func testParameterNamesAndOrderMatchKuangliu() throws {
        let net = try ResNet.resnet18(seed: 0)
        XCTAssertEqual(Self.kuangliuNames.count, 62)
        XCTAssertEqual(net.namedParameters().map(\.name), Self.kuangliuNames)
    }

    func testParameterShapesAtWidth64() throws {
        let net = try ResNet.resnet18(inChannels: 3, classes: 10, width: 64, seed: 0)
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.name, $0.tensor.shape) })
        XCTAssertEqual(shapes["conv1.weight"], [64, 3, 3, 3])
        XCTAssertEqual(shapes["bn1.weight"], [64])
        XCTAssertEqual(shapes["layer1.1.conv2.weight"], [64, 64, 3, 3])
        XCTAssertEqual(shapes["layer2.0.conv1.weight"], [128, 64, 3, 3])
        XCTAssertEqual(shapes["layer2.0.conv2.weight"], [128, 128, 3, 3])
        XCTAssertEqual(shapes["layer2.0.shortcut.0.weight"], [128, 64, 1, 1])
        XCTAssertEqual(shapes["layer2.0.shortcut.1.bias"], [128])
        XCTAssertEqual(shapes["layer3.0.shortcut.0.weight"], [256, 128, 1, 1])
        XCTAssertEqual(shapes["layer4.1.conv1.weight"], [512, 512, 3, 3])
        XCTAssertEqual(shapes["linear.weight"], [10, 512])
        XCTAssertEqual(shapes["linear.bias"], [10])
    }

    /// 11,173,962 = stem 1,856 + layer1 147,968 + layer2 525,568 + layer3 2,099,712
    /// + layer4 8,393,728 + linear 5,130 (worked out per conv/BN/shortcut by hand).
    func testParameterCountOfResNet18() throws {
        let net = try ResNet.resnet18(inChannels: 3, classes: 10, width: 64, seed: 0)
        XCTAssertEqual(net.parameterCount(), 11_173_962)
        XCTAssertEqual(net.parameterCount(trainableOnly: true), 11_173_962)
        let one = try ResNet.resnet18(inChannels: 1, classes: 10, width: 64, seed: 0)
        XCTAssertEqual(one.parameterCount(), 11_173_962 - 2 * 64 * 9)
        let narrow = try ResNet.resnet18(inChannels: 1, classes: 10, width: 16, seed: 0)
        // Every conv scales by 1/16 except the stem (in channels fixed); BN and linear by 1/4.
        let convs = (16 * 1 * 9) + 4 * (16 * 16 * 9) + (32 * 16 * 9 + 3 * 32 * 32 * 9 + 32 * 16)
            + (64 * 32 * 9 + 3 * 64 * 64 * 9 + 64 * 32) + (128 * 64 * 9 + 3 * 128 * 128 * 9 + 128 * 64)
        let bns = 2 * (16 + 4 * 16 + 5 * 32 + 5 * 64 + 5 * 128)
        XCTAssertEqual(narrow.parameterCount(), convs + bns + 128 * 10 + 10)
    }

    func testStateDictHasEveryBufferInPyTorchOrder() throws {
        let net = try ResNet.resnet18(width: 8, seed: 0)
        let names = net.stateDict().names
        XCTAssertEqual(names.count, 62 + 3 * 20)   // 20 BatchNorms, three buffers each
        XCTAssertEqual(Array(names.prefix(6)), ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                                "bn1.running_var", "bn1.num_batches_tracked"])
        let i = names.firstIndex(of: "layer2.0.shortcut.1.weight")!
        XCTAssertEqual(Array(names[i ..< i + 5]), ["layer2.0.shortcut.1.weight", "layer2.0.shortcut.1.bias",
                                                   "layer2.0.shortcut.1.running_mean", "layer2.0.shortcut.1.running_var",
                                                   "layer2.0.shortcut.1.num_batches_tracked"])
        XCTAssertEqual(Array(names.suffix(2)), ["linear.weight", "linear.bias"])
        XCTAssertEqual(net.stateDict().dtype(of: "layer3.1.bn2.num_batches_tracked"), .int64)
        XCTAssertEqual(net.namedBuffers().count, 60)
    }

    func testOutputShapes() throws {
        let gray = try ResNet.resnet18(inChannels: 1, classes: 10, width: 4, seed: 1)
        XCTAssertEqual(try gray(sample([2, 1, 28, 28], seed: 2)).shape, [2, 10])
        let color = try ResNet.resnet18(inChannels: 3, classes: 7, width: 4, seed: 1)
        XCTAssertEqual(try color(sample([2, 3, 32, 32], seed: 3)).shape, [2, 7])
        let encoder = try ResNet.resnet18(inChannels: 3, width: 4, headless: true, seed: 1)
        XCTAssertNil(encoder.linear)
        XCTAssertEqual(encoder.namedParameters().count, 60)
        XCTAssertEqual(encoder.featureCount, 32)
        XCTAssertEqual(try encoder(sample([2, 3, 32, 32], seed: 3)).shape, [2, 32])
        XCTAssertThrowsError(try color(sample([2, 1, 32, 32], seed: 3)))
    }

    /// The same seed gives the same network, and the headless encoder of a seed is the classifier's
    /// encoder (the head is drawn last).
    func testSeededConstructionIsDeterministic() throws {
        let a = try ResNet.resnet18(inChannels: 1, width: 4, seed: 9)
        let b = try ResNet.resnet18(inChannels: 1, width: 4, seed: 9)
        let c = try ResNet.resnet18(inChannels: 1, width: 4, seed: 10)
        let e = try ResNet.resnet18(inChannels: 1, width: 4, headless: true, seed: 9)
        for ((n, p), (_, q)) in zip(a.namedParameters(), b.namedParameters()) { XCTAssertEqual(p.scalars, q.scalars, n) }
        XCTAssertNotEqual(a.conv1.weight.scalars, c.conv1.weight.scalars)
        for ((n, p), (_, q)) in zip(e.namedParameters(), a.namedParameters()) { XCTAssertEqual(p.scalars, q.scalars, n) }
    }

    /// kuangliu's forward written out from the layers: relu(bn1(conv1)), blocks, avg_pool2d(4), linear.
    func testForwardEqualsKuangliuComposition() throws {
        let net = try ResNet.resnet18(inChannels: 3, classes: 5, width: 4, seed: 4)
        net.eval()   // running stats: no state changes between the two passes
        let x = sample([2, 3, 32, 32], seed: 5)
        var out = try net.bn1(net.conv1(x)).relu()
        for layer in net.layers {
            for i in 0..<layer.count {
                let blk = layer[i] as! BasicBlock
                var o = try blk.bn1(blk.conv1(out)).relu()
                o = try blk.bn2(blk.conv2(o))
                let sc = blk.shortcut.count == 0 ? out : try blk.shortcut[1](blk.shortcut[0](out))
                out = try (o + sc).relu()
            }
        }
        XCTAssertEqual(out.shape, [2, 32, 4, 4])
        let pooled = try out.avgPool2d(kernel: 4).reshaped([2, 32])
        let expected = try net.linear!(pooled)
        assertClose(try net(x).scalars, expected.scalars.map(Double.init), tol: 1e-5, "logits")
        // Blocks with a projection shortcut are exactly the first of layers 2–4.
        let projected = net.namedModules().filter { ($0.module as? BasicBlock)?.shortcut.count == 2 }.map(\.name)
        XCTAssertEqual(projected, ["layer2.0", "layer3.0", "layer4.0"])
    }
}
