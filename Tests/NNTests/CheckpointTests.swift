import Foundation
import XCTest
import Data
import NN
import Tensor

final class CheckpointTests: XCTestCase {
    /// Every layer type in one model: Conv2d (with and without bias), BatchNorm2d, ReLU, pools,
    /// Flatten, Linear, BatchNorm1d, Dropout, Tanh, an MLP, and a small ResNet beside it.
    func everyLayer(seed: UInt64) throws -> Sequential {
        var rng = RandomGenerator(seed: seed)
        let trunk = Sequential(
            try Conv2d(3, 4, kernel: 3, padding: 1, rng: &rng), try BatchNorm2d(4), ReLU(), try MaxPool2d(2),
            try Conv2d(4, 4, kernel: 3, padding: 1, bias: false, rng: &rng), try AvgPool2d(2), Flatten(),
            try Linear(16, 8, rng: &rng), try BatchNorm1d(8), Tanh(), try Dropout(0.1, seed: 1),
            try MLP([8, 6, 3], rng: &rng))
        return try Sequential(named: [("trunk", trunk),
                                      ("resnet", try ResNet(blocks: [1, 1, 1, 1], inChannels: 3, classes: 3, width: 2, rng: &rng))])
    }

    /// The safetensors header as JSON, parsed independently of the Data layer's reader.
    func header(_ path: String) throws -> [String: Any] {
        let bytes = [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
        let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        return try JSONSerialization.jsonObject(with: Foundation.Data(bytes[8 ..< 8 + n])) as! [String: Any]
    }

    func testRoundTripOfEveryLayerType() throws {
        let dir = try makeTempDir(self)
        let a = try everyLayer(seed: 1)
        // Move the running statistics and counters away from their initial values.
        let trunkX = sample([4, 3, 8, 8], seed: 2)
        for _ in 0..<3 {
            _ = try (a[0])(trunkX)
            _ = try (a[1])(trunkX)
        }
        let path = dir + "/all.safetensors"
        try Checkpoint.save(a, to: path, metadata: ["epoch": "3"])

        let b = try everyLayer(seed: 99)
        XCTAssertNotEqual(b.namedParameters()[0].tensor.scalars, a.namedParameters()[0].tensor.scalars)
        let report = try Checkpoint.load(b, from: path)
        XCTAssertTrue(report.isEmpty)
        let sa = a.stateDict(), sb = b.stateDict()
        XCTAssertEqual(sa.names, sb.names)
        for name in sa.names { XCTAssertEqual(sa[name]!.scalars, sb[name]!.scalars, name) }
        XCTAssertEqual(sb["trunk.1.num_batches_tracked"]?.scalars, [3])
        a.eval(); b.eval()
        XCTAssertEqual(try a[0](trunkX).scalars, try b[0](trunkX).scalars)
        XCTAssertEqual(try a[1](trunkX).scalars, try b[1](trunkX).scalars)

        // The file as PyTorch sees it: PyTorch names, F32 tensors, I64 counters, metadata.
        let h = try header(path)
        XCTAssertEqual(Set(h.keys), Set(sa.names + ["__metadata__"]))
        XCTAssertEqual((h["trunk.1.num_batches_tracked"] as? [String: Any])?["dtype"] as? String, "I64")
        XCTAssertEqual((h["trunk.1.num_batches_tracked"] as? [String: Any])?["shape"] as? [Int], [])
        XCTAssertEqual((h["resnet.layer2.0.shortcut.1.num_batches_tracked"] as? [String: Any])?["dtype"] as? String, "I64")
        XCTAssertEqual((h["trunk.0.weight"] as? [String: Any])?["dtype"] as? String, "F32")
        XCTAssertEqual((h["trunk.0.weight"] as? [String: Any])?["shape"] as? [Int], [4, 3, 3, 3])
        XCTAssertEqual((h["resnet.linear.weight"] as? [String: Any])?["shape"] as? [Int], [3, 16])
        XCTAssertEqual((h["__metadata__"] as? [String: String]), ["format": "pt", "epoch": "3"])
        XCTAssertTrue(h.keys.contains("trunk.11.fc2.bias"))
        // Atomic write: no temporary file is left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["all.safetensors"])
    }

    func testLoadingAMismatchedFileNamesEachTensorAndChangesNothing() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/mlp.safetensors"
        try Checkpoint.save(try MLP([4, 5, 3], seed: 0), to: path)
        // fc2 is 5 -> 2 (mis-shaped), fc3 exists only in the model (missing), fc2's bias also mis-shaped.
        let other = try MLP([4, 5, 2, 2], seed: 1)
        let before = other.stateDict()
        XCTAssertThrowsError(try Checkpoint.load(other, from: path)) { error in
            let text = nnError(error)
            XCTAssertTrue(text.hasPrefix(path + ": "), text)
            XCTAssertTrue(text.contains("missing: fc3.weight"), text)
            XCTAssertTrue(text.contains("missing: fc3.bias"), text)
            XCTAssertTrue(text.contains("shape mismatch: fc2.weight is [3, 5] in the state dict but [2, 5] in the model"), text)
            XCTAssertTrue(text.contains("shape mismatch: fc2.bias is [3]"), text)
            XCTAssertFalse(text.contains("fc1"), text)
        }
        for name in before.names { XCTAssertEqual(other.stateDict()[name]!.scalars, before[name]!.scalars, name) }

        // Extra tensors in the file are named as unexpected.
        let small = try MLP([4, 5], seed: 2)
        XCTAssertThrowsError(try Checkpoint.load(small, from: path)) { error in
            let text = nnError(error)
            XCTAssertTrue(text.contains("unexpected: fc2.weight"), text)
            XCTAssertTrue(text.contains("unexpected: fc2.bias"), text)
            XCTAssertFalse(text.contains("missing"), text)
        }
        // Not strict: the matching tensors load, the rest is reported.
        let r = try Checkpoint.load(small, from: path, strict: false)
        XCTAssertEqual(Set(r.unexpected), ["fc2.weight", "fc2.bias"])
        XCTAssertEqual(r.missing, [])
        XCTAssertEqual(small.stateDict()["fc1.weight"]!.scalars, try Safetensors.read(path)["fc1.weight"]!.scalars)
        // A missing file is the Data layer's error, naming the path.
        XCTAssertThrowsError(try Checkpoint.load(small, from: dir + "/nope.safetensors")) {
            XCTAssertTrue("\($0)".contains("nope.safetensors"))
        }
    }

    /// A training checkpoint holds several state dicts under prefixes: `prefix:` reads one of them.
    func testLoadUnderAPrefix() throws {
        let dir = try makeTempDir(self)
        let encoder = try ResNet.resnet18(inChannels: 1, width: 2, headless: true, seed: 3)
        let head = try MLP([16, 4, 2], seed: 5)
        var all = encoder.stateDict().prefixed("model.encoder.")
        all.merge(head.stateDict().prefixed("model.head."))
        all.set("optimizer.step", Tensor([7], shape: []))
        let path = dir + "/epoch-0001.safetensors"
        try Safetensors.write(all, to: path)

        let fresh = try ResNet.resnet18(inChannels: 1, width: 2, headless: true, seed: 9)
        XCTAssertThrowsError(try Checkpoint.load(fresh, from: path), "without the prefix every name is unexpected")
        XCTAssertTrue(try Checkpoint.load(fresh, from: path, prefix: "model.encoder.").isEmpty)
        let want = encoder.stateDict(), got = fresh.stateDict()
        XCTAssertEqual(got.names, want.names)
        for name in want.names { XCTAssertEqual(got[name]!.scalars, want[name]!.scalars, name) }
        XCTAssertThrowsError(try Checkpoint.load(fresh, from: path, prefix: "model.backbone.")) {
            XCTAssertTrue(nnError($0).contains("no tensor's name starts with 'model.backbone.'"), nnError($0))
        }
    }

    /// An encoder's checkpoint loads into the classifier (not strictly): only the head is missing.
    func testEncoderIntoClassifier() throws {
        let dir = try makeTempDir(self)
        let encoder = try ResNet.resnet18(inChannels: 1, width: 2, headless: true, seed: 3)
        try Checkpoint.save(encoder, to: dir + "/enc.safetensors")
        let net = try ResNet.resnet18(inChannels: 1, classes: 10, width: 2, seed: 4)
        XCTAssertThrowsError(try Checkpoint.load(net, from: dir + "/enc.safetensors"))
        let r = try Checkpoint.load(net, from: dir + "/enc.safetensors", strict: false)
        XCTAssertEqual(r.missing, ["linear.weight", "linear.bias"])
        XCTAssertEqual(net.conv1.weight.scalars, encoder.conv1.weight.scalars)
        net.eval(); encoder.eval()
        let x = sample([2, 1, 28, 28], seed: 5)
        XCTAssertEqual(try net.features(x).scalars, try encoder(x).scalars)
    }

    /// Loading keeps tensor identity, so an optimizer built before the load updates the loaded weights.
    func testLoadWritesInPlace() throws {
        let dir = try makeTempDir(self)
        let a = try Linear(3, 2, seed: 0), b = try Linear(3, 2, seed: 1)
        let w = b.weight
        let opt = try SGD(b, lr: 0.1)
        try Checkpoint.save(a, to: dir + "/a.safetensors")
        try Checkpoint.load(b, from: dir + "/a.safetensors")
        XCTAssertTrue(w === b.weight)
        XCTAssertTrue(b.weight.requiresGrad)
        try opt.step(gradients: [Tensor.ones([2, 3]), Tensor.ones([2])])
        assertClose(b.weight.scalars, a.weight.scalars.map { Double($0) - 0.1 }, tol: 1e-7)
    }
}
