import Foundation
import XCTest
@testable import Lang

/// The plot builtins: each renders a PNG of the asked size, its data reaches gnuplot (the script
/// the figure generated), paths are numbered or taken from `out:`, and failures (gnuplot's own,
/// missing gnuplot, bad data, no such folder) are located language errors.
final class PlotBuiltinTests: XCTestCase {
    var dir = ""
    var scripts: [String] = []
    var written: [String] = []

    override func setUpWithError() throws {
        try PlotTestSupport.requireGnuplot()
        dir = try PlotTestSupport.tempDir(self)
        scripts = []
        written = []
    }

    /// An interpreter whose plots go to `dir`, recording scripts and files.
    func interpreter() -> Interpreter {
        let interp = Interpreter()
        interp.output = { _ in }
        interp.plots.directory = dir
        interp.plots.onScript = { [unowned self] in scripts.append($0) }
        interp.plots.onWrite = { [unowned self] in written.append($0) }
        return interp
    }

    /// Runs `code` (whose last expression draws), checks the PNG's size, and returns the script.
    @discardableResult
    func draw(_ code: String, width: Int = 800, height: Int = 500, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let interp = interpreter()
        let value = try interp.run(code, file: "plot-test.lsc")
        guard case .string(let path)? = value else {
            XCTFail("expected a path, got \(String(describing: value))", file: file, line: line)
            return ""
        }
        XCTAssertEqual(written.last, path, file: file, line: line)
        PlotTestSupport.assertPNG(path, width: width, height: height, file: file, line: line)
        return try XCTUnwrap(scripts.last, file: file, line: line)
    }

    /// The rows of datablock `$name` in a script.
    func block(_ name: String, _ script: String) -> [String] {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "$\(name) << EOD"), let end = lines[start...].firstIndex(of: "EOD") else { return [] }
        return Array(lines[(start + 1) ..< end])
    }

    func testPlotLinesSecondAxisMarkersAndSize() throws {
        let s = try draw("""
            plot([1, 2, 3], [0.5, 0.25, 0.125], labels: "loss", y2: [0.6, 0.7, 0.9], y2labels: "acc",
                 y2label: "accuracy", title: "run", xlabel: "epoch", markers: [2], logy: true, width: 640, height: 400)
            """, width: 640, height: 400)
        XCTAssertEqual(block("d1", s), ["1 0.5", "2 0.25", "3 0.125"])
        XCTAssertEqual(block("d2", s), ["1 0.6", "2 0.7", "3 0.9"])
        XCTAssertTrue(s.contains("axes x1y2"), s)
        XCTAssertTrue(s.contains("title \"loss\"") && s.contains("title \"acc\""))
        XCTAssertTrue(s.contains("set y2label \"accuracy\""))
        XCTAssertTrue(s.contains("set logscale y 10"))
        XCTAssertTrue(s.contains("set arrow from first 2, graph 0"), "marker at x = 2")
        XCTAssertTrue(s.contains("set title \"run\""))
        XCTAssertTrue(s.contains("pngcairo size 640,400"))
    }

    func testPlotSeveralSeriesTensorsErrorBarsAndBands() throws {
        // y alone (x = 0, 1, …); a 1-D tensor; several series with labels.
        var s = try draw("plot(tensor([3, 1, 2]))")
        XCTAssertEqual(block("d1", s), ["0 3", "1 1", "2 2"])
        s = try draw("plot(0..2, [[1, 2, 3], tensor([4, 5, 6])], labels: [\"a\", \"b\"], style: \"points\")")
        XCTAssertEqual(block("d1", s), ["0 1", "1 2", "2 3"])
        XCTAssertEqual(block("d2", s), ["0 4", "1 5", "2 6"])
        XCTAssertTrue(s.contains("with points"))
        // Float tensors reach gnuplot in their shortest form: 0.1, not 0.10000000149011612.
        s = try draw("plot([1, 2], tensor([0.1, 0.7]))")
        XCTAssertEqual(block("d1", s), ["1 0.1", "2 0.7"])
        s = try draw("plot([1, 2, 3], [1, 2, 3], err: [0.1, 0.2, 0.3])")
        XCTAssertEqual(block("d1", s), ["1 1 0.1", "2 2 0.2", "3 3 0.3"])
        XCTAssertTrue(s.contains("yerrorlines"))
        s = try draw("plot([1, 2, 3], [1, 2, 3], err: [0.1, 0.2, 0.3], band: true)")
        XCTAssertTrue(s.contains("filledcurves"))
        // y2 with its own x (RAG is measured at epoch 0 too).
        s = try draw("plot([1, 2], [0.8, 0.9], y2: [0.3, 0.2, 0.1], x2: [0, 1, 2])")
        XCTAssertEqual(block("d2", s), ["0 0.3", "1 0.2", "2 0.1"])
    }

    func testBarsHistDensity() throws {
        var s = try draw("bars([48.1, 20.3, 9.7], labels: [\"λ1\", \"λ2\", \"λ3\"], logy: true, width: 500, height: 300)",
                         width: 500, height: 300)
        XCTAssertEqual(block("d1", s).map { $0.split(separator: " ")[1] }, ["48.1", "20.3", "9.7"])
        XCTAssertTrue(s.contains("\"λ1\" 0"), s)
        XCTAssertTrue(s.contains("with boxes"))
        XCTAssertTrue(s.contains("set yrange [1:*]"), "log bars rise from the decade below the smallest")
        s = try draw("bars([[1, 2], [3, 4]], names: [\"a\", \"b\"])")
        XCTAssertEqual(block("d2", s).map { $0.split(separator: " ")[1] }, ["3", "4"])

        s = try draw("hist([0, 0.5, 1, 1.5, 2, 2, 2, 4], bins: 4, width: 300, height: 200)", width: 300, height: 200)
        // Bins [0,1) [1,2) [2,3) [3,4]: 2, 2, 3, 1 values; rows are center, count, width.
        XCTAssertEqual(block("d1", s), ["0.5 2 1", "1.5 2 1", "2.5 3 1", "3.5 1 1"])
        s = try draw("hist(ones([2, 3]), bins: 1)")   // a tensor of any shape: every element counts
        XCTAssertEqual(block("d1", s).first?.split(separator: " ")[1], "6")

        s = try draw("density([0, 1, 2], [0.1, 0.5, 0.2], labels: \"esd\")")
        XCTAssertEqual(block("d1", s), ["0 0.1", "1 0.5", "2 0.2"])
        XCTAssertTrue(s.contains("filledcurves"))
        s = try draw("density({x: [0, 1], density: [0.3, 0.7]}, filled: false)")
        XCTAssertEqual(block("d1", s), ["0 0.3", "1 0.7"])
    }

    func testHeatmapContourSurface() throws {
        let z = "[[1, 2, 3], [4, 5, 6]]"
        var s = try draw("heatmap(\(z), x: [0, 0.5, 1], y: [10, 20], width: 400, height: 300)", width: 400, height: 300)
        // gnuplot's nonuniform matrix: count and the x values, then each y with its row.
        XCTAssertEqual(block("d1", s), ["3 0 0.5 1", "10 1 2 3", "20 4 5 6"])
        XCTAssertTrue(s.contains("with image"))
        s = try draw("heatmap(tensor(\(z)), levels: 3)")    // a 2-D tensor; contour lines on top
        XCTAssertEqual(block("d1", s), ["3 0 1 2", "0 1 2 3", "1 4 5 6"])
        XCTAssertTrue(s.contains("set cntrparam linear levels auto 3"))

        s = try draw("contour(\(z), levels: [2.5, 4.5])")
        XCTAssertEqual(block("d1", s), ["3 0 1 2", "0 1 2 3", "1 4 5 6"])
        XCTAssertTrue(s.contains("levels discrete 2.5,4.5"), s)
        // matplotlib's order, and a slice2d-like record
        s = try draw("contour([0, 1, 2], [5, 6], \(z))")
        XCTAssertEqual(block("d1", s), ["3 0 1 2", "5 1 2 3", "6 4 5 6"])
        s = try draw("contour({x: [0, 1, 2], y: [5, 6], loss: \(z)}, fill: true)")
        XCTAssertEqual(block("d1", s), ["3 0 1 2", "5 1 2 3", "6 4 5 6"])
        XCTAssertTrue(s.contains("with image"))

        s = try draw("surface(\(z), zlabel: \"loss\", view: [50, 40], levels: 4, width: 600, height: 600)", width: 600, height: 600)
        XCTAssertEqual(block("d1", s), ["3 0 1 2", "0 1 2 3", "1 4 5 6"])
        XCTAssertTrue(s.contains("splot") && s.contains("pm3d"))
        XCTAssertTrue(s.contains("set view 50, 40"))
        XCTAssertTrue(s.contains("set zlabel \"loss\""))
    }

    func testPanelsOfFigures() throws {
        let interp = interpreter()
        let f = try interp.run("f = plot([1, 2], [5, 6], title: \"left\", draw: false)\nf")
        guard case .object(let o)? = f else { return XCTFail("draw: false returns a figure") }
        XCTAssertEqual(o.typeName, "figure")
        XCTAssertTrue(o.description.contains("plot"))
        guard case .string(let script)? = try interp.run("f.script") else { return XCTFail("f.script") }
        XCTAssertTrue(script.contains("1 5\n2 6"), "the figure's script holds its data")
        XCTAssertTrue(written.isEmpty, "draw: false draws nothing")

        let s = try draw("""
            a = plot([1, 2], [5, 6], title: "left", draw: false)
            b = bars([7, 8], title: "right", draw: false)
            panels([a, b], cols: 2, title: "both", width: 900, height: 400)
            """, width: 900, height: 400)
        XCTAssertTrue(s.contains("set multiplot layout 1,2"), s)
        XCTAssertTrue(s.contains("1 5\n2 6"))
        XCTAssertTrue(s.contains("title \"both\""))

        XCTAssertThrowsError(try interp.run("panels([1])")) { e in
            XCTAssertTrue("\(e)".contains("must be a figure (made with draw: false)"), "\(e)")
        }
    }

    func testRawGnuplot() throws {
        let s = try draw("gnuplot(\"set xrange [0:3]\\nplot x*x title 'sq'\", width: 320, height: 240)", width: 320, height: 240)
        XCTAssertEqual(s, "set xrange [0:3]\nplot x*x title 'sq'")
    }

    func testGnuplotErrorIsALocatedLangError() throws {
        let interp = interpreter()
        XCTAssertThrowsError(try interp.run("x = 1\ngnuplot(\"set xrange [0:1]\\nplot nosuchfn(x)\")", file: "raw.lsc")) { e in
            guard let e = e as? LangError else { return XCTFail("not a LangError: \(e)") }
            XCTAssertEqual(e.location?.line, 2)
            XCTAssertTrue(e.message.hasPrefix("gnuplot: line 2: "), e.message)
            XCTAssertTrue(e.message.contains("undefined function"), "gnuplot's own message: \(e.message)")
            let r = e.rendered()
            XCTAssertTrue(r.hasPrefix("raw.lsc:2:"), r)
            XCTAssertTrue(r.contains("gnuplot script line: plot nosuchfn(x)"), r)
        }
        XCTAssertTrue(written.isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/plot-001.png"), "no image from a failed render")
    }

    func testMissingGnuplotAndBadOutputAndBadData() throws {
        let interp = interpreter()
        interp.plots.gnuplotExecutable = "/no/such/gnuplot"
        XCTAssertThrowsError(try interp.run("plot([1, 2], [3, 4])")) { e in
            XCTAssertTrue("\(e)".contains("gnuplot-nox"), "names the package to install: \(e)")
        }
        interp.plots.gnuplotExecutable = nil
        XCTAssertThrowsError(try interp.run("bars([1], out: \"/no/such/folder/b.png\")")) { e in
            XCTAssertTrue("\(e)".contains("the folder /no/such/folder does not exist"), "\(e)")
        }
        XCTAssertThrowsError(try interp.run("\n  plot([1, 2, 3], [1, 2])", file: "bad.lsc")) { e in
            let r = (e as? LangError)?.rendered() ?? ""
            XCTAssertTrue(r.hasPrefix("bad.lsc:2:"), r)
            XCTAssertTrue(r.contains("plot: series (line): x has 3 values but y has 2"), r)
        }
        XCTAssertThrowsError(try interp.run("plot([1, 2], [1, 2], style: \"dots\")")) { e in
            XCTAssertTrue("\(e)".contains("style must be"), "\(e)")
        }
        XCTAssertThrowsError(try interp.run("heatmap([1, 2, 3])")) { e in
            XCTAssertTrue("\(e)".contains("2-D tensor or a list of rows"), "\(e)")
        }
        XCTAssertThrowsError(try interp.run("plot([1, 2], [\"a\", 2])")) { e in
            XCTAssertTrue("\(e)".contains("element 0 must be a number"), "\(e)")
        }
        XCTAssertThrowsError(try interp.run("plot([1, 2], [1, 2], legend: \"middle\")")) { e in
            XCTAssertTrue("\(e)".contains("legend must be one of"), "\(e)")
        }
        XCTAssertTrue(written.isEmpty)
    }

    func testNumberingAndOutPaths() throws {
        let interp = interpreter()
        XCTAssertEqual(try interp.run("plot([1, 2])")?.description, dir + "/plot-001.png")
        XCTAssertEqual(try interp.run("bars([1, 2])")?.description, dir + "/plot-002.png")
        // A relative out: lands in the plot folder (beside the report in a notebook).
        XCTAssertEqual(try interp.run("hist([1, 2, 2], out: \"h.png\")")?.description, dir + "/h.png")
        XCTAssertEqual(try interp.run("plot([3, 4])")?.description, dir + "/plot-003.png")
        let other = try PlotTestSupport.tempDir(self)
        XCTAssertEqual(try interp.run("plot([1, 2], out: \"\(other)/abs.png\")")?.description, other + "/abs.png")
        PlotTestSupport.assertPNG(other + "/abs.png", width: 800, height: 500)

        // Scripts and the REPL number in the current directory, as plain relative names.
        let plain = Interpreter()
        plain.plots.onWrite = { [unowned self] in written.append($0) }
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(other), "cannot enter \(other)")
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        XCTAssertEqual(try plain.run("plot([1, 2])")?.description, "plot-001.png")
        XCTAssertEqual(try plain.run("plot([1, 2])")?.description, "plot-002.png")
        PlotTestSupport.assertPNG(other + "/plot-002.png", width: 800, height: 500)
    }

    func testHelpCoversEveryPlotBuiltin() throws {
        let r = Builtins.standard()
        for name in ["plot", "bars", "hist", "density", "heatmap", "contour", "surface", "panels", "gnuplot"] {
            let b = try XCTUnwrap(r[name], name)
            XCTAssertEqual(b.topic, "plots")
            XCTAssertTrue(b.helpText.contains("out"), name)
            XCTAssertTrue(b.example.contains("out: \"/tmp/"), "\(name)'s example writes to /tmp")
        }
    }
}
