import Foundation
import Tensor

// Geometric steps, after torchvision (transforms.v2 on float tensors): RandomCrop with constant zero
// padding, RandomHorizontalFlip / RandomVerticalFlip, RandomResizedCrop with bilinear resampling
// (antialiased, torchvision's default, which only differs from plain bilinear when shrinking).

extension Augmentation {
    /// A `size`×`size` crop (nil: the input's size) at a uniformly random offset of the image
    /// zero-padded by `padding` on every side (torchvision's `RandomCrop(size, padding)`): offsets
    /// top ∈ 0…H + 2·padding − size and left likewise, drawn in that order.
    ///
    ///     .randomCrop(size: 32, padding: 4)
    public static func randomCrop(size: Int? = nil, padding: Int = 0) -> Augmentation {
        Augmentation(steps: [.randomCrop(height: size, width: size, padding: padding)])
    }

    /// A height×width crop at a random offset of the zero-padded image.
    public static func randomCrop(height: Int, width: Int, padding: Int = 0) -> Augmentation {
        Augmentation(steps: [.randomCrop(height: height, width: width, padding: padding)])
    }

    /// Mirrors an image left–right with probability `p` (one draw u per image; flipped when u < p).
    public static func horizontalFlip(p: Double = 0.5) -> Augmentation {
        Augmentation(steps: [.flip(horizontal: true, p: p)])
    }

    /// Mirrors an image top–bottom with probability `p`.
    public static func verticalFlip(p: Double = 0.5) -> Augmentation {
        Augmentation(steps: [.flip(horizontal: false, p: p)])
    }

    /// torchvision's `RandomResizedCrop(size, scale, ratio)`: a box of area fraction drawn
    /// uniformly from `scale` and aspect ratio (width / height) log-uniformly from `ratio`, at a
    /// uniformly random position (up to 10 tries, then a central crop clipped to `ratio`), resized
    /// to `size`×`size` (nil: the input's size) by bilinear interpolation (half-pixel centres; when
    /// shrinking, a triangle filter widened by the scale factor, torchvision's `antialias=True`).
    ///
    ///     .randomResizedCrop(scale: 0.08 ... 1)
    public static func randomResizedCrop(size: Int? = nil, scale: ClosedRange<Double> = 0.08 ... 1,
                                         ratio: ClosedRange<Double> = 3.0 / 4.0 ... 4.0 / 3.0) -> Augmentation {
        Augmentation(steps: [.randomResizedCrop(height: size, width: size, scale: scale, ratio: ratio)])
    }

    /// The same, to a height×width output.
    public static func randomResizedCrop(height: Int, width: Int, scale: ClosedRange<Double> = 0.08 ... 1,
                                         ratio: ClosedRange<Double> = 3.0 / 4.0 ... 4.0 / 3.0) -> Augmentation {
        Augmentation(steps: [.randomResizedCrop(height: height, width: width, scale: scale, ratio: ratio)])
    }
}

/// out[c, y, x] = in[c, y + top − padding, x + left − padding], 0 outside the image.
func cropPadded(_ src: UnsafePointer<Float>, _ s: ImageShape, top: Int, left: Int, padding: Int,
                into dst: UnsafeMutablePointer<Float>, _ o: ImageShape) {
    dst.update(repeating: 0, count: o.count)
    let dy = top - padding, dx = left - padding
    // Output columns whose source column x + dx lies in 0 ..< s.w.
    let x0 = Swift.max(0, -dx), x1 = Swift.min(o.w, s.w - dx)
    guard x0 < x1 else { return }
    for c in 0 ..< s.c {
        for y in 0 ..< o.h {
            let sy = y + dy
            guard sy >= 0, sy < s.h else { continue }
            (dst + c * o.plane + y * o.w + x0).update(from: src + c * s.plane + sy * s.w + x0 + dx, count: x1 - x0)
        }
    }
}

/// Reverses every row in place.
func flipHorizontal(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape) {
    for r in 0 ..< s.c * s.h {
        var a = p + r * s.w, b = a + s.w - 1
        while a < b {
            let t = a.pointee
            a.pointee = b.pointee
            b.pointee = t
            a += 1
            b -= 1
        }
    }
}

/// Reverses the order of the rows of each channel in place.
func flipVertical(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape) {
    for c in 0 ..< s.c {
        let plane = p + c * s.plane
        for y in 0 ..< s.h / 2 {
            let a = plane + y * s.w, b = plane + (s.h - 1 - y) * s.w
            for x in 0 ..< s.w { let t = a[x]; a[x] = b[x]; b[x] = t }
        }
    }
}

/// A crop box: rows top ..< top + height, columns left ..< left + width.
struct CropBox: Equatable {
    var top: Int, left: Int, height: Int, width: Int
}

/// torchvision's `RandomResizedCrop.get_params`, draw for draw: up to 10 tries of area fraction
/// u(scale) and aspect ratio exp(u(log ratio)), w = round(√(area·r)), h = round(√(area/r)) (round
/// half to even, as Python), accepted when 0 < w ≤ W and 0 < h ≤ H, then top = int(below: H − h + 1)
/// and left = int(below: W − w + 1); otherwise the central crop whose ratio is clipped to `ratio`.
func resizedCropBox(height H: Int, width W: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                    rng: inout RandomGenerator) -> CropBox {
    let area = Double(H * W)
    let logLo = Foundation.log(ratio.lowerBound), logHi = Foundation.log(ratio.upperBound)
    for _ in 0 ..< 10 {
        let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.uniformDouble())
        let aspect = Foundation.exp(logLo + (logHi - logLo) * rng.uniformDouble())
        let w = (target * aspect).squareRoot().rounded(.toNearestOrEven)
        let h = (target / aspect).squareRoot().rounded(.toNearestOrEven)
        if w > 0, w <= Double(W), h > 0, h <= Double(H) {
            let hi = Int(h), wi = Int(w)
            let top = rng.int(below: H - hi + 1)
            let left = rng.int(below: W - wi + 1)
            return CropBox(top: top, left: left, height: hi, width: wi)
        }
    }
    // Fallback: central crop.
    let inRatio = Double(W) / Double(H)
    var w = W, h = H
    if inRatio < ratio.lowerBound {
        h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
    } else if inRatio > ratio.upperBound {
        w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
    }
    return CropBox(top: (H - h) / 2, left: (W - w) / 2, height: h, width: w)
}

/// Resampling taps along one axis, from `inSize` source samples to `outSize`: for output o, source
/// samples start[o] ..< start[o] + count[o] with weights w[o·taps + k]. Bilinear with half-pixel
/// centres, antialiased as PIL and PyTorch's `antialias=True` compute it: scale = in/out, support =
/// max(scale, 1), centre = (o + ½)·scale, weights tri((j − centre + ½) / max(scale, 1)) over the
/// samples inside the support, normalized to sum 1 (near the edges only the samples inside the
/// image count, which equals clamping the coordinate as `align_corners=False` bilinear does).
/// Returns the stride `taps` between outputs' weights.
@discardableResult
func resampleTaps(inSize: Int, outSize: Int, weights: UnsafeMutablePointer<Float>, starts: UnsafeMutablePointer<Int>,
                  counts: UnsafeMutablePointer<Int>) -> Int {
    let scale = Double(inSize) / Double(outSize)
    let filterScale = Swift.max(scale, 1)
    let support = filterScale
    let taps = Int(support.rounded(.up)) * 2 + 1
    let inv = 1 / filterScale
    for o in 0 ..< outSize {
        let centre = (Double(o) + 0.5) * scale
        let lo = Swift.max(Int(centre - support + 0.5), 0)          // Int() truncates toward 0, as C
        let hi = Swift.min(Int(centre + support + 0.5), inSize)
        let n = Swift.min(Swift.max(hi - lo, 0), taps)
        var total = 0.0
        for k in 0 ..< n {
            let t = Swift.abs((Double(k + lo) - centre + 0.5) * inv)
            let wk = t < 1 ? 1 - t : 0
            weights[o * taps + k] = Float(wk)
            total += wk
        }
        let norm = total > 0 ? Float(1 / total) : 0
        for k in 0 ..< n { weights[o * taps + k] *= norm }
        starts[o] = lo
        counts[o] = n
    }
    return taps
}

/// Resamples the `box` of `src` (shape s) to shape o (same channels) into `dst`: a horizontal pass
/// into the workspace, then a vertical pass.
func resizeCrop(_ src: UnsafePointer<Float>, _ s: ImageShape, box: CropBox, into dst: UnsafeMutablePointer<Float>,
                _ o: ImageShape, _ ws: AugmentWorkspace) {
    let bh = box.height, bw = box.width
    let maxTapsX = Int(Swift.max(Double(bw) / Double(o.w), 1).rounded(.up)) * 2 + 1
    let maxTapsY = Int(Swift.max(Double(bh) / Double(o.h), 1).rounded(.up)) * 2 + 1
    let wx = ws.weightsX.reserve(o.w * maxTapsX), wy = ws.weightsY.reserve(o.h * maxTapsY)
    let ix = ws.indexX.reserve(2 * o.w), iy = ws.indexY.reserve(2 * o.h)
    let tx = resampleTaps(inSize: bw, outSize: o.w, weights: wx, starts: ix, counts: ix + o.w)
    let ty = resampleTaps(inSize: bh, outSize: o.h, weights: wy, starts: iy, counts: iy + o.h)
    let tmp = ws.tmp.reserve(s.c * bh * o.w)
    // Horizontal: tmp[c, r, x] = Σ_k wx · src[c, top + r, left + start + k].
    for c in 0 ..< s.c {
        for r in 0 ..< bh {
            let row = src + c * s.plane + (box.top + r) * s.w + box.left
            let out = tmp + (c * bh + r) * o.w
            for x in 0 ..< o.w {
                let a = row + ix[x], w = wx + x * tx
                var acc: Float = 0
                for k in 0 ..< ix[o.w + x] { acc += w[k] * a[k] }
                out[x] = acc
            }
        }
    }
    // Vertical: dst[c, y, x] = Σ_k wy · tmp[c, start + k, x].
    for c in 0 ..< s.c {
        for y in 0 ..< o.h {
            let out = dst + c * o.plane + y * o.w
            let w = wy + y * ty, base = tmp + (c * bh + iy[y]) * o.w
            out.update(repeating: 0, count: o.w)
            for k in 0 ..< iy[o.h + y] {
                let wk = w[k], row = base + k * o.w
                for x in 0 ..< o.w { out[x] += wk * row[x] }
            }
        }
    }
}
