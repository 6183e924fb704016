import Foundation
import XCTest
@testable import Plot

final class PNGTests: XCTestCase {
    func testPNGSizeReadsIHDRAndRejectsOtherFiles() throws {
        try requireGnuplot()
        let dir = try makeTempDir(self)
        let png = try Gnuplot().render(script: "plot x", to: dir + "/a.png", width: 321, height: 123)
        assertPNG(png, width: 321, height: 123)
        XCTAssertEqual(pngSize(atPath: png)?.width, 321)
        XCTAssertEqual(pngSize(atPath: png)?.height, 123)
        try "not a png at all, just text".write(toFile: dir + "/b.png", atomically: true, encoding: .utf8)
        XCTAssertNil(pngSize(atPath: dir + "/b.png"))
        XCTAssertNil(pngSize(atPath: dir + "/missing.png"))
    }

    func testNextNumberedPathContinuesAfterTheHighestNumber() throws {
        let dir = try makeTempDir(self)
        XCTAssertEqual(nextNumberedPath(in: dir), dir + "/plot-001.png")
        for name in ["plot-001.png", "plot-007.png", "plot-x.png", "plot-0009.txt", "other-050.png"] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data())
        }
        XCTAssertEqual(nextNumberedPath(in: dir), dir + "/plot-008.png")
        XCTAssertEqual(nextNumberedPath(in: dir + "/"), dir + "/plot-008.png")
        XCTAssertEqual(nextNumberedPath(in: dir, prefix: "other-"), dir + "/other-051.png")
        _ = FileManager.default.createFile(atPath: dir + "/plot-999.png", contents: Data())
        XCTAssertEqual(nextNumberedPath(in: dir), dir + "/plot-1000.png")
        XCTAssertEqual(nextNumberedPath(in: dir + "/does-not-exist"), dir + "/does-not-exist/plot-001.png")
    }
}
