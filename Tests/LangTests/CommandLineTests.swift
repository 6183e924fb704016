import Foundation
import XCTest

/// Drives the built `losscape` binary: `-e`, scripts with arguments, piped stdin, exit codes.
final class CommandLineTests: XCTestCase {
    struct Result {
        let status: Int32
        let out: String
        let err: String
    }

    static var binary: URL? {
        var dirs: [URL] = []
        if let first = CommandLine.arguments.first { dirs.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        dirs.append(Bundle.main.bundleURL)
        dirs.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for d in dirs {
            let candidate = d.appendingPathComponent("losscape")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    func run(_ args: [String], stdin: String = "", environment: [String: String] = [:]) throws -> Result {
        let bin = try XCTUnwrap(CommandLineTests.binary, "the losscape binary is not beside the test bundle")
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let input = Pipe(), output = Pipe(), error = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = error
        try p.run()
        input.fileHandleForWriting.write(stdin.data(using: .utf8) ?? .init())
        try input.fileHandleForWriting.close()
        let o = output.fileHandleForReading.readDataToEndOfFile()
        let e = error.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func testEvaluateOption() throws {
        let r = try run(["-e", "print(1 + 2)\nx = 5\nx"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out, "3\n", "scripts print only what print prints")
        let args = try run(["-e", "print(args)", "one", "two"])
        XCTAssertEqual(args.out, "[\"one\", \"two\"]\n")
    }

    func testScriptFileWithArguments() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("quick.lsc")
        try "import \"lib.lsc\"\nprint(greet(args[0]), len(args))\n".write(to: script, atomically: true, encoding: .utf8)
        try "fn greet(n) { return \"hi \" + n }\n".write(to: dir.appendingPathComponent("lib.lsc"), atomically: true, encoding: .utf8)
        let r = try run([script.path, "ana", "--flag"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "hi ana 2\n")
    }

    func testPipedStatementsEchoBareExpressions() throws {
        let r = try run([], stdin: "x = 3\nx + 1\nfn f(y) {\n\n  return y * 2\n}\nf(x)\nprint(\"p\")\nnil\n\"s\"\n")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "4\n6\np\n\"s\"\n")
    }

    func testExitCodes() throws {
        let runtime = try run(["-e", "print(\"before\")\nx = 1 + \"a\"\nprint(\"after\")"])
        XCTAssertEqual(runtime.status, 1)
        XCTAssertEqual(runtime.out, "before\n")
        XCTAssertTrue(runtime.err.contains("<-e>:2:7: error: cannot add number and string"), runtime.err)

        let syntax = try run(["-e", "print(1,"])
        XCTAssertEqual(syntax.status, 2)
        XCTAssertTrue(syntax.err.contains("error: expected an expression"), syntax.err)

        let piped = try run([], stdin: "print(1)\nundefined_thing\nprint(2)\n")
        XCTAssertEqual(piped.status, 1)
        XCTAssertEqual(piped.out, "1\n")

        let pipedSyntax = try run([], stdin: "print(1)\nx = (1 +\n")
        XCTAssertEqual(pipedSyntax.status, 2)

        XCTAssertEqual(try run(["--no-such-option"]).status, 2)
        XCTAssertEqual(try run(["/no/such/file.lsc"]).status, 2)
        XCTAssertEqual(try run(["--seed"]).status, 2)
        let help = try run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.out.contains("usage: losscape"))
    }

    func testOptions() throws {
        let a = try run(["--seed", "7", "--threads", "1", "--quiet", "-e", "print(rand([2]))"])
        let b = try run(["-e", "seed(7)\nprint(rand([2]))"])
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertEqual(a.out, b.out)
        let md = try run(["--builtins-markdown"])
        XCTAssertEqual(md.status, 0)
        XCTAssertTrue(md.out.hasPrefix("## Builtin reference"))
        XCTAssertTrue(md.out.contains("#### `zeros(shape)`"))
    }
}
