import Foundation
import XCTest
@testable import Data
import Tensor

/// Every reader, fed seeded truncations and byte flips of a valid file, either reads something or
/// throws a DataError naming the file: never a crash, never another error type.
final class CorruptionTests: XCTestCase {
    /// 150 per format; `DATA_FUZZ=n` in the environment runs n (a longer soak).
    func mutations(of good: [UInt8], seed: UInt64) -> [[UInt8]] {
        let count = ProcessInfo.processInfo.environment["DATA_FUZZ"].flatMap { Int($0) } ?? 150
        var rng = RandomGenerator(seed: seed)
        return (0 ..< count).map { k in
            var b = good
            if k % 3 == 0 { return Array(b.prefix(rng.int(below: b.count))) }
            for _ in 0 ... rng.int(below: 4) { b[rng.int(below: b.count)] = UInt8(rng.int(below: 256)) }
            return b
        }
    }

    func survive(_ good: [UInt8], name: String, seed: UInt64, read: (String) throws -> Void) throws {
        let dir = try makeTempDir(self)
        let path = dir + "/" + name
        for bytes in mutations(of: good, seed: seed) {
            try writeBytes(bytes, path)
            do { try read(path) } catch let e as DataError {
                XCTAssertTrue(e.path.hasPrefix(path), "\(e) does not name \(path)")
            } catch {
                XCTFail("\(name): \(type(of: error)) instead of DataError: \(error)")
            }
        }
    }

    func testReadersSurviveCorruptInput() throws {
        let npy = handMadeNPY(descr: "<f4", shape: "(2, 3)", data: f32LE([1, 2, 3, 4, 5, 6]))
        try survive(npy, name: "a.npy", seed: 1) { _ = try NPY.read($0) }
        let npz = handMadeZip([("a.npy", npy, true), ("b.npy", npy, false)])
        try survive(npz, name: "a.npz", seed: 2) { _ = try NPZ.read($0) }
        let st = handMadeSafetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                     + "\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}}", f32LE([1, 2]) + i64LE([3]))
        try survive(st, name: "a.safetensors", seed: 3) { _ = try Safetensors.read($0) }
        let idx = idxImages((0 ..< 48).map { UInt8($0) }, n: 3, rows: 4, cols: 4)
        try survive(idx, name: "i-idx3-ubyte", seed: 4) { _ = try IDX.read($0) }
        try survive(gzipBytes(idx), name: "i-idx3-ubyte.gz", seed: 5) { _ = try IDX.read($0, limit: 2) }
    }
}
