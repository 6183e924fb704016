import Foundation
import Tensor
import XCTest
@testable import Lang

final class BuiltinRegistryTests: XCTestCase {
    /// The names the issue and DESIGN.md fix.
    static let required = ["print", "format", "table", "write_csv", "write_json", "seed", "time", "len", "range", "map",
                           "keys", "copy", "type", "str", "num", "append", "push", "help", "tensor", "zeros", "ones",
                           "randn", "rand", "arange", "shape", "reshape", "sum", "mean", "max", "argmax", "exp", "log",
                           "sqrt", "abs", "norm", "dot", "item", "load", "save"]

    func testRequiredNamesAreRegistered() {
        let r = Builtins.standard()
        for n in BuiltinRegistryTests.required { XCTAssertNotNil(r[n], n) }
    }

    /// Every builtin's help example runs (in a scratch directory: some write files).
    func testEveryExampleRuns() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-examples-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(scratch.path)
        defer {
            _ = FileManager.default.changeCurrentDirectoryPath(cwd)
            try? FileManager.default.removeItem(at: scratch)
        }
        for b in Builtins.standard().all {
            let interp = Interpreter()
            var out = ""
            interp.output = { out += $0 }
            XCTAssertFalse(b.doc.isEmpty, b.name)
            XCTAssertFalse(b.example.isEmpty, b.name)
            do {
                try interp.run(b.example, file: "help(\(b.name))", echo: true)
            } catch {
                XCTFail("example of \(b.name) fails:\n\(error)")
            }
        }
    }

    func testHelpListsByTopicAndShowsOne() throws {
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("help()")
        XCTAssertTrue(out.hasPrefix("Builtins by topic"))
        for topic in ["general:", "tensors:", "files:", "math:"] { XCTAssertTrue(out.contains(topic), topic) }
        out = ""
        try interp.run("help(randn)")
        XCTAssertTrue(out.hasPrefix("randn(shape, seed: nil) → tensor\n"), out)
        XCTAssertTrue(out.contains("example: randn([2, 3], seed: 1)"))
        out = ""
        try interp.run("help(\"rand\")")
        XCTAssertTrue(out.hasPrefix("rand(shape, low: 0, high: 1, seed: nil)"))
        out = ""
        try interp.run("fn f(a, b: 2) { }\nhelp(f)")
        XCTAssertTrue(out.hasPrefix("fn f(a, b: 2)\n"))
        XCTAssertThrowsError(try interp.run("help(\"pritn\")")) { e in
            XCTAssertTrue((e as? LangError)?.message.contains("did you mean 'print'") == true)
        }
    }

    func testMarkdownReferenceCoversEveryBuiltin() {
        let r = Builtins.standard()
        let md = r.markdown()
        XCTAssertTrue(md.hasPrefix("## Builtin reference"))
        for b in r.all { XCTAssertTrue(md.contains("#### `\(b.signature)`"), b.name) }
    }

    func testArgumentBinding() throws {
        let interp = Interpreter()
        // positional and keyword both fill parameters
        XCTAssertEqual(try interp.run("shape(rand([2, 3], 0, 1, 5))")?.repr, "[2, 3]")
        XCTAssertEqual(try interp.run("shape(rand(shape: [4], seed: 5))")?.repr, "[4]")
        func message(_ s: String) -> String {
            do { try interp.run(s); return "" } catch { return (error as? LangError)?.rendered() ?? "" }
        }
        XCTAssertTrue(message("zeros()").contains("zeros: missing argument 'shape'"))
        XCTAssertTrue(message("zeros([2], [3])").contains("zeros takes at most 1 positional argument, got 2"))
        XCTAssertTrue(message("zeros([2], size: 3)").contains("zeros has no parameter 'size'"))
        XCTAssertTrue(message("zeros([2.5])").contains("zeros: argument 'shape' must be a shape"))
        XCTAssertTrue(message("zeros([-1])").contains("negative dimension"))
        XCTAssertTrue(message("print(1, sep: 2)").contains("print: argument 'sep' must be a string, got the number 2"))
        XCTAssertTrue(message("sum(\"x\")").contains("usage: sum(x, axis: nil, keepdims: false)"))
    }

    func testFormatSpecs() throws {
        let cases: [(String, [Value], String)] = [
            ("{}", [.number(0.5)], "0.5"),
            ("{:.2f}", [.number(2.0 / 3)], "0.67"),
            ("{:8.3f}|", [.number(3.14159)], "   3.142|"),
            ("{:<6}|", [.string("ab")], "ab    |"),
            ("{:^7}", [.string("mid")], "  mid  "),
            ("{:e}", [.number(1234.5)], "1.234500e+03"),
            ("{:.0%}", [.number(0.5)], "50%"),
            ("{:,}", [.number(1234567)], "1,234,567"),
            ("{:d}", [.number(42)], "42"),
            ("{:.3}", [.string("abcdef")], "abc"),
            ("{:+.1f}", [.number(2)], "+2.0"),
            ("{:06.2f}", [.number(-1.5)], "-01.50"),
        ]
        for (t, args, want) in cases {
            XCTAssertEqual(try TextFormat.format(t, args), want, t)
        }
        XCTAssertThrowsError(try TextFormat.format("{:d}", [.number(1.5)]))
        XCTAssertThrowsError(try TextFormat.format("{:q}", [.number(1)]))
        XCTAssertThrowsError(try TextFormat.format("{:99999}", [.number(1)]))
        XCTAssertThrowsError(try TextFormat.format("{", []))
    }

    func testWriteCSVAndJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-csv-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let interp = Interpreter()
        let csv = dir.appendingPathComponent("h.csv").path, json = dir.appendingPathComponent("h.json").path
        try interp.run("""
            write_csv("\(csv)", [{name: "a,b", acc: 0.5}, {name: "q\\"t", loss: 1e-05}])
            write_json("\(json)", {xs: [1, 2.5, nil], ok: true, t: tensor([[1, 2]]), s: "a\\nb", inf: 1 / 0})
            """)
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8), "name,acc,loss\n\"a,b\",0.5,\n\"q\"\"t\",,1e-05\n")
        XCTAssertEqual(try String(contentsOfFile: json, encoding: .utf8),
                       "{\"xs\": [1, 2.5, null], \"ok\": true, \"t\": [[1, 2]], \"s\": \"a\\nb\", \"inf\": null}\n")
        let interp2 = Interpreter()
        interp2.limits.allowFiles = false
        XCTAssertThrowsError(try interp2.run("write_json(\"\(json)\", 1)"))
        XCTAssertThrowsError(try interp2.run("import \"\(json)\""))
    }
}
