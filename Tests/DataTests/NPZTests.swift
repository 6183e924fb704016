import XCTest
@testable import Data
import Tensor

final class NPZTests: XCTestCase {
    let a = handMadeNPY(descr: "<f4", shape: "(2, 2)", data: f32LE([1, 2, 3, 4]))
    let b = handMadeNPY(descr: "<i8", shape: "(3,)", data: i64LE([7, 8, -9]))

    func testReadsStoredAndDeflatedMembers() throws {
        let dir = try makeTempDir(self)
        for deflate in [false, true] {
            let path = dir + "/x\(deflate).npz"
            try writeBytes(handMadeZip([("a.npy", a, deflate), ("b.npy", b, deflate)]), path)
            let z = try NPZ.read(path)
            XCTAssertEqual(z.names, ["a", "b"])
            XCTAssertEqual(z["a"]?.shape, [2, 2])
            XCTAssertEqual(z["a"]?.scalars, [1, 2, 3, 4])
            XCTAssertEqual(z["b"]?.scalars, [7, 8, -9])
            XCTAssertEqual(z.dtypes["b"], .int64)
        }
        // Mixed methods in one archive.
        try writeBytes(handMadeZip([("a.npy", a, true), ("b.npy", b, false)]), dir + "/m.npz")
        XCTAssertEqual(try NPZ.read(dir + "/m.npz")["b"]?.scalars, [7, 8, -9])
    }

    func testRoundTripsStoredAndCompressed() throws {
        let dir = try makeTempDir(self)
        let bundle = TensorBundle(["w": Tensor([0.5, -0.25, 8], shape: [3, 1]), "n": Tensor([12])], dtypes: ["n": .int64])
        for compressed in [false, true] {
            let path = dir + "/r\(compressed).npz"
            try NPZ.write(bundle, to: path, compressed: compressed)
            let back = try NPZ.read(path)
            XCTAssertEqual(back.names, ["n", "w"])
            XCTAssertEqual(back["w"]?.scalars, [0.5, -0.25, 8])
            XCTAssertEqual(back["w"]?.shape, [3, 1])
            XCTAssertEqual(back.dtypes["n"], .int64)
            XCTAssertEqual(back["n"]?.scalars, [12])
            // The members are exactly the .npy bytes the format defines.
            let bytes = try readBytes(path)
            XCTAssertEqual(Array(bytes.prefix(4)), le32(0x0403_4b50))
            if !compressed {
                let expect = handMadeNPY(descr: "<i8", shape: "(1,)", data: i64LE([12]))
                XCTAssertNotNil(bytes.firstRange(of: expect))
            }
        }
        try NPZ.write(["z": Tensor.zeros([2])], to: dir + "/plain.npz")
        XCTAssertEqual(try NPZ.read(dir + "/plain.npz")["z"]?.scalars, [0, 0])
    }

    func testMalformedArchivesNameTheFile() throws {
        let dir = try makeTempDir(self)
        let good = handMadeZip([("a.npy", a, true)])
        try writeBytes(ascii("this is not a zip file at all, no"), dir + "/nz.npz")
        assertDataError(try NPZ.read(dir + "/nz.npz"), path: "nz.npz", "not a zip")
        try writeBytes(Array(good.prefix(good.count - 10)), dir + "/cut.npz")
        assertDataError(try NPZ.read(dir + "/cut.npz"), path: "cut.npz", "truncated")
        var corrupt = handMadeZip([("a.npy", a, false)])
        corrupt[30 + 5 + 70] ^= 0xff   // a data byte of the stored member
        try writeBytes(corrupt, dir + "/crc.npz")
        assertDataError(try NPZ.read(dir + "/crc.npz"), path: "crc.npz", "CRC")
        let badMember = handMadeZip([("a.npy", ascii("garbage bytes"), false)])
        try writeBytes(badMember, dir + "/member.npz")
        assertDataError(try NPZ.read(dir + "/member.npz"), path: "member.npz", "a.npy", "bad magic")
        var method = handMadeZip([("a.npy", a, false)])
        let cd = method.count - 22 - (46 + 5)
        method[cd + 10] = 12   // bzip2 in the central directory
        try writeBytes(method, dir + "/method.npz")
        assertDataError(try NPZ.read(dir + "/method.npz"), path: "method.npz", "method 12")
    }
}
