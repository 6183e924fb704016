import CZlib
import Foundation
import XCTest
@testable import Data
import Tensor

/// A fresh directory under the system temp dir, removed when the test case ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "losscape-data-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

func writeBytes(_ bytes: [UInt8], _ path: String) throws {
    try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
}

// Byte builders, written from the formats' definitions (independent of the readers and writers).
func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
func le32(_ v: Int) -> [UInt8] { (0 ..< 4).map { UInt8((v >> (8 * $0)) & 0xff) } }
func le64(_ v: UInt64) -> [UInt8] { (0 ..< 8).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
func be32(_ v: Int) -> [UInt8] { (0 ..< 4).reversed().map { UInt8((v >> (8 * $0)) & 0xff) } }
func f32LE(_ values: [Float]) -> [UInt8] { values.flatMap { le32(Int($0.bitPattern)) } }
func f64LE(_ values: [Double]) -> [UInt8] { values.flatMap { le64($0.bitPattern) } }
func i64LE(_ values: [Int64]) -> [UInt8] { values.flatMap { le64(UInt64(bitPattern: $0)) } }
func i32LE(_ values: [Int32]) -> [UInt8] { values.flatMap { le32(Int(UInt32(bitPattern: $0))) } }
func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

/// zlib's deflate called directly (not through the Data layer): windowBits 15+16 = gzip, −15 = raw.
func zlibDeflate(_ input: [UInt8], windowBits: Int32) -> [UInt8] {
    var s = z_stream()
    precondition(deflateInit2_(&s, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                               Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { deflateEnd(&s) }
    var input = input
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, UInt(input.count))) + 64)
    let produced = input.withUnsafeMutableBufferPointer { inBuf in
        out.withUnsafeMutableBufferPointer { outBuf in
            s.next_in = inBuf.baseAddress
            s.avail_in = UInt32(inBuf.count)
            s.next_out = outBuf.baseAddress
            s.avail_out = UInt32(outBuf.count)
            precondition(deflate(&s, Z_FINISH) == Z_STREAM_END)
            return outBuf.count - Int(s.avail_out)
        }
    }
    return Array(out[0 ..< produced])
}

func gzipBytes(_ input: [UInt8]) -> [UInt8] { zlibDeflate(input, windowBits: 15 + 16) }

func crc(_ input: [UInt8]) -> Int {
    var input = input
    return input.withUnsafeMutableBufferPointer { Int(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
}

/// A zip archive built field by field (PKWARE APPNOTE 4.3): local headers, central directory, EOCD.
func handMadeZip(_ members: [(name: String, data: [UInt8], deflate: Bool)]) -> [UInt8] {
    var out: [UInt8] = [], central: [UInt8] = []
    for m in members {
        let payload = m.deflate ? zlibDeflate(m.data, windowBits: -15) : m.data
        let name = ascii(m.name), method = m.deflate ? 8 : 0, c = crc(m.data), offset = out.count
        out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21)
        out += le32(c) + le32(payload.count) + le32(m.data.count) + le16(name.count) + le16(0) + name + payload
        central += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21)
        central += le32(c) + le32(payload.count) + le32(m.data.count) + le16(name.count) + le16(0) + le16(0)
        central += le16(0) + le16(0) + le32(0) + le32(offset) + name
    }
    let cdOffset = out.count
    out += central
    out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
    out += le32(central.count) + le32(cdOffset) + le16(0)
    return out
}

/// An .npy file built by hand: version 1 (u16 header length) or 2 (u32), header padded with spaces
/// and a newline so the data starts at a multiple of 64.
func handMadeNPY(descr: String, shape: String, fortran: Bool = false, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var header = ascii("{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }")
    let prefix = version == 1 ? 10 : 12
    let total = (prefix + header.count + 1 + 63) / 64 * 64
    header += [UInt8](repeating: 0x20, count: total - prefix - header.count - 1) + [0x0a]
    let length = version == 1 ? le16(header.count) : le32(header.count)
    return [0x93] + ascii("NUMPY") + [version, 0] + length + header + data
}

/// Asserts that `body` throws a DataError whose path contains `path` and whose text contains each of `words`.
func assertDataError<T>(_ body: @autoclosure () throws -> T, path: String, _ words: String...,
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a DataError naming \(path)", file: file, line: line)
    } catch let e as DataError {
        XCTAssertTrue(e.path.contains(path), "error \"\(e)\" does not name \(path)", file: file, line: line)
        for w in words {
            XCTAssertTrue(e.description.contains(w), "error \"\(e)\" does not mention \"\(w)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a DataError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}
