import XCTest
@testable import Lang

final class LexerParserTests: XCTestCase {
    private func kinds(_ s: String) throws -> [TokenKind] {
        try Lexer.tokenize(s, fileID: SourceRegistry.add(name: "t", text: s, firstLine: 1)).map(\.kind)
    }

    private func tokens(_ s: String) throws -> [Token] {
        try Lexer.tokenize(s, fileID: SourceRegistry.add(name: "t", text: s, firstLine: 1))
    }

    func testNumbersAndRanges() throws {
        XCTAssertEqual(try kinds("1..3"), [.number, .dotDot, .number, .eof])
        let t = try tokens("1.5e-3 2E2 1_000 7")
        XCTAssertEqual(t.map(\.number).prefix(4), [0.0015, 200, 1000, 7])
        XCTAssertEqual(try kinds("x.y"), [.identifier, .dot, .identifier, .eof])
        XCTAssertThrowsError(try kinds("3abc"))
    }

    func testStringsAndEscapes() throws {
        let t = try tokens(#""a\tb\n\"q\" \u{41}" 'single'"#)
        XCTAssertEqual(t[0].text, "a\tb\n\"q\" A")
        XCTAssertEqual(t[1].text, "single")
        XCTAssertThrowsError(try tokens(#""bad \q escape""#))
        XCTAssertThrowsError(try tokens("\"open"))
    }

    func testOperatorsKeywordsComments() throws {
        XCTAssertEqual(try kinds("a += 1 # comment\nb != c"),
                       [.identifier, .plusEqual, .number, .newline, .identifier, .bangEqual, .identifier, .eof])
        XCTAssertEqual(try kinds("fn if else while for in return break continue and or not true false nil import"),
                       [.kwFn, .kwIf, .kwElse, .kwWhile, .kwFor, .kwIn, .kwReturn, .kwBreak, .kwContinue, .kwAnd, .kwOr,
                        .kwNot, .kwTrue, .kwFalse, .kwNil, .kwImport, .eof])
    }

    func testLocationsCountColumnsInCharacters() throws {
        let t = try tokens("s = \"±\" + x\n  y")
        let x = t.first { $0.kind == .identifier && $0.text == "x" }
        XCTAssertEqual(x?.location.column, 11)
        let y = t.first { $0.text == "y" }
        XCTAssertEqual(y?.location.line, 2)
        XCTAssertEqual(y?.location.column, 3)
    }

    func testEOFSitsAfterTheLastToken() throws {
        let t = try tokens("f(1\n\n")
        XCTAssertEqual(t.last?.kind, .eof)
        XCTAssertEqual(t.last?.location.line, 1)
        XCTAssertEqual(t.last?.location.column, 4)
    }

    private func status(_ s: String) -> String {
        switch Interpreter.check(s) {
        case .complete: "complete"
        case .incomplete: "incomplete"
        case .error: "error"
        }
    }

    func testIncompleteInputIsDistinct() {
        for s in ["foo(", "foo(1,", "[1, 2", "{a: 1,", "if x {", "if x {\n  y = 1", "fn f(a,", "fn f() {",
                  "x = 1 +", "x =", "fn (", "if { }", "while true {\n", "a and", "for i in 0..3 {", "x = (1 +\n 2", "r = {\n",
                  "map(xs, fn(x) {\n return x"] {
            XCTAssertEqual(status(s), "incomplete", s)
        }
        for s in ["x = )", "\"abc", "foo(1 2)", "1 +* 2", "}", "fn 3", "if x }", "x = 1 ]"] {
            XCTAssertEqual(status(s), "error", s)
        }
        for s in ["x = 1", "fn f() { return 1 }", "if x { } else { }", "", "# just a comment", "f(\n1,\n2\n)",
                  "x = [\n]"] {
            XCTAssertEqual(status(s), "complete", s)
        }
    }

    func testPrecedenceShapesTheTree() throws {
        let interp = Interpreter()
        func eval(_ s: String) throws -> String { try interp.run(s)?.repr ?? "none" }
        XCTAssertEqual(try eval("-2 ^ 2"), "-4")
        XCTAssertEqual(try eval("2 ^ 3 ^ 2"), "512")
        XCTAssertEqual(try eval("not 1 == 2"), "true")
        XCTAssertEqual(try eval("1 + 2 * 3 ^ 2"), "19")
        XCTAssertEqual(try eval("0..2 + 1"), "0..3")
        XCTAssertEqual(try eval("1 < 2 == true"), "true")
        XCTAssertEqual(try eval("false or 1 and nil"), "nil")
    }

    func testFunctionNamesComeFromAssignmentsAndFields() throws {
        let interp = Interpreter()
        XCTAssertEqual(try interp.run("f = fn(x) { return x }\nf")?.repr, "<fn f>")
        XCTAssertEqual(try interp.run("{g: fn() { }}.g")?.repr, "<fn g>")
        XCTAssertEqual(try interp.run("fn(x) { return x }")?.repr, "<fn fn>")
    }
}
