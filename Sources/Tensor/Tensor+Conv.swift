// conv2d as im2col + one sgemm per group of images, for the forward pass and both backward
// passes. The three ops (conv2d, its input gradient, its weight gradient) are each differentiable
// and their backward rules use only each other, so the second derivatives of a CNN are exact.

/// Shapes of one convolution.
struct ConvGeometry {
    let n, c, h, w: Int          // input
    let o, kh, kw: Int           // weight [o, c, kh, kw]
    let stride, padding: Int
    let ho, wo: Int              // output
    var k: Int { c * kh * kw }   // rows of the im2col matrix
    var p: Int { ho * wo }       // output pixels per image

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

    var outputShape: [Int] { [n, o, ho, wo] }
    var inputShape: [Int] { [n, c, h, w] }
    var weightShape: [Int] { [o, c, kh, kw] }

    /// Images per group, so that the im2col buffer stays near 4 MB and in cache for the product
    /// that reads it (measured at batch 128, 64 channels, 32×32: 16 MB groups ran 25 % slower).
    var group: Int { Swift.max(1, Swift.min(n, ConvGeometry.budget / Swift.max(k * p, 1))) }
    static let budget = 1 << 20

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

/// col[K, g·P] for images first ..< first + g.
func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ gm: ConvGeometry, first: Int, g: Int) {
    let ld = g * gm.p
    parallelFor(gm.k, grain: 8) { rows in
        for r in rows {
            let c = r / (gm.kh * gm.kw), ki = (r / gm.kw) % gm.kh, kj = r % gm.kw
            for img in 0..<g {
                let src = x + ((first + img) * gm.c + c) * gm.h * gm.w
                let dst = col + r * ld + img * gm.p
                for oy in 0..<gm.ho {
                    let iy = oy * gm.stride - gm.padding + ki
                    let row = dst + oy * gm.wo
                    // Rows are short (W ≤ 32 here): plain loops beat a memmove call per row.
                    if iy < 0 || iy >= gm.h { for j in 0..<gm.wo { row[j] = 0 }; continue }
                    let line = src + iy * gm.w
                    if gm.stride == 1 {
                        // Contiguous run with zeros at the padded ends.
                        let lo = Swift.min(gm.wo, Swift.max(0, gm.padding - kj)), hi = Swift.max(lo, Swift.min(gm.wo, gm.w + gm.padding - kj))
                        for j in 0..<lo { row[j] = 0 }
                        let from = line - gm.padding + kj
                        for j in lo..<hi { row[j] = from[j] }
                        for j in hi..<gm.wo { row[j] = 0 }
                    } else {
                        for ox in 0..<gm.wo {
                            let ix = ox * gm.stride - gm.padding + kj
                            row[ox] = ix >= 0 && ix < gm.w ? line[ix] : 0
                        }
                    }
                }
            }
        }
    }
}

/// Adds col[K, g·P] back into images first ..< first + g of dx (the transpose of im2col).
func col2im(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ gm: ConvGeometry, first: Int, g: Int) {
    let ld = g * gm.p
    // Partition by channel: rows of one channel write the same planes.
    parallelFor(gm.c, grain: 1) { channels in
        for c in channels {
            for ki in 0..<gm.kh {
                for kj in 0..<gm.kw {
                    let r = (c * gm.kh + ki) * gm.kw + kj
                    for img in 0..<g {
                        let plane = dx + ((first + img) * gm.c + c) * gm.h * gm.w
                        let src = col + r * ld + img * gm.p
                        for oy in 0..<gm.ho {
                            let iy = oy * gm.stride - gm.padding + ki
                            if iy < 0 || iy >= gm.h { continue }
                            let line = plane + iy * gm.w, row = src + oy * gm.wo
                            if gm.stride == 1 {
                                let lo = Swift.max(0, gm.padding - kj), hi = Swift.min(gm.wo, gm.w + gm.padding - kj)
                                if hi > lo {
                                    let dst = line + lo - gm.padding + kj
                                    for ox in lo..<hi { dst[ox - lo] += row[ox] }
                                }
                            } else {
                                for ox in 0..<gm.wo {
                                    let ix = ox * gm.stride - gm.padding + kj
                                    if ix >= 0 && ix < gm.w { line[ix] += row[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Copies images' [O, P] planes into/out of a grouped [O, g·P] matrix.
func groupPlanes(_ planes: UnsafeMutablePointer<Float>, _ grouped: UnsafeMutablePointer<Float>, rows: Int, p: Int, first: Int, g: Int, toGroup: Bool) {
    for img in 0..<g {
        for r in 0..<rows {
            let a = planes + ((first + img) * rows + r) * p, b = grouped + r * g * p + img * p
            if toGroup { b.update(from: a, count: p) } else { a.update(from: b, count: p) }
        }
    }
}

enum ConvKernels {
    static func forward(_ x: Tensor, _ w: Tensor, _ gm: ConvGeometry) -> Tensor {
        let y = Tensor(uninitializedShape: gm.outputShape)
        if gm.isPointwise {
            for img in 0..<gm.n {
                sgemm(w.ptr, x.ptr + img * gm.c * gm.p, y.ptr + img * gm.o * gm.p, m: gm.o, n: gm.p, k: gm.k, transA: false, transB: false)
            }
            return y
        }
        let g = gm.group
        let col = Storage(count: gm.k * g * gm.p), yg = Storage(count: g > 1 ? gm.o * g * gm.p : 0)
        var first = 0
        while first < gm.n {
            let cnt = Swift.min(g, gm.n - first)
            im2col(x.ptr, col.ptr, gm, first: first, g: cnt)
            if cnt == 1 {
                sgemm(w.ptr, col.ptr, y.ptr + first * gm.o * gm.p, m: gm.o, n: gm.p, k: gm.k, transA: false, transB: false)
            } else {
                sgemm(w.ptr, col.ptr, yg.ptr, m: gm.o, n: cnt * gm.p, k: gm.k, transA: false, transB: false)
                groupPlanes(y.ptr, yg.ptr, rows: gm.o, p: gm.p, first: first, g: cnt, toGroup: false)
            }
            first += cnt
        }
        return y
    }

    /// Both gradients of a convolution in one sweep: per group, dY is regrouped once, dW += dY·colᵀ
    /// uses im2col(x), and the same buffer then takes Wᵀ·dY for col2im into dx.
    /// dx needs the weight `w`, dW the input `x`; pass nil for a gradient that is not wanted.
    static func backward(_ gy: Tensor, _ gm: ConvGeometry, x: Tensor?, w: Tensor?) -> (dx: Tensor?, dw: Tensor?) {
        if let w, let flipped = gm.flippedForInputGradient {
            // dx of a stride-1 convolution is the convolution of dY with the flipped, transposed
            // kernel: an im2col product with K = 9·O instead of a K = O product and a col2im scatter.
            let dx = forward(gy, w.flippedTransposedKernel(), flipped)
            return (dx, x.map { backward(gy, gm, x: $0, w: nil).dw! })
        }
        let dx = w != nil ? Tensor(storage: Storage(zeros: gm.n * gm.c * gm.h * gm.w), shape: gm.inputShape) : nil
        let dw = x != nil ? Tensor(storage: Storage(zeros: gm.o * gm.k), shape: gm.weightShape) : nil
        if gm.isPointwise {
            for img in 0..<gm.n {
                let gyi = gy.ptr + img * gm.o * gm.p
                if let dw, let x { sgemm(gyi, x.ptr + img * gm.c * gm.p, dw.ptr, m: gm.o, n: gm.k, k: gm.p, transA: false, transB: true, beta: 1) }
                if let dx, let w { sgemm(w.ptr, gyi, dx.ptr + img * gm.c * gm.p, m: gm.k, n: gm.p, k: gm.o, transA: true, transB: false) }
            }
            return (dx, dw)
        }
        let g = gm.group
        let col = Storage(count: gm.k * g * gm.p), gyg = Storage(count: g > 1 ? gm.o * g * gm.p : 0)
        var first = 0
        while first < gm.n {
            let cnt = Swift.min(g, gm.n - first)
            // A group of one image is already laid out as [O, P].
            let gyp = cnt == 1 ? gy.ptr + first * gm.o * gm.p : gyg.ptr
            if cnt > 1 { groupPlanes(gy.ptr, gyg.ptr, rows: gm.o, p: gm.p, first: first, g: cnt, toGroup: true) }
            if let dw, let x {
                im2col(x.ptr, col.ptr, gm, first: first, g: cnt)
                sgemm(gyp, col.ptr, dw.ptr, m: gm.o, n: gm.k, k: cnt * gm.p, transA: false, transB: true, beta: 1)
            }
            if let dx, let w {
                sgemm(w.ptr, gyp, col.ptr, m: gm.k, n: cnt * gm.p, k: gm.o, transA: true, transB: false)
                col2im(col.ptr, dx.ptr, gm, first: first, g: cnt)
            }
            first += cnt
        }
        return (dx, dw)
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
