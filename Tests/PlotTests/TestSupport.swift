import Foundation
import XCTest
@testable import Plot

/// A fresh folder under the system temp dir, removed when the test ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "losscape-plot-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// Fails the test (never skips it) when gnuplot is missing: a machine without it cannot draw a
/// single plot, and a skipped test would hide that.
func requireGnuplot(file: StaticString = #filePath, line: UInt = #line) throws {
    do {
        _ = try Gnuplot().locate()
    } catch {
        XCTFail("gnuplot is not installed: the Plot tests need it. Install the gnuplot-nox package "
            + "(apt install gnuplot-nox). (\(error))", file: file, line: line)
        throw error
    }
}

/// Checks that `path` is a PNG (8-byte signature, then an IHDR chunk) of exactly `width` × `height`
/// pixels, reading the header bytes directly (independently of `pngSize`).
func assertPNG(_ path: String, width: Int, height: Int, file: StaticString = #filePath, line: UInt = #line) {
    guard let data = FileManager.default.contents(atPath: path) else {
        return XCTFail("no file at \(path)", file: file, line: line)
    }
    let b = [UInt8](data)
    guard b.count > 33 else { return XCTFail("\(path): only \(b.count) bytes", file: file, line: line) }
    XCTAssertEqual(Array(b[0 ..< 8]), [137, 80, 78, 71, 13, 10, 26, 10], "\(path): not a PNG signature", file: file, line: line)
    XCTAssertEqual(Array(b[8 ..< 12]), [0, 0, 0, 13], "\(path): IHDR length", file: file, line: line)
    XCTAssertEqual(String(decoding: b[12 ..< 16], as: UTF8.self), "IHDR", "\(path): first chunk is not IHDR", file: file, line: line)
    let be = { (i: Int) in b[i ..< i + 4].reduce(0) { $0 << 8 | Int($1) } }
    XCTAssertEqual(be(16), width, "\(path): width", file: file, line: line)
    XCTAssertEqual(be(20), height, "\(path): height", file: file, line: line)
    let tail = Array(b.suffix(8))
    XCTAssertEqual(String(decoding: tail[0 ..< 4], as: UTF8.self), "IEND", "\(path): truncated (no IEND)", file: file, line: line)
}

/// The rows of datablock `name` (`$d1`) in a script, each split into numbers (`NaN` stays NaN).
func datablock(_ name: String, in script: String) -> [[Double]]? {
    let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: "\(name) << EOD"),
          let end = lines[start...].firstIndex(of: "EOD") else { return nil }
    return lines[(start + 1) ..< end].map { row in
        row.split(separator: " ").map { Double($0) ?? .nan }
    }
}

/// Whether two number lists are equal, NaN matching NaN.
func sameValues(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

/// Where sample images go when PLOT_SAMPLES names a folder (to look at them); nil otherwise.
func keepSample(_ path: String, as name: String) {
    guard let dir = ProcessInfo.processInfo.environment["PLOT_SAMPLES"] else { return }
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let target = dir + "/" + name
    try? FileManager.default.removeItem(atPath: target)
    try? FileManager.default.copyItem(atPath: path, toPath: target)
}

/// Sample data: a training run of 30 epochs with lr decays at 10 and 20.
enum Sample {
    static let epochs = (0 ... 30).map(Double.init)
    static let trainLoss = epochs.map { 2.3 * exp(-$0 / 6) + 0.05 + ($0 >= 10 ? -0.05 : 0) }
    static let testLoss = epochs.map { 2.3 * exp(-$0 / 7) + 0.3 }
    static let rag = epochs.map { 0.02 + 0.3 * (1 - exp(-$0 / 8)) + ($0 >= 20 ? -0.04 : 0) }
    static let testAcc = epochs.map { 0.1 + 0.8 * (1 - exp(-$0 / 5)) }
    /// A 2-D loss slice with a tilted valley.
    static let gridX = stride(from: -1.0, through: 1.0, by: 0.05).map { $0 }
    static let gridY = stride(from: -1.0, through: 1.0, by: 0.1).map { $0 }
    static let gridZ = gridY.map { y in gridX.map { x in log(1 + 3 * (x - 0.2 * y) * (x - 0.2 * y) + 6 * y * y + 0.3 * sin(4 * x)) } }
}
