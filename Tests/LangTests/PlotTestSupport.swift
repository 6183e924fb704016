import Foundation
import XCTest

/// Shared by the plot builtin, notebook and quickstart tests: temp folders, the gnuplot check,
/// PNG headers and the built `losscape` binary.
enum PlotTestSupport {
    /// A fresh folder under the system temp dir, removed when the test ends.
    static func tempDir(_ test: XCTestCase, _ name: String = "lsc-plot") throws -> String {
        let dir = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Fails (never skips) when gnuplot is missing: without it no plot can be drawn, and a skipped
    /// test would hide that.
    static func requireGnuplot(file: StaticString = #filePath, line: UInt = #line) throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        if dirs.contains(where: { FileManager.default.isExecutableFile(atPath: $0 + "/gnuplot") }) { return }
        XCTFail("gnuplot is not installed: the plot builtins and notebooks need it. Install the gnuplot-nox "
            + "package (apt install gnuplot-nox; scripts/test installs it).", file: file, line: line)
        throw GnuplotMissing()
    }

    struct GnuplotMissing: Error, CustomStringConvertible {
        var description: String { "gnuplot is not installed (install gnuplot-nox)" }
    }

    /// The width and height in a PNG's IHDR chunk (after checking the signature and the IEND at the
    /// end), or nil with a test failure.
    @discardableResult
    static func assertPNG(_ path: String, width: Int? = nil, height: Int? = nil,
                          file: StaticString = #filePath, line: UInt = #line) -> (Int, Int)? {
        guard let data = FileManager.default.contents(atPath: path) else {
            XCTFail("no file at \(path)", file: file, line: line)
            return nil
        }
        let b = [UInt8](data)
        guard b.count > 40, Array(b[0 ..< 8]) == [137, 80, 78, 71, 13, 10, 26, 10],
              String(decoding: b[12 ..< 16], as: UTF8.self) == "IHDR" else {
            XCTFail("\(path) is not a PNG (bad signature or no IHDR)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(String(decoding: b[(b.count - 8) ..< (b.count - 4)], as: UTF8.self), "IEND",
                       "\(path) is truncated", file: file, line: line)
        let be = { (i: Int) in b[i ..< i + 4].reduce(0) { $0 << 8 | Int($1) } }
        let size = (be(16), be(20))
        if let width { XCTAssertEqual(size.0, width, "\(path): width", file: file, line: line) }
        if let height { XCTAssertEqual(size.1, height, "\(path): height", file: file, line: line) }
        return size
    }

    /// The repository root (this file is Tests/LangTests/…).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Run {
        let status: Int32
        let out: String
        let err: String
    }

    /// Runs the built `losscape` binary (beside the test bundle).
    static func losscape(_ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Run {
        let bin = try XCTUnwrap(CommandLineTests.binary, "the losscape binary is not beside the test bundle")
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let output = Pipe(), error = Pipe()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = output
        p.standardError = error
        try p.run()
        // Read both pipes concurrently: a chatty stderr must not block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errData = Box()
        let group = DispatchGroup()
        let errHandle = error.fileHandleForReading
        DispatchQueue.global().async(group: group) { errData.data = errHandle.readDataToEndOfFile() }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                   err: String(decoding: errData.data, as: UTF8.self))
    }

    /// The image links of a Markdown report, in order.
    static func imageLinks(_ markdown: String) -> [String] {
        markdown.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("!["), let open = line.range(of: "]("), line.hasSuffix(")") else { return nil }
            return String(line[open.upperBound ..< line.index(before: line.endIndex)])
        }
    }
}
