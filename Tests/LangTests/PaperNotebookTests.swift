import Foundation
import XCTest
@testable import Lang

/// The notebooks that reproduce the paper (notebooks/table1.lsc … landscape2d.lsc) run at the "tiny"
/// scale through the real binary, so none of them can rot: every cell runs, the report holds the
/// expected cells, the numbers land in CSV and JSON beside it, and the plots are real PNGs. The
/// CIFAR-10 / CIFAR-10.1 path runs too, on small synthetic files in the real formats, and a second
/// notebook on the same cache reuses what the first one trained.
final class PaperNotebookTests: XCTestCase {
    /// What a notebook's tiny run must produce.
    struct Expected {
        let notebook: String
        let cells: [String]
        let files: [String]
        let text: [String]
        let images: Int
    }

    static let expected: [Expected] = [
        Expected(notebook: "table1", cells: ["Settings", "Data", "Supervised ResNet-18", "Linear layers: the grid, and the best setting",
                                             "Measures of the best linear classifiers", "Table 1", "Plot", "Export"],
                 files: ["table1.csv", "table1.json"], text: ["SimCLR + linear", "random features", "shifted_acc"], images: 1),
        Expected(notebook: "table2", cells: ["The classifiers", "RAG", "Hessian eigenvalues", "(C_eps, A)-sharpness", "Table 2",
                                             "Do the measures agree? (Spearman's rank correlation over the six rows)", "Plot", "Export"],
                 files: ["table2.csv", "table2.json"], text: ["lambda_max_all", "rho_with_rag", "SimCLR + linear (64)"], images: 1),
        Expected(notebook: "fig2_rag_lr_batch", cells: ["Training runs", "Does RAG rise at the learning-rate decays?", "Figure 2", "Export"],
                 files: ["fig2.csv", "fig2.json"], text: ["lr 0.03", "batch 64", "rag_before"], images: 1),
        Expected(notebook: "fig3_simclr_vs_supervised",
                 cells: ["Supervised run (RAG tracked during training)", "SimCLR: a fresh linear layer every few pre-training epochs",
                         "Figure 3", "Summary", "Export"],
                 files: ["fig3.csv", "fig3.json"], text: ["SimCLR epoch 2: linear head test accuracy"], images: 1),
        Expected(notebook: "fig4_eigenspectrum", cells: ["The three classifiers (the small batch, seed 0)", "Spectra", "Figure 4", "Export"],
                 files: ["fig4.csv", "fig4.json"], text: ["abs_lambda_all", "decay_1_to_k"], images: 1),
        Expected(notebook: "fig5_simclr_batch", cells: ["Data and the SimCLR encoder", "Fine-tuning at each batch size", "Figure 5", "Export"],
                 files: ["fig5.csv", "fig5.json"], text: ["final RAG across batch sizes"], images: 1),
        Expected(notebook: "landscape2d", cells: ["Data and the two classifiers", "2-D slices", "Contours", "Surfaces", "A 1-D slice of both", "Export"],
                 files: ["landscape2d.csv", "landscape2d.json"], text: ["rise = "], images: 3),
    ]

    func testTable1() throws { try runTiny("table1") }
    func testTable2() throws { try runTiny("table2") }
    func testFigure2() throws { try runTiny("fig2_rag_lr_batch") }
    func testFigure3() throws { try runTiny("fig3_simclr_vs_supervised") }
    func testFigure4() throws { try runTiny("fig4_eigenspectrum") }
    func testFigure5() throws { try runTiny("fig5_simclr_batch") }
    func testLandscape2D() throws { try runTiny("landscape2d") }

    /// The CIFAR-10 path: synthetic binary batches and CIFAR-10.1 .npy files in a folder given after
    /// the scale. Table 1 trains and caches; Figure 3, on the same cache, loads the supervised network
    /// and the SimCLR encoder (and walks the SimCLR checkpoints Table 1's pre-training wrote).
    func testCIFARPathAndCacheReuse() throws {
        try PlotTestSupport.requireGnuplot()
        let data = try PlotTestSupport.tempDir(self, "lsc-paper-cifar")
        try PaperNotebookTests.writeSyntheticCIFAR(to: data, trainPerFile: 30, test: 80, shifted: 40)
        let cache = try PlotTestSupport.tempDir(self, "lsc-paper-cache")

        let first = try run("table1", ["tiny", data, "cache=\(cache)"])
        XCTAssertTrue(first.md.contains("CIFAR-10 (128 training, 64 test images; shifted: CIFAR-10.1)"), first.md)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/simclr_encoder_tiny_cifar10.safetensors"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/simclr_tiny_cifar10_checkpoints/epoch-0002.safetensors"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/supervised_tiny_cifar10_w4_n128_e2_lr0.1_b32_seed0.weights.safetensors"),
                      (try? FileManager.default.contentsOfDirectory(atPath: cache))?.joined(separator: "\n") ?? "")

        let second = try run("fig3_simclr_vs_supervised", ["tiny", data, "cache=\(cache)"])
        XCTAssertTrue(second.out.contains("cache: loaded supervised_tiny_cifar10_w4_n128_e2_lr0.1_b32_seed0"), second.out)
        XCTAssertTrue(second.out.contains("cache: SimCLR encoder loaded from"), second.out)
        XCTAssertFalse(second.out.contains("SimCLR pre-trained for"), "the second notebook pre-trains nothing")
        XCTAssertTrue(second.md.contains("SimCLR epoch 1: linear head test accuracy"), second.md)
    }

    /// Wrong command lines stop at the settings cell with a message that says what to give.
    func testCommandLineErrors() throws {
        try PlotTestSupport.requireGnuplot()
        let cache = try PlotTestSupport.tempDir(self, "lsc-paper-cache")
        let table1 = PlotTestSupport.repositoryRoot.appendingPathComponent("notebooks/table1.lsc").path
        for (args, message) in [(["paper", "cache=\(cache)"], "the paper scale runs on CIFAR-10"),
                                (["huge", "cache=\(cache)"], "scale must be \"tiny\", \"cpu\" or \"paper\""),
                                (["tiny", "cahce=\(cache)"], "unknown option 'cahce'")] {
            let dir = try PlotTestSupport.tempDir(self, "lsc-paper-args")
            let r = try PlotTestSupport.losscape(["notebook", table1, "-o", dir] + args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.out)\n\(r.err)")
            let md = (try? String(contentsOfFile: dir + "/table1.md", encoding: .utf8)) ?? ""
            XCTAssertTrue(md.contains("**Error**") && md.contains(message), "\(args):\n\(md)")
        }
    }

    /// shift(): a translation with a black border, then contrast around each image's mean; a
    /// normalized set is shifted on its pixels and keeps its statistics.
    func testShiftBuiltin() throws {
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("""
            x = reshape(arange(1, 17) / 16, [1, 1, 4, 4])
            d = dataset(x, [3])
            s = shift(d, dx: 1, dy: 2)
            print(tolist(s.x[0][0] * 16), tolist(s.y))
            l = shift(d, dx: -1, dy: -1)
            print(tolist(l.x[0][0] * 16))
            c = shift(d, contrast: 0.5)
            print(round(mean(c.x) * 16, digits: 4), round(item(c.x[0][0][0][0]) * 16, digits: 4))
            n = normalize(dataset(rand([8, 1, 4, 4], seed: 0), range(8)))
            ns = shift(n, dx: 0, dy: 0, contrast: 1)
            print(round(max(abs(ns.x - n.x)), digits: 5), ns.normalization.mean == n.normalization.mean)
            """)
        XCTAssertEqual(out, """
            [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 2, 3], [0, 5, 6, 7]] [3]
            [[6, 7, 8, 0], [10, 11, 12, 0], [14, 15, 16, 0], [0, 0, 0, 0]]
            8.5 4.75
            0 true

            """)
        XCTAssertThrowsError(try interp.run("shift(dataset(zeros([2, 3]), [0, 1]), dx: 1)")) { e in
            XCTAssertTrue("\(e)".contains("needs images N×C×H×W"), "\(e)")
        }
        XCTAssertThrowsError(try interp.run("shift(dataset(zeros([1, 1, 2, 2]), [0]), contrast: -1)")) { e in
            XCTAssertTrue("\(e)".contains("contrast must be"), "\(e)")
        }
    }

    /// exists() and mkdir(): what the notebooks' cache stands on.
    func testExistsAndMkdir() throws {
        let base = try PlotTestSupport.tempDir(self, "lsc-paper-mkdir")
        let interp = Interpreter()
        XCTAssertEqual(try interp.run("exists(\"\(base)/a/b\")")?.repr, "false")
        XCTAssertEqual(try interp.run("mkdir(\"\(base)/a/b\")")?.repr, "\"\(base)/a/b\"")
        XCTAssertEqual(try interp.run("mkdir(\"\(base)/a/b\")\nexists(\"\(base)/a/b\")")?.repr, "true")
        XCTAssertEqual(try interp.run("save(\"\(base)/a/b/t.npy\", ones(2))\nexists(\"\(base)/a/b/t.npy\")")?.repr, "true")
    }

    // MARK: - Running notebooks

    /// Runs one notebook at tiny scale on Fashion-MNIST with a fresh cache and checks its report.
    private func runTiny(_ name: String) throws {
        try PlotTestSupport.requireGnuplot()
        try PaperNotebookTests.requireFashionMNIST()
        let cache = try PlotTestSupport.tempDir(self, "lsc-paper-cache")
        _ = try run(name, ["tiny", "cache=\(cache)"])
    }

    /// Runs a notebook through the binary and checks what every run must produce; returns the
    /// report and stdout.
    @discardableResult
    private func run(_ name: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (md: String, out: String) {
        let expected = try XCTUnwrap(PaperNotebookTests.expected.first { $0.notebook == name })
        let notebook = PlotTestSupport.repositoryRoot.appendingPathComponent("notebooks/\(name).lsc").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: notebook), notebook, file: file, line: line)
        let dir = try PlotTestSupport.tempDir(self, "lsc-paper-\(name)")
        let before = PaperNotebookTests.childCPUSeconds()
        let r = try PlotTestSupport.losscape(["notebook", notebook, "-o", dir] + args)
        let cpu = PaperNotebookTests.childCPUSeconds() - before
        XCTAssertEqual(r.status, 0, "\(name): stderr:\n\(r.err.suffix(4000))", file: file, line: line)
        XCTAssertTrue(r.out.hasSuffix("report: \(dir)/\(name).md\n"), r.out, file: file, line: line)
        XCTAssertTrue(r.out.contains("scale: tiny"), "args reach the notebook's scale switch", file: file, line: line)
        // CPU time (the binary's threads and its gnuplots), not wall time, which a shared machine
        // stretches: the heaviest notebook (table2) takes 30–40 s of CPU in a debug build on 2 cores.
        XCTAssertLessThan(cpu, 90, "\(name): the tiny scale must stay tiny (CI runs it in debug)", file: file, line: line)

        let md = try String(contentsOfFile: "\(dir)/\(name).md", encoding: .utf8)
        XCTAssertFalse(md.contains("**Error**"), md, file: file, line: line)
        XCTAssertFalse(md.contains("not run"), md, file: file, line: line)
        XCTAssertTrue(md.contains("\n# "), "the Markdown header cell is in the report", file: file, line: line)
        for title in expected.cells {
            XCTAssertTrue(md.contains("] \(title)\n"), "\(name): cell '\(title)' in the report", file: file, line: line)
        }
        for text in expected.text {
            XCTAssertTrue(md.contains(text), "\(name): '\(text)' in the report", file: file, line: line)
        }
        let images = PlotTestSupport.imageLinks(md)
        XCTAssertGreaterThanOrEqual(images.count, expected.images, md, file: file, line: line)
        for image in images {
            XCTAssertFalse(image.hasPrefix("/"), "links are relative: \(image)", file: file, line: line)
            PlotTestSupport.assertPNG(dir + "/" + image, file: file, line: line)
        }
        for f in expected.files {
            let path = "\(dir)/\(f)"
            guard let data = FileManager.default.contents(atPath: path) else {
                XCTFail("\(name): no \(f) beside the report", file: file, line: line)
                continue
            }
            if f.hasSuffix(".json") {
                XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data), "\(f) is JSON", file: file, line: line)
            } else {
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
                XCTAssertGreaterThanOrEqual(lines.count, 3, "\(f): a header and rows", file: file, line: line)
                XCTAssertFalse(lines.contains { $0.contains("nan") }, "\(f) holds numbers", file: file, line: line)
            }
        }
        return (md, r.out)
    }

    /// User plus system CPU seconds of the finished children of this process (the binary and its
    /// gnuplots).
    static func childCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        let t = { (tv: timeval) in Double(tv.tv_sec) + Double(tv.tv_usec) / 1e6 }
        return t(usage.ru_utime) + t(usage.ru_stime)
    }

    /// Fails (never skips) when Debian's Fashion-MNIST is missing.
    static func requireFashionMNIST(file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = "/usr/share/datasets/fashion-mnist"
        let files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        if files.allSatisfy({ FileManager.default.fileExists(atPath: "\(dir)/\($0)") }) { return }
        XCTFail("Fashion-MNIST is not installed in \(dir): the paper notebooks need it. Install the dataset-fashion-mnist "
            + "package (apt install dataset-fashion-mnist; scripts/test installs it).", file: file, line: line)
        throw MissingData()
    }

    struct MissingData: Error, CustomStringConvertible {
        var description: String { "Fashion-MNIST is not installed (install dataset-fashion-mnist)" }
    }

    // MARK: - Synthetic CIFAR files

    /// CIFAR-10's binary batches (data_batch_1.bin … data_batch_5.bin with `trainPerFile` records
    /// each, test_batch.bin with `test`) and CIFAR-10.1's v6 .npy files (`shifted` images, uint8
    /// N×32×32×3, int64 labels). Each image is a noisy class-dependent pattern, so a network has
    /// something to learn; the bytes are fixed by a seeded generator.
    static func writeSyntheticCIFAR(to dir: String, trainPerFile: Int, test: Int, shifted: Int) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        // Pixel (c, y, x) of an image of class `label`: a per-class stripe pattern plus noise.
        func pixel(_ label: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 {
            let stripe = ((x + label * 3) / 4 + (y * (label % 3)) / 8 + c) % 2 == 0 ? 170 : 70
            return UInt8(clamping: stripe + Int(next() % 61) - 30)
        }
        func record(_ label: Int) -> [UInt8] {   // label byte, then the R, G, B planes
            [UInt8(label)] + (0 ..< 3).flatMap { c in (0 ..< 32).flatMap { y in (0 ..< 32).map { x in pixel(label, c, y, x) } } }
        }
        for f in 1 ... 5 {
            let bytes = (0 ..< trainPerFile).flatMap { i in record((i + f) % 10) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/data_batch_\(f).bin"))
        }
        try Data((0 ..< test).flatMap { record($0 % 10) }).write(to: URL(fileURLWithPath: "\(dir)/test_batch.bin"))

        func npy(_ descr: String, _ shape: [Int], _ payload: [UInt8]) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            let n = UInt16(header.utf8.count)
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + payload)
        }
        let labels = (0 ..< shifted).map { ($0 * 7) % 10 }
        // Stored HWC: pixel (y, x), then its R, G, B.
        let pixels = labels.flatMap { label in
            (0 ..< 32).flatMap { y in (0 ..< 32).flatMap { x in (0 ..< 3).map { c in pixel(label, c, y, x) } } }
        }
        try npy("|u1", [shifted, 32, 32, 3], pixels).write(to: URL(fileURLWithPath: "\(dir)/cifar10.1_v6_data.npy"))
        let labelBytes = labels.flatMap { v in (0 ..< 8).map { UInt8(truncatingIfNeeded: Int64(v) >> (8 * $0)) } }
        try npy("<i8", [shifted], labelBytes).write(to: URL(fileURLWithPath: "\(dir)/cifar10.1_v6_labels.npy"))
    }
}
