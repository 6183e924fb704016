import XCTest
@testable import Data
import Tensor

/// An IDX image file: magic 0x00000803, three big-endian dims, then the pixels.
func idxImages(_ pixels: [UInt8], n: Int, rows: Int, cols: Int) -> [UInt8] {
    [0, 0, 0x08, 0x03] + be32(n) + be32(rows) + be32(cols) + pixels
}

func idxLabels(_ labels: [UInt8]) -> [UInt8] { [0, 0, 0x08, 0x01] + be32(labels.count) + labels }

final class IDXTests: XCTestCase {
    func testReadsPlainAndGzippedImagesAndLabels() throws {
        let dir = try makeTempDir(self)
        let pixels: [UInt8] = (0 ..< 3 * 2 * 2).map { UInt8($0 * 20) }
        try writeBytes(idxImages(pixels, n: 3, rows: 2, cols: 2), dir + "/img")
        try writeBytes(gzipBytes(idxImages(pixels, n: 3, rows: 2, cols: 2)), dir + "/img.gz")
        try writeBytes(gzipBytes(idxLabels([7, 0, 255])), dir + "/lab.gz")
        for name in ["img", "img.gz"] {
            let t = try IDX.read(dir + "/" + name)
            XCTAssertEqual(t.shape, [3, 2, 2])
            XCTAssertEqual(t.scalars, pixels.map(Float.init))
            let first = try IDX.read(dir + "/" + name, limit: 2)
            XCTAssertEqual(first.shape, [2, 2, 2])
            XCTAssertEqual(first.scalars, pixels.prefix(8).map(Float.init))
        }
        XCTAssertEqual(try IDX.read(dir + "/lab.gz").scalars, [7, 0, 255])
    }

    func testReadsBigEndianWiderTypes() throws {
        let dir = try makeTempDir(self)
        // 0x0B = i16: values 258 and −2 big-endian.
        try writeBytes([0, 0, 0x0b, 0x01] + be32(2) + [0x01, 0x02, 0xff, 0xfe], dir + "/s")
        XCTAssertEqual(try IDX.read(dir + "/s").scalars, [258, -2])
    }

    func testMalformedFilesNameTheFile() throws {
        let dir = try makeTempDir(self)
        let short = idxImages([UInt8](repeating: 1, count: 100), n: 60000, rows: 28, cols: 28)
        try writeBytes(gzipBytes(short), dir + "/train-images-idx3-ubyte.gz")
        assertDataError(try IDX.read(dir + "/train-images-idx3-ubyte.gz"), path: "train-images-idx3-ubyte.gz",
                        "truncated", "60000 images of 28×28", "only 100 bytes of pixel data")
        try writeBytes(short, dir + "/plain")
        assertDataError(try IDX.read(dir + "/plain"), path: "plain", "truncated")
        try writeBytes([1, 2, 3, 4, 5, 6, 7, 8], dir + "/magic")
        assertDataError(try IDX.read(dir + "/magic"), path: "magic", "bad magic")
        try writeBytes([0, 0, 0x42, 0x01] + be32(1) + [0], dir + "/type")
        assertDataError(try IDX.read(dir + "/type"), path: "type", "element type")
        try writeBytes([0, 0, 8], dir + "/tiny")
        assertDataError(try IDX.read(dir + "/tiny"), path: "tiny", "truncated")
        let gz = gzipBytes(idxImages([UInt8](repeating: 9, count: 4000), n: 10, rows: 20, cols: 20))
        try writeBytes(Array(gz.prefix(gz.count - 12)), dir + "/cut.gz")
        assertDataError(try IDX.read(dir + "/cut.gz"), path: "cut.gz", "truncated")
        assertDataError(try IDX.read(dir + "/missing.gz"), path: "missing.gz", "No such file")
        // A header claiming an absurd shape is an error, not a crash or a huge allocation.
        try writeBytes([0, 0, 8, 3] + be32(0x7fff_ffff) + be32(0x7fff_ffff) + be32(0x7fff_ffff), dir + "/huge")
        assertDataError(try IDX.read(dir + "/huge"), path: "huge")
    }
}

/// A Fashion-MNIST-style directory of tiny 4×4 IDX files (gzipped unless told): image i's first
/// pixel is i, pixel p > 0 is (16·i + p) mod 256; label i mod 10.
func writeFakeIDXDirectory(_ dir: String, train: Int, test: Int, gzip: Bool = true) throws {
    for (split, n) in [("train", train), ("t10k", test)] {
        var pixels: [UInt8] = []
        for i in 0 ..< n { for p in 0 ..< 16 { pixels.append(UInt8(p == 0 ? i : (i * 16 + p) % 256)) } }
        let labels = (0 ..< n).map { UInt8($0 % 10) }
        let img = idxImages(pixels, n: n, rows: 4, cols: 4), lab = idxLabels(labels)
        let suffix = gzip ? ".gz" : ""
        try writeBytes(gzip ? gzipBytes(img) : img, "\(dir)/\(split)-images-idx3-ubyte\(suffix)")
        try writeBytes(gzip ? gzipBytes(lab) : lab, "\(dir)/\(split)-labels-idx1-ubyte\(suffix)")
    }
}

final class IDXDatasetTests: XCTestCase {
    func testLoadsFirstNAndScalesToUnitRange() throws {
        let dir = try makeTempDir(self)
        try writeFakeIDXDirectory(dir, train: 30, test: 12)
        let d = try FashionMNIST.load(directory: dir, train: 5, test: 3)
        XCTAssertEqual(d.train.x.shape, [5, 1, 4, 4])
        XCTAssertEqual(d.test.x.shape, [3, 1, 4, 4])
        XCTAssertEqual(d.train.labels, [0, 1, 2, 3, 4])
        XCTAssertEqual(d.train.y.scalars, [0, 1, 2, 3, 4])
        XCTAssertEqual(Array(d.train.x.scalars.prefix(3)), [0, 1 / 255, 2 / 255])
        XCTAssertEqual(d.train.x.scalars[16], 1 / 255)   // image 1's first pixel
        XCTAssertEqual(d.train.x.scalars[17], 17 / 255)
        let all = try MNIST.load(directory: dir)
        XCTAssertEqual(all.train.count, 30)
        XCTAssertEqual(all.test.count, 12)
        XCTAssertEqual(all.train.x.scalars.max(), 255 / 255)
    }

    func testPlainFilesWork() throws {
        let dir = try makeTempDir(self)
        try writeFakeIDXDirectory(dir, train: 6, test: 4, gzip: false)
        XCTAssertEqual(try FashionMNIST.load(directory: dir).train.count, 6)
    }

    func testSeedPicksTheSameRandomSubset() throws {
        let dir = try makeTempDir(self)
        try writeFakeIDXDirectory(dir, train: 40, test: 20)
        let a = try FashionMNIST.load(directory: dir, train: 10, test: 5, seed: 3)
        let b = try FashionMNIST.load(directory: dir, train: 10, test: 5, seed: 3)
        let c = try FashionMNIST.load(directory: dir, train: 10, test: 5, seed: 4)
        XCTAssertEqual(a.train.x.scalars, b.train.x.scalars)
        XCTAssertEqual(a.test.labels, b.test.labels)
        XCTAssertNotEqual(a.train.x.scalars, c.train.x.scalars)
        // The items are distinct images of the file, in file order (image i's first pixel is i).
        let firsts = (0 ..< 10).map { Int((a.train.x.scalars[$0 * 16] * 255).rounded()) }
        XCTAssertEqual(Set(firsts).count, 10)
        XCTAssertEqual(firsts, firsts.sorted())
        XCTAssertEqual(a.train.labels, firsts.map { $0 % 10 })
    }

    func testNormalizeUsesTheWholeTrainingFile() throws {
        let dir = try makeTempDir(self)
        try writeFakeIDXDirectory(dir, train: 16, test: 4)
        let raw = try FashionMNIST.load(directory: dir)
        let stats = raw.train.channelStats()
        let d = try FashionMNIST.load(directory: dir, train: 2, test: 2, normalize: true)
        let used = try XCTUnwrap(d.train.normalization)
        XCTAssertEqual(used.mean[0], stats.mean[0], accuracy: 1e-6)
        XCTAssertEqual(used.std[0], stats.std[0], accuracy: 1e-6)
        XCTAssertEqual(d.test.normalization, used)
        XCTAssertEqual(d.train.x.scalars[1], (1 / 255 - used.mean[0]) / used.std[0], accuracy: 1e-6)
    }

    func testErrorsNameTheFile() throws {
        let dir = try makeTempDir(self)
        try writeFakeIDXDirectory(dir, train: 5, test: 3)
        assertDataError(try FashionMNIST.load(directory: dir, train: 6), path: "train-labels-idx1-ubyte", "asked for 6")
        try FileManager.default.removeItem(atPath: dir + "/t10k-images-idx3-ubyte.gz")
        assertDataError(try FashionMNIST.load(directory: dir), path: "t10k-images-idx3-ubyte.gz", "not found")
        try writeBytes(gzipBytes(idxImages([UInt8](repeating: 0, count: 16), n: 1, rows: 4, cols: 4)), dir + "/t10k-images-idx3-ubyte.gz")
        assertDataError(try FashionMNIST.load(directory: dir), path: "t10k-images-idx3-ubyte.gz", "holds 1 images")
        try writeBytes(gzipBytes(idxLabels([1, 2, 30])), dir + "/t10k-labels-idx1-ubyte.gz")
        try writeBytes(gzipBytes(idxImages([UInt8](repeating: 0, count: 48), n: 3, rows: 4, cols: 4)), dir + "/t10k-images-idx3-ubyte.gz")
        assertDataError(try FashionMNIST.load(directory: dir), path: "t10k-labels-idx1-ubyte.gz", "label 30")
    }
}

/// The real data set Debian ships; its absence is a failure, not a skip.
final class FashionMNISTFilesTests: XCTestCase {
    func testLoadsTheInstalledFiles() throws {
        let dir = FashionMNIST.defaultDirectory
        for f in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
            where !FileManager.default.fileExists(atPath: dir + "/" + f) {
            XCTFail("Fashion-MNIST file \(dir)/\(f) is missing: install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
            return
        }
        let d = try FashionMNIST.load(train: 100, test: 50)
        XCTAssertEqual(d.train.x.shape, [100, 1, 28, 28])
        XCTAssertEqual(d.test.x.shape, [50, 1, 28, 28])
        XCTAssertEqual(d.train.y.shape, [100])
        XCTAssertEqual(d.test.count, 50)
        for set in [d.train, d.test] {
            let v = set.x.scalars
            XCTAssertGreaterThanOrEqual(v.min() ?? -1, 0)
            XCTAssertLessThanOrEqual(v.max() ?? 2, 1)
            XCTAssertEqual(v.max(), 1)   // some pixel is fully on
            XCTAssertTrue(set.labels.allSatisfy { (0 ... 9).contains($0) })
        }
        // Checked against the raw label bytes: train starts 9 0 0 3 0 2 7 2 5 5 0 9, test 9 2 1 1 6 1 4 6 5 7 4 5.
        XCTAssertEqual(d.train.labels[0], 9)   // ankle boot
        XCTAssertEqual(d.test.labels[0], 9)
        XCTAssertEqual(Array(d.train.labels.prefix(12)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9])
        XCTAssertEqual(Array(d.test.labels.prefix(12)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5])
        XCTAssertEqual(d.train.classNames?[9], "Ankle boot")
    }
}
