import Foundation
import XCTest
@testable import Plot

/// The generated scripts: the data reaches gnuplot unchanged, and the commands ask for what the
/// figure says.
final class ScriptTests: XCTestCase {
    func testNumbersRoundTripAndNonFiniteBecomesNaN() {
        let values: [Double] = [0, 1, -3, 0.1, 1.0 / 3, -2.5e-7, 6.02214076e23, 123456.789, .pi, -0.0,
                                Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 1e15, 4503599627370497]
        for v in values {
            XCTAssertEqual(Double(gp(v)), v, "\(v) printed as \(gp(v))")
        }
        XCTAssertEqual(gp(2), "2")
        XCTAssertEqual(gp(0.1), "0.1")
        XCTAssertEqual(gp(.nan), "NaN")
        XCTAssertEqual(gp(.infinity), "NaN")
        XCTAssertEqual(gp(-.infinity), "NaN")
        // Floats keep their own shortest form, and read back as the same Float.
        let floats: [Float] = [0.1, 1.0 / 3, 3.4028235e38, .leastNonzeroMagnitude, -7.25, .nan]
        for (f, d) in zip(floats, plotValues(floats)) where f.isFinite {
            XCTAssertEqual(Float(gp(d)), f)
            XCTAssertEqual(gp(d), f == f.rounded() && abs(f) < 1e15 ? String(Int(f)) : f.description)
        }
        XCTAssertTrue(plotValues([.nan])[0].isNaN)
    }

    func testLinesWriteTheirValuesAndStyles() throws {
        let y1: [Double] = [0.1, 1.0 / 3, 2.5e-7, .nan, 42]
        let y2: [Double] = [5, 4, .infinity, 2, 1]
        var f = Figure([.line(x: [1, 2, 3, 4, 5], y: y1, label: "train"),
                        .line(y: y2, label: "test", style: .points),
                        .line(y: y2, label: "val \"quoted\"", style: .linesPoints, dash: .dashed, color: "#123456")],
                       title: "Loss", xlabel: "epoch", ylabel: "loss")
        f.x.min = 0
        f.y.max = 50
        let s = try f.script(output: "/tmp/out.png")
        let d1 = try XCTUnwrap(datablock("$d1", in: s))
        XCTAssertTrue(sameValues(d1.map { $0[0] }, [1, 2, 3, 4, 5]))
        XCTAssertTrue(sameValues(d1.map { $0[1] }, y1))
        let d2 = try XCTUnwrap(datablock("$d2", in: s))
        XCTAssertTrue(sameValues(d2.map { $0[0] }, [0, 1, 2, 3, 4]), "x defaults to 0, 1, 2, …")
        XCTAssertTrue(sameValues(d2.map { $0[1] }, [5, 4, .nan, 2, 1]), "infinity is written as NaN")
        XCTAssertTrue(s.contains("set terminal pngcairo size 800,500 noenhanced"))
        XCTAssertTrue(s.contains("set output '/tmp/out.png'"))
        XCTAssertTrue(s.contains("set title \"Loss\""))
        XCTAssertTrue(s.contains("set xlabel \"epoch\""))
        XCTAssertTrue(s.contains("set xrange [0:*]"))
        XCTAssertTrue(s.contains("set yrange [*:50]"))
        XCTAssertTrue(s.contains("$d1 using 1:2 with lines lc 1 lw 2 dt solid title \"train\""))
        XCTAssertTrue(s.contains("$d2 using 1:2 with points pt 7 ps 0.9 lc 2"))
        XCTAssertTrue(s.contains("with linespoints pt 7 ps 0.9 lc rgb \"#123456\" lw 2 dt (8,5) title \"val \\\"quoted\\\"\""))
        XCTAssertTrue(s.contains("set key"))
        XCTAssertEqual(s.components(separatedBy: "\nplot ").count, 2, "one plot command")
    }

    func testSecondAxisLogScalesAndMarkers() throws {
        var f = Figure([.line(x: Sample.epochs, y: Sample.rag, label: "RAG"),
                        .line(x: Sample.epochs, y: Sample.testAcc, label: "test acc", axis: .right)],
                       xlabel: "epoch", ylabel: "RAG", y2label: "accuracy")
        f.x.log = true
        f.y.log = true
        f.y2.log = true
        f.x.min = 1
        f.markers = [Marker(x: 10, label: "lr ÷5"), Marker(x: 20), Marker(y: 0.1, label: "baseline")]
        let s = try f.script(output: "o.png")
        XCTAssertTrue(s.contains("$d2 using 1:2 axes x1y2 with lines"))
        XCTAssertTrue(s.contains("set y2tics"))
        XCTAssertTrue(s.contains("set ytics nomirror"))
        XCTAssertTrue(s.contains("set y2label \"accuracy\""))
        for axis in ["x", "y", "y2"] { XCTAssertTrue(s.contains("set logscale \(axis) 10"), axis) }
        XCTAssertTrue(s.contains("set arrow from first 10, graph 0 to first 10, graph 1 nohead back lw 1.5 dt (8,5)"))
        XCTAssertTrue(s.contains("set arrow from first 20, graph 0 to first 20, graph 1 nohead"))
        XCTAssertTrue(s.contains("set label \"lr ÷5\" at first 10, graph 0.98 rotate by 90"))
        XCTAssertTrue(s.contains("set arrow from graph 0, first 0.1 to graph 1, first 0.1 nohead"))
        XCTAssertTrue(s.contains("set label \"baseline\""))
        let rows = try XCTUnwrap(datablock("$d2", in: s))
        XCTAssertTrue(sameValues(rows.map { $0[1] }, Sample.testAcc))
    }

    func testErrorBarsAndBandCarryMeanAndStd() throws {
        let mean: [Double] = [0.5, 0.6, 0.7], std: [Double] = [0.05, 0.1, 0.025]
        let f = Figure([.errorBars(x: [1, 2, 3], mean: mean, std: std, label: "bars"),
                        .errorBars(mean: mean, std: std, connect: false),
                        .band(x: [1, 2, 3], mean: mean, std: std, label: "band")])
        let s = try f.script(output: "o.png")
        for name in ["$d1", "$d2", "$d3"] {
            let rows = try XCTUnwrap(datablock(name, in: s))
            XCTAssertTrue(sameValues(rows.map { $0[1] }, mean))
            XCTAssertTrue(sameValues(rows.map { $0[2] }, std))
        }
        XCTAssertTrue(s.contains("$d1 using 1:2:3 with yerrorlines lc 1"))
        XCTAssertTrue(s.contains("$d2 using 1:2:3 with yerrorbars lc 2"))
        XCTAssertTrue(s.contains("$d3 using 1:($2-$3):($2+$3) with filledcurves lc 3 fs transparent solid 0.22 noborder notitle"))
        XCTAssertTrue(s.contains("$d3 using 1:2 with lines lc 3"), "the band's line has the band's color")
    }

    func testBarsLabelTheSlotsAndStandSideBySide() throws {
        let a: [Double] = [120, 40, 9.5, 3, 0.02], b: [Double] = [30, 20, 10, 5, 1]
        let labels = (1 ... 5).map { "λ\($0)" }
        var f = Figure([.bars(a, labels: labels, label: "supervised"), .bars(b, label: "SimCLR")])
        f.y.log = true
        let s = try f.script(output: "o.png")
        XCTAssertTrue(s.contains("set xtics (\"λ1\" 0, \"λ2\" 1, \"λ3\" 2, \"λ4\" 3, \"λ5\" 4)"))
        XCTAssertTrue(s.contains("set logscale y 10"))
        XCTAssertTrue(s.contains("set yrange [0.01:*]"), "the log axis starts a decade below the smallest bar")
        let d1 = try XCTUnwrap(datablock("$d1", in: s)), d2 = try XCTUnwrap(datablock("$d2", in: s))
        XCTAssertTrue(sameValues(d1.map { $0[1] }, a))
        XCTAssertTrue(sameValues(d2.map { $0[1] }, b))
        XCTAssertEqual(d1[0][0], -0.2, accuracy: 1e-12)
        XCTAssertEqual(d2[0][0], 0.2, accuracy: 1e-12)
        XCTAssertEqual(d1[0][2], 0.4, accuracy: 1e-12)
        XCTAssertTrue(s.contains("with boxes lc 1 fs solid 0.8 noborder title \"supervised\""))
    }

    func testHistogramBinsAndScales() throws {
        let values: [Double] = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, .nan]
        let h = try Histogram(values, bins: 4)
        XCTAssertEqual(h.edges, [0, 1, 2, 3, 4])
        XCTAssertEqual(h.counts, [2, 2, 2, 3], "the last bin is closed")
        XCTAssertEqual(h.skipped, 1)
        XCTAssertEqual(h.centers, [0.5, 1.5, 2.5, 3.5])
        let w = try Histogram(values, binWidth: 1.5)
        XCTAssertEqual(w.edges, [0, 1.5, 3, 4.5])
        XCTAssertEqual(w.counts, [3, 3, 3])
        let d = try Histogram(values, bins: 4, scale: .density)
        XCTAssertEqual(zip(d.counts, [1.0, 1, 1, 1]).map { $0 * $1 }.reduce(0, +), 1, accuracy: 1e-12)
        let p = try Histogram(values, bins: 4, scale: .probability)
        XCTAssertEqual(p.counts.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(try Histogram([7, 7, 7]).counts.reduce(0, +), 3, "equal values still land in a bin")
        XCTAssertEqual(try Histogram((0 ..< 1000).map(Double.init)).counts.count, 20, "Rice rule: 2·∛n")
        XCTAssertThrowsError(try Histogram([.nan]))
        XCTAssertThrowsError(try Histogram([1, 2], bins: 0))
        // Huge values: found by fuzzing `hist(1e300, 2)`, which once crashed on 0/0 as a bin index.
        let huge = try Histogram([1e300], bins: 2)
        XCTAssertEqual(huge.counts, [0, 1], "one value, centered: it sits on the middle edge")
        XCTAssertLessThan(huge.edges[0], 1e300)
        XCTAssertGreaterThan(huge.edges[2], 1e300)
        XCTAssertEqual(try Histogram([-1e300, 1e300], bins: 2).counts, [1, 1])
        XCTAssertThrowsError(try Histogram([-1.7e308, 1.7e308], bins: 2), "a range past Double's largest")
        XCTAssertThrowsError(try Histogram([1e300], binWidth: 1e-10), "too many bins, an error, not a crash")

        let f = Figure([try .histogram(values, bins: 4, label: "x"),
                        .density(x: [0, 2, 4], density: [0.1, 0.3, 0.1], label: "pdf")])
        let s = try f.script(output: "o.png")
        let rows = try XCTUnwrap(datablock("$d1", in: s))
        XCTAssertEqual(rows.map { $0[0] }, h.centers)
        XCTAssertEqual(rows.map { $0[1] }, h.counts)
        XCTAssertTrue(s.contains("$d1 using 1:2:3 with boxes lc 1 lw 1 fs transparent solid 0.55"))
        XCTAssertTrue(s.contains("$d2 using 1:2 with filledcurves y1=0 lc 2 fs transparent solid 0.25"))
        XCTAssertTrue(s.contains("$d2 using 1:2 with lines lc 2"))
        XCTAssertTrue(sameValues(try XCTUnwrap(datablock("$d2", in: s)).map { $0[1] }, [0.1, 0.3, 0.1]))
    }

    func testHeatmapContourAndSurfaceWriteTheMatrix() throws {
        let z: [[Double]] = [[1, 2, 3], [4, .nan, 6]]
        let heat = try Figure([.heatmap(x: [0, 0.5, 1], y: [10, 20], z: z)]).script(output: "o.png")
        let rows = try XCTUnwrap(datablock("$d1", in: heat))
        XCTAssertTrue(sameValues(rows[0], [3, 0, 0.5, 1]), "header: column count, then x")
        XCTAssertTrue(sameValues(rows[1], [10, 1, 2, 3]))
        XCTAssertTrue(sameValues(rows[2], [20, 4, .nan, 6]))
        XCTAssertTrue(heat.contains("\nplot $d1 nonuniform matrix using 1:2:3 with image"))
        XCTAssertTrue(heat.contains("set palette defined"))

        let uneven = try Figure([.heatmap(x: [0, 1, 3], y: [0, 1], z: z)]).script(output: "o.png")
        XCTAssertTrue(uneven.contains("\nplot $d1 using 1:2:3:4:5:6:7 with boxxyerror fs solid 1 noborder lc palette"),
                      "uneven grids are not images")
        let cells = try XCTUnwrap(datablock("$d1", in: uneven))
        XCTAssertTrue(sameValues(cells[1], [1, 0, 0.5, 2, -0.5, 0.5, 2]), "x, y, the cell's edges, z")
        XCTAssertTrue(sameValues(cells[5], [3, 1, 2, 4, 0.5, 1.5, 6]))
        XCTAssertEqual(cellEdges([0, 1, 3]), [-0.5, 0.5, 2, 4])
        XCTAssertEqual(cellEdges([5]), [4.5, 5.5])

        var withPath = Figure([.heatmap(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ),
                               .contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, levels: .values([2, 0.5, 1])),
                               .line(x: [0, 0.5], y: [0, 0.5], label: "path", style: .linesPoints)])
        withPath.markers = [Marker(x: 0.5)]
        let contour = try withPath.script(output: "o.png")
        XCTAssertFalse(contour.contains("splot $d1 nonuniform matrix using 1:2:3 with"), "contours are drawn in 2-D")
        for command in ["set contour base", "set cntrparam linear levels discrete 0.5,1,2", "unset surface", "set table $dc1",
                        "splot $d2 nonuniform matrix using 1:2:3", "unset table", "unset contour"] {
            XCTAssertTrue(contour.contains("\n\(command)\n"), command)
        }
        XCTAssertTrue(contour.contains("\nplot $d1 nonuniform matrix using 1:2:3 with image notitle, "
            + "$dc1 using 1:2 with lines lc rgb \"#1a1a1a\" lw 1.5 dt solid notitle, "
            + "$dc1 using 1:2:(sprintf(\"%.3g\", $3)) every 40::8 with labels boxed"))
        XCTAssertTrue(contour.contains("$d3 using 1:2 with linespoints"))
        XCTAssertTrue(contour.contains("set autoscale xfix"))
        XCTAssertTrue(contour.contains("set arrow from first 0.5, graph 0 to first 0.5, graph 1 nohead front"))
        XCTAssertTrue(contour.contains("set key below"), "the grid fills the plot; the legend goes below")
        let grid = try XCTUnwrap(datablock("$d2", in: contour))
        XCTAssertTrue(sameValues(Array(grid[3].dropFirst()), Sample.gridZ[2]))
        let auto = try Figure([.contour(z: z, levels: .auto(7))]).script(output: "o.png")
        XCTAssertTrue(auto.contains("set cntrparam linear levels auto 7"))
        XCTAssertTrue(auto.contains("$dc1 using 1:2:3 with lines lc palette"), "alone, the lines take the level's color")
        let step = try Figure([.contour(z: z, levels: .step(from: 0, by: 0.25, to: 3), labels: false)]).script(output: "o.png")
        XCTAssertTrue(step.contains("levels incremental 0,0.25,3"))
        XCTAssertFalse(step.contains("with labels"))

        var surface = Figure([.surface(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ),
                              .contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, labels: false)])
        surface.view = View(rotX: 50, rotZ: 120)
        surface.z.label = "loss"
        let s = try surface.script(output: "o.png")
        XCTAssertTrue(s.contains("\nsplot $d1 nonuniform matrix using 1:2:3 with lines nosurface lc palette"), "contours first, under the surface")
        XCTAssertTrue(s.contains(", $d2 nonuniform matrix using 1:2:3 with pm3d nocontours"))
        XCTAssertTrue(s.contains("set contour base"))
        XCTAssertTrue(s.contains("set view 50, 120"))
        XCTAssertTrue(s.contains("set zlabel \"loss\""))
        let mesh = try Figure([.surface(z: z, style: .mesh)]).script(output: "o.png")
        XCTAssertTrue(mesh.contains("set hidden3d"))
        XCTAssertTrue(mesh.contains("with lines nocontours"))
    }

    func testLayoutGivesEachPanelItsOwnDataAndSettings() throws {
        let a = Figure([.line(y: [1, 2, 3], label: "a")], title: "first")
        var b = Figure([.line(y: [3, 2, 1])], title: "second")
        b.y.log = true
        let c = Figure([.heatmap(z: [[1, 2], [3, 4]])])
        let d = Figure([.bars([1, 2])])
        let layout = Layout([a, b, c, d], title: "four")
        XCTAssertEqual(layout.rows, 2)
        XCTAssertEqual(layout.columns, 2)
        XCTAssertEqual(layout.width, 960)
        XCTAssertEqual(layout.height, 750)
        let s = try layout.script(output: "o.png")
        XCTAssertTrue(s.contains("set multiplot layout 2,2 title \"four\""))
        XCTAssertTrue(sameValues(try XCTUnwrap(datablock("$p1d1", in: s)).map { $0[1] }, [1, 2, 3]))
        XCTAssertTrue(sameValues(try XCTUnwrap(datablock("$p2d1", in: s)).map { $0[1] }, [3, 2, 1]))
        XCTAssertNotNil(datablock("$p3d1", in: s))
        XCTAssertNotNil(datablock("$p4d1", in: s))
        XCTAssertEqual(s.components(separatedBy: "\nreset\n").count, 4, "every panel after the first starts from reset")
        XCTAssertTrue(s.hasSuffix("unset multiplot\nunset output\n"))
        XCTAssertEqual(Layout([a, b, c], rows: 1).columns, 3)
        XCTAssertEqual(Layout([a, b, c], columns: 2).rows, 2)
        XCTAssertThrowsError(try Layout([a, b, c], rows: 1, columns: 2).script(output: "o.png"))
        XCTAssertThrowsError(try Layout([a, Figure()]).script(output: "o.png")) { error in
            XCTAssertTrue("\(error)".contains("panel 2"), "\(error)")
        }
    }

    func testLegendGoesWhereTheDataIsNot() throws {
        let x = (0 ... 20).map(Double.init)
        // Rising curves fill the top right and bottom left; the top left is free.
        var rising = Figure([.line(x: x, y: x.map { $0 * $0 }, label: "quadratic")])
        XCTAssertEqual(rising.bestKeyPlace(), .topLeft)
        rising.key = .bottomRight
        XCTAssertTrue(try rising.script(output: "o.png").contains("set key bottom right"))
        // Falling curves (losses) leave the top right free.
        XCTAssertEqual(Figure([.line(x: x, y: x.map { exp(-$0 / 4) }, label: "loss")]).bestKeyPlace(), .topRight)
        // Data in every corner: the legend goes below the plot.
        let everywhere = Figure([.line(x: x, y: x.map { $0.truncatingRemainder(dividingBy: 2) }, label: "zigzag")])
        XCTAssertEqual(everywhere.bestKeyPlace(), .below)
        XCTAssertTrue(try everywhere.script(output: "o.png").contains("set key below"))
        // No labels, no key.
        XCTAssertTrue(try Figure([.line(y: x)]).script(output: "o.png").contains("unset key"))
    }

    func testInvalidDataIsRefusedBeforeGnuplotRuns() {
        func refuses(_ f: Figure, _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try f.script(output: "o.png"), line: line) { error in
                guard let e = error as? PlotError else { return XCTFail("not a PlotError: \(error)", line: line) }
                XCTAssertEqual(e.kind, .invalidData, line: line)
                XCTAssertTrue(e.message.contains(text), "\(e.message) does not mention \(text)", line: line)
            }
        }
        refuses(Figure(), "no series")
        refuses(Figure([.line(x: [1, 2], y: [1, 2, 3], label: "loss")]), "x has 2 values but y has 3")
        refuses(Figure([.line(y: [.nan, .infinity], label: "rag")]), "'rag': no finite points")
        var log = Figure([.line(y: [0, -1])])
        log.y.log = true
        refuses(log, "log axis needs positive values")
        refuses(Figure([.heatmap(x: [0, 1], y: [0], z: [[1, 2, 3]])]), "row 0 of z has 3 values but x has 2")
        refuses(Figure([.surface(z: [[1, 2], [3, 4]]), .bars([1])]), "surface figure")
        refuses(Figure([.contour(z: [[1, 2], [3, 4]], levels: .values([5, 6]))]), "no level lies within the values' range [1, 4]")
        refuses(Figure([.surface(z: [[1, 2], [3, 4]]), .line(y: [1])]), "surface figure")
        refuses(Figure([.bars([1, 2], labels: ["a"])]), "2 values but 1 labels")
        refuses(Figure([.errorBars(mean: [1, 2], std: [1])]), "std has 1")
        refuses(Figure([.line(y: [1])], width: 0, height: 10), "too small")
    }
}
