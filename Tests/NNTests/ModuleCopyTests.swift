import XCTest
import Data
import NN
import Tensor

/// `Module.copy()`: same class, configuration, values, flags and modes; nothing shared.
final class ModuleCopyTests: XCTestCase {
    /// Every parameter and buffer by name: (name, shape, values, requiresGrad).
    private func state(_ m: Module) -> [(String, [Int], [Float], Bool)] {
        m.namedParameters().map { ($0.name, $0.tensor.shape, $0.tensor.scalars, $0.tensor.requiresGrad) }
            + m.namedBuffers().map { ($0.name, $0.tensor.shape, $0.tensor.scalars, false) }
    }

    private func assertSameState(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
        let sa = state(a), sb = state(b)
        XCTAssertEqual(sa.map(\.0), sb.map(\.0), "names", file: file, line: line)
        for (x, y) in zip(sa, sb) {
            XCTAssertEqual(x.1, y.1, "shape of \(x.0)", file: file, line: line)
            XCTAssertEqual(x.2, y.2, "values of \(x.0)", file: file, line: line)
            XCTAssertEqual(x.3, y.3, "trainable flag of \(x.0)", file: file, line: line)
        }
        XCTAssertEqual(a.namedModules().map(\.name), b.namedModules().map(\.name), file: file, line: line)
        XCTAssertEqual(a.namedModules().map(\.module.summary), b.namedModules().map(\.module.summary), file: file, line: line)
        XCTAssertEqual(a.namedModules().map(\.module.isTraining), b.namedModules().map(\.module.isTraining), file: file, line: line)
    }

    /// No tensor of the copy is a tensor of the original, nor a module.
    private func assertNothingShared(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
        let ta = Set((a.parameters() + a.namedBuffers().map(\.tensor)).map(ObjectIdentifier.init))
        let tb = Set((b.parameters() + b.namedBuffers().map(\.tensor)).map(ObjectIdentifier.init))
        XCTAssertTrue(ta.isDisjoint(with: tb), "shared tensors", file: file, line: line)
        let ma = Set(a.namedModules().map { ObjectIdentifier($0.module) })
        XCTAssertTrue(b.namedModules().allSatisfy { !ma.contains(ObjectIdentifier($0.module)) }, "shared modules", file: file, line: line)
    }

    /// A training step on one leaves the other's state as it was; outputs then differ.
    private func assertIndependent(_ a: Module, _ b: Module, input x: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        let other = state(b).map(\.2), own = state(a).map(\.2)
        let opt = try SGD(parameters: a.namedParameters(), lr: 0.5)
        a.train()
        let y = try a(x)
        try opt.step(loss: try (y * y).mean())
        XCTAssertTrue(state(b).map(\.2) == other, "the other module changed", file: file, line: line)
        XCTAssertFalse(state(a).map(\.2) == own, "the step changed nothing", file: file, line: line)
    }

    private func assertSameOutputs(_ a: Module, _ b: Module, _ x: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        a.eval(); b.eval()
        XCTAssertEqual(try a(x).scalars, try b(x).scalars, "eval mode", file: file, line: line)
        // Train mode updates the running statistics of both alike.
        a.train(); b.train()
        XCTAssertEqual(try a(x).scalars, try b(x).scalars, "train mode", file: file, line: line)
        assertSameState(a, b, file: file, line: line)
    }

    func testMLPCopyIsEqualAndIndependent() throws {
        let mlp = try MLP([6, 8, 3], seed: 1)
        let c = try mlp.copy()
        XCTAssertTrue(c is MLP)
        XCTAssertEqual((c as! MLP).sizes, [6, 8, 3])
        assertSameState(mlp, c)
        assertNothingShared(mlp, c)
        let x = sample([5, 6], seed: 2)
        try assertSameOutputs(mlp, c, x)
        try assertIndependent(c, mlp, input: x)
        try assertIndependent(mlp, c, input: x)
        // Without biases too.
        let nb = try MLP([4, 3], bias: false, seed: 0)
        XCTAssertEqual(try nb.copy().namedParameters().map(\.name), ["fc1.weight"])
    }

    func testConvSequentialCopyKeepsRunningStatsAndSettings() throws {
        let bn = try BatchNorm2d(4, momentum: 0.3, eps: 1e-3)
        let net = try Sequential(named: [
            ("conv", try Conv2d(2, 4, kernel: 3, stride: 1, padding: 1, seed: 3)), ("bn", bn), ("relu", ReLU()),
            ("pool", try MaxPool2d(2)), ("avg", try AvgPool2d(2, stride: 1)), ("drop", try Dropout(0.25, seed: 9)),
            ("flat", Flatten()), ("fc", try Linear(16, 3, seed: 4)), ("act", Tanh()),
        ])
        let x = sample([3, 2, 6, 6], seed: 5)
        _ = try net(x)   // running statistics and num_batches_tracked move off their initial values
        bn.momentum = nil
        let c = try net.copy() as! Sequential
        assertSameState(net, c)
        assertNothingShared(net, c)
        XCTAssertEqual(c.children.map(\.name), ["conv", "bn", "relu", "pool", "avg", "drop", "flat", "fc", "act"])
        let cbn = c[1] as! BatchNorm2d
        XCTAssertNil(cbn.momentum)
        XCTAssertEqual(cbn.eps, 1e-3)
        XCTAssertEqual(try cbn.numBatchesTracked.item(), 1)
        XCTAssertEqual((c[5] as! Dropout).p, 0.25)
        // The same dropout generator state, so the same masks in train mode.
        try assertSameOutputs(net, c, x)
        try assertIndependent(c, net, input: x)
        bn.momentum = 0.1
        XCTAssertNil(cbn.momentum)
    }

    func testResNetCopyAndHeadlessCopy() throws {
        let x = sample([2, 1, 8, 8], seed: 7)
        for headless in [false, true] {
            let net = try ResNet.resnet18(inChannels: 1, classes: 5, width: 4, headless: headless, seed: 2)
            _ = try net(x)
            net.bn1.momentum = nil   // a setting the blank ResNet would not have
            let c = try net.copy() as! ResNet
            XCTAssertNil(c.bn1.momentum)
            XCTAssertEqual(c.layers[0].count, 2)
            XCTAssertEqual([c.inChannels, c.classes, c.width], [1, 5, 4])
            XCTAssertEqual(c.blocks, [2, 2, 2, 2])
            XCTAssertEqual(c.headless, headless)
            XCTAssertEqual(c.linear == nil, headless)
            assertSameState(net, c)
            assertNothingShared(net, c)
            try assertSameOutputs(net, c, x)
            try assertIndependent(c, net, input: x)
            try assertIndependent(net, c, input: x)
        }
    }

    func testAssigningToTheCopyLeavesTheOriginal() throws {
        let net = try ResNet.resnet18(inChannels: 1, classes: 3, width: 4, seed: 0)
        let c = try net.copy()
        let w = c.namedParameters().first { $0.name == "linear.weight" }!.tensor
        let original = try XCTUnwrap(net.namedParameters().first { $0.name == "linear.weight" }?.tensor.scalars)
        try w.assign(Tensor.zeros(w.shape))
        XCTAssertEqual(net.namedParameters().first { $0.name == "linear.weight" }!.tensor.scalars, original)
        let rm = net.namedBuffers().first { $0.name == "bn1.running_mean" }!.tensor
        try rm.assign(Tensor.ones(rm.shape))
        XCTAssertEqual(c.namedBuffers().first { $0.name == "bn1.running_mean" }!.tensor.scalars, [0, 0, 0, 0])
    }

    func testFrozenFlagsAndModesSurvive() throws {
        let net = try ResNet.resnet18(inChannels: 1, classes: 3, width: 4, seed: 0)
        try net.freeze("*")
        try net.unfreeze("linear")
        net.eval()
        (net.namedModules().first { $0.name == "layer2.0.bn1" }!.module).train()
        let c = try net.copy()
        assertSameState(net, c)
        XCTAssertEqual(c.isTrainable("conv1.weight"), false)
        XCTAssertEqual(c.isTrainable("linear.bias"), true)
        XCTAssertEqual(c.parameterCount(trainableOnly: true), net.parameterCount(trainableOnly: true))
        XCTAssertFalse(c.isTraining)
        XCTAssertTrue(c.namedModules().first { $0.name == "layer2.0.bn1" }!.module.isTraining)
        XCTAssertFalse(c.namedModules().first { $0.name == "layer2.0.bn2" }!.module.isTraining)
    }

    func testEveryLayerCopiesAsItsOwnClass() throws {
        let layers: [Module] = [
            ReLU(), Tanh(), Sigmoid(), Identity(), GlobalAvgPool(), Flatten(), try BatchNorm1d(3),
            try MaxPool2d(3, stride: 2, padding: 1), try Conv2d(1, 2, kernel: 3, bias: false, seed: 0),
            try BasicBlock(2, 4, stride: 2, seed: 0),
        ]
        for m in layers {
            let c = try m.copy()
            XCTAssertTrue(type(of: c) == type(of: m), m.summary)
            XCTAssertEqual(c.summary, m.summary)
            assertSameState(m, c)
        }
    }

    func testSubclassWithoutOverrideCannotBeCopied() throws {
        final class Custom: Module {
            override func callAsFunction(_ x: Tensor) throws -> Tensor { x }
        }
        final class MySequential: Sequential {}
        XCTAssertThrowsError(try Custom().copy()) { XCTAssertTrue(nnError($0).contains("Custom"), nnError($0)) }
        // Inheriting Sequential's override would give a Sequential: refused too.
        XCTAssertThrowsError(try MySequential([ReLU()]).copy()) {
            XCTAssertTrue(nnError($0).contains("MySequential"), nnError($0))
        }
        // Nested inside a container that can be copied.
        XCTAssertThrowsError(try Sequential(ReLU(), Custom()).copy()) {
            XCTAssertTrue(nnError($0).contains("cannot be copied"), nnError($0))
        }
    }
}

private extension BasicBlock {
    convenience init(_ inPlanes: Int, _ planes: Int, stride: Int, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        try self.init(inPlanes, planes, stride: stride, rng: &rng)
    }
}
