import XCTest
@testable import Data
import Tensor

final class NPYTests: XCTestCase {
    func testReadsHandMadeV1AndV2Files() throws {
        let dir = try makeTempDir(self)
        try writeBytes(handMadeNPY(descr: "<f4", shape: "(2, 3)", data: f32LE([1, -2, 3.5, 0, 1e-3, 7])), dir + "/a.npy")
        let a = try NPY.read(dir + "/a.npy")
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.dtype, .float32)
        XCTAssertEqual(a.tensor.scalars, [1, -2, 3.5, 0, 1e-3, 7])
        try writeBytes(handMadeNPY(descr: "<f8", shape: "(3,)", data: f64LE([0.5, -1, 1e10]), version: 2), dir + "/b.npy")
        let b = try NPY.read(dir + "/b.npy")
        XCTAssertEqual(b.dtype, .float64)
        XCTAssertEqual(b.tensor.scalars, [0.5, -1, 1e10])
        try writeBytes(handMadeNPY(descr: "<i8", shape: "(2, 1)", data: i64LE([-5, 1 << 20])), dir + "/c.npy")
        XCTAssertEqual(try NPY.read(dir + "/c.npy").tensor.scalars, [-5, 1_048_576])
        XCTAssertEqual(try NPY.read(dir + "/c.npy").shape, [2, 1])
    }

    func testEveryListedDtype() throws {
        let cases: [(String, [UInt8], [Float], DType)] = [
            ("|u1", [0, 7, 255], [0, 7, 255], .uint8),
            ("<i4", i32LE([-3, 0, 100_000]), [-3, 0, 100_000], .int32),
            ("|b1", [1, 0, 1], [1, 0, 1], .bool),
            ("<f2", [0x00, 0x3c, 0x00, 0xc0, 0x00, 0x35], [1, -2, 0.3125], .float16),   // 0x3c00, 0xc000, 0x3500
            ("|i1", [0xff, 0x80, 0x05], [-1, -128, 5], .int8),
            ("<u2", [0xff, 0xff, 0x01, 0x00, 0x00, 0x01], [65535, 1, 256], .uint16),
            (">i4", [0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0, 0, 0, 0, 1], [-2, 256, 1], .int32),   // big-endian
        ]
        for (descr, data, values, dtype) in cases {
            let a = try NPY.decode(handMadeNPY(descr: descr, shape: "(3,)", data: data), path: descr)
            XCTAssertEqual(a.tensor.scalars, values, descr)
            XCTAssertEqual(a.dtype, dtype, descr)
        }
        let scalar = try NPY.decode(handMadeNPY(descr: "<f4", shape: "()", data: f32LE([4])), path: "s")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.tensor.scalars, [4])
        let empty = try NPY.decode(handMadeNPY(descr: "<f4", shape: "(0, 5)", data: []), path: "e")
        XCTAssertEqual(empty.shape, [0, 5])
    }

    func testWriterMatchesTheFormatByteForByte() throws {
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let bytes = try NPY.encode(t)
        XCTAssertEqual(bytes, handMadeNPY(descr: "<f4", shape: "(3, 2)", data: f32LE([1, 2, 3, 4, 5, 6])))
        XCTAssertEqual(try NPY.encode(Tensor([7])), handMadeNPY(descr: "<f4", shape: "(1,)", data: f32LE([7])))
        XCTAssertEqual(bytes.count % 64, 24 % 64)   // header padded to 64, then 24 data bytes
    }

    func testRoundTripsThroughFiles() throws {
        let dir = try makeTempDir(self)
        let t = Tensor([0.25, -1, 3, 1e-7], shape: [2, 2])
        try NPY.write(t, to: dir + "/t.npy")
        XCTAssertEqual(try NPY.read(dir + "/t.npy").tensor.scalars, t.scalars)
        try NPY.write(Tensor([3, -4, 5]), to: dir + "/i.npy", dtype: .int64)
        let back = try NPY.read(dir + "/i.npy")
        XCTAssertEqual(back.dtype, .int64)
        XCTAssertEqual(back.tensor.scalars, [3, -4, 5])
        for dtype in [DType.float64, .float16, .int32, .uint8, .bool, .int8] {
            let v: [Float] = dtype == .bool ? [0, 1, 1] : [0, 1, 2]
            try NPY.write(Tensor(v), to: dir + "/d.npy", dtype: dtype)
            XCTAssertEqual(try NPY.read(dir + "/d.npy").tensor.scalars, v)
            XCTAssertEqual(try NPY.read(dir + "/d.npy").dtype, dtype)
        }
        assertDataError(try NPY.write(Tensor([0.5]), to: dir + "/x.npy", dtype: .int64), path: "x.npy", "0.5", "I64")
        assertDataError(try NPY.write(Tensor([1]), to: dir + "/x.npy", dtype: .bfloat16), path: "x.npy", "NumPy")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.npy"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testLargeHeaderSwitchesToVersion2() throws {
        let t = Tensor.zeros(Array(repeating: 1, count: 25000))   // "1, " × 25000 > 65535 header bytes
        let bytes = try NPY.encode(t)
        XCTAssertEqual(bytes[6], 2)
        XCTAssertEqual(bytes.count % 64, 4)
        XCTAssertEqual(try NPY.decode(bytes, path: "v2").shape.count, 25000)
        XCTAssertEqual(try NPY.encode(Tensor.zeros([2]))[6], 1)
    }

    func testMalformedFilesNameTheFile() throws {
        let dir = try makeTempDir(self)
        func check(_ bytes: [UInt8], _ words: String...) throws {
            let path = dir + "/bad\(UUID().uuidString.prefix(6)).npy"
            try writeBytes(bytes, path)
            do { _ = try NPY.read(path); XCTFail("\(words) accepted") } catch let e as DataError {
                XCTAssertEqual(e.path, path)
                for w in words { XCTAssertTrue(e.message.contains(w), "\(e) lacks \(w)") }
            }
        }
        let good = handMadeNPY(descr: "<f4", shape: "(4,)", data: f32LE([1, 2, 3, 4]))
        try check(Array(good.prefix(good.count - 3)), "truncated")
        try check(Array(good.prefix(8)), "truncated")
        try check(ascii("NOTNUMPYATALL"), "bad magic")
        try check(handMadeNPY(descr: "<f4", shape: "(2, 2)", fortran: true, data: f32LE([1, 2, 3, 4])), "fortran_order")
        try check(handMadeNPY(descr: "<c8", shape: "(1,)", data: f32LE([1, 2])), "unsupported dtype", "<c8")
        try check(handMadeNPY(descr: "<U5", shape: "(1,)", data: []), "unsupported dtype")
        try check([0x93] + ascii("NUMPY") + [1, 0] + le16(10) + ascii("not a dict"), "bad header")
        try check([0x93] + ascii("NUMPY") + [1, 0] + le16(500) + ascii("{}"), "truncated")
        try check([0x93] + ascii("NUMPY") + [9, 0] + le16(2) + ascii("{}"), "version")
        try check(handMadeNPY(descr: "<f4", shape: "(9999999999, 9999999999, 9999999999)", data: []), "shape")
        assertDataError(try NPY.read(dir + "/none.npy"), path: "none.npy", "No such file")
    }
}
