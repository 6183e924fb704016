import Foundation
import XCTest

/// The README's first command runs `notebooks/quickstart.lsc`; CI runs it at the "tiny" scale
/// through the real binary, so it cannot rot: every cell runs, the report holds the cells and
/// their real plots.
final class QuickstartTests: XCTestCase {
    func testQuickstartRunsAtTinyScale() throws {
        try PlotTestSupport.requireGnuplot()
        let notebook = PlotTestSupport.repositoryRoot.appendingPathComponent("notebooks/quickstart.lsc").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: notebook), notebook)
        let dir = try PlotTestSupport.tempDir(self, "lsc-quickstart")
        let started = Date()
        let r = try PlotTestSupport.losscape(["notebook", notebook, "-o", dir, "tiny"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(r.status, 0, "stderr:\n\(r.err)")
        XCTAssertTrue(r.out.hasSuffix("report: \(dir)/quickstart.md\n"), r.out)
        XCTAssertTrue(r.out.contains("scale: tiny"), "args reach the notebook's scale switch")
        XCTAssertLessThan(seconds, 60, "the tiny scale must stay tiny (CI runs it in debug)")

        let md = try String(contentsOfFile: dir + "/quickstart.md", encoding: .utf8)
        XCTAssertFalse(md.contains("**Error**"), md)
        XCTAssertFalse(md.contains("not run"), md)
        for title in ["Data", "Train, with RAG tracked every epoch", "Top Hessian eigenvalues", "A 1-D slice of the landscape"] {
            XCTAssertTrue(md.contains("] \(title)\n"), "cell '\(title)' in the report")
        }
        XCTAssertTrue(md.contains("fit epoch 3/3  done"), "the final progress lines of training are kept")
        XCTAssertTrue(md.contains("|λmax| = "), "the eigenvalue summary is printed")
        let images = PlotTestSupport.imageLinks(md)
        XCTAssertGreaterThanOrEqual(images.count, 3, md)
        for image in images {
            XCTAssertFalse(image.hasPrefix("/"), "links are relative: \(image)")
            PlotTestSupport.assertPNG(dir + "/" + image, width: 800, height: 500)
        }
    }
}
