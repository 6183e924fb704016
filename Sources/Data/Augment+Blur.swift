import Foundation
import Tensor

// Gaussian blur as torchvision's `GaussianBlur(kernel_size, sigma)`: σ drawn uniformly from the
// range per image, kernel g_i = exp(−½ (x_i/σ)²) / Σ at x_i = −(k−1)/2 … (k−1)/2, the image padded
// by reflection (…, x2, x1 | x0, x1, x2, …: the edge pixel is not repeated), applied separably
// (rows, then columns), which equals torchvision's 2-D convolution with the outer-product kernel.

extension Augmentation {
    /// Gaussian blur with an odd `kernelSize` and σ drawn uniformly from `sigma` per image
    /// (torchvision's `GaussianBlur`; SimCLR: kernel ≈ 10 % of the image side, σ ∈ [0.1, 2],
    /// applied with probability 0.5 through `randomApply`).
    ///
    ///     .randomApply(.gaussianBlur(kernelSize: 3), p: 0.5)
    public static func gaussianBlur(kernelSize: Int, sigma: ClosedRange<Double> = 0.1 ... 2.0) -> Augmentation {
        Augmentation(steps: [.gaussianBlur(kernel: kernelSize, sigma: sigma)])
    }
}

/// The normalized 1-D Gaussian kernel of `size` taps (odd) and standard deviation `sigma`.
func gaussianKernel(size: Int, sigma: Double, into k: UnsafeMutablePointer<Float>) {
    let half = Double(size - 1) / 2
    var total = 0.0
    for i in 0 ..< size {
        let x = (Double(i) - half) / sigma
        let v = Foundation.exp(-0.5 * x * x)
        k[i] = Float(v)
        total += v
    }
    let inv = Float(1 / total)
    for i in 0 ..< size { k[i] *= inv }
}

/// The source index of padded position i (−pad ≤ i < n + pad) under reflect padding; when the
/// padding is wider than the image (n ≤ pad, which torchvision refuses) the reflection repeats.
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    guard n > 1 else { return 0 }
    let period = 2 * (n - 1)
    var j = i % period
    if j < 0 { j += period }
    return j < n ? j : period - j
}

/// Blurs the C×H×W image at `p` in place with a `kernel`-tap Gaussian of standard deviation `sigma`.
func gaussianBlur(_ p: UnsafeMutablePointer<Float>, _ s: ImageShape, kernel: Int, sigma: Double, _ ws: AugmentWorkspace) {
    let half = kernel / 2
    let k = ws.weightsX.reserve(kernel)
    gaussianKernel(size: kernel, sigma: sigma, into: k)
    // Reflected source columns for padded column x − half + t, laid out by x: colIndex[x·kernel + t].
    let cols = ws.indexX.reserve(s.w * kernel), rows = ws.indexY.reserve(s.h * kernel)
    for x in 0 ..< s.w { for t in 0 ..< kernel { cols[x * kernel + t] = reflectIndex(x - half + t, s.w) } }
    for y in 0 ..< s.h { for t in 0 ..< kernel { rows[y * kernel + t] = reflectIndex(y - half + t, s.h) } }
    let tmp = ws.tmp.reserve(s.count)
    // Rows: tmp[c, y, x] = Σ_t k[t] · p[c, y, reflect(x − half + t)].
    for r in 0 ..< s.c * s.h {
        let src = p + r * s.w, dst = tmp + r * s.w
        for x in 0 ..< s.w {
            let idx = cols + x * kernel
            var acc: Float = 0
            for t in 0 ..< kernel { acc += k[t] * src[idx[t]] }
            dst[x] = acc
        }
    }
    // Columns: p[c, y, x] = Σ_t k[t] · tmp[c, reflect(y − half + t), x].
    for c in 0 ..< s.c {
        let plane = tmp + c * s.plane
        for y in 0 ..< s.h {
            let out = p + c * s.plane + y * s.w, idx = rows + y * kernel
            out.update(repeating: 0, count: s.w)
            for t in 0 ..< kernel {
                let kt = k[t], row = plane + idx[t] * s.w
                for x in 0 ..< s.w { out[x] += kt * row[x] }
            }
        }
    }
}
