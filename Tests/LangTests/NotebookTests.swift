import Foundation
import XCTest
@testable import Lang

/// Notebooks: cells split at `#%%` lines, run in one interpreter, and a Markdown report with each
/// cell's code, output, last value, images and time; an error stops the run and ends the report.
final class NotebookTests: XCTestCase {
    func testCellsSplitAtPercentMarkers() {
        let text = """
            scale = "cpu"

            #%% md Intro
            # # Title
            #
            # Some *text*.
            #%%   Train the model
            x = 1

            y = 2

            # %% [markdown]
            # more
            #%%
            #%% Last
            print(x)
            """
        let cells = Notebook.cells(in: text)
        XCTAssertEqual(cells, [
            NotebookCell(kind: .code, title: nil, source: "scale = \"cpu\"", firstLine: 1),
            NotebookCell(kind: .markdown, title: "Intro", source: "# Title\n\nSome *text*.", firstLine: 4),
            NotebookCell(kind: .code, title: "Train the model", source: "x = 1\n\ny = 2", firstLine: 8),
            NotebookCell(kind: .markdown, title: nil, source: "more", firstLine: 13),
            NotebookCell(kind: .code, title: "Last", source: "print(x)", firstLine: 16),
        ])
        XCTAssertTrue(Notebook.isNotebook(text))
        XCTAssertFalse(Notebook.isNotebook("x = 1\n# a comment with %% in it\n"))
        XCTAssertEqual(Notebook.parseMarker("#%% mdash is code"[...]).0, .code, "md must be a word of its own")
    }

    static let tiny = """
        # runs before the first marker
        scale = "cpu"
        if len(args) > 0 { scale = args[0] }

        #%% md Intro
        # A *tiny* notebook.

        #%% Numbers
        x = [1, 2, 3]
        print("scale", scale)
        sum(tensor(x))

        #%% Plots
        plot(x, [3, 1, 2], title: "three", width: 320, height: 200)
        bars([1, 2], out: "bars.png", width: 300, height: 200)

        #%% Quiet
        y = 5
        print("no value: assignments show nothing")

        #%% Broken
        z = y + nope
        print("never")

        #%% After
        print("not run")
        """

    static let expected = """
        # tiny.lsc

        > HEADER

        ## [1]

        ```lsc
        # runs before the first marker
        scale = "cpu"
        if len(args) > 0 { scale = args[0] }
        ```

        *wall time T*

        ## Intro

        A *tiny* notebook.

        ## [2] Numbers

        ```lsc
        x = [1, 2, 3]
        print("scale", scale)
        sum(tensor(x))
        ```

        ```text
        scale tiny
        ```

        Out: `6`

        *wall time T*

        ## [3] Plots

        ```lsc
        plot(x, [3, 1, 2], title: "three", width: 320, height: 200)
        bars([1, 2], out: "bars.png", width: 300, height: 200)
        ```

        ![plot-001.png](plot-001.png)

        ![bars.png](bars.png)

        *wall time T*

        ## [4] Quiet

        ```lsc
        y = 5
        print("no value: assignments show nothing")
        ```

        ```text
        no value: assignments show nothing
        ```

        *wall time T*

        ## [5] Broken

        ```lsc
        z = y + nope
        print("never")
        ```

        **Error** — the run stopped here.

        ```text
        NOTEBOOK:22:9: error: undefined variable 'nope'
            z = y + nope
                    ^
        ```

        *wall time T*

        ## [6] After

        ```lsc
        print("not run")
        ```

        *not run: the run stopped at an earlier cell*

        """

    /// The report with its run-dependent parts (header line, times, the notebook's path) replaced.
    static func normalized(_ md: String, notebook: String) -> String {
        md.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("> `losscape notebook ") { return "> HEADER" }
            if line.hasPrefix("*wall time ") { return "*wall time T*" }
            return String(line).replacingOccurrences(of: notebook, with: "NOTEBOOK")
        }.joined(separator: "\n")
    }

    func testTinyNotebookReportInProcess() throws {
        try PlotTestSupport.requireGnuplot()
        let dir = try PlotTestSupport.tempDir(self, "lsc-nb")
        let path = dir + "/tiny.lsc"
        try NotebookTests.tiny.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = NotebookRunner(path: path, directory: dir + "/out", arguments: ["tiny"])
        runner.capturesStderr = false
        runner.echoesOutput = false
        runner.announcesCells = false
        let result = try runner.run()
        XCTAssertEqual(result.reportPath, dir + "/out/tiny.md")
        XCTAssertEqual(result.error?.message, "undefined variable 'nope'")
        let md = try String(contentsOfFile: result.reportPath, encoding: .utf8)
        XCTAssertEqual(NotebookTests.normalized(md, notebook: path), NotebookTests.expected)
        // The header says what ran, and every time is a number of seconds.
        XCTAssertTrue(md.contains("> `losscape notebook \(path) tiny` · "), md)
        XCTAssertTrue(md.contains("5 of 6 code cells ran in "))
        XCTAssertTrue(md.contains("**stopped by an error**"))
        let times = md.split(separator: "\n").filter { $0.hasPrefix("*wall time ") }
        XCTAssertEqual(times.count, 5)
        for t in times { XCTAssertNotNil(t.range(of: #"^\*wall time \d+\.\d\d s\*$"#, options: .regularExpression), String(t)) }
        // The images lie beside the report, at the asked sizes.
        PlotTestSupport.assertPNG(dir + "/out/plot-001.png", width: 320, height: 200)
        PlotTestSupport.assertPNG(dir + "/out/bars.png", width: 300, height: 200)
        XCTAssertEqual(result.cells.filter(\.ran).count, 5)
    }

    func testCommandWritesReportAndExitsOneOnError() throws {
        try PlotTestSupport.requireGnuplot()
        let dir = try PlotTestSupport.tempDir(self, "lsc-nb")
        let path = dir + "/tiny.lsc"
        try NotebookTests.tiny.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try PlotTestSupport.losscape(["notebook", path, "-o", dir + "/rep", "tiny"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertEqual(r.out, "scale tiny\nno value: assignments show nothing\nreport: \(dir)/rep/tiny.md\n")
        XCTAssertTrue(r.err.contains("[2/6] Numbers"), "each cell is announced on stderr: \(r.err)")
        XCTAssertTrue(r.err.contains("tiny.lsc:22:9: error: undefined variable 'nope'"), r.err)
        let md = try String(contentsOfFile: dir + "/rep/tiny.md", encoding: .utf8)
        XCTAssertEqual(NotebookTests.normalized(md, notebook: path), NotebookTests.expected)
        XCTAssertEqual(PlotTestSupport.imageLinks(md), ["plot-001.png", "bars.png"])

        // A rerun numbers afresh (the old numbered plots go), and -o may come before the file.
        let again = try PlotTestSupport.losscape(["notebook", "-o", dir + "/rep", path, "tiny"])
        XCTAssertEqual(again.status, 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/rep").sorted()
        XCTAssertEqual(files, ["bars.png", "plot-001.png", "tiny.md"])
    }

    func testDefaultFolderSyntaxErrorsAndUsage() throws {
        let dir = try PlotTestSupport.tempDir(self, "lsc-nb")
        let path = dir + "/ok.lsc"
        try "#%% One\nprint(args)\n#%% Two\n\"done\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try PlotTestSupport.losscape(["notebook", path, "a", "b"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "[\"a\", \"b\"]\nreport: \(dir)/ok-report/ok.md\n")
        let md = try String(contentsOfFile: dir + "/ok-report/ok.md", encoding: .utf8)
        XCTAssertTrue(md.contains("## [2] Two\n\n```lsc\n\"done\"\n```\n\nOut: `\"done\"`\n"), md)
        XCTAssertFalse(md.contains("stopped"))

        let bad = dir + "/bad.lsc"
        try "#%% Fine\nx = 1\n#%% Broken\ny = (1 +\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let s = try PlotTestSupport.losscape(["notebook", bad, "-o", dir + "/b"])
        XCTAssertEqual(s.status, 2, "a syntax error exits 2, as for scripts")
        let smd = try String(contentsOfFile: dir + "/b/bad.md", encoding: .utf8)
        XCTAssertTrue(smd.contains("bad.lsc:4:"), smd)
        XCTAssertTrue(smd.contains("## [1] Fine"))

        XCTAssertEqual(try PlotTestSupport.losscape(["notebook"]).status, 2)
        XCTAssertEqual(try PlotTestSupport.losscape(["notebook", "-o"]).status, 2)
        XCTAssertEqual(try PlotTestSupport.losscape(["notebook", dir + "/missing.lsc"]).status, 2)
    }

    func testImagesOutsideTheReportAreCopiedBesideIt() throws {
        try PlotTestSupport.requireGnuplot()
        let dir = try PlotTestSupport.tempDir(self, "lsc-nb")
        let elsewhere = try PlotTestSupport.tempDir(self, "lsc-nb-out")
        try FileManager.default.createDirectory(atPath: elsewhere + "/b", withIntermediateDirectories: true)
        let path = dir + "/copy.lsc"
        try """
            #%% Away
            plot([1, 2], out: "\(elsewhere)/loss.png", width: 200, height: 100)
            plot([2, 1], out: "\(elsewhere)/b/loss.png", width: 210, height: 100)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        for _ in 0 ..< 2 {   // a rerun overwrites the copies instead of adding more
            let runner = NotebookRunner(path: path, directory: dir + "/r")
            runner.capturesStderr = false
            runner.echoesOutput = false
            runner.announcesCells = false
            let result = try runner.run()
            XCTAssertNil(result.error)
            XCTAssertEqual(result.cells.first?.images, ["loss.png", "loss-2.png"])
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/r").sorted(), ["copy.md", "loss-2.png", "loss.png"])
        PlotTestSupport.assertPNG(dir + "/r/loss.png", width: 200, height: 100)
        PlotTestSupport.assertPNG(dir + "/r/loss-2.png", width: 210, height: 100)
    }

    func testProgressKeepsFinalLinesOnly() {
        // A terminal's redraws collapse to the last state of the line; escape codes go.
        let tty = "epoch 1 [###...]  3/10\u{1B}[K\repoch 1 [######]  10/10\u{1B}[K\repoch 1  done 10/10 in 0:01  loss 0.3\u{1B}[K\nwarning: x\n"
        XCTAssertEqual(StderrCapture.finalLines(tty), "epoch 1  done 10/10 in 0:01  loss 0.3\nwarning: x")
        // Plain progress lines (logs, pipes) at every tenth are dropped; the final line stays.
        let plain = "epoch 1  2/10 (20%)  5.0 batch/s  ETA 0:02\nepoch 1  4/10 (40%)  5.0 batch/s  ETA 0:01\nepoch 1  done 10/10 in 0:02  5.0 batch/s\n"
        XCTAssertEqual(StderrCapture.finalLines(plain), "epoch 1  done 10/10 in 0:02  5.0 batch/s")
        XCTAssertEqual(StderrCapture.finalLines(""), "")
    }

    func testStderrCaptureTeesFileDescriptorTwo() throws {
        let capture = try XCTUnwrap(StderrCapture.start())
        let text = "step 1\rstep 2\rstep 3 done\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        let got = capture.finish()
        XCTAssertEqual(got, text)
        XCTAssertEqual(StderrCapture.finalLines(got), "step 3 done")

        // sync() waits until what went to stderr has passed the tee (so printed output follows
        // it on the terminal); its marker never shows.
        let again = try XCTUnwrap(StderrCapture.start())
        for i in 0 ..< 50 {
            _ = "line \(i)\n".withCString { write(2, $0, strlen($0)) }
            again.sync()
        }
        let lines = again.finish()
        XCTAssertEqual(lines, (0 ..< 50).map { "line \($0)\n" }.joined())
        XCTAssertEqual(StderrCapture.find([3, 4], in: [1, 2, 3, 4]), 2)
        XCTAssertEqual(StderrCapture.partialSuffix(of: [9, 1, 2], prefixOf: [1, 2, 3]), 2)
        XCTAssertEqual(StderrCapture.partialSuffix(of: [1, 2, 3], prefixOf: [1, 2, 3]), 0, "a whole marker is found, not kept")
    }
}
