import Foundation
import Tensor
import XCTest
@testable import Lang

/// The builtins of the data, model, training and measure layers that golden scripts cannot reach:
/// CIFAR files written here, Ctrl-C during fit, the names the issue fixes.
final class HostBuiltinsTests: XCTestCase {
    /// The names issue 5 (point 3) and DESIGN.md fix for these layers.
    static let required = [
        "mlp", "resnet18", "sequential", "linear", "conv2d", "batchnorm2d", "relu", "maxpool2d", "avgpool2d",
        "global_avgpool", "flatten", "dropout", "params", "param_names", "load_weights", "save_weights", "train_mode",
        "eval_mode", "freeze", "unfreeze",
        "fashion_mnist", "cifar10", "cifar10_1", "dataset", "subset", "batches", "augment",
        "sgd", "adam", "adamw", "multistep", "cosine", "warmup", "fit", "evaluate", "every",
        "loss", "grad", "hvp", "hessian_eigs", "hessian_trace", "hessian_density", "keskar", "rag", "slice1d", "slice2d",
    ]

    func testRequiredNamesAreRegistered() {
        let r = Builtins.standard()
        for n in HostBuiltinsTests.required { XCTAssertNotNil(r[n], n) }
        for t in ["data:", "models:", "training:", "calculus:", "measures:"] { XCTAssertTrue(r.index().contains(t), t) }
    }

    func testKeywordsAreArgumentNames() throws {
        let interp = Interpreter()
        XCTAssertEqual(try interp.run("linear(in: 3, out: 2).num_params")?.repr, "8")
        XCTAssertEqual(try interp.run("resnet18(in: 1, width: 2, classes: 3, seed: 0).summary")?.repr.hasPrefix("\"ResNet"), true)
        guard case .complete = Interpreter.check("f(in: 1, for: 2, if: 3)") else { return XCTFail("keywords as argument names") }
    }

    private func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-host-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.path
    }

    /// Binary CIFAR-10 batches: label byte, then the R, G, B planes; pixel p of channel c of image
    /// i holds (7i + 50c + p) mod 256.
    func testCIFAR10FromBinaryBatches() throws {
        let dir = try tempDir()
        func record(_ label: Int, _ id: Int) -> [UInt8] {
            [UInt8(label)] + (0..<3).flatMap { c in (0..<1024).map { p in UInt8((id * 7 + c * 50 + p) % 256) } }
        }
        for f in 0..<5 {
            let bytes = (0..<2).flatMap { r in record((2 * f + r) % 10, 2 * f + r) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/data_batch_\(f + 1).bin"))
        }
        try Data((0..<3).flatMap { record(9 - $0, 100 + $0) }).write(to: URL(fileURLWithPath: "\(dir)/test_batch.bin"))
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("""
            c = cifar10("\(dir)")
            print(shape(c.train.x), shape(c.test.x), c.train.y, c.test.y)
            print(round(c.train.x[3][1][0][5] * 255), c.train.class_names[0])
            n = cifar10("\(dir)", train: 4, test: 2, normalize: true)
            print(len(n.train), len(n.test), len(n.train.normalization.mean))
            """)
        XCTAssertEqual(out, """
            [10, 3, 32, 32] [3, 3, 32, 32] tensor([10]) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] tensor([3]) [9, 8, 7]
            76 airplane
            4 2 3

            """)
        XCTAssertThrowsError(try interp.run("cifar10(\"\(dir)/nope\")")) { e in
            XCTAssertTrue((e as? LangError)?.message.contains("data_batch_1.bin: file not found") == true, "\(e)")
        }
    }

    /// CIFAR-10.1: uint8 N×32×32×3 and integer labels as .npy, turned into N×3×32×32.
    func testCIFAR10_1FromNpy() throws {
        let dir = try tempDir()
        func npy(_ descr: String, _ shape: [Int], _ payload: [UInt8]) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            let n = UInt16(header.utf8.count)
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + payload)
        }
        // Image 1's pixel (row 0, column 1) has channels R, G, B = 10, 20, 30.
        var pixels = [UInt8](repeating: 0, count: 2 * 32 * 32 * 3)
        for (c, v) in [10, 20, 30].enumerated() { pixels[32 * 32 * 3 + 1 * 3 + c] = UInt8(v) }
        try npy("|u1", [2, 32, 32, 3], pixels).write(to: URL(fileURLWithPath: "\(dir)/cifar10.1_v6_data.npy"))
        let labels: [Int64] = [3, 7]
        let labelBytes = labels.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        try npy("<i8", [2], labelBytes).write(to: URL(fileURLWithPath: "\(dir)/cifar10.1_v6_labels.npy"))
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("""
            s = cifar10_1("\(dir)")
            print(shape(s.x), s.y, round(s.x[1][2][0][1] * 255), len(s))
            """)
        XCTAssertEqual(out, "[2, 3, 32, 32] tensor([2]) [3, 7] 30 2\n")
    }

    /// Ctrl-C during fit: the statement assigns nothing, the model stays usable, the history so
    /// far is in `last_history`, and the error says so.
    func testInterruptedFitKeepsTheHistory() throws {
        let reg = Builtins.standard()
        reg.register("interrupt_now", topic: "test", params: [], doc: "Requests Ctrl-C.", example: "") { _ in
            Cancellation.request()
            return .null
        }
        let interp = Interpreter(builtins: reg)
        interp.output = { _ in }
        defer { Cancellation.clear() }
        try interp.run("""
            d = blobs(40, classes: 3, seed: 0)
            net = mlp([2, 8, 3], seed: 0)
            fn stop_at_two(model, epoch) {
              if epoch == 2 { interrupt_now() }
              return epoch
            }
            """)
        XCTAssertThrowsError(try interp.run("log = fit(net, d, sgd(net, lr: 0.1), epochs: 5, batch: 8, track: every(1, stop_at_two))",
                                            file: "cell.lsc")) { e in
            guard let e = e as? LangError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.kind, .interrupted)
            XCTAssertTrue(e.message.contains("fit interrupted after epoch 2 of 5"), e.message)
            XCTAssertTrue(e.message.contains("last_history"), e.message)
            XCTAssertEqual(e.location?.line, 1)
        }
        Cancellation.clear()
        XCTAssertNil(interp.global("log"))
        XCTAssertEqual(try interp.run("last_history.epoch")?.repr, "[1, 2]")
        XCTAssertEqual(try interp.run("last_history.stop_at_two_epoch")?.repr, "[0, 1, 2]")
        XCTAssertEqual(try interp.run("type(evaluate(net, d).acc)")?.repr, "\"number\"")
    }

    /// Ctrl-C inside a measure stops it with the weights restored.
    func testInterruptedMeasureRestoresWeights() throws {
        let interp = Interpreter()
        try interp.run("d = blobs(64, classes: 3, seed: 0)\nnet = mlp([2, 8, 3], seed: 0)\nw = params(net)")
        Cancellation.request()
        defer { Cancellation.clear() }
        XCTAssertThrowsError(try interp.run("rag(net, d, batch: 8, seed: 0)")) { e in
            XCTAssertEqual((e as? LangError)?.kind, .interrupted)
        }
        Cancellation.clear()
        XCTAssertEqual(try interp.run("norm(params(net) - w)")?.repr, "0")
    }

    func testHostValuesPrint() throws {
        let interp = Interpreter()
        XCTAssertEqual(try interp.run("sgd(linear(2, 2), lr: 0.1, momentum: 0.9)")?.repr,
                       "SGD(lr: 0.1, momentum: 0.9, dampening: 0, weight_decay: 0, nesterov: false) over 2 parameter tensors")
        XCTAssertEqual(try interp.run("multistep([60, 120, 160], 0.2)")?.repr, "schedule multistep([60, 120, 160], gamma: 0.2)")
        XCTAssertEqual(try interp.run("every(2, \"rag\", {step: 0.05})")?.repr, "every(2, \"rag\", {step: 0.05})")
        XCTAssertEqual(try interp.run("type(blobs(4, seed: 0))")?.repr, "\"dataset\"")
        XCTAssertEqual(try interp.run("keys(blobs(4, seed: 0))")?.repr,
                       "[\"x\", \"y\", \"name\", \"classes\", \"class_names\", \"shape\", \"normalization\"]")
    }
}
