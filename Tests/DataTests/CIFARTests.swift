import XCTest
@testable import Data
import Tensor

/// One CIFAR-10 binary record: the label byte, then the R, G and B planes (1024 bytes each).
/// Pixel p of channel c of image `id` holds (id·7 + c·50 + p) mod 256.
func cifarRecord(label: UInt8, id: Int) -> [UInt8] {
    [label] + (0 ..< 3).flatMap { c in (0 ..< 1024).map { p in UInt8((id * 7 + c * 50 + p) % 256) } }
}

/// A CIFAR-10 directory with `perFile` records in each of the five training files and `test` in the test file.
func writeFakeCIFAR(_ dir: String, perFile: Int, test: Int) throws {
    for f in 0 ..< 5 {
        let recs = (0 ..< perFile).flatMap { r in cifarRecord(label: UInt8((f * perFile + r) % 10), id: f * perFile + r) }
        try writeBytes(recs, "\(dir)/data_batch_\(f + 1).bin")
    }
    try writeBytes((0 ..< test).flatMap { cifarRecord(label: UInt8(9 - $0 % 10), id: 1000 + $0) }, dir + "/test_batch.bin")
}

final class CIFARTests: XCTestCase {
    func testReadsPlanesAsChannels() throws {
        let dir = try makeTempDir(self)
        try writeFakeCIFAR(dir, perFile: 2, test: 3)
        let d = try CIFAR10.load(directory: dir)
        XCTAssertEqual(d.train.x.shape, [10, 3, 32, 32])
        XCTAssertEqual(d.test.x.shape, [3, 3, 32, 32])
        XCTAssertEqual(d.train.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(d.test.labels, [9, 8, 7])
        let x = d.train.x.scalars
        // Image 3 (second file, first record), channel 1 (green), pixel 5: (3·7 + 50 + 5) mod 256.
        XCTAssertEqual(x[3 * 3072 + 1 * 1024 + 5], Float(3 * 7 + 50 + 5) / 255)
        XCTAssertEqual(x[0 * 3072 + 2 * 1024 + 1023], Float((100 + 1023) % 256) / 255)
        XCTAssertTrue(x.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(d.train.classNames?[0], "airplane")
    }

    func testFirstNAndSeededSubsets() throws {
        let dir = try makeTempDir(self)
        try writeFakeCIFAR(dir, perFile: 3, test: 4)
        let first = try CIFAR10.load(directory: dir, train: 4, test: 2)
        XCTAssertEqual(first.train.labels, [0, 1, 2, 3])
        XCTAssertEqual(first.test.count, 2)
        let a = try CIFAR10.load(directory: dir, train: 5, test: 2, seed: 11)
        let b = try CIFAR10.load(directory: dir, train: 5, test: 2, seed: 11)
        XCTAssertEqual(a.train.x.scalars, b.train.x.scalars)
        XCTAssertEqual(a.train.labels, b.train.labels)
        // Distinct images, in file order: image id's first red pixel is 7·id.
        let ids = (0 ..< 5).map { Int((a.train.x.scalars[$0 * 3072] * 255).rounded()) / 7 }
        XCTAssertEqual(Set(ids).count, 5)
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(a.train.labels, ids.map { $0 % 10 })
    }

    func testNormalizeWithTrainingStatistics() throws {
        let dir = try makeTempDir(self)
        try writeFakeCIFAR(dir, perFile: 1, test: 1)
        let raw = try CIFAR10.load(directory: dir)
        let d = try CIFAR10.load(directory: dir, train: 2, normalize: true)
        let s = raw.train.channelStats(), used = try XCTUnwrap(d.train.normalization)
        for c in 0 ..< 3 {
            XCTAssertEqual(used.mean[c], s.mean[c], accuracy: 1e-5)
            XCTAssertEqual(used.std[c], s.std[c], accuracy: 1e-5)
        }
        let v = d.train.x.scalars[1024]   // image 0, green, pixel 0
        XCTAssertEqual(v, (raw.train.x.scalars[1024] - used.mean[1]) / used.std[1], accuracy: 1e-5)
    }

    func testMissingAndTruncatedFilesAreNamed() throws {
        let dir = try makeTempDir(self)
        try writeFakeCIFAR(dir, perFile: 1, test: 1)
        try FileManager.default.removeItem(atPath: dir + "/data_batch_4.bin")
        assertDataError(try CIFAR10.load(directory: dir), path: "data_batch_4.bin", "not found")
        try writeBytes(cifarRecord(label: 1, id: 0) + [1, 2, 3], dir + "/data_batch_4.bin")
        assertDataError(try CIFAR10.load(directory: dir), path: "data_batch_4.bin", "truncated", "3073")
        try writeBytes(cifarRecord(label: 1, id: 0), dir + "/data_batch_4.bin")
        try writeBytes(cifarRecord(label: 42, id: 0), dir + "/test_batch.bin")
        assertDataError(try CIFAR10.load(directory: dir), path: "test_batch.bin", "label 42")
    }

    func testCIFAR10_1FromNPY() throws {
        let dir = try makeTempDir(self)
        // Two images stored N×32×32×3 (HWC): pixel p, channel c of image i = (i + 3p + c) mod 256.
        var pixels: [UInt8] = []
        for i in 0 ..< 2 { for p in 0 ..< 1024 { for c in 0 ..< 3 { pixels.append(UInt8((i + 3 * p + c) % 256)) } } }
        try writeBytes(handMadeNPY(descr: "|u1", shape: "(2, 32, 32, 3)", data: pixels), dir + "/cifar10.1_v6_data.npy")
        try writeBytes(handMadeNPY(descr: "<i8", shape: "(2,)", data: i64LE([3, 8])), dir + "/cifar10.1_v6_labels.npy")
        let d = try CIFAR10_1.load(directory: dir)
        XCTAssertEqual(d.x.shape, [2, 3, 32, 32])
        XCTAssertEqual(d.labels, [3, 8])
        let x = d.x.scalars
        XCTAssertEqual(x[1 * 3072 + 2 * 1024 + 10], Float((1 + 30 + 2) % 256) / 255)   // image 1, blue, pixel 10
        XCTAssertEqual(x[0 * 3072 + 0 * 1024 + 0], 0)
        // Other integer label dtypes are fine too.
        try writeBytes(handMadeNPY(descr: "<i4", shape: "(2,)", data: i32LE([1, 2])), dir + "/cifar10.1_v6_labels.npy")
        XCTAssertEqual(try CIFAR10_1.load(directory: dir).labels, [1, 2])
        let stats = ChannelStats(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        XCTAssertEqual(try CIFAR10_1.load(directory: dir, normalization: stats).x.scalars[0], -2, accuracy: 1e-6)
        // Wrong pixel dtype, wrong shape, mismatched label count.
        try writeBytes(handMadeNPY(descr: "<f4", shape: "(1,)", data: f32LE([0])), dir + "/cifar10.1_v6_data.npy")
        assertDataError(try CIFAR10_1.load(directory: dir), path: "cifar10.1_v6_data.npy", "uint8")
        try writeBytes(handMadeNPY(descr: "|u1", shape: "(1, 3, 32, 32)", data: [UInt8](repeating: 0, count: 3072)), dir + "/cifar10.1_v6_data.npy")
        assertDataError(try CIFAR10_1.load(directory: dir), path: "cifar10.1_v6_data.npy", "shape")
        try writeBytes(handMadeNPY(descr: "|u1", shape: "(1, 32, 32, 3)", data: [UInt8](repeating: 0, count: 3072)), dir + "/cifar10.1_v6_data.npy")
        assertDataError(try CIFAR10_1.load(directory: dir), path: "cifar10.1_v6_labels.npy", "expected 1 labels")
    }
}
