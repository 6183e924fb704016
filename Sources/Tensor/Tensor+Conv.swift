// conv2d as im2col + one sgemm per group of images (3×3 layers take Winograd's algorithm or the
// direct kernels instead, see ConvPath), for the forward pass and both backward
// passes, with the batch split over the cores (each core its own groups, buffers and
// single-threaded products). The three ops (conv2d, its input gradient, its weight gradient) are
// each differentiable and their backward rules use only each other, so the second derivatives of
// a CNN are exact.
import CBLAS

/// Shapes of one convolution.
struct ConvGeometry {
    let n, c, h, w: Int          // input
    let o, kh, kw: Int           // weight [o, c, kh, kw]
    let stride, padding: Int
    let ho, wo: Int              // output
    var k: Int { c * kh * kw }   // rows of the im2col matrix
    var p: Int { ho * wo }       // output pixels per image
    var hp: Int { h + 2 * padding }
    var wp: Int { w + 2 * padding }

    init(input: [Int], weight: [Int], stride: Int, padding: Int) throws {
        guard input.count == 4, weight.count == 4 else {
            throw TensorError("conv2d", "input must be [N, C, H, W] and weight [O, C, kH, kW], got \(shapeText(input)) and \(shapeText(weight))")
        }
        guard input[1] == weight[1] else {
            throw TensorError("conv2d", "input \(shapeText(input)) has \(input[1]) channels but weight \(shapeText(weight)) expects \(weight[1])")
        }
        guard stride >= 1, padding >= 0 else { throw TensorError("conv2d", "stride \(stride) and padding \(padding) must be ≥ 1 and ≥ 0") }
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (o, kh, kw) = (weight[0], weight[2], weight[3])
        self.stride = stride
        self.padding = padding
        let hp = h + 2 * padding - kh, wp = w + 2 * padding - kw
        guard hp >= 0, wp >= 0 else {
            throw TensorError("conv2d", "kernel \(kh)×\(kw) is larger than the padded input \(shapeText(input)) (padding \(padding))")
        }
        ho = hp / stride + 1
        wo = wp / stride + 1
    }

    /// FLOPs of one of the convolution's three products (forward, dx or dW) over the batch.
    var productFlops: Double { 2 * Double(o * k) * Double(p * n) }

    var outputShape: [Int] { [n, o, ho, wo] }
    var inputShape: [Int] { [n, c, h, w] }
    var weightShape: [Int] { [o, c, kh, kw] }

    /// Images per group, so that a core's im2col buffer stays near `budget` floats (1 MB, a core's
    /// L2 here) and in cache for the product that reads it. With the batch split over the cores,
    /// 1 MB groups took less CPU time per ResNet-18 w16 step than 4 MB ones (earlier, with one
    /// shared buffer: 16 MB groups ran 25 % slower than 4 MB at 64 channels, 32×32).
    var group: Int { Swift.max(1, Swift.min(n, ConvGeometry.budget / Swift.max(k * p, 1))) }
    /// Settable for tests (tiny groups).
    nonisolated(unsafe) static var budget = 1 << 18

    /// For stride 1 and a square kernel with padding p ≤ k − 1: the geometry of dx as a
    /// convolution of dY [N, O, Ho, Wo] with the flipped kernel [C, O, k, k] and padding k − 1 − p.
    var flippedForInputGradient: ConvGeometry? {
        guard stride == 1, kh == kw, padding <= kh - 1, !isPointwise,
              let g = try? ConvGeometry(input: outputShape, weight: [c, o, kh, kw], stride: 1, padding: kh - 1 - padding),
              g.outputShape == inputShape else { return nil }
        return g
    }

    /// A 1×1, stride-1, unpadded convolution needs no im2col: each image already is [C, P].
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && padding == 0 }
}

/// Where im2col reads a group's images: zero-bordered copies when the convolution pads (so the
/// copy loops need no bounds tests), else the input itself.
struct ConvSource {
    let base: UnsafePointer<Float>
    let imageStride, planeStride, rowStride: Int

    /// Images first ..< first + g of x, padded into `padded` when the convolution pads.
    init(_ x: UnsafePointer<Float>, _ padded: UnsafeMutablePointer<Float>?, _ gm: ConvGeometry, first: Int, g: Int) {
        guard let padded, gm.padding > 0 else {
            (base, imageStride, planeStride, rowStride) = (x + first * gm.c * gm.h * gm.w, gm.c * gm.h * gm.w, gm.h * gm.w, gm.w)
            return
        }
        // The interiors only: the borders were zeroed once and nothing else writes them.
        let (hp, wp) = (gm.hp, gm.wp)
        for pl in 0..<(g * gm.c) {
            let src = x + (first * gm.c + pl) * gm.h * gm.w
            let dst = padded + pl * hp * wp + gm.padding * wp + gm.padding
            for i in 0..<gm.h { copyRow(src + i * gm.w, dst + i * wp, gm.w) }
        }
        (base, imageStride, planeStride, rowStride) = (UnsafePointer(padded), gm.c * hp * wp, hp * wp, wp)
    }
}

/// col[K, g·P] for the g images of `src`: row (c, ki, kj), column (image, oy, ox) holds
/// padded[image, c, oy·s + ki, ox·s + kj].
func im2col(_ src: ConvSource, _ col: UnsafeMutablePointer<Float>, _ gm: ConvGeometry, g: Int) {
    let ld = g * gm.p, (s, wo) = (gm.stride, gm.wo)
    for r in 0..<gm.k {
        let c = r / (gm.kh * gm.kw), ki = (r / gm.kw) % gm.kh, kj = r % gm.kw
        for img in 0..<g {
            let plane = src.base + img * src.imageStride + c * src.planeStride + ki * src.rowStride + kj
            let dst = col + r * ld + img * gm.p
            if s == 1 {
                for oy in 0..<gm.ho { copyRow(plane + oy * src.rowStride, dst + oy * wo, wo) }
            } else if s == 2 {
                for oy in 0..<gm.ho {
                    let line = plane + oy * 2 * src.rowStride, row = dst + oy * wo
                    var ox = 0
                    // Eight loaded, the even four kept; the load ends before the row's last read.
                    while ox + 4 < wo {
                        UnsafeMutableRawPointer(row + ox).storeBytes(of: loadVec(line + 2 * ox).evenHalf, as: SIMD4<Float>.self)
                        ox += 4
                    }
                    while ox < wo { row[ox] = line[2 * ox]; ox += 1 }
                }
            } else {
                for oy in 0..<gm.ho {
                    let line = plane + oy * s * src.rowStride, row = dst + oy * wo
                    for ox in 0..<wo { row[ox] = line[ox * s] }
                }
            }
        }
    }
}

/// The transpose of im2col into the padded buffer [g, C, Hp, Wp] (zeroed here), then its interiors into
/// images first ..< first + g of dx (written, not added: the group holds all of those images).
func col2im(_ col: UnsafePointer<Float>, _ padded: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
            _ gm: ConvGeometry, first: Int, g: Int) {
    let ld = g * gm.p, (hp, wp, s, wo) = (gm.hp, gm.wp, gm.stride, gm.wo)
    if gm.padding == 0 && s >= gm.kh && s >= gm.kw {
        // Windows that do not overlap (the 1×1 stride-2 shortcuts): each pixel of dx receives at
        // most one value, so it is written in place, with no accumulator to clear and copy out.
        let images = dx + first * gm.c * gm.h * gm.w
        images.update(repeating: 0, count: g * gm.c * gm.h * gm.w)
        for r in 0..<gm.k {
            let c = r / (gm.kh * gm.kw), ki = (r / gm.kw) % gm.kh, kj = r % gm.kw
            for img in 0..<g {
                let plane = images + (img * gm.c + c) * gm.h * gm.w + ki * gm.w + kj
                let src = col + r * ld + img * gm.p
                for oy in 0..<gm.ho {
                    let line = plane + oy * s * gm.w, row = src + oy * wo
                    for ox in 0..<wo { line[ox * s] = row[ox] }
                }
            }
        }
        return
    }
    padded.update(repeating: 0, count: g * gm.c * hp * wp)
    for r in 0..<gm.k {
        let c = r / (gm.kh * gm.kw), ki = (r / gm.kw) % gm.kh, kj = r % gm.kw
        for img in 0..<g {
            let plane = padded + (img * gm.c + c) * hp * wp + ki * wp + kj
            let src = col + r * ld + img * gm.p
            for oy in 0..<gm.ho {
                let line = plane + oy * s * wp, row = src + oy * wo
                if s == 1 {
                    var j = 0
                    while j + 8 <= wo { storeVec(loadVec(line + j) + loadVec(row + j), line + j); j += 8 }
                    while j < wo { line[j] += row[j]; j += 1 }
                } else {
                    for ox in 0..<wo { line[ox * s] += row[ox] }
                }
            }
        }
    }
    for pl in 0..<(g * gm.c) {
        let from = padded + pl * hp * wp + gm.padding * wp + gm.padding
        let to = dx + (first * gm.c + pl) * gm.h * gm.w
        for i in 0..<gm.h { copyRow(from + i * wp, to + i * gm.w, gm.w) }
    }
}

/// Copies images' [R, P] planes into a grouped [R, g·P] matrix, or back.
func groupPlanes(_ planes: UnsafeMutablePointer<Float>, _ grouped: UnsafeMutablePointer<Float>, rows: Int, p: Int,
                 first: Int, g: Int, toGroup: Bool) {
    for img in 0..<g {
        for r in 0..<rows {
            let a = planes + ((first + img) * rows + r) * p, b = grouped + r * g * p + img * p
            if toGroup { b.update(from: a, count: p) } else { a.update(from: b, count: p) }
        }
    }
}

/// One core's buffers for a convolution sweep.
final class ConvScratch {
    let col: Storage
    /// Zero-bordered images [g, C, Hp, Wp], im2col's source when the convolution pads.
    let padded: Storage?
    /// col2im's accumulator [g, C, Hp, Wp] (its own: it leaves the borders dirty).
    let accumulator: Storage?
    /// A group's [O, g·P] output or output gradient.
    let grouped: Storage
    /// A group's input planes as one [C, g·P] matrix (dW from im2col(dY)).
    let groupedInput: Storage?
    /// This core's share of dW ([O, K]), summed after the sweep.
    let dw: Storage?

    init(_ gm: ConvGeometry, g: Int, dx: Bool, dw: Bool, groupedInput: Bool = false) {
        let planes = g * gm.c * gm.hp * gm.wp
        col = Storage(count: gm.k * g * gm.p)
        padded = gm.padding > 0 && (dw || !dx) ? Storage(zeros: planes) : nil
        accumulator = dx ? Storage(count: planes) : nil
        grouped = Storage(count: gm.o * g * gm.p)
        self.groupedInput = groupedInput ? Storage(count: gm.o * g * gm.p) : nil
        self.dw = dw ? Storage(zeros: gm.o * gm.k) : nil
    }

    /// The sum of the cores' dW shares (each at least as long as `shape`; longer ones are read
    /// up to its size), shaped `shape`.
    static func summedWeightGradient(_ shares: [Storage], shape: [Int]) -> Tensor {
        let dw = Tensor(uninitializedShape: shape), a = dw.ptr
        a.update(from: shares[0].ptr, count: dw.count)
        for s in shares.dropFirst() {
            let b = s.ptr
            for i in 0..<dw.count { a[i] += b[i] }
        }
        return dw
    }
}

/// Which algorithm runs a convolution: Winograd's F(2×2, 3×3) for 3×3 stride-1 layers of 32+
/// channels, the direct kernels for thinner 3×3 layers on planes 12+ wide (and stride 2), else
/// im2col + sgemm. ResNet-18 w16 step: 16→16 at 28×28 direct (Winograd's K = 16 products were
/// 1.6× slower); 32→32 at 14×14 Winograd (7 ms forward + backward against the direct kernels' 10).
enum ConvPath {
    case winograd, direct, im2col

    init(_ gm: ConvGeometry) {
        self = WinogradConv.applies(gm) ? .winograd : DirectConv.applies(gm) ? .direct : .im2col
    }
}

enum ConvKernels {
    /// Runs `body(first, count, scratch)` over the batch in groups of images. With several cores
    /// and an image for each, every core takes a contiguous share of the batch with its own
    /// buffers and single-threaded products (OpenBLAS is held to one thread meanwhile, and set
    /// back after): im2col and the product that reads it stay on one core and in its cache, the
    /// copies run on all cores, and the small products of thin layers pay no OpenBLAS thread
    /// hand-offs (whose spinning worker took a third of a ResNet-18 w16 step's samples under
    /// load). Each core's `sgemm` is uncounted; callers count the FLOPs. Returns the scratches.
    static func sweep(_ gm: ConvGeometry, dx: Bool, dw: Bool, groupedInput: Bool = false,
                      _ body: (Int, Int, ConvScratch) -> Void) -> [ConvScratch] {
        let g = Swift.min(gm.group, batchShare(gm.n))
        return groups(gm.n, size: g, scratch: { ConvScratch(gm, g: g, dx: dx, dw: dw, groupedInput: groupedInput) }, body)
    }

    /// The same over n images in groups of at most `size`, each core with its own `scratch()`.
    static func groups<S>(_ n: Int, size: Int, scratch: () -> S, _ body: (Int, Int, S) -> Void) -> [S] {
        let workers = batchShareWorkers(n)
        let scratches = (0..<workers).map { _ in scratch() }
        let saved = openblas_get_num_threads()
        if workers > 1 { openblas_set_num_threads(1) }
        forEachBatchShare(n) { w, images in
            var first = images.lowerBound
            while first < images.upperBound {
                let cnt = Swift.min(size, images.upperBound - first)
                body(first, cnt, scratches[w])
                first += cnt
            }
        }
        if workers > 1 { openblas_set_num_threads(saved) }
        return scratches
    }

    /// y = conv(x, w): per group, pad, im2col, one product into the group's [O, g·P] buffer, and
    /// its planes out to y.
    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        switch ConvPath(gm) {
        case .winograd: return WinogradConv.forward(x, w, gm)
        case .direct: return DirectConv.forward(x, w, gm)
        case .im2col: break
        }
        let y = Tensor(uninitializedShape: gm.outputShape)
        if gm.isPointwise {
            for img in 0..<gm.n {
                sgemm(w.ptr, x.ptr + img * gm.c * gm.p, y.ptr + img * gm.o * gm.p, m: gm.o, n: gm.p, k: gm.k, transA: false, transB: false)
            }
            return y
        }
        GemmCounter.flops += gm.productFlops
        nonisolated(unsafe) let (xp, wp, yp) = (x.ptr, w.ptr, y.ptr)
        _ = sweep(gm, dx: false, dw: false) { first, cnt, s in
            im2col(ConvSource(xp, s.padded?.ptr, gm, first: first, g: cnt), s.col.ptr, gm, g: cnt)
            if cnt == 1 {
                sgemm(wp, s.col.ptr, yp + first * gm.o * gm.p, m: gm.o, n: gm.p, k: gm.k, transA: false, transB: false, counted: false)
            } else {
                sgemm(wp, s.col.ptr, s.grouped.ptr, m: gm.o, n: cnt * gm.p, k: gm.k, transA: false, transB: false, counted: false)
                groupPlanes(yp, s.grouped.ptr, rows: gm.o, p: gm.p, first: first, g: cnt, toGroup: false)
            }
        }
        return y
    }

    /// Both gradients of a convolution in one sweep: per group, dY is regrouped once, dW += dY·colᵀ
    /// uses im2col(x), and the same buffer then takes Wᵀ·dY for col2im into dx (stride-1 kernels
    /// take `bothFromFlipped` instead). dx needs the weight `w`, dW the input `x`; pass nil for a
    /// gradient that is not wanted.
    static func backward(_ gy: Tensor, _ gm: ConvGeometry, x: Tensor?, w: Tensor?) -> (dx: Tensor?, dw: Tensor?) {
        switch ConvPath(gm) {
        case .winograd: return WinogradConv.backward(gy, gm, x: x, w: w)
        case .direct: return DirectConv.backward(gy, gm, x: x, w: w)
        case .im2col: break
        }
        if let w, let flipped = gm.flippedForInputGradient {
            // dx of a stride-1 convolution is the convolution of dY with the flipped, transposed
            // kernel: an im2col product with K = 9·O instead of a K = O product and a col2im scatter.
            guard let x else { return (forward(gy, w.flippedTransposedKernel(), flipped), nil) }
            return bothFromFlipped(gy, x, w, flipped)
        }
        if gm.isPointwise {
            let dw = x != nil ? Tensor(storage: Storage(zeros: gm.o * gm.k), shape: gm.weightShape) : nil
            let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
            for img in 0..<gm.n {
                let gyi = gy.ptr + img * gm.o * gm.p
                if let dw, let x { sgemm(gyi, x.ptr + img * gm.c * gm.p, dw.ptr, m: gm.o, n: gm.k, k: gm.p, transA: false, transB: true, beta: 1) }
                if let dx, let w { sgemm(w.ptr, gyi, dx.ptr + img * gm.c * gm.p, m: gm.k, n: gm.p, k: gm.o, transA: true, transB: false) }
            }
            return (dx, dw)
        }
        let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
        GemmCounter.flops += gm.productFlops * Double((x != nil ? 1 : 0) + (w != nil ? 1 : 0))
        nonisolated(unsafe) let (gyp, xp, wp, dxp) = (gy.ptr, x?.ptr, w?.ptr, dx?.ptr)
        let scratches = sweep(gm, dx: w != nil, dw: x != nil) { first, cnt, s in
            // A group of one image already is an [O, P] matrix.
            let gyg = cnt == 1 ? gyp + first * gm.o * gm.p : s.grouped.ptr
            if cnt > 1 { groupPlanes(gyp, s.grouped.ptr, rows: gm.o, p: gm.p, first: first, g: cnt, toGroup: true) }
            if let xp, let dw = s.dw {
                im2col(ConvSource(xp, s.padded?.ptr, gm, first: first, g: cnt), s.col.ptr, gm, g: cnt)
                sgemm(gyg, s.col.ptr, dw.ptr, m: gm.o, n: gm.k, k: cnt * gm.p, transA: false, transB: true, beta: 1, counted: false)
            }
            if let wp, let dxp {
                sgemm(wp, gyg, s.col.ptr, m: gm.k, n: cnt * gm.p, k: gm.o, transA: true, transB: false, counted: false)
                col2im(s.col.ptr, s.accumulator!.ptr, dxp, gm, first: first, g: cnt)
            }
        }
        return (dx, x != nil ? ConvScratch.summedWeightGradient(scratches.map { $0.dw! }, shape: gm.weightShape) : nil)
    }

    /// Both gradients of a stride-1 convolution from one im2col, that of dY (`flipped` is the
    /// geometry of dx as a convolution of dY; its K = O·k·k, its P the input's pixels):
    /// dx = W̃·col, and the flipped, transposed weight gradient W̃_dW [C, O·k·k] += X·colᵀ, since
    /// dW[o, c, i, j] = Σ_pixels x[c, ·] · dY[o, · − (i, j) + p] reads dY at the same shifts as dx
    /// does. One im2col (of dY) instead of two (of dY and of x); the input planes are only regrouped.
    static func bothFromFlipped(_ gy: Tensor, _ x: Tensor, _ w: Tensor, _ fg: ConvGeometry) -> (dx: Tensor?, dw: Tensor?) {
        let wf = w.flippedTransposedKernel()
        let dx = Tensor(uninitializedShape: fg.outputShape)
        GemmCounter.flops += 2 * fg.productFlops
        nonisolated(unsafe) let (gyp, xp, wfp, dxp) = (gy.ptr, x.ptr, wf.ptr, dx.ptr)
        let scratches = sweep(fg, dx: false, dw: true, groupedInput: true) { first, cnt, s in
            im2col(ConvSource(gyp, s.padded?.ptr, fg, first: first, g: cnt), s.col.ptr, fg, g: cnt)
            let plane = fg.o * fg.p  // one image of x (and of dx): [C, P]
            if cnt == 1 {
                sgemm(wfp, s.col.ptr, dxp + first * plane, m: fg.o, n: fg.p, k: fg.k, transA: false, transB: false, counted: false)
                sgemm(xp + first * plane, s.col.ptr, s.dw!.ptr, m: fg.o, n: fg.k, k: fg.p, transA: false, transB: true,
                      beta: 1, counted: false)
            } else {
                sgemm(wfp, s.col.ptr, s.grouped.ptr, m: fg.o, n: cnt * fg.p, k: fg.k, transA: false, transB: false, counted: false)
                groupPlanes(dxp, s.grouped.ptr, rows: fg.o, p: fg.p, first: first, g: cnt, toGroup: false)
                groupPlanes(UnsafeMutablePointer(mutating: xp), s.groupedInput!.ptr, rows: fg.o, p: fg.p, first: first, g: cnt, toGroup: true)
                sgemm(s.groupedInput!.ptr, s.col.ptr, s.dw!.ptr, m: fg.o, n: fg.k, k: cnt * fg.p, transA: false, transB: true,
                      beta: 1, counted: false)
            }
        }
        // W̃_dW is [C, O, k, k] flipped; flipping and transposing it again gives dW [O, C, k, k].
        let flippedDW = ConvScratch.summedWeightGradient(scratches.map { $0.dw! }, shape: [fg.o, fg.c, fg.kh, fg.kw])
        return (dx, flippedDW.flippedTransposedKernel())
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], weight [O, C, kH, kW].
    ///
    ///     let y = try x.conv2d(w, stride: 1, padding: 1)
    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        let gm = try ConvGeometry(input: shape, weight: weight.shape, stride: stride, padding: padding)
        return Tensor.convOp(self, weight, gm)
    }

    static func convOp(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        result(ConvKernels.forward(x, w, gm), op: "conv2d", inputs: [x, w]) { g, needs in
            let (dx, dw) = ConvKernels.backward(g, gm, x: needs[1] ? x : nil, w: needs[0] ? w : nil)
            return [dx.map { convInputGradOp(g, w, gm, value: $0) }, dw.map { convWeightGradOp(x, g, gm, value: $0) }]
        }
    }

    /// Linear in (gy, w): ⟨inputGrad(gy, w), u⟩ = ⟨gy, conv(u, w)⟩ = ⟨weightGrad(u, gy), w⟩.
    static func convInputGradOp(_ gy: Tensor, _ w: Tensor, _ gm: ConvGeometry, value: Tensor? = nil) -> Tensor {
        let out = value ?? ConvKernels.backward(gy, gm, x: nil, w: w).dx!
        return result(out, op: "conv2d_input_grad", inputs: [gy, w]) { u, needs in
            [needs[0] ? convOp(u, w, gm) : nil, needs[1] ? convWeightGradOp(u, gy, gm) : nil]
        }
    }

    /// Linear in (x, gy): ⟨weightGrad(x, gy), V⟩ = ⟨gy, conv(x, V)⟩ = ⟨x, inputGrad(gy, V)⟩.
    static func convWeightGradOp(_ x: Tensor, _ gy: Tensor, _ gm: ConvGeometry, value: Tensor? = nil) -> Tensor {
        let out = value ?? ConvKernels.backward(gy, gm, x: x, w: nil).dw!
        return result(out, op: "conv2d_weight_grad", inputs: [x, gy]) { v, needs in
            [needs[0] ? convInputGradOp(gy, v, gm) : nil, needs[1] ? convOp(x, v, gm) : nil]
        }
    }
}

extension Tensor {
    /// [O, C, k, k] → [C, O, k, k] with both spatial axes reversed.
    func flippedTransposedKernel() -> Tensor {
        let (o, c, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let out = Tensor(uninitializedShape: [c, o, kh, kw])
        for oi in 0..<o {
            for ci in 0..<c {
                let src = ptr + (oi * c + ci) * kh * kw, dst = out.ptr + (ci * o + oi) * kh * kw
                for i in 0..<kh { for j in 0..<kw { dst[i * kw + j] = src[(kh - 1 - i) * kw + (kw - 1 - j)] } }
            }
        }
        return out
    }
}
