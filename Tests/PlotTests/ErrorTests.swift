import Foundation
import XCTest
@testable import Plot

/// What the user sees when something goes wrong: gnuplot's own message and the line it means, a
/// missing folder, a missing gnuplot.
final class ErrorTests: XCTestCase {
    func testGnuplotErrorCarriesItsMessageAndLine() throws {
        try requireGnuplot()
        let dir = try makeTempDir(self)
        let script = "set title 'broken'\nset xrange [0:1]\nplot undefined_fn(x) title 'oops'\n"
        XCTAssertThrowsError(try Gnuplot().render(script: script, to: dir + "/broken.png")) { error in
            guard let e = error as? PlotError else { return XCTFail("not a PlotError: \(error)") }
            XCTAssertEqual(e.kind, .gnuplot)
            XCTAssertTrue(e.message.contains("undefined function: undefined_fn"), e.message)
            XCTAssertEqual(e.line, 3, "the line of the user's script, not of the prepended terminal setup")
            XCTAssertEqual(e.source, "plot undefined_fn(x) title 'oops'")
            XCTAssertTrue(e.description.hasPrefix("gnuplot: line 3: undefined function"), e.description)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "a failed render leaves no file")
    }

    func testGnuplotSyntaxErrorAndMissingDataFile() throws {
        try requireGnuplot()
        let dir = try makeTempDir(self)
        XCTAssertThrowsError(try Gnuplot().render(script: "set nonsense_option 3\nplot x", to: dir + "/a.png")) { error in
            let e = error as? PlotError
            XCTAssertEqual(e?.kind, .gnuplot)
            XCTAssertEqual(e?.line, 1)
            XCTAssertFalse(e?.message.isEmpty ?? true)
        }
        // Only a warning to gnuplot, but nothing would be drawn: a failure.
        XCTAssertThrowsError(try Gnuplot().render(script: "plot '/no/such/data.txt' using 1:2", to: dir + "/b.png")) { error in
            let e = error as? PlotError
            XCTAssertEqual(e?.kind, .gnuplot)
            XCTAssertTrue(e?.message.contains("Cannot find or open file \"/no/such/data.txt\"") ?? false, "\(error)")
        }
    }

    func testAFailedRenderKeepsThePreviousImage() throws {
        try requireGnuplot()
        let dir = try makeTempDir(self)
        let path = try Gnuplot().render(script: "plot x", to: dir + "/keep.png", width: 200, height: 150)
        XCTAssertThrowsError(try Gnuplot().render(script: "plot nope(x)", to: path))
        assertPNG(path, width: 200, height: 150)
    }

    func testMissingOutputFolderIsAClearError() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/no/such/folder/plot.png"
        for render in [{ try Figure([.line(y: [1, 2])]).render(to: path) },
                       { try Gnuplot().render(script: "plot x", to: path) },
                       { try Layout([Figure([.line(y: [1, 2])])]).render(to: path) }] {
            XCTAssertThrowsError(try render()) { error in
                let e = error as? PlotError
                XCTAssertEqual(e?.kind, .output)
                XCTAssertEqual(e?.message, "cannot write \(path): the folder \(dir)/no/such/folder does not exist")
            }
        }
        XCTAssertThrowsError(try Figure([.line(y: [1, 2])]).render(to: dir)) { error in
            XCTAssertTrue("\(error)".contains("it is a folder"), "\(error)")
        }
    }

    func testMissingGnuplotNamesThePackage() throws {
        let dir = try makeTempDir(self)
        let nowhere = Gnuplot(executable: dir + "/bin/gnuplot")
        XCTAssertThrowsError(try Figure([.line(y: [1, 2])]).render(to: dir + "/a.png", gnuplot: nowhere)) { error in
            let e = error as? PlotError
            XCTAssertEqual(e?.kind, .gnuplotMissing)
            XCTAssertTrue(e?.message.contains("gnuplot-nox") ?? false, "\(error)")
            XCTAssertTrue(e?.message.contains(dir + "/bin/gnuplot") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try nowhere.render(script: "plot x", to: dir + "/b.png"))
        XCTAssertThrowsError(try nowhere.run("plot x"))
        // A file that exists but is not executable is not gnuplot either.
        _ = FileManager.default.createFile(atPath: dir + "/gnuplot", contents: Data("#!/bin/sh\n".utf8))
        XCTAssertThrowsError(try Gnuplot(executable: dir + "/gnuplot").locate()) { error in
            XCTAssertEqual((error as? PlotError)?.kind, .gnuplotMissing)
        }
    }

    func testAHungScriptIsStopped() throws {
        try requireGnuplot()
        let dir = try makeTempDir(self)
        let start = Date()
        XCTAssertThrowsError(try Gnuplot(timeout: 0.5).render(script: "pause 30\nplot x", to: dir + "/slow.png")) { error in
            XCTAssertEqual((error as? PlotError)?.kind, .timeout, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testReportReadsGnuplotsStderr() {
        let script = "set terminal pngcairo\nset output 'x'\nplot foo(x)\nplot 1"
        let r = GnuplotReport(stderr: "\"/dev/stdin\" line 3: undefined function: foo\n", script: script, lineOffset: 2)
        let e = r.error(status: 1)
        XCTAssertEqual(e?.line, 1)
        XCTAssertEqual(e?.source, "plot foo(x)")
        XCTAssertEqual(e?.message, "undefined function: foo")
        let w = GnuplotReport(stderr: "hello from print\nWarning: empty y range [3:3], adjusting to [2.97:3.03]\n"
                              + "\"/dev/stdin\" line 4: warning: iconv failed\n", script: script, lineOffset: 0)
        XCTAssertNil(w.error(status: 0), "print output and warnings are not failures")
        XCTAssertEqual(w.warnings, ["empty y range [3:3], adjusting to [2.97:3.03]", "line 4: iconv failed"])
        let sys = GnuplotReport(stderr: "\"/dev/stdin\" line 2: cannot open file; output not changed\nsystem error: No such file or directory\n",
                                script: script, lineOffset: 0)
        XCTAssertEqual(sys.error(status: 1)?.message, "cannot open file; output not changed (system error: No such file or directory)")
        XCTAssertEqual(GnuplotReport(stderr: "", script: "", lineOffset: 0).error(status: 1)?.message,
                       "gnuplot failed (exit status 1) without a message")
    }
}
