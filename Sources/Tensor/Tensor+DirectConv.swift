// Direct 3×3 convolutions (CKernels) for the thin, wide layers of a CPU-sized ResNet: with 16 or
// 32 channels on 28×28 planes, im2col + sgemm spent more time copying and packing than
// multiplying (ResNet-18 w16 16→16 at 28×28: 39 GFLOP/s a core, the direct kernel 70–85).
// The batch is split over the cores; each core pads its images into its own zero-bordered planes.
import CKernels

public enum DirectConv {
    /// 8 (AVX-512), 4 (AVX2 + FMA) or 0 (neither: every convolution takes im2col). Settable for tests.
    nonisolated(unsafe) static var lanes = Int(lc_conv3x3_lanes())
    /// Off: every convolution takes im2col + sgemm (benchmarks compare the two paths).
    nonisolated(unsafe) public static var enabled = true
    /// Narrower planes waste too much of each row's two dropped columns (7×7: 9 computed for 7);
    /// wider layers' products run near sgemm's rate in OpenBLAS. Settable for tests.
    nonisolated(unsafe) static var minWidth = 12
    nonisolated(unsafe) public static var maxChannels = 64

    /// Stride-2 layers keep im2col below this output width (at 14×14 → 7×7 the kernels computed 96
    /// pixels per row block for 49, and ran slower than im2col). Settable for tests.
    nonisolated(unsafe) public static var minStridedWidth = 12

    static func applies(_ gm: ConvGeometry) -> Bool {
        guard enabled, lanes > 0, gm.kh == 3, gm.kw == 3, gm.padding == 1, gm.c <= maxChannels, gm.o <= maxChannels else { return false }
        switch gm.stride {
        case 1: return gm.w >= minWidth
        case 2: return gm.wo >= minStridedWidth
        default: return false
        }
    }

    /// n rounded up to a multiple of the kernels' channel block.
    static func lanePadded(_ n: Int) -> Int { (n + lanes - 1) / lanes * lanes }

    /// w [oout, cin, 3, 3] (or, flipped, the weight [cin, oout, 3, 3] of the transposed convolution)
    /// packed for the forward kernel.
    static func pack(_ w: Tensor, oout: Int, cin: Int, flip: Bool) -> Storage {
        let packed = Storage(count: lanePadded(oout) * cin * 9)
        lc_conv3x3_pack(w.ptr, packed.ptr, Int32(oout), Int32(cin), Int32(lanes), flip ? 1 : 0)
        return packed
    }

    /// Floats per padded plane and per output row of the kernels, for the geometry's images.
    static func planeSizes(_ gm: ConvGeometry) -> (ps: Int, qpad: Int) {
        let (h, w, l) = (Int32(gm.h), Int32(gm.w), Int32(lanes))
        return (lc_conv3x3_plane(h, w, l), lc_conv3x3_rows(h, w, l))
    }

    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        if gm.stride == 2 { return StridedDirectConv.forward(x, w, gm) }
        GemmCounter.flops += gm.productFlops
        let y = Tensor(uninitializedShape: gm.outputShape)
        let packed = pack(w, oout: gm.o, cin: gm.c, flip: false)
        let (lanes, opad) = (self.lanes, lanePadded(gm.o))
        let (ps, qpad) = planeSizes(gm)
        nonisolated(unsafe) let (xp, yp) = (x.ptr, y.ptr)
        forEachBatchShare(gm.n) { _, images in
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
        if gm.stride == 2 { return StridedDirectConv.backward(gy, gm, x: x, w: w) }
        GemmCounter.flops += gm.productFlops * Double((x != nil ? 1 : 0) + (w != nil ? 1 : 0))
        let packed = w.map { pack($0, oout: gm.c, cin: gm.o, flip: true) }
        let (lanes, cpad, opad) = (self.lanes, lanePadded(gm.c), lanePadded(gm.o))
        let (ps, qpad) = planeSizes(gm)
        let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
        let shares = x != nil ? (0..<batchShareWorkers(gm.n)).map { _ in Storage(zeros: opad * gm.c * 9) } : []
        nonisolated(unsafe) let (gyp, xp, dxp) = (gy.ptr, x?.ptr, dx?.ptr)
        let (c, o, h, wd) = (Int32(gm.c), Int32(gm.o), Int32(gm.h), Int32(gm.w))
        forEachBatchShare(gm.n) { worker, images in
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
        // The shares' first O rows (the padded ones come last), summed: [O, C, 3, 3].
        return (dx, x != nil ? ConvScratch.summedWeightGradient(shares, shape: gm.weightShape) : nil)
    }
}
