import Tensor

// Colour steps, after torchvision's functional definitions on float tensors in [0, 1]:
//   brightness  x · f                                   (blend with black), clamped to [0, 1]
//   contrast    f · x + (1 − f) · mean(gray(x))         (one channel: the mean of x), clamped
//   saturation  f · x + (1 − f) · gray(x)               (per pixel), clamped; one channel: unchanged
//   hue         RGB → HSV, h ← (h + f) mod 1, HSV → RGB (torchvision's _rgb2hsv/_hsv2rgb); one channel: unchanged
//   grayscale   gray = 0.299 R + 0.587 G + 0.114 B      (ITU-R 601-2 luma, PIL's "L"), copied to every channel
// torchvision's tensor path weighs red 0.2989; we use PIL's 0.299 (the difference is below 1e-4).

/// ITU-R 601-2 luma weights of R, G, B.
let lumaR: Float = 0.299, lumaG: Float = 0.587, lumaB: Float = 0.114

/// torchvision's `ColorJitter`: the ranges its four factors are drawn from (nil: that adjustment is
/// off). For each image the order of the four adjustments is a random permutation (Fisher–Yates,
/// `RandomGenerator.permutation(4)`), then the factors are drawn uniformly in the order brightness,
/// contrast, saturation, hue (those switched on), then applied in the permuted order.
public struct ColorJitter: Sendable, Equatable, CustomStringConvertible {
    /// Brightness factor range (f = 1 leaves the image unchanged).
    public var brightness: ClosedRange<Double>?
    /// Contrast factor range.
    public var contrast: ClosedRange<Double>?
    /// Saturation factor range.
    public var saturation: ClosedRange<Double>?
    /// Hue shift range, within [−0.5, 0.5] (a fraction of the colour wheel).
    public var hue: ClosedRange<Double>?

    /// Explicit factor ranges (`1 ... 1` or nil switches an adjustment off).
    public init(brightness: ClosedRange<Double>? = nil, contrast: ClosedRange<Double>? = nil,
                saturation: ClosedRange<Double>? = nil, hue: ClosedRange<Double>? = nil) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }

    /// torchvision's scalar form: brightness b gives factors in [max(0, 1 − b), 1 + b] (likewise
    /// contrast and saturation), hue h gives shifts in [−h, h]; 0 switches that adjustment off.
    public init(brightness b: Double = 0, contrast c: Double = 0, saturation s: Double = 0, hue h: Double = 0) {
        func around1(_ v: Double) -> ClosedRange<Double>? { v == 0 ? nil : Swift.max(0, 1 - v) ... 1 + v }
        self.init(brightness: around1(b), contrast: around1(c), saturation: around1(s), hue: h == 0 ? nil : -h ... h)
    }

    /// `ColorJitter(brightness 0.6…1.4, …)`.
    public var description: String {
        var parts: [String] = []
        for (name, r) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation), ("hue", hue)] {
            if let r { parts.append("\(name) \(shortNumber(r.lowerBound))…\(shortNumber(r.upperBound))") }
        }
        return "ColorJitter(" + (parts.isEmpty ? "off" : parts.joined(separator: ", ")) + ")"
    }

    /// Why the ranges are invalid, or nil.
    func validate() -> String? {
        for (name, r) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation)] {
            if let r, !(r.lowerBound >= 0 && r.upperBound.isFinite) { return "\(name) factors must lie in [0, ∞)" }
        }
        if let hue, !(hue.lowerBound >= -0.5 && hue.upperBound <= 0.5) { return "hue shifts must lie in [−0.5, 0.5]" }
        return nil
    }

    /// Draws this image's order and factors from `rng` and applies them to the C×H×W image at `p`.
    func apply(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, rng: inout RandomGenerator) {
        var order = SIMD4<Int32>(0, 1, 2, 3)
        for i in stride(from: 3, to: 0, by: -1) {      // as RandomGenerator.permutation(4)
            let j = rng.int(below: i + 1)
            let t = order[i]; order[i] = order[j]; order[j] = t
        }
        func draw(_ r: ClosedRange<Double>?) -> Float? {
            r.map { Float($0.lowerBound + ($0.upperBound - $0.lowerBound) * rng.uniformDouble()) }
        }
        let b = draw(brightness), c = draw(contrast), sat = draw(saturation), h = draw(hue)
        for k in 0 ..< 4 {
            switch order[k] {
            case 0: if let b { adjustBrightness(p, s, b) }
            case 1: if let c { adjustContrast(p, s, c) }
            case 2: if let sat { adjustSaturation(p, s, sat) }
            default: if let h { adjustHue(p, s, h) }
            }
        }
    }
}

extension Augmentation {
    /// Colour jitter with torchvision's `ColorJitter(brightness, contrast, saturation, hue)`
    /// arguments (see `ColorJitter`). On one-channel images only brightness and contrast act.
    ///
    ///     .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)
    public static func colorJitter(brightness: Double = 0, contrast: Double = 0, saturation: Double = 0,
                                   hue: Double = 0) -> Augmentation {
        colorJitter(ColorJitter(brightness: brightness, contrast: contrast, saturation: saturation, hue: hue))
    }

    /// Colour jitter with explicit factor ranges.
    public static func colorJitter(_ jitter: ColorJitter) -> Augmentation {
        Augmentation(steps: [.colorJitter(jitter)])
    }

    /// Turns an RGB image to grayscale (0.299 R + 0.587 G + 0.114 B in all three channels) with
    /// probability `p` (torchvision's `RandomGrayscale`); one-channel images stay as they are.
    public static func randomGrayscale(p: Double = 0.1) -> Augmentation {
        Augmentation(steps: [.grayscale(p: p)])
    }
}

/// max and min as plain selects (Swift.max/min also order NaNs, which stops the loops vectorizing
/// into maxps/minps); a NaN pixel comes out of `clamp01` as 0.
@inline(__always) func maxf(_ a: Float, _ b: Float) -> Float { a > b ? a : b }
@inline(__always) func minf(_ a: Float, _ b: Float) -> Float { a < b ? a : b }
@inline(__always) func clamp01(_ v: Float) -> Float { minf(maxf(v, 0), 1) }

/// x ← clamp(f · x).
func adjustBrightness(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, _ f: Float) {
    for k in 0 ..< s.count { p[k] = clamp01(f * p[k]) }
}

/// x ← clamp(f · x + (1 − f) · m), m the mean of the grayscale image (of x itself for one channel).
func adjustContrast(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, _ f: Float) {
    var sum = 0.0
    if s.c == 3 {
        let r = p, g = p + s.plane, b = p + 2 * s.plane
        for k in 0 ..< s.plane { sum += Double(lumaR * r[k] + lumaG * g[k] + lumaB * b[k]) }
    } else {
        for k in 0 ..< s.count { sum += Double(p[k]) }
    }
    let m = Float(sum / Double(s.c == 3 ? s.plane : s.count))
    let shift = (1 - f) * m
    for k in 0 ..< s.count { p[k] = clamp01(f * p[k] + shift) }
}

/// RGB: x ← clamp(f · x + (1 − f) · gray) per pixel. One channel: unchanged.
func adjustSaturation(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, _ f: Float) {
    guard s.c == 3 else { return }
    let r = p, g = p + s.plane, b = p + 2 * s.plane, q = 1 - f
    for k in 0 ..< s.plane {
        let gray = q * (lumaR * r[k] + lumaG * g[k] + lumaB * b[k])
        r[k] = clamp01(f * r[k] + gray)
        g[k] = clamp01(f * g[k] + gray)
        b[k] = clamp01(f * b[k] + gray)
    }
}

/// RGB: every pixel's hue shifted by `shift` turns of the colour wheel. One channel: unchanged.
func adjustHue(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, _ shift: Float) {
    guard s.c == 3 else { return }
    let r = p, g = p + s.plane, b = p + 2 * s.plane
    for k in 0 ..< s.plane { (r[k], g[k], b[k]) = shiftHue(r[k], g[k], b[k], by: shift) }
}

/// torchvision's `adjust_hue` for one pixel: `_rgb2hsv`, h ← (h + shift) mod 1, `_hsv2rgb`, in a
/// closed form with one division and no branches (random pixels make branches unpredictable, and
/// selects let the loop vectorize).
///
/// RGB → HSV: v = max, m = min, c = v − m (s = c / v), and 6h = (g − b)/c when red is the maximum,
/// 2 + (b − r)/c when green is (red not), 4 + (r − g)/c otherwise, 0 for grays; mod 6.
/// HSV → RGB: channel n (5 for red, 3 for green, 1 for blue) is v − v·s·clamp(min(k, 4 − k), 0, 1)
/// with k = (n + 6h) mod 6 — in sector i = ⌊6h⌋, f = 6h − i, exactly torchvision's table (v, t, p),
/// (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q) with p = v(1 − s), q = v(1 − s·f),
/// t = v(1 − s(1 − f)); and v·s = c. Equal to torchvision's result up to float rounding.
@inline(__always)
func shiftHue(_ r: Float, _ g: Float, _ b: Float, by shift: Float) -> (Float, Float, Float) {
    let v = maxf(maxf(r, g), b), c = v - minf(minf(r, g), b)
    let redMax = v == r, greenMax = v == g
    let num = redMax ? g - b : (greenMax ? b - r : r - g)
    let offset: Float = redMax ? 0 : (greenMax ? 2 : 4)
    var h6 = offset + num / (c > 0 ? c : 1) + 6 * shift          // in [−4, 8]
    h6 = h6 < 0 ? h6 + 6 : (h6 >= 6 ? h6 - 6 : h6)
    @inline(__always) func channel(_ n: Float) -> Float {
        var k = n + h6
        k = k >= 6 ? k - 6 : k
        return v - c * clamp01(minf(k, 4 - k))
    }
    return (channel(5), channel(3), channel(1))
}

/// RGB → 0.299 R + 0.587 G + 0.114 B in all three channels, in place.
func toGrayscale(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape) {
    let r = p, g = p + s.plane, b = p + 2 * s.plane
    for k in 0 ..< s.plane {
        let y = lumaR * r[k] + lumaG * g[k] + lumaB * b[k]
        r[k] = y; g[k] = y; b[k] = y
    }
}
