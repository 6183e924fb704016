import Foundation
import Tensor
import XCTest
@testable import Lang

/// Runs every `.lsc` file under `golden/` and checks it against its annotations:
///
///     print(1 + 2)          # expect: 3
///     x[9]                  # expect error: 4:2 index 9 out of range
///     # expect error-text: usage: zeros(shape)
///
/// `# expect:` lines give the printed lines in order; `# expect error: LINE:COL text` says the
/// script stops with an error at that place whose report contains the text; `# expect
/// error-text:` adds more text the report must contain (a usage line, a call-stack line).
final class GoldenTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden")

    struct Expectations {
        var output: [String] = []
        var error: (line: Int, column: Int, text: String)?
        var errorTexts: [String] = []
    }

    static func expectations(in source: String) -> Expectations {
        var e = Expectations()
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if let r = line.range(of: "# expect: ") {
                e.output.append(String(line[r.upperBound...]))
            } else if line.hasSuffix("# expect:") {
                e.output.append("")
            } else if let r = line.range(of: "# expect error: ") {
                let rest = line[r.upperBound...]
                let parts = rest.split(separator: " ", maxSplits: 1).map(String.init)
                let lc = parts[0].split(separator: ":").compactMap { Int($0) }
                e.error = (lc.first ?? 0, lc.count > 1 ? lc[1] : 0, parts.count > 1 ? parts[1] : "")
            } else if let r = line.range(of: "# expect error-text: ") {
                e.errorTexts.append(String(line[r.upperBound...]))
            }
        }
        return e
    }

    static func goldenFiles() -> [URL] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "lsc" && !$0.path.contains("/lib/") }
            .sorted { $0.path < $1.path }
    }

    /// Runs one golden file; returns the problems found (empty when it passes).
    static func check(_ url: URL) -> [String] {
        guard let source = try? String(contentsOf: url, encoding: .utf8) else { return ["cannot read"] }
        let want = expectations(in: source)
        let interp = Interpreter(arguments: ["a1", "a2"])
        var printed = ""
        interp.output = { printed += $0 }
        GlobalRandom.seed(0)
        var problems: [String] = []
        var thrown: LangError?
        do {
            try interp.run(source, file: url.path)
        } catch let e as LangError {
            thrown = e
        } catch {
            problems.append("unexpected non-language error \(error)")
        }
        var lines = printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if lines != want.output {
            let n = max(lines.count, want.output.count)
            for i in 0..<n {
                let got = i < lines.count ? lines[i] : "<nothing>"
                let exp = i < want.output.count ? want.output[i] : "<nothing>"
                if got != exp {
                    problems.append("output line \(i + 1): expected \(quoteString(exp)), got \(quoteString(got))")
                    break
                }
            }
        }
        switch (want.error, thrown) {
        case (nil, nil): break
        case (nil, let e?): problems.append("unexpected error:\n\(e.rendered())")
        case (let w?, nil): problems.append("expected an error at \(w.line):\(w.column) containing \(quoteString(w.text)), but the script finished")
        case (let w?, let e?):
            let text = e.rendered()
            if e.location?.line != w.line || e.location?.column != w.column || !text.contains(w.text) {
                problems.append("expected an error at \(w.line):\(w.column) containing \(quoteString(w.text)), got:\n\(text)")
            }
            for t in want.errorTexts where !text.contains(t) {
                problems.append("the error report lacks \(quoteString(t)):\n\(text)")
            }
        }
        return problems
    }

    func testGoldenScripts() throws {
        let files = GoldenTests.goldenFiles()
        XCTAssertGreaterThan(files.count, 20, "golden scripts not found under \(GoldenTests.folder.path)")
        // Scripts that write files do it in a scratch directory.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-golden-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(scratch.path)
        defer {
            _ = FileManager.default.changeCurrentDirectoryPath(cwd)
            try? FileManager.default.removeItem(at: scratch)
        }
        var failures = 0
        for url in files {
            let problems = GoldenTests.check(url)
            if !problems.isEmpty {
                failures += 1
                XCTFail("\(url.lastPathComponent):\n" + problems.joined(separator: "\n"))
            }
        }
        print("golden: \(files.count - failures) of \(files.count) scripts pass")
    }
}
