// Stride-2 3×3 convolutions (padding 1) on the direct kernels: each input channel is split into
// its four phase planes (even/odd rows × even/odd columns), on which the strided convolution is a
// stride-1 one whose nine taps each read one phase at a shift of 0 or 1. dx is the transposed
// convolution: per phase, a stride-1 convolution of the zero-bordered dY with that phase's taps
// (4, 2, 2 and 1 of them), gathered back into dx. ResNet-18 w16's 16→32 layer at 28×28 ran at
// 60 GFLOP/s through im2col (a K = 32 product and a strided col2im scatter for dx).
import CKernels

enum StridedDirectConv {
    /// Offsets of the nine taps in an image's phase planes (pps floats apart, Wo + 2 wide).
    static func forwardOffsets(_ gm: ConvGeometry, pps: Int) -> [Int] {
        let wp = gm.wo + 2
        return (0..<9).map { t in
            let (ky, kx) = (t / 3, t % 3)
            return (2 * (ky & 1) + (kx & 1)) * pps + (ky >> 1) * wp + (kx >> 1)
        }
    }

    /// Per phase (a, b): the taps (ky, kx) with ky ≡ a, kx ≡ b (mod 2), and where each reads the
    /// zero-bordered dY: dP_ab[u][v] = Σ w[tap] · dY[u − ky/2][v − kx/2].
    static func inputGradientTaps(_ gm: ConvGeometry) -> [(taps: [Int32], offs: [Int])] {
        let wp = gm.wo + 2
        return (0..<4).map { phase in
            let taps = (0..<9).filter { t in 2 * ((t / 3) & 1) + ((t % 3) & 1) == phase }
            return (taps.map { Int32($0) }, taps.map { t in (1 - (t / 3) >> 1) * wp + (1 - (t % 3) >> 1) })
        }
    }

    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        GemmCounter.flops += gm.productFlops
        let y = Tensor(uninitializedShape: gm.outputShape)
        let lanes = DirectConv.lanes, opad = DirectConv.lanePadded(gm.o)
        let packed = DirectConv.pack(w, oout: gm.o, cin: gm.c, flip: false)
        let (ho, wo) = (Int32(gm.ho), Int32(gm.wo))
        let pps = lc_conv3x3_plane(ho, wo, Int32(lanes)), qpad = lc_conv3x3_rows(ho, wo, Int32(lanes))
        let offs = forwardOffsets(gm, pps: pps)
        nonisolated(unsafe) let (xp, yp) = (x.ptr, y.ptr)
        forEachBatchShare(gm.n) { _, images in
            let planes = Storage(zeros: 4 * gm.c * pps), out = Storage(count: opad * qpad)
            for i in images {
                lc_conv3x3_phase(xp + i * gm.c * gm.h * gm.w, planes.ptr, pps, Int32(gm.c), Int32(gm.h), Int32(gm.w), ho, wo)
                lc_conv_taps_forward(planes.ptr, 4 * pps, offs, 9, packed.ptr, out.ptr, qpad, gm.ho * (gm.wo + 2),
                                     Int32(gm.c), Int32(opad), Int32(lanes))
                lc_conv3x3_unpad(out.ptr, qpad, yp + i * gm.o * gm.p, Int32(gm.o), ho, wo)
            }
        }
        return y
    }

    /// dx (four per-phase convolutions of the zero-bordered dY, gathered) and dW (dY against the
    /// phase planes of x) in one sweep that pads each image's dY once. Pass nil for a gradient
    /// that is not wanted.
    static func backward(_ gy: Tensor, _ gm: ConvGeometry, x: Tensor?, w: Tensor?) -> (dx: Tensor?, dw: Tensor?) {
        GemmCounter.flops += gm.productFlops * Double((x != nil ? 1 : 0) + (w != nil ? 1 : 0))
        let lanes = DirectConv.lanes, (cpad, opad) = (DirectConv.lanePadded(gm.c), DirectConv.lanePadded(gm.o))
        let (ho, wo, l) = (Int32(gm.ho), Int32(gm.wo), Int32(lanes))
        let wp = gm.wo + 2
        // dY's planes serve dx's reads one row below the output (Ho + 1 rows of dP) and dW's.
        let dyPS = lc_conv3x3_plane(ho + 1, wo, l), dxQpad = lc_conv3x3_rows(ho + 1, wo, l)
        let pps = lc_conv3x3_plane(ho, wo, l)
        let phases = inputGradientTaps(gm)
        let packs: [Storage] = w.map { w in
            phases.map { ph in
                let packed = Storage(count: cpad * gm.o * ph.taps.count)
                lc_conv_taps_pack(w.ptr, packed.ptr, Int32(gm.c), Int32(gm.o), l, 1, ph.taps, Int32(ph.taps.count))
                return packed
            }
        } ?? []
        let xOffs = forwardOffsets(gm, pps: pps)
        let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
        let shares = x != nil ? (0..<batchShareWorkers(gm.n)).map { _ in Storage(zeros: opad * gm.c * 9) } : []
        nonisolated(unsafe) let (gyp, xp, dxp) = (gy.ptr, x?.ptr, dx?.ptr)
        let (c, o, h, wd) = (Int32(gm.c), Int32(gm.o), Int32(gm.h), Int32(gm.w))
        forEachBatchShare(gm.n) { worker, images in
            let dyPlanes = Storage(zeros: opad * dyPS)
            let xPlanes = xp != nil ? Storage(zeros: 4 * gm.c * pps) : nil
            let out = dxp != nil ? Storage(count: 4 * cpad * dxQpad) : nil
            for i in images {
                lc_conv3x3_pad(gyp + i * gm.o * gm.p, dyPlanes.ptr, dyPS, o, ho, wo)
                if let out, let dxp {
                    for (k, ph) in phases.enumerated() {
                        lc_conv_taps_forward(dyPlanes.ptr, dyPS, ph.offs, Int32(ph.taps.count), packs[k].ptr, out.ptr + k * cpad * dxQpad,
                                             dxQpad, (gm.ho + 1) * wp, o, Int32(cpad), l)
                    }
                    lc_conv3x3_unphase(out.ptr, cpad * dxQpad, dxQpad, dxp + i * gm.c * gm.h * gm.w, c, h, wd, wo)
                }
                if let xp, let xPlanes {
                    lc_conv3x3_phase(xp + i * gm.c * gm.h * gm.w, xPlanes.ptr, pps, c, h, wd, ho, wo)
                    lc_conv_taps_weight_grad(xPlanes.ptr, 4 * pps, xOffs, dyPlanes.ptr + wp + 1, dyPS, shares[worker].ptr,
                                             c, Int32(opad), gm.ho * wp, l)
                }
            }
        }
        return (dx, x != nil ? ConvScratch.summedWeightGradient(shares, shape: gm.weightShape) : nil)
    }
}
