import Foundation
import XCTest
@testable import Plot

/// Every kind renders through gnuplot to a PNG of exactly the asked size. Set PLOT_SAMPLES to a
/// folder to keep the images and look at them.
final class RenderTests: XCTestCase {
    override func setUpWithError() throws {
        try requireGnuplot()
    }

    /// Renders into a fresh folder, checks the PNG, keeps a sample copy; returns the path.
    @discardableResult
    private func render(_ f: Figure, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dir = try makeTempDir(self)
        let path = try f.render(to: dir + "/" + name)
        XCTAssertEqual(path, dir + "/" + name, file: file, line: line)
        assertPNG(path, width: f.width, height: f.height, file: file, line: line)
        keepSample(path, as: name)
        return path
    }

    func testLinesWithLegendAndMarkers() throws {
        var f = Figure([.line(x: Sample.epochs, y: Sample.trainLoss, label: "train loss"),
                        .line(x: Sample.epochs, y: Sample.testLoss, label: "test loss", style: .linesPoints, dash: .dashed),
                        .line(x: Sample.epochs, y: Sample.testLoss.map { $0 * 1.1 + 0.05 }, label: "CIFAR-10.1", style: .points)],
                       title: "Supervised ResNet-18", xlabel: "epoch", ylabel: "cross-entropy", width: 640, height: 400)
        f.markers = [Marker(x: 10, label: "lr ÷5"), Marker(x: 20, label: "lr ÷5")]
        try render(f, "lines.png")
    }

    func testSecondAxisLikeThePapersRAGFigures() throws {
        var f = Figure([.line(x: Sample.epochs, y: Sample.rag, label: "RAG", style: .linesPoints),
                        .line(x: Sample.epochs, y: Sample.testAcc, label: "test accuracy", axis: .right)],
                       title: "RAG and test accuracy, lr 0.1, batch 128", xlabel: "epoch", ylabel: "RAG", y2label: "test accuracy")
        f.markers = [Marker(x: 10), Marker(x: 20)]
        try render(f, "y2.png")
    }

    func testLogScalesOnEveryAxis() throws {
        let x = (1 ... 40).map { pow(10, Double($0) / 10) }
        var f = Figure([.line(x: x, y: x.map { 1 / $0 }, label: "1/x"),
                        .line(x: x, y: x.map { $0.squareRoot() }, label: "√x", axis: .right)], width: 700, height: 450)
        f.x.log = true
        f.y.log = true
        f.y2.log = true
        try render(f, "log.png")
    }

    func testErrorBarsAndBands() throws {
        let std = Sample.epochs.map { 0.02 + 0.03 * exp(-$0 / 10) }
        let f = Figure([.band(x: Sample.epochs, mean: Sample.testAcc, std: std.map { $0 * 2 }, label: "test acc (5 seeds)"),
                        .errorBars(x: Sample.epochs.filter { Int($0) % 3 == 0 }, mean: Sample.rag.enumerated().filter { $0.offset % 3 == 0 }.map(\.element),
                                   std: std.enumerated().filter { $0.offset % 3 == 0 }.map(\.element), label: "RAG (5 seeds)")],
                       title: "mean ± std", xlabel: "epoch")
        try render(f, "band.png")
    }

    func testBarsOnALogScale() throws {
        let supervised: [Double] = [412, 180, 95, 61, 40, 33, 25, 19, 15, 12]
        let simclr: [Double] = [38, 21, 14, 9, 7.5, 6, 5.2, 4.1, 3.3, 2.9]
        var f = Figure([.bars(supervised, labels: (1 ... 10).map { "λ\($0)" }, label: "supervised"),
                        .bars(simclr, label: "SimCLR"), .bars(simclr.map { $0 / 20 }, label: "random features")],
                       title: "Top-10 Hessian eigenvalues", ylabel: "|λ|", width: 720, height: 420)
        f.y.log = true
        try render(f, "bars.png")
    }

    func testHistogramAndDensity() throws {
        var rng = SystemRandomNumberGenerator()
        let values = (0 ..< 2000).map { _ in
            // Box–Muller: a standard normal sample.
            let u = Double.random(in: 1e-12 ..< 1, using: &rng), v = Double.random(in: 0 ..< 1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let xs = stride(from: -4.0, through: 4.0, by: 0.05).map { $0 }
        let f = Figure([try .histogram(values, bins: 40, scale: .density, label: "samples"),
                        .density(x: xs, density: xs.map { exp(-$0 * $0 / 2) / (2 * .pi).squareRoot() }, filled: false, label: "N(0, 1)")],
                       title: "histogram and density", xlabel: "x", ylabel: "density")
        try render(f, "hist.png")
        var esd = Figure([.density(x: xs, density: xs.map { 1e-6 + exp(-$0 * $0 * 3) + 0.01 * exp(-($0 - 3) * ($0 - 3) * 20) }, label: "ESD")],
                         title: "spectral density", xlabel: "eigenvalue", ylabel: "density")
        esd.y.log = true
        try render(esd, "density.png")
    }

    func testHeatmapContourAndSurface() throws {
        var heat = Figure([.heatmap(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ)], title: "loss slice", xlabel: "α", ylabel: "β")
        heat.colorbar.label = "loss"
        try render(heat, "heatmap.png")

        var contour = Figure([.heatmap(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ),
                              .contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, levels: .step(from: 0, by: 0.25, to: nil)),
                              .line(x: [-0.8, -0.4, -0.1, 0.05], y: [0.8, 0.5, 0.2, 0.02], label: "SGD path", style: .linesPoints, color: "#ff4d4d")],
                             title: "contours", xlabel: "α", ylabel: "β", width: 700, height: 560)
        contour.markers = [Marker(x: 0, label: "α = 0")]
        try render(contour, "contour.png")
        try render(Figure([.contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, levels: .auto(8))], title: "contour lines only"),
                   "contour-lines.png")

        var surface = Figure([.surface(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ),
                              .contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, labels: false)],
                             title: "loss surface", xlabel: "α", ylabel: "β")
        surface.z.label = "loss"
        surface.view = View(rotX: 55, rotZ: 35)
        try render(surface, "surface.png")
        try render(Figure([.surface(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ, style: .mesh)], title: "mesh"), "mesh.png")
        // An uneven grid cannot be an image: drawn as pm3d cells seen from above.
        let ys = [0.0, 0.1, 0.3, 0.7, 1.5]
        try render(Figure([.heatmap(x: [0, 1, 2, 4], y: ys, z: ys.map { y in [0, 1, 2, 4].map { $0 * y } })], title: "uneven"), "uneven.png")
    }

    func testPanelsInAGrid() throws {
        var log = Figure([.bars([40, 12, 5, 2.5, 1], label: "|λ|")], title: "eigenvalues")
        log.y.log = true
        let layout = Layout([
            Figure([.line(x: Sample.epochs, y: Sample.trainLoss, label: "train"), .line(x: Sample.epochs, y: Sample.testLoss, label: "test")],
                   title: "loss", xlabel: "epoch"),
            log,
            Figure([.heatmap(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ), .contour(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ)],
                   title: "slice"),
            Figure([.surface(x: Sample.gridX, y: Sample.gridY, z: Sample.gridZ)], title: "surface"),
        ], title: "four panels")
        let dir = try makeTempDir(self)
        let path = try layout.render(to: dir + "/panels.png")
        assertPNG(path, width: layout.width, height: layout.height)
        keepSample(path, as: "panels.png")
        let wide = Layout([Figure([.line(y: [1, 2, 3])]), Figure([.line(y: [3, 2, 1])])], columns: 2, width: 900, height: 300)
        assertPNG(try wide.render(to: dir + "/wide.png"), width: 900, height: 300)
    }

    func testRawScriptAndReplacingAFile() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/raw.png"
        XCTAssertEqual(try Gnuplot().render(script: "set title 'raw'\nplot sin(x) title 'sin'", to: path, width: 500, height: 300), path)
        assertPNG(path, width: 500, height: 300)
        try Figure([.line(y: [1, 2])], width: 300, height: 200).render(to: path)
        assertPNG(path, width: 300, height: 200)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "raw.png" }
        XCTAssertEqual(leftovers, [], "no temporary files stay behind")
    }

    func testWarningsThatDoNotMeanFailureAreReturned() throws {
        let dir = try makeTempDir(self)
        // A constant series: gnuplot widens the empty y range and says so.
        try render(Figure([.line(y: [3, 3, 3], label: "flat")]), "flat.png")
        let warnings = try Gnuplot().run("set terminal pngcairo size 200,100\nset output \(quotedPath(dir + "/w.png"))\nplot 3\n")
        XCTAssertTrue(warnings.contains { $0.contains("empty y range") }, "\(warnings)")
    }
}
