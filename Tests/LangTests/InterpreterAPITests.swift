import Tensor
import XCTest
@testable import Lang

/// The API a notebook runner uses: chunks with a file name and line offset in one persistent
/// global scope, output through a sink, the value of a trailing bare expression.
final class InterpreterAPITests: XCTestCase {
    func testChunksShareGlobalsAndReportTheirOwnLines() throws {
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        XCTAssertEqual(try interp.run("x = 2\nprint(x)", file: "nb.lsc", firstLine: 1)?.isNil, true)
        XCTAssertEqual(out, "2\n")
        let v = try interp.run("y = x * 3\ny + 1", file: "nb.lsc", firstLine: 10)
        XCTAssertEqual(v?.repr, "7")
        // Only a *final* bare expression is the chunk's value (as Jupyter shows a cell's).
        XCTAssertNil(try interp.run("1 + 1\nz = 3", file: "nb.lsc", firstLine: 20))
        XCTAssertEqual(try interp.run("nil")?.repr, "nil")
        do {
            try interp.run("a = 1\nb = a + \"s\"", file: "nb.lsc", firstLine: 40)
            XCTFail("expected an error")
        } catch let e as LangError {
            XCTAssertEqual(e.location?.line, 41)
            XCTAssertEqual(e.location?.column, 7)
            XCTAssertEqual(e.location?.fileName, "nb.lsc")
            XCTAssertTrue(e.rendered().hasPrefix("nb.lsc:41:7: error: cannot add number and string"))
        }
        // Variables set before the error survive it.
        XCTAssertEqual(interp.global("a")?.repr, "1")
        XCTAssertEqual(interp.global("y")?.repr, "6")
    }

    func testEchoPrintsBareExpressionsButNotNil() throws {
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("1 + 2\nx = 5\nnil\n\"s\"\nprint(\"p\")\n[x]", echo: true)
        XCTAssertEqual(out, "3\n\"s\"\np\n[5]\n")
    }

    func testRenderedErrorShowsLineAndCaret() {
        let interp = Interpreter()
        do {
            try interp.run("x = 1\nprint(f(1, 2\n", file: "quick.lsc")
            XCTFail("expected a syntax error")
        } catch let e as LangError {
            XCTAssertEqual(e.kind, .syntax)
            XCTAssertFalse(e.isIncomplete == false && e.location == nil)
            XCTAssertEqual(e.rendered(), """
                quick.lsc:2:13: error: expected ')' after arguments
                    print(f(1, 2
                                ^
                """)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testCallStackOfARuntimeError() {
        let interp = Interpreter()
        let src = "fn f(a) {\n    return a + \"x\"\n}\nfn g() {\n  return f(1)\n}\ng()\n"
        do {
            try interp.run(src, file: "quick.lsc")
            XCTFail("expected an error")
        } catch let e as LangError {
            XCTAssertEqual(e.rendered(), """
                quick.lsc:2:14: error: cannot add number and string (use str(x) or format("{}", x) to build text)
                        return a + "x"
                                 ^
                  in f at quick.lsc:2:14
                  in g at quick.lsc:5:10
                  in main chunk at quick.lsc:7:1
                """)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testStepLimitStopsInfiniteLoops() {
        let interp = Interpreter()
        interp.limits.maxSteps = 10_000
        XCTAssertThrowsError(try interp.run("while true { }")) { e in
            XCTAssertTrue((e as? LangError)?.message.contains("step limit") == true)
        }
        XCTAssertThrowsError(try interp.run("fn f() { return f() }\nf()"))
        // The budget is per run: the interpreter stays usable.
        XCTAssertEqual(try interp.run("1 + 1")?.repr, "2")
    }

    func testSizeLimitRefusesHugeAllocations() {
        let interp = Interpreter()
        interp.limits.maxElements = 1000
        XCTAssertThrowsError(try interp.run("zeros([100, 100])"))
        XCTAssertThrowsError(try interp.run("range(1e6)"))
        XCTAssertThrowsError(try interp.run("ones([1000, 1]) + ones([1, 1000])"))
        XCTAssertThrowsError(try interp.run("s = \"ab\"\nfor i in 0..20 { s = s + s }"))
        XCTAssertEqual(try interp.run("len(zeros([10, 10]))")?.repr, "10")
    }

    func testCtrlCInterruptsARunningLoopAndKeepsVariables() {
        let interp = Interpreter()
        _ = try? interp.run("kept = 42")
        Cancellation.request()
        defer { Cancellation.clear() }
        XCTAssertThrowsError(try interp.run("i = 0\nwhile true { i += 1 }")) { e in
            XCTAssertEqual((e as? LangError)?.kind, .interrupted)
        }
        Cancellation.clear()
        XCTAssertEqual(interp.global("kept")?.repr, "42")
        XCTAssertEqual(try interp.run("kept + 1")?.repr, "43")
    }

    func testDeepRecursionIsAnErrorNotACrash() {
        let interp = Interpreter()
        XCTAssertThrowsError(try interp.run("fn f(n) { return f(n + 1) + 1 }\nf(0)")) { e in
            XCTAssertTrue((e as? LangError)?.message.contains("stack overflow") == true)
        }
        // 150 nested calls are fine.
        XCTAssertEqual(try interp.run("fn d(n) { if n == 0 { return 0 }\n return d(n - 1) + 1 }\nd(150)")?.repr, "150")
        // A deeply nested value (built by a loop, beyond the parser's nesting limit) prints, compares and frees.
        XCTAssertNoThrow(try interp.run("x = []\nfor i in 0..100000 { x = [x] }\ns = str(x)\ny = copy(x, deep: false)\nx = nil\ny = nil"))
        XCTAssertThrowsError(try interp.run("a = []\nb = []\nfor i in 0..500 { a = [a]\n b = [b] }\na == b"))
    }

    func testCallFramesBeyondTheSlotStackAndAfterErrors() throws {
        let interp = Interpreter()
        interp.limits.maxCallDepth = 400
        // 250 frames of 41 slots outgrow the slot stack: the deepest come from the heap.
        let locals = (0..<40).map { "v\($0)" }
        let deep = """
            fn deep(n) {
              \(locals.map { "\($0) = n" }.joined(separator: "; "))
              if n == 0 { return 0 }
              return deep(n - 1) + v0 - v39 + 1
            }
            deep(250)
            """
        XCTAssertEqual(try interp.run(deep)?.repr, "250")
        XCTAssertEqual(interp.slotTop, 0)
        // An error deep inside gives every frame back, and the locals of a closure's maker survive.
        XCTAssertThrowsError(try interp.run("fn bad(n) { x = n\n if n == 0 { return nil + 1 }\n return bad(n - 1) }\nbad(50)"))
        XCTAssertEqual(interp.slotTop, 0)
        try interp.run("fn make(n) { total = n\n return fn(d) { total += d\n return total } }\nacc = make(10)")
        XCTAssertEqual(try interp.run("acc(1)\nacc(2)")?.repr, "13")
        XCTAssertThrowsError(try interp.run("bad(0, 1)")) { e in
            XCTAssertEqual((e as? LangError)?.message, "bad takes 1 argument, got 2")
        }
        XCTAssertEqual(interp.slotTop, 0)
    }

    func testCallingFunctionValuesFromSwift() throws {
        let interp = Interpreter()
        try interp.run("fn scale(x, by: 2) { return x * by }")
        let f = try XCTUnwrap(interp.global("scale"))
        XCTAssertEqual(try interp.call(f, [.number(5)]).repr, "10")
        XCTAssertEqual(try interp.call(f, [.number(5)], keywords: [("by", .number(3))]).repr, "15")
    }

    func testRegisteringABuiltin() throws {
        let registry = Builtins.standard()
        registry.register("twice", topic: "extra", params: [.required("x", .number)], returns: "number",
                          doc: "Doubles x.", example: "twice(2)") { a in .number(try a.number("x") * 2) }
        let interp = Interpreter(builtins: registry)
        XCTAssertEqual(try interp.run("twice(21)")?.repr, "42")
        XCTAssertTrue(registry.index().contains("extra:"))
        XCTAssertThrowsError(try interp.run("twice(\"a\")")) { e in
            XCTAssertTrue((e as? LangError)?.rendered().contains("usage: twice(x)") == true)
        }
    }

    func testArgsAndObjects() throws {
        final class Box: LangObject {
            var typeName: String { "box" }
            var description: String { "Box(3)" }
            func field(_ name: String) -> Value? { name == "size" ? .number(3) : nil }
            var fieldNames: [String] { ["size"] }
            var length: Int? { 3 }
        }
        let interp = Interpreter(arguments: ["--lr", "0.1"])
        XCTAssertEqual(try interp.run("args")?.repr, "[\"--lr\", \"0.1\"]")
        interp.setGlobal("b", .object(Box()))
        XCTAssertEqual(try interp.run("[b.size, len(b), type(b), str(b), keys(b)]")?.repr, "[3, 3, \"box\", \"Box(3)\", [\"size\"]]")
        XCTAssertThrowsError(try interp.run("b.sise")) { e in
            XCTAssertTrue((e as? LangError)?.message.contains("did you mean 'size'") == true)
        }
    }

    func testNumberFormatting() {
        XCTAssertEqual(formatNumber(3), "3")
        XCTAssertEqual(formatNumber(-0.25), "-0.25")
        XCTAssertEqual(formatNumber(1e-5), "1e-05")
        XCTAssertEqual(formatNumber(123456789012), "123456789012")
        XCTAssertEqual(formatNumber(.nan), "nan")
        for d in [0.1, 1.0 / 3, 2.5e-300, 6.02e23, 1e16, 12345.6789] {
            XCTAssertEqual(Double(formatNumber(d)), d)
        }
    }
}
