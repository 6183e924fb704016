// 3×3 stride-1 padding-1 convolutions by Winograd's F(2×2, 3×3) (CKernels/winograd.c): each 2×2
// block of output pixels takes 16 products per input channel instead of 36, as 16 sgemm calls
// between transformed weights U[ξ] [O, C] and transformed input tiles V[ξ] [C, T]. Used for layers
// of 32 channels and more (ResNet-18 w16's 14×14, 7×7 and 4×4 planes, w64's wide layers), where
// the products already run near sgemm's rate and only fewer of them helps. The FLOPs counted are
// still the convolution's (the step's FLOP count does not depend on the algorithm); the products
// actually run are 4/9 of them for even planes. Both gradients are the adjoints of the same three
// linear steps, so second derivatives stay exact.
import CKernels

public enum WinogradConv {
    /// Off: those layers take im2col + sgemm (benchmarks and tests compare the two).
    nonisolated(unsafe) public static var enabled = true
    /// Thinner layers' products (K = C) run too far below sgemm's rate to gain. Settable for tests.
    nonisolated(unsafe) public static var minChannels = 32
    /// Floats of V and M per group of images on a core (1 MB, a core's L2: 4 MB groups were 20 % slower).
    nonisolated(unsafe) public static var budget = 1 << 18

    /// Floats of V and M that one core's group of 16 images may need (128 MB): larger planes
    /// (ImageNet-sized inputs) keep the other paths.
    nonisolated(unsafe) static var maxGroupFloats = 1 << 25

    static func applies(_ gm: ConvGeometry) -> Bool {
        enabled && DirectConv.lanes > 0 && gm.kh == 3 && gm.kw == 3 && gm.stride == 1 && gm.padding == 1
            && gm.c >= minChannels && gm.o >= minChannels && 16 * 16 * tiles(gm) * (gm.c + gm.o) <= maxGroupFloats
    }

    static func tiles(_ gm: ConvGeometry) -> Int { ((gm.h + 1) / 2) * ((gm.w + 1) / 2) }

    /// Images per group, a multiple of the transforms' 16 lanes: V [16, C, T] and M [16, O, T] within
    /// the budget, or a core's whole share if that is less.
    static func groupSize(_ gm: ConvGeometry) -> Int {
        let perImage = 16 * tiles(gm) * (gm.c + gm.o)
        return lanePadded(Swift.min(Swift.max(1, budget / perImage / 16 * 16), batchShare(gm.n)))
    }

    static func lanePadded(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    /// U = G w Gᵀ, [16, O, C].
    static func transformed(_ w: Tensor, _ gm: ConvGeometry) -> Storage {
        let u = Storage(count: 16 * gm.o * gm.c), l = Int32(DirectConv.lanes)
        lc_wino_weight(w.ptr, u.ptr, Int32(gm.o), Int32(gm.c), l)
        return u
    }

    final class Scratch {
        let v, m, buf: Storage
        let du: Storage?
        init(_ gm: ConvGeometry, g: Int, dw: Bool) {
            let t = g * WinogradConv.tiles(gm)
            v = Storage(count: 16 * gm.c * t)
            m = Storage(count: 16 * gm.o * t)
            buf = Storage(count: lc_wino_scratch(Int32(gm.h), Int32(gm.w)))
            du = dw ? Storage(zeros: 16 * gm.o * gm.c) : nil
        }
    }

    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        GemmCounter.flops += gm.productFlops
        let y = Tensor(uninitializedShape: gm.outputShape)
        let u = transformed(w, gm), g = groupSize(gm), tl = tiles(gm)
        let (c, o, h, wd, l) = (Int32(gm.c), Int32(gm.o), Int32(gm.h), Int32(gm.w), Int32(DirectConv.lanes))
        nonisolated(unsafe) let (xp, yp, up) = (x.ptr, y.ptr, u.ptr)
        _ = ConvKernels.groups(gm.n, size: g, scratch: { Scratch(gm, g: g, dw: false) }) { first, cnt, s in
            let t = lanePadded(cnt) * tl
            lc_wino_input(xp + first * gm.c * gm.h * gm.w, s.v.ptr, t, Int32(cnt), c, h, wd, s.buf.ptr, l)
            for xi in 0..<16 {
                sgemm(up + xi * gm.o * gm.c, s.v.ptr + xi * gm.c * t, s.m.ptr + xi * gm.o * t,
                      m: gm.o, n: t, k: gm.c, transA: false, transB: false, counted: false)
            }
            lc_wino_output(s.m.ptr, t, yp + first * gm.o * gm.p, Int32(cnt), o, h, wd, s.buf.ptr, l)
        }
        return y
    }

    /// dM = A dY Aᵀ per tile; dx from dV[ξ] = U[ξ]ᵀ·dM[ξ] (then B dV Bᵀ over the tiles' patches) and
    /// dW from dU[ξ] += dM[ξ]·V[ξ]ᵀ (then Gᵀ dU G). Pass nil for a gradient that is not wanted.
    static func backward(_ gy: Tensor, _ gm: ConvGeometry, x: Tensor?, w: Tensor?) -> (dx: Tensor?, dw: Tensor?) {
        GemmCounter.flops += gm.productFlops * Double((x != nil ? 1 : 0) + (w != nil ? 1 : 0))
        let u = w.map { transformed($0, gm) }, g = groupSize(gm), tl = tiles(gm)
        let dx = w != nil ? Tensor(uninitializedShape: gm.inputShape) : nil
        let (c, o, h, wd, l) = (Int32(gm.c), Int32(gm.o), Int32(gm.h), Int32(gm.w), Int32(DirectConv.lanes))
        nonisolated(unsafe) let (gyp, xp, dxp, up) = (gy.ptr, x?.ptr, dx?.ptr, u?.ptr)
        let scratches = ConvKernels.groups(gm.n, size: g, scratch: { Scratch(gm, g: g, dw: xp != nil) }) { first, cnt, s in
            let t = lanePadded(cnt) * tl
            lc_wino_output_adjoint(gyp + first * gm.o * gm.p, s.m.ptr, t, Int32(cnt), o, h, wd, s.buf.ptr, l)
            if let up, let dxp {
                for xi in 0..<16 {
                    sgemm(up + xi * gm.o * gm.c, s.m.ptr + xi * gm.o * t, s.v.ptr + xi * gm.c * t,
                          m: gm.c, n: t, k: gm.o, transA: true, transB: false, counted: false)
                }
                lc_wino_input_adjoint(s.v.ptr, t, dxp + first * gm.c * gm.h * gm.w, Int32(cnt), c, h, wd, s.buf.ptr, l)
            }
            if let xp, let du = s.du {
                lc_wino_input(xp + first * gm.c * gm.h * gm.w, s.v.ptr, t, Int32(cnt), c, h, wd, s.buf.ptr, l)
                for xi in 0..<16 {
                    sgemm(s.m.ptr + xi * gm.o * t, s.v.ptr + xi * gm.c * t, du.ptr + xi * gm.o * gm.c,
                          m: gm.o, n: gm.c, k: t, transA: false, transB: true, beta: 1, counted: false)
                }
            }
        }
        guard x != nil else { return (dx, nil) }
        let du = ConvScratch.summedWeightGradient(scratches.map { $0.du! }, shape: [16, gm.o, gm.c])
        let dw = Tensor(uninitializedShape: gm.weightShape)
        lc_wino_weight_adjoint(du.ptr, dw.ptr, Int32(gm.o), Int32(gm.c), l)
        return (dx, dw)
    }
}
