import Foundation
import XCTest
@testable import Data
import Tensor

/// A batch of one C×H×W image.
private func image(_ values: [Float], c: Int, h: Int, w: Int) -> Tensor { Tensor(values, shape: [1, c, h, w]) }

private func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "lengths differ", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= tol) {
        XCTFail("element \(i): \(x) vs expected \(y)\n got      \(a)\n expected \(b)", file: file, line: line)
        return
    }
}

/// The generator image `index` of a batch draws from, for a batch augmented from `RandomGenerator(seed:)`.
private func imageGenerator(seed: UInt64, index: Int = 0) -> RandomGenerator {
    var master = RandomGenerator(seed: seed)
    for _ in 0 ..< index { _ = master.next() }
    return RandomGenerator(seed: master.next())
}

/// torchvision's `adjust_hue` for one pixel, transcribed from `_rgb2hsv` and `_hsv2rgb` (in Double).
private func torchvisionAdjustHue(_ r: Float, _ g: Float, _ b: Float, _ f: Float) -> (Float, Float, Float) {
    let (r, g, b) = (Double(r), Double(g), Double(b))
    let maxc = max(r, g, b), minc = min(r, g, b), eqc = maxc == minc, cr = maxc - minc
    let s = cr / (eqc ? 1 : maxc), crDivisor = eqc ? 1 : cr
    let rc = (maxc - r) / crDivisor, gc = (maxc - g) / crDivisor, bc = (maxc - b) / crDivisor
    let hr = maxc == r ? bc - gc : 0
    let hg = maxc == g && maxc != r ? 2 + rc - bc : 0
    let hb = maxc != g && maxc != r ? 4 + gc - rc : 0
    var h = fmod((hr + hg + hb) / 6 + 1, 1)
    h = h + Double(f)
    h -= floor(h)                                   // Python's % 1.0
    let v = maxc
    let i6 = floor(h * 6), ff = h * 6 - i6
    let p = min(max(v * (1 - s), 0), 1), q = min(max(v * (1 - s * ff), 0), 1), t = min(max(v * (1 - s * (1 - ff)), 0), 1)
    let table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    let out = table[Int(i6) % 6]
    return (Float(out.0), Float(out.1), Float(out.2))
}

/// Runs a geometric kernel on an image held in plain arrays.
private func withWorkspace<R>(_ body: (AugmentWorkspace) -> R) -> R { body(AugmentWorkspace()) }

final class AugmentTests: XCTestCase {
    // MARK: Geometric

    func testCropWithPaddingPlacesZerosForAGivenOffset() {
        // 4×4 image 1…16, padding 2, a 4×4 crop at top 0, left 3 of the 8×8 padded image:
        // out[y][x] = in[y − 2][x + 1]: two zero rows, then rows 0 and 1 shifted left by one, zero at the right.
        let src: [Float] = (1 ... 16).map(Float.init)
        var out = [Float](repeating: -1, count: 16)
        let s = ImageShape(c: 1, h: 4, w: 4)
        src.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                cropPadded(p.baseAddress!, s, top: 0, left: 3, padding: 2, into: o.baseAddress!, s)
            }
        }
        XCTAssertEqual(out, [0, 0, 0, 0,
                             0, 0, 0, 0,
                             2, 3, 4, 0,
                             6, 7, 8, 0])
        // Offset (4, 0): out[y][x] = in[y + 2][x − 2].
        src.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                cropPadded(p.baseAddress!, s, top: 4, left: 0, padding: 2, into: o.baseAddress!, s)
            }
        }
        XCTAssertEqual(out, [0, 0, 9, 10,
                             0, 0, 13, 14,
                             0, 0, 0, 0,
                             0, 0, 0, 0])
    }

    func testRandomCropDrawsTopThenLeftAndCropsThere() throws {
        let x = image((1 ... 16).map(Float.init), c: 1, h: 4, w: 4)
        var seenOffsets = Set<[Int]>()
        for seed in UInt64(0) ..< 40 {
            let y = try Augmentation.randomCrop(size: 3, padding: 1)(x, seed: seed)
            XCTAssertEqual(y.shape, [1, 1, 3, 3])
            var g = imageGenerator(seed: seed)
            let top = g.int(below: 4 + 2 - 3 + 1), left = g.int(below: 4 + 2 - 3 + 1)
            seenOffsets.insert([top, left])
            var expected: [Float] = []
            for r in 0 ..< 3 { for c in 0 ..< 3 {
                let sy = r + top - 1, sx = c + left - 1
                expected.append(sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? Float(sy * 4 + sx + 1) : 0)
            } }
            XCTAssertEqual(y.scalars, expected, "seed \(seed), offset (\(top), \(left))")
        }
        XCTAssertGreaterThan(seenOffsets.count, 10)   // of the 16 possible offsets
    }

    func testFlipsReverseRowsOrColumns() throws {
        let x = image([1, 2, 3, 4, 5, 6], c: 1, h: 2, w: 3)
        XCTAssertEqual(try Augmentation.horizontalFlip(p: 1)(x, seed: 0).scalars, [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(try Augmentation.horizontalFlip(p: 0)(x, seed: 0).scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Augmentation.verticalFlip(p: 1)(x, seed: 0).scalars, [4, 5, 6, 1, 2, 3])
        // Every channel of an RGB image, odd width (the middle column stays).
        let rgb = image((0 ..< 18).map(Float.init), c: 3, h: 2, w: 3)
        XCTAssertEqual(try Augmentation.horizontalFlip(p: 1)(rgb, seed: 0).scalars,
                       [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12, 17, 16, 15])
    }

    func testBilinearResamplingByHand() {
        func resample(_ v: [Float], from inW: Int, to outW: Int) -> [Float] {
            let s = ImageShape(c: 1, h: 1, w: inW), o = ImageShape(c: 1, h: 1, w: outW)
            var out = [Float](repeating: .nan, count: outW)
            withWorkspace { ws in
                v.withUnsafeBufferPointer { p in
                    out.withUnsafeMutableBufferPointer { q in
                        resizeCrop(p.baseAddress!, s, box: CropBox(top: 0, left: 0, height: 1, width: inW),
                                   into: q.baseAddress!, o, ws)
                    }
                }
            }
            return out
        }
        // Upsampling [0, 1] to 4: sample points (o + ½)/2 − ½ = −¼, ¼, ¾, 5/4, clamped to the image.
        assertClose(resample([0, 1], from: 2, to: 4), [0, 0.25, 0.75, 1])
        // Downsampling [0, 1, 2, 3] to 2 (antialiased): a triangle of half-width 2 around 1 and 3:
        // weights ¾, ¾, ¼ / 1.75 on samples 0, 1, 2 and ¼, ¾, ¾ / 1.75 on samples 1, 2, 3.
        assertClose(resample([0, 1, 2, 3], from: 4, to: 2), [5.0 / 7, 16.0 / 7])
        // Same size: the identity, exactly.
        XCTAssertEqual(resample([0.3, 0.1, 0.9], from: 3, to: 3), [0.3, 0.1, 0.9])
    }

    func testResizedCropOfFullBoxIsIdentityAndOfConstantStaysConstant() throws {
        let x = Tensor.rand([3, 3, 7, 7], seed: 5)
        let full = Augmentation.randomResizedCrop(scale: 1 ... 1, ratio: 1 ... 1)
        XCTAssertEqual(try full(x, seed: 11).scalars, x.scalars)

        let constant = Tensor.full(0.37, shape: [6, 3, 7, 9])
        for (h, w) in [(7, 9), (5, 6), (12, 11), (2, 2)] {
            let y = try Augmentation.randomResizedCrop(height: h, width: w)(constant, seed: UInt64(h))
            XCTAssertEqual(y.shape, [6, 3, h, w])
            assertClose(y.scalars, [Float](repeating: 0.37, count: y.count), 1e-6)
        }
    }

    func testResizedCropBoxFollowsTorchvision() throws {
        var rng = RandomGenerator(seed: 3)
        for _ in 0 ..< 500 {
            let b = resizedCropBox(height: 28, width: 28, scale: 0.08 ... 1, ratio: 3.0 / 4 ... 4.0 / 3, rng: &rng)
            XCTAssertTrue(b.height >= 1 && b.width >= 1 && b.top >= 0 && b.left >= 0)
            XCTAssertTrue(b.top + b.height <= 28 && b.left + b.width <= 28)
            let area = Double(b.height * b.width) / 784
            XCTAssertTrue(area >= 0.05 && area <= 1, "area fraction \(area)")
        }
        // No box of 5× the area fits: after ten tries, the central crop with its ratio clipped to 4/3
        // (4×8 → width round(4 · 4/3) = 5, left (8 − 5) / 2 = 1) or 3/4 (8×4 → height round(4 / 0.75) = 5).
        XCTAssertEqual(resizedCropBox(height: 4, width: 8, scale: 5 ... 5, ratio: 3.0 / 4 ... 4.0 / 3, rng: &rng),
                       CropBox(top: 0, left: 1, height: 4, width: 5))
        XCTAssertEqual(resizedCropBox(height: 8, width: 4, scale: 5 ... 5, ratio: 3.0 / 4 ... 4.0 / 3, rng: &rng),
                       CropBox(top: 1, left: 0, height: 5, width: 4))
        XCTAssertEqual(resizedCropBox(height: 6, width: 6, scale: 5 ... 5, ratio: 3.0 / 4 ... 4.0 / 3, rng: &rng),
                       CropBox(top: 0, left: 0, height: 6, width: 6))
        // The step crops the box the same draws give, then resizes it.
        let x = Tensor.rand([1, 1, 8, 8], seed: 2)
        let y = try Augmentation.randomResizedCrop(size: 8, scale: 0.25 ... 0.25, ratio: 1 ... 1)(x, seed: 9)
        var g = imageGenerator(seed: 9)
        let box = resizedCropBox(height: 8, width: 8, scale: 0.25 ... 0.25, ratio: 1 ... 1, rng: &g)
        XCTAssertEqual([box.height, box.width], [4, 4])
        // Upsampling ×2: output o samples the box at (o + ½)/2 − ½, so output 1 sits at box coordinate 0.25.
        let v = x.scalars
        let px = { (r: Int, c: Int) -> Float in v[(box.top + r) * 8 + box.left + c] }
        let got = y.scalars
        // Output (1, 1) sits at box coordinate (0.25, 0.25): ¾·¾ of (0,0), ¾·¼ of (0,1) and (1,0), ¼·¼ of (1,1).
        let expected11 = 0.5625 * px(0, 0) + 0.1875 * px(0, 1) + 0.1875 * px(1, 0) + 0.0625 * px(1, 1)
        XCTAssertEqual(got[1 * 8 + 1], expected11, accuracy: 1e-6)
        XCTAssertEqual(got[0], px(0, 0), accuracy: 1e-6)       // the corner clamps to the box's corner
        XCTAssertEqual(got[63], px(3, 3), accuracy: 1e-6)
    }

    // MARK: Colour

    /// A jitter with one adjustment at a fixed factor.
    private func jitter(_ j: ColorJitter, _ x: Tensor) throws -> [Float] {
        try Augmentation.colorJitter(j)(x, seed: 0).scalars
    }

    func testBrightnessScalesAndClamps() throws {
        let x = image([0.2, 0.5, 0.8, 0.1], c: 1, h: 2, w: 2)
        assertClose(try jitter(ColorJitter(brightness: 1.5 ... 1.5), x), [0.3, 0.75, 1, 0.15])
        assertClose(try jitter(ColorJitter(brightness: 0 ... 0), x), [0, 0, 0, 0])
    }

    func testContrastBlendsWithTheGrayscaleMean() throws {
        // One channel: mean 0.3, f = ½ → ½x + 0.15.
        let g = image([0, 0.2, 0.4, 0.6], c: 1, h: 2, w: 2)
        assertClose(try jitter(ColorJitter(contrast: 0.5 ... 0.5), g), [0.15, 0.25, 0.35, 0.45])
        // RGB: a red and a green pixel; gray 0.299 and 0.587, mean 0.443; f = ½ → ½x + 0.2215.
        let rgb = image([1, 0, 0, 1, 0, 0], c: 3, h: 1, w: 2)
        assertClose(try jitter(ColorJitter(contrast: 0.5 ... 0.5), rgb), [0.7215, 0.2215, 0.2215, 0.7215, 0.2215, 0.2215])
        // f = 2 → 2x − 0.443, clamped to [0, 1].
        assertClose(try jitter(ColorJitter(contrast: 2 ... 2), rgb), [1, 0, 0, 1, 0, 0])
        assertClose(try jitter(ColorJitter(contrast: 2 ... 2), g), [0, 0.1, 0.5, 0.9])
    }

    func testSaturationBlendsWithGrayAndGrayscaleUsesLuma() throws {
        // Pixel (0.8, 0.4, 0.2): gray = 0.299·0.8 + 0.587·0.4 + 0.114·0.2 = 0.4968.
        let x = image([0.8, 0.4, 0.2], c: 3, h: 1, w: 1)
        assertClose(try jitter(ColorJitter(saturation: 0 ... 0), x), [0.4968, 0.4968, 0.4968])
        assertClose(try jitter(ColorJitter(saturation: 0.5 ... 0.5), x), [0.6484, 0.4484, 0.3484])
        assertClose(try jitter(ColorJitter(saturation: 2 ... 2), x), [1, 0.3032, 0])
        assertClose(try Augmentation.randomGrayscale(p: 1)(x, seed: 0).scalars, [0.4968, 0.4968, 0.4968])
        XCTAssertEqual(try Augmentation.randomGrayscale(p: 0)(x, seed: 0).scalars, x.scalars)
        // One channel: saturation, hue and grayscale change nothing.
        let one = image([0.1, 0.7], c: 1, h: 1, w: 2)
        XCTAssertEqual(try jitter(ColorJitter(saturation: 0 ... 0, hue: 0.3 ... 0.3), one), one.scalars)
        XCTAssertEqual(try Augmentation.randomGrayscale(p: 1)(one, seed: 0).scalars, one.scalars)
    }

    func testHueShiftRotatesTheColourWheel() throws {
        let red = image([1, 0, 0], c: 3, h: 1, w: 1)
        assertClose(try jitter(ColorJitter(hue: 1.0 / 3 ... 1.0 / 3), red), [0, 1, 0])     // +120°: green
        assertClose(try jitter(ColorJitter(hue: -1.0 / 3 ... -1.0 / 3), red), [0, 0, 1])   // −120°: blue
        assertClose(try jitter(ColorJitter(hue: 0.1 ... 0.1), red), [1, 0.6, 0])           // +36°: h·6 = 0.6 → (v, t, p)
        // (0.8, 0.4, 0.2): h = 1/18, s = 0.75, v = 0.8; +½ → h·6 = 10/3, sector 3 → (p, q, v) = (0.2, 0.6, 0.8).
        assertClose(try jitter(ColorJitter(hue: 0.5 ... 0.5), image([0.8, 0.4, 0.2], c: 3, h: 1, w: 1)), [0.2, 0.6, 0.8])
        // Grays have no hue.
        assertClose(try jitter(ColorJitter(hue: 0.25 ... 0.25), image([0.5, 0.5, 0.5], c: 3, h: 1, w: 1)), [0.5, 0.5, 0.5])
        // The closed form agrees with torchvision's _rgb2hsv / table-driven _hsv2rgb, written out here.
        var rng = RandomGenerator(seed: 6)
        for i in 0 ..< 2000 {
            var (r, g, b) = (rng.uniform(), rng.uniform(), rng.uniform())
            if i % 7 == 0 { g = r }                     // ties between channels
            if i % 11 == 0 { b = r; g = r }             // grays
            if i % 13 == 0 { (r, g, b) = (0, 0, 0) }
            let shift = rng.uniform() - 0.5
            let got = shiftHue(r, g, b, by: shift)
            let want = torchvisionAdjustHue(r, g, b, shift)
            assertClose([got.0, got.1, got.2], [want.0, want.1, want.2], 2e-6)
        }
    }

    func testJitterOrderIsARandomPermutationPerImage() throws {
        // Brightness ×2 and contrast 0 on [0.2, 0.8] (mean 0.5): brightness first gives [0.4, 1] → its
        // mean 0.7 everywhere; contrast first gives [0.5, 0.5] → 1 everywhere.
        let n = 64
        let x = Tensor((0 ..< n).flatMap { _ in [Float(0.2), 0.8] }, shape: [n, 1, 1, 2])
        let y = try Augmentation.colorJitter(ColorJitter(brightness: 2 ... 2, contrast: 0 ... 0))(x, seed: 4).scalars
        var brightnessFirst = 0
        for i in 0 ..< n {
            var g = imageGenerator(seed: 4, index: i)
            let order = g.permutation(4)
            let bFirst = order.firstIndex(of: 0)! < order.firstIndex(of: 1)!
            brightnessFirst += bFirst ? 1 : 0
            assertClose([y[2 * i], y[2 * i + 1]], bFirst ? [0.7, 0.7] : [1, 1])
        }
        XCTAssertTrue(brightnessFirst > 10 && brightnessFirst < 54, "\(brightnessFirst) of \(n)")
    }

    func testJitterFactorsAreDrawnFromTheirRanges() throws {
        // Brightness 0.4 → factors in [0.6, 1.4]: a 0.5 pixel lands in [0.3, 0.7], spread over it.
        let x = Tensor.full(0.5, shape: [400, 1, 1, 1])
        let y = try Augmentation.colorJitter(brightness: 0.4)(x, seed: 1).scalars
        XCTAssertGreaterThanOrEqual(y.min()!, 0.3 - 1e-6)
        XCTAssertLessThanOrEqual(y.max()!, 0.7 + 1e-6)
        XCTAssertLessThan(y.min()!, 0.32)
        XCTAssertGreaterThan(y.max()!, 0.68)
        XCTAssertEqual(y.reduce(0, +) / 400, 0.5, accuracy: 0.02)
        XCTAssertEqual(ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1),
                       ColorJitter(brightness: 0.6 ... 1.4, contrast: 0.6 ... 1.4, saturation: 0.6 ... 1.4, hue: -0.1 ... 0.1))
        XCTAssertEqual(ColorJitter(brightness: 1.5).brightness, 0 ... 2.5)
    }

    // MARK: Blur

    func testBlurOfADeltaIsTheNormalizedGaussianKernel() throws {
        let a = Float(Foundation.exp(-0.5)), z = 1 + 2 * a
        let k: [Float] = [a / z, 1 / z, a / z]
        var delta = [Float](repeating: 0, count: 25)
        delta[12] = 1
        let y = try Augmentation.gaussianBlur(kernelSize: 3, sigma: 1 ... 1)(image(delta, c: 1, h: 5, w: 5), seed: 0).scalars
        var expected = [Float](repeating: 0, count: 25)
        for r in 0 ..< 3 { for c in 0 ..< 3 { expected[(r + 1) * 5 + c + 1] = k[r] * k[c] } }
        assertClose(y, expected, 1e-7)
        XCTAssertEqual(y.reduce(0, +), 1, accuracy: 1e-6)
        // Kernel 5, σ = 2: the middle row of the output is the 1-D kernel times its centre tap.
        var d7 = [Float](repeating: 0, count: 49)
        d7[24] = 1
        let y5 = try Augmentation.gaussianBlur(kernelSize: 5, sigma: 2 ... 2)(image(d7, c: 1, h: 7, w: 7), seed: 0).scalars
        let raw = (-2 ... 2).map { Float(Foundation.exp(-0.5 * Double($0 * $0) / 4)) }
        let k5 = raw.map { $0 / raw.reduce(0, +) }
        assertClose(Array(y5[21 ..< 28]), [0] + k5.map { $0 * k5[2] } + [0], 1e-7)
    }

    func testBlurReflectsAtTheBorder() throws {
        // A delta in the corner of a 3×3 image, kernel 3: row −1 reflects to row 1 (not row 0), so the
        // corner gets only the centre tap in each direction.
        let a = Float(Foundation.exp(-0.5)), z = 1 + 2 * a
        let k0 = a / z, k1 = 1 / z
        let y = try Augmentation.gaussianBlur(kernelSize: 3, sigma: 1 ... 1)(image([1, 0, 0, 0, 0, 0, 0, 0, 0], c: 1, h: 3, w: 3),
                                                                             seed: 0).scalars
        assertClose(y, [k1 * k1, k0 * k1, 0,
                        k0 * k1, k0 * k0, 0,
                        0, 0, 0], 1e-7)
        XCTAssertEqual(reflectIndex(-1, 5), 1)
        XCTAssertEqual(reflectIndex(5, 5), 3)
        XCTAssertEqual(reflectIndex(-3, 2), 1)     // padding wider than the image keeps reflecting
        XCTAssertEqual(reflectIndex(4, 1), 0)
    }

    // MARK: Composition, seeds, probabilities

    func testSameSeedSameBatchDifferentSeedDifferentBatch() throws {
        let x = Tensor.rand([16, 3, 12, 12], seed: 7)
        let aug = Augmentation.simclr(blur: true)
        let a = try aug(x, seed: 42), b = try aug(x, seed: 42), c = try aug(x, seed: 43)
        XCTAssertEqual(a.scalars, b.scalars)
        XCTAssertNotEqual(a.scalars, c.scalars)
        // The generator advances by one draw per image, so consecutive batches differ and replay.
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        let first = try aug(x, rng: &r1), second = try aug(x, rng: &r1)
        XCTAssertNotEqual(first.scalars, second.scalars)
        XCTAssertEqual(try aug(x, rng: &r2).scalars, first.scalars)
        XCTAssertEqual(try aug(x, rng: &r2).scalars, second.scalars)
        // Image i's result depends only on its own draw: the same whatever the batch around it.
        let lone = try aug(Tensor(Array(x.scalars[0 ..< 432]), shape: [1, 3, 12, 12]), seed: 42)
        XCTAssertEqual(lone.scalars, Array(a.scalars[0 ..< 432]))
    }

    func testResultDoesNotDependOnThreadCount() throws {
        let x = Tensor.rand([300, 3, 10, 10], seed: 8)
        let saved = Parallelism.workers
        defer { Parallelism.workers = saved }
        Parallelism.workers = 1
        let one = try Augmentation.simclr(blur: true)(x, seed: 5)
        Parallelism.workers = 4
        let four = try Augmentation.simclr(blur: true)(x, seed: 5)
        XCTAssertEqual(one.scalars, four.scalars)
    }

    func testProbabilitiesMatchOverManyImages() throws {
        let n = 4000
        let x = Tensor((0 ..< n).flatMap { _ in [Float(0), 1] }, shape: [n, 1, 1, 2])
        let flipped = try Augmentation.horizontalFlip(p: 0.5)(x, seed: 3).scalars
        let f = Double((0 ..< n).filter { flipped[2 * $0] == 1 }.count) / Double(n)
        XCTAssertEqual(f, 0.5, accuracy: 0.03)       // ±3.8σ
        // RandomApply(p 0.8) of a blackout, random grayscale p 0.2.
        let dark = try Augmentation.randomApply(.colorJitter(ColorJitter(brightness: 0 ... 0)), p: 0.8)(x, seed: 4).scalars
        XCTAssertEqual(Double((0 ..< n).filter { dark[2 * $0 + 1] == 0 }.count) / Double(n), 0.8, accuracy: 0.03)
        let rgb = Tensor((0 ..< n).flatMap { _ in [Float(1), 0, 0] }, shape: [n, 3, 1, 1])
        let gray = try Augmentation.randomGrayscale(p: 0.2)(rgb, seed: 5).scalars
        XCTAssertEqual(Double((0 ..< n).filter { gray[3 * $0 + 1] > 0 }.count) / Double(n), 0.2, accuracy: 0.03)
    }

    func testCIFARPresetIsPaddedCropThenFlip() throws {
        let x = Tensor.rand([5, 3, 32, 32], seed: 1)
        let y = try Augmentation.cifar()(x, seed: 12)
        XCTAssertEqual(y.shape, [5, 3, 32, 32])
        let s = ImageShape(c: 3, h: 32, w: 32)
        var flips = 0
        x.withUnsafeBufferPointer { src in
            for i in 0 ..< 5 {
                var g = imageGenerator(seed: 12, index: i)
                let top = g.int(below: 9), left = g.int(below: 9), flip = g.uniformDouble() < 0.5
                flips += flip ? 1 : 0
                var expected = [Float](repeating: 0, count: s.count)
                expected.withUnsafeMutableBufferPointer { e in
                    cropPadded(src.baseAddress! + i * s.count, s, top: top, left: left, padding: 4, into: e.baseAddress!, s)
                    if flip { flipHorizontal(e.baseAddress!, s) }
                }
                XCTAssertEqual(Array(y.scalars[i * s.count ..< (i + 1) * s.count]), expected, "image \(i)")
            }
        }
        XCTAssertEqual(Augmentation.cifar().description, "Compose(RandomCrop(input size, padding 4), RandomHorizontalFlip(p 0.5))")
        XCTAssertEqual(try Augmentation.cifar(size: 24, padding: 0).outputShape(for: [2, 3, 32, 32]), [2, 3, 24, 24])
    }

    func testSimCLRPresetMakesTwoViewsForOneAndThreeChannels() throws {
        for c in [1, 3] {
            let x = Tensor.rand([8, c, 28, 28], seed: UInt64(c))
            let aug = Augmentation.simclr()
            var r1 = RandomGenerator(seed: 9), r2 = RandomGenerator(seed: 9)
            let (v1, v2) = try aug.twoViews(x, rng: &r1)
            let paired = try aug.pairedViews(x, rng: &r2)
            XCTAssertEqual(paired.shape, [16, c, 28, 28])
            XCTAssertEqual(paired.scalars, v1.scalars + v2.scalars)
            XCTAssertNotEqual(v1.scalars, v2.scalars)
            XCTAssertTrue(paired.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        let text = Augmentation.simclr().description
        for part in ["RandomResizedCrop(input size, scale 0.08…1, ratio 0.75…1.3333334", "RandomHorizontalFlip(p 0.5)",
                     "RandomApply(p 0.8, ColorJitter(brightness 0.6…1.4, contrast 0.6…1.4, saturation 0.6…1.4, hue -0.1…0.1))",
                     "RandomGrayscale(p 0.2)"] {
            XCTAssertTrue(text.contains(part), "\(part) not in \(text)")
        }
        XCTAssertFalse(text.contains("Blur"))
        XCTAssertTrue(Augmentation.simclr(blur: true).description.contains("RandomApply(p 0.5, GaussianBlur"))
        XCTAssertEqual(Augmentation.simclrBlurKernel(side: 32), 3)
        XCTAssertEqual(Augmentation.simclrBlurKernel(side: 28), 3)
        XCTAssertEqual(Augmentation.simclrBlurKernel(side: 64), 7)
        XCTAssertEqual(Augmentation.simclrBlurKernel(side: 224), 23)
    }

    func testNormalizeAndDatasetAugmentation() throws {
        let x = image([0.5, 1.0, 0.25, 0.25], c: 2, h: 1, w: 2)
        let y = try Augmentation.normalize(ChannelStats(mean: [0.5, 0.25], std: [0.25, 0]))(x, seed: 0)
        XCTAssertEqual(y.scalars, [0, 2, 0, 0])
        let d = try Dataset(x: Tensor.rand([4, 1, 6, 6], seed: 0), y: Tensor([3, 1, 2, 0]), name: "tiny")
        var rng = RandomGenerator(seed: 0)
        let a = try d.augmented(.cifar(padding: 2), rng: &rng)
        XCTAssertEqual(a.labels, [3, 1, 2, 0])
        XCTAssertEqual(a.x.shape, [4, 1, 6, 6])
        XCTAssertEqual(a.name, "tiny")
        XCTAssertEqual(try Augmentation.identity(d.x, seed: 0).scalars, d.x.scalars)
        assertDataError(try d.augmented(.randomCrop(size: 20, padding: 1), rng: &rng), path: "tiny", "does not fit")
    }

    func testUnsuitableBatchesAreRefusedWithTheStepNamed() {
        let x = Tensor.zeros([2, 2, 4, 4])
        assertDataError(try Augmentation.cifar()(Tensor.zeros([3, 4, 4]), seed: 0), path: "augment", "N×C×H×W", "[3, 4, 4]")
        assertDataError(try Augmentation.colorJitter(brightness: 0.4)(x, seed: 0), path: "augment", "ColorJitter", "1 or 3 channels")
        assertDataError(try Augmentation.randomGrayscale()(x, seed: 0), path: "augment", "1 or 3 channels")
        assertDataError(try Augmentation.randomCrop(size: 9, padding: 2)(x, seed: 0), path: "augment", "9×9", "does not fit")
        assertDataError(try Augmentation.randomApply(.randomCrop(size: 2), p: 0.5)(x, seed: 0), path: "augment", "keep the shape")
        assertDataError(try Augmentation.gaussianBlur(kernelSize: 4)(x, seed: 0), path: "augment", "odd")
        assertDataError(try Augmentation.horizontalFlip(p: 1.5)(x, seed: 0), path: "augment", "probability 1.5")
        assertDataError(try Augmentation.colorJitter(hue: 0.7)(Tensor.zeros([1, 3, 2, 2]), seed: 0), path: "augment", "hue")
        assertDataError(try Augmentation.normalize(ChannelStats(mean: [0], std: [1]))(x, seed: 0), path: "augment", "2 channels")
        XCTAssertEqual(try Augmentation.cifar()(Tensor.zeros([0, 3, 8, 8]), seed: 0).shape, [0, 3, 8, 8])
    }
}
