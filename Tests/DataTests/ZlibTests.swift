import XCTest
@testable import Data

final class ZlibTests: XCTestCase {
    let text = ascii(String(repeating: "loss landscape ", count: 200))

    func testGunzipsWhatZlibCompressed() throws {
        XCTAssertEqual(try Zlib.decompress(gzipBytes(text), path: "t.gz"), text)
        XCTAssertEqual(try Zlib.decompress(zlibDeflate(text, windowBits: 15), path: "t.z"), text)   // zlib header, auto-detected
    }

    func testLimitReturnsExactlyThePrefix() throws {
        XCTAssertEqual(try Zlib.decompress(gzipBytes(text), path: "t.gz", limit: 17), Array(text.prefix(17)))
    }

    func testConcatenatedMembersAreJoined() throws {
        XCTAssertEqual(try Zlib.decompress(gzipBytes(ascii("ab")) + gzipBytes(ascii("cd")), path: "t.gz"), ascii("abcd"))
    }

    func testRawInflate() throws {
        let raw = zlibDeflate(text, windowBits: -15)
        let out = try raw.withUnsafeBytes { try Zlib.inflateRaw($0, expectedSize: text.count, path: "m") }
        XCTAssertEqual(out, text)
        assertDataError(try raw.withUnsafeBytes { try Zlib.inflateRaw($0, expectedSize: 5, path: "m") }, path: "m", "decompresses to")
    }

    func testOwnCompressorsRoundTrip() throws {
        XCTAssertEqual(try Zlib.decompress(try Zlib.gzip(text), path: "x"), text)
        let raw = try Zlib.deflateRaw(text)
        XCTAssertEqual(try raw.withUnsafeBytes { try Zlib.inflateRaw($0, expectedSize: text.count, path: "x") }, text)
        XCTAssertEqual(Zlib.crc32(ascii("123456789")), 0xCBF4_3926)
    }

    func testTruncatedAndCorruptStreamsAreErrors() {
        let gz = gzipBytes(text)
        assertDataError(try Zlib.decompress(Array(gz.prefix(gz.count / 2)), path: "half.gz"), path: "half.gz", "truncated")
        var bad = gz
        for i in 12 ..< 40 { bad[i] ^= 0x5a }
        assertDataError(try Zlib.decompress(bad, path: "bad.gz"), path: "bad.gz", "corrupt")
        assertDataError(try Zlib.decompress([], path: "empty.gz"), path: "empty.gz")
    }
}
