// Direct 3×3 convolutions (CKernels) for the thin, wide layers of a CPU-sized ResNet: with 16 or
// 32 channels on 28×28 planes, im2col + sgemm spent more time copying and packing than
// multiplying (ResNet-18 w16 16→16 at 28×28: 39 GFLOP/s a core, the direct kernel 70–85).
// The batch is split over the cores; each core pads its images into its own zero-bordered planes.
import CKernels
import Dispatch

public enum DirectConv {
    /// 8 (AVX-512), 4 (AVX2 + FMA) or 0 (neither: every convolution takes im2col). Settable for tests.
    nonisolated(unsafe) static var lanes = Int(lc_conv3x3_lanes())
    /// Off: every convolution takes im2col + sgemm (benchmarks compare the two paths).
    nonisolated(unsafe) public static var enabled = true
    /// Narrower planes waste too much of each row's two dropped columns (7×7: 9 computed for 7);
    /// wider layers' products run near sgemm's rate in OpenBLAS. Settable for tests.
    nonisolated(unsafe) static var minWidth = 12
    nonisolated(unsafe) static var maxChannels = 64

    static func applies(_ gm: ConvGeometry) -> Bool {
        enabled && lanes > 0 && gm.kh == 3 && gm.kw == 3 && gm.stride == 1 && gm.padding == 1
            && gm.w >= minWidth && gm.c <= maxChannels && gm.o <= maxChannels
    }

    /// Geometry of the padded planes for h×w images.
    struct Planes {
        let h, w, lanes: Int
        var ps: Int { lc_conv3x3_plane(Int32(h), Int32(w), Int32(lanes)) }
        var qpad: Int { let t = Int(lc_conv3x3_tile(Int32(lanes))); return (h * (w + 2) + t - 1) / t * t }
    }

    /// w [oout, cin, 3, 3] (or, flipped, the weight [cin, oout, 3, 3] of the transposed convolution)
    /// packed for the forward kernel.
    static func pack(_ w: Tensor, oout: Int, cin: Int, flip: Bool) -> Storage {
        let opad = (oout + lanes - 1) / lanes * lanes
        let packed = Storage(count: opad * cin * 9)
        lc_conv3x3_pack(w.ptr, packed.ptr, Int32(oout), Int32(cin), Int32(lanes), flip ? 1 : 0)
        return packed
    }

    /// Runs body(worker, images) over contiguous shares of the batch, one per core.
    static func split(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let workers = Swift.max(1, Swift.min(Parallelism.workers, n)), share = (n + workers - 1) / workers
        if workers == 1 { return body(0, 0..<n) }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = w * share, hi = Swift.min(n, lo + share)
                if lo < hi { work(w, lo..<hi) }
            }
        }
    }

    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        GemmCounter.flops += 2 * Double(gm.o * gm.k) * Double(gm.p * gm.n)
        let y = Tensor(uninitializedShape: gm.outputShape)
        let packed = pack(w, oout: gm.o, cin: gm.c, flip: false)
        let pl = Planes(h: gm.h, w: gm.w, lanes: lanes), lanes = self.lanes
        let opad = (gm.o + lanes - 1) / lanes * lanes
        nonisolated(unsafe) let (xp, yp) = (x.ptr, y.ptr)
        split(gm.n) { _, images in
            let (ps, qpad) = (pl.ps, pl.qpad)
            let planes = Storage(zeros: gm.c * ps), out = Storage(count: opad * qpad)
            for i in images {
                lc_conv3x3_pad(xp + i * gm.c * gm.h * gm.w, planes.ptr, ps, Int32(gm.c), Int32(gm.h), Int32(gm.w))
                lc_conv3x3_forward(planes.ptr, ps, packed.ptr, out.ptr, qpad, Int32(gm.c), Int32(opad), Int32(gm.h), Int32(gm.w), Int32(lanes))
                lc_conv3x3_unpad(out.ptr, qpad, yp + i * gm.o * gm.h * gm.w, Int32(gm.o), Int32(gm.h), Int32(gm.w))
            }
        }
        return y
    }

    /// dx = conv(dY, w̃) with the flipped, transposed kernel, and dW = Σ dY ⋆ x, in one sweep that
    /// pads each image's dY once for both. Pass nil for a gradient that is not wanted.
    static func backward(_ gy: Tensor, _ gm: ConvGeometry, x: Tensor?, w: Tensor?) -> (dx: Tensor?, dw: Tensor?) {
        let wanted = Double((x != nil ? 1 : 0) + (w != nil ? 1 : 0))
        GemmCounter.flops += 2 * Double(gm.o * gm.k) * Double(gm.p * gm.n) * wanted
        let lanes = self.lanes, pl = Planes(h: gm.h, w: gm.w, lanes: lanes)
        let packed = w.map { pack($0, oout: gm.c, cin: gm.o, flip: true) }
        let cpad = (gm.c + lanes - 1) / lanes * lanes, opad = (gm.o + lanes - 1) / lanes * lanes
        let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
        let workers = Swift.max(1, Swift.min(Parallelism.workers, gm.n))
        let shares = x != nil ? (0..<workers).map { _ in Storage(zeros: opad * gm.c * 9) } : []
        nonisolated(unsafe) let (gyp, xp, dxp) = (gy.ptr, x?.ptr, dx?.ptr)
        let (c, o, h, wd) = (Int32(gm.c), Int32(gm.o), Int32(gm.h), Int32(gm.w))
        split(gm.n) { worker, images in
            let (ps, qpad) = (pl.ps, pl.qpad)
            let dyPlanes = Storage(zeros: opad * ps)
            let xPlanes = xp != nil ? Storage(zeros: gm.c * ps) : nil
            let out = dxp != nil ? Storage(count: cpad * qpad) : nil
            for i in images {
                lc_conv3x3_pad(gyp + i * gm.o * gm.h * gm.w, dyPlanes.ptr, ps, o, h, wd)
                if let packed, let out, let dxp {
                    lc_conv3x3_forward(dyPlanes.ptr, ps, packed.ptr, out.ptr, qpad, o, Int32(cpad), h, wd, Int32(lanes))
                    lc_conv3x3_unpad(out.ptr, qpad, dxp + i * gm.c * gm.h * gm.w, c, h, wd)
                }
                if let xp, let xPlanes {
                    lc_conv3x3_pad(xp + i * gm.c * gm.h * gm.w, xPlanes.ptr, ps, c, h, wd)
                    lc_conv3x3_weight_grad(xPlanes.ptr, dyPlanes.ptr, ps, shares[worker].ptr, c, Int32(opad), h, wd, Int32(lanes))
                }
            }
        }
        guard x != nil else { return (dx, nil) }
        // The shares' first O rows, summed: [O, C, 3, 3].
        let dw = Tensor(uninitializedShape: gm.weightShape), rows = gm.o * gm.c * 9
        dw.ptr.update(from: shares[0].ptr, count: rows)
        for s in shares.dropFirst() { for j in 0..<rows { dw.ptr[j] += s.ptr[j] } }
        return (dx, dw)
    }
}
