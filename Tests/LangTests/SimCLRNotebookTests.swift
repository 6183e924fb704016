import Foundation
import XCTest

/// `notebooks/simclr_pretrain.lsc` at the "tiny" scale through the real binary: the three regimes
/// run, the encoder is cached where the paper notebooks look for it, and the summary is written.
final class SimCLRNotebookTests: XCTestCase {
    func testSimCLRNotebookRunsAtTinyScale() throws {
        try PlotTestSupport.requireGnuplot()
        let notebook = PlotTestSupport.repositoryRoot.appendingPathComponent("notebooks/simclr_pretrain.lsc").path
        let dir = try PlotTestSupport.tempDir(self, "lsc-simclr")
        let r = try PlotTestSupport.losscape(["notebook", notebook, "-o", dir + "/report", "tiny"], cwd: dir)
        XCTAssertEqual(r.status, 0, "stderr:\n\(r.err)")
        let md = try String(contentsOfFile: dir + "/report/simclr_pretrain.md", encoding: .utf8)
        XCTAssertFalse(md.contains("**Error**"), md)
        for title in ["SimCLR pre-training", "Linear probe on the SimCLR encoder", "Random-feature baseline", "Summary"] {
            XCTAssertTrue(md.contains("] \(title)\n"), "cell '\(title)' in the report")
        }
        XCTAssertTrue(md.contains("simclr epoch 2/2  done"), md)
        XCTAssertTrue(md.contains("SimCLR beats random features by"), md)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/notebooks/cache/simclr_encoder_tiny.safetensors"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/notebooks/cache/simclr_tiny_summary.json"))) as? [String: Any]
        XCTAssertEqual(summary?["epochs"] as? Double, 2)
        XCTAssertEqual((summary?["knn_acc"] as? [Double])?.count, 2)
        for image in PlotTestSupport.imageLinks(md) { PlotTestSupport.assertPNG(dir + "/report/" + image, width: 800, height: 500) }
        XCTAssertEqual(PlotTestSupport.imageLinks(md).count, 2)
    }
}
