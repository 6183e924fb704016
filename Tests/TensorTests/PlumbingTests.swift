import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Tensor

/// Ctrl-C cancellation and the shared progress reporter.
final class PlumbingTests: XCTestCase {
    override func tearDown() {
        Cancellation.clear()
        Cancellation.uninstallHandler()
        ProgressReporter.isEnabled = true
    }

    // MARK: Cancellation

    func testRequestMakesCheckThrowAndClearResets() throws {
        Cancellation.clear()
        XCTAssertFalse(Cancellation.isRequested)
        XCTAssertNoThrow(try Cancellation.check())

        Cancellation.request()
        XCTAssertTrue(Cancellation.isRequested)
        XCTAssertThrowsError(try Cancellation.check()) { error in
            XCTAssertEqual(error as? Cancelled, Cancelled())
            XCTAssertEqual("\(error)", "interrupted")
        }
        // The flag stays set until cleared, so every enclosing loop unwinds.
        XCTAssertThrowsError(try Cancellation.check())

        Cancellation.clear()
        XCTAssertFalse(Cancellation.isRequested)
        XCTAssertNoThrow(try Cancellation.check())
    }

    func testRealSIGINTSetsTheFlag() throws {
        Cancellation.installHandler()
        Cancellation.clear()
        // raise() delivers to this thread and runs the handler before it returns.
        XCTAssertEqual(raise(SIGINT), 0)
        XCTAssertTrue(Cancellation.isRequested)
        XCTAssertThrowsError(try Cancellation.check())
        Cancellation.clear()
        XCTAssertFalse(Cancellation.isRequested)

        // clear() re-arms the handler: a later Ctrl-C is caught again, not fatal.
        XCTAssertEqual(raise(SIGINT), 0)
        XCTAssertTrue(Cancellation.isRequested)
    }

    // MARK: Progress, plain lines (not a terminal)

    /// A reporter writing to `out`, with a clock the test moves by hand.
    private func reporter(_ label: String, total: Int?, terminal: Bool = false,
                          unit: String = "it") -> (ProgressReporter, Box) {
        let box = Box()
        let p = ProgressReporter(label, total: total, unit: unit, isTerminal: terminal,
                                 sink: { box.out += $0 }, clock: { box.now })
        return (p, box)
    }

    final class Box {
        var now = 0.0
        var out = ""
        var lines: [String] { out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }

    func testPlainLinesAtEveryTenthAndFinalLine() {
        let (p, box) = reporter("epoch 1", total: 100, unit: "batch")
        box.now = 1; p.update(step: 5)                      // below the first tenth: silent
        XCTAssertEqual(box.out, "")
        box.now = 2; p.update(step: 10, info: "loss 0.50")  // first tenth
        box.now = 2.5; p.update(step: 15)                   // same tenth, < 5 s: silent
        box.now = 3; p.update(step: 20, info: "loss 0.40")  // second tenth
        XCTAssertEqual(box.lines, [
            "epoch 1  10/100 (10%)  5.00 batch/s  ETA 0:18  loss 0.50",
            "epoch 1  20/100 (20%)  6.67 batch/s  ETA 0:12  loss 0.40",
        ])
        box.out = ""
        box.now = 40; p.update(step: 100)                   // > 5 s, but the end is finish()'s line
        XCTAssertEqual(box.out, "")
        p.finish(summary: "loss 0.29  acc 0.91")
        p.finish(summary: "twice")                          // only the first counts
        XCTAssertEqual(box.lines, ["epoch 1  done 100/100 in 0:40  2.50 batch/s  loss 0.29  acc 0.91"])
    }

    func testPlainLinesEveryFiveSecondsWithinATenth() {
        let (p, box) = reporter("rag", total: 1000)
        box.now = 4; p.update(step: 40)
        XCTAssertEqual(box.out, "")
        box.now = 6; p.update(step: 60)
        XCTAssertEqual(box.lines, ["rag  60/1000 (6%)  10.0 it/s  ETA 1:34"])
        box.now = 8; p.update(step: 80)                     // 2 s since the last line: silent
        XCTAssertEqual(box.lines.count, 1)
        box.now = 5000; p.update(step: 90)                  // slow: ETA with hours
        XCTAssertEqual(box.lines.last, "rag  90/1000 (9%)  0.02 it/s  ETA 14:02:36")
    }

    func testUnknownTotalShowsElapsedAndStoppedRun() {
        let (p, box) = reporter("lanczos", total: nil, unit: "hvp")
        box.now = 5; p.update(step: 612, info: "residual 1e-3")
        XCTAssertEqual(box.lines, ["lanczos  612  122 hvp/s  0:05  residual 1e-3"])
        p.finish()
        XCTAssertEqual(box.lines.last, "lanczos  done 612 in 0:05  122 hvp/s")

        let (q, qbox) = reporter("fit", total: 10, unit: "epoch")
        qbox.now = 65; q.update(step: 3)
        q.finish(summary: "interrupted")
        XCTAssertEqual(qbox.lines.last, "fit  stopped at 3/10 in 1:05  0.05 epoch/s  interrupted")
    }

    func testQuietModeSilencesEverything() {
        ProgressReporter.isEnabled = false
        let (p, box) = reporter("quiet", total: 10)
        for i in 1...10 { box.now = Double(i) * 10; p.update(step: i) }
        p.finish(summary: "done")
        let (t, tbox) = reporter("quiet", total: 10, terminal: true)
        t.update(step: 1); t.finish()
        XCTAssertEqual(box.out, "")
        XCTAssertEqual(tbox.out, "")
    }

    // MARK: Progress on a terminal

    func testTerminalBarRedrawsInPlaceAndIsThrottled() {
        let (p, box) = reporter("train", total: 50, terminal: true)
        box.now = 1; p.update(step: 10)
        box.now = 1.05; p.update(step: 11)                  // < 0.1 s later: not redrawn
        box.now = 1.2; p.update(step: 25)
        let draws = box.out.components(separatedBy: "\r").dropFirst()
        XCTAssertEqual(draws.count, 2)
        XCTAssertFalse(box.out.contains("\n"), "a bar redraw never ends the line")
        XCTAssertTrue(draws.first!.hasPrefix("train [######........................]  10/50 (20%)"))
        XCTAssertTrue(draws.last!.contains("25/50 (50%)"))
        XCTAssertTrue(draws.allSatisfy { $0.hasSuffix("\u{1B}[K") && $0.count <= 79 + 3 })

        p.finish(summary: "loss 0.1")
        XCTAssertTrue(box.out.hasSuffix("\rtrain  stopped at 25/50 in 0:01  20.8 it/s  loss 0.1\u{1B}[K\n"))
    }

    func testTerminalBarAbandonedGetsItsNewline() {
        let box = Box()
        do {
            let p = ProgressReporter("x", total: 4, isTerminal: true, sink: { box.out += $0 },
                                     clock: { box.now })
            box.now = 1; p.update(step: 1)
        }
        XCTAssertTrue(box.out.hasSuffix("\n"))
    }

    func testDefaultSinkWritesToStderr() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("losscape-progress-\(getpid()).txt").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let saved = dup(2)
        dup2(fd, 2)
        let p = ProgressReporter("load", total: 2, isTerminal: false)
        p.update(step: 1)
        p.update(step: 2)
        p.finish(summary: "ok")
        dup2(saved, 2)
        close(saved)
        close(fd)
        defer { unlink(path) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("load  1/2 (50%)"), text)
        XCTAssertTrue(text.hasSuffix("  ok\n"), text)
        XCTAssertEqual(text.split(separator: "\n").count, 2)
    }

    func testDurationAndRateFormats() {
        XCTAssertEqual(ProgressReporter.formatDuration(0), "0:00")
        XCTAssertEqual(ProgressReporter.formatDuration(65.4), "1:05")
        XCTAssertEqual(ProgressReporter.formatDuration(3723), "1:02:03")
        XCTAssertEqual(ProgressReporter.formatDuration(.infinity), "--:--")
        XCTAssertEqual(ProgressReporter.formatRate(1234.4), "1234")
        XCTAssertEqual(ProgressReporter.formatRate(56.74), "56.7")
        XCTAssertEqual(ProgressReporter.formatRate(8.914), "8.91")
    }
}
