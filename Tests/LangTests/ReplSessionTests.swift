import Tensor
import XCTest
@testable import Lang

final class ReplSessionTests: XCTestCase {
    private func session() -> (ReplSession, () -> String, () -> String) {
        let s = ReplSession(interpreter: Interpreter())
        var out = "", err = ""
        s.interpreter.output = { out += $0 }
        s.errorOutput = { err += $0 }
        return (s, { defer { out = "" }; return out }, { defer { err = "" }; return err })
    }

    func testPromptsAndContinuation() {
        let (s, out, _) = session()
        XCTAssertEqual(s.prompt, "> ")
        XCTAssertEqual(s.feed("fn f(x) {"), .needsMore)
        XCTAssertEqual(s.prompt, ".. ")
        XCTAssertEqual(s.feed("  return x * 2"), .needsMore)
        XCTAssertEqual(s.feed("}"), .ran)
        XCTAssertEqual(s.prompt, "> ")
        XCTAssertEqual(s.feed("f(21)"), .ran)
        XCTAssertEqual(out(), "42\n")
        XCTAssertEqual(s.feed("[1,"), .needsMore)
        XCTAssertEqual(s.feed(" 2]"), .ran)
        XCTAssertEqual(out(), "[1, 2]\n")
        XCTAssertEqual(s.takeCompletedEntry(), "[1,\n 2]")
    }

    func testBlankLineCancelsUnfinishedInput() {
        let (s, out, _) = session()
        XCTAssertEqual(s.feed("x = (1 +"), .needsMore)
        XCTAssertEqual(s.feed(""), .cancelled)
        XCTAssertEqual(s.prompt, "> ")
        XCTAssertEqual(s.feed("x = 5"), .ran)
        XCTAssertEqual(s.feed("x"), .ran)
        XCTAssertEqual(out(), "5\n")
        XCTAssertEqual(s.feed(""), .ran)
    }

    func testPipedInputKeepsBlankLinesInsideBlocks() {
        let (s, out, _) = session()
        s.blankLineCancels = false
        XCTAssertEqual(s.feed("fn f() {"), .needsMore)
        XCTAssertEqual(s.feed(""), .needsMore)
        XCTAssertEqual(s.feed("  return 1 }"), .ran)
        XCTAssertEqual(s.feed("f()"), .ran)
        XCTAssertEqual(out(), "1\n")
        XCTAssertEqual(s.feed("g(1,"), .needsMore)
        XCTAssertEqual(s.finish(), .failed(.syntax))
    }

    func testErrorsKeepVariablesAndNameTheLine() {
        let (s, _, err) = session()
        s.feed("a = 1")
        s.feed("b = 2")
        XCTAssertEqual(s.feed("a + nope"), .failed(.runtime))
        XCTAssertTrue(err().hasPrefix("<stdin>:3:5: error: undefined variable 'nope'"))
        XCTAssertEqual(s.feed("a +* 2"), .failed(.syntax))
        XCTAssertTrue(err().hasPrefix("<stdin>:4:4: error:"))
        XCTAssertEqual(s.feed("a + b"), .ran)
    }

    func testInterruptReturnsToThePromptWithVariablesKept() {
        let (s, out, err) = session()
        s.feed("total = 10")
        Cancellation.request()
        XCTAssertEqual(s.feed("while true { total += 1 }"), .failed(.interrupted))
        XCTAssertFalse(Cancellation.isRequested, "the session clears the flag")
        XCTAssertTrue(err().contains("interrupted"))
        s.feed("total >= 10")
        XCTAssertEqual(out(), "true\n")
    }

    func testTimingToggle() {
        let (s, out, _) = session()
        s.feed(":time")
        XCTAssertEqual(out(), "timing on\n")
        s.feed("1")
        XCTAssertTrue(out().hasPrefix("1\n("))
    }

    func testCompletion() throws {
        let interp = Interpreter()
        try interp.run("history = {train_loss: [1], train_acc: [0.5], lr: [0.1]}\nhidden = 1")
        XCTAssertEqual(Driver.completions(for: "x = pri", in: interp), ["print"])
        XCTAssertEqual(Driver.completions(for: "hi", in: interp), ["hidden", "hist", "history"])
        XCTAssertEqual(Driver.completions(for: "print(history.train_", in: interp), ["train_acc", "train_loss"])
        XCTAssertEqual(Driver.completions(for: "nothing.x", in: interp), [])
    }
}
