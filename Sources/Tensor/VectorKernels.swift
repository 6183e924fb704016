// Small SIMD loops shared by the elementwise kernels. Swift does not reassociate floating-point
// sums, so a plain `for` reduction is one serial chain of adds (about one element per 4 cycles);
// these keep several vector accumulators instead. Copies of short rows (im2col's 4–32 floats) are
// vector moves with an overlapping tail instead of a memmove call per row.

/// Eight Float lanes: the unit of the vector loops here and of the optimizers' updates (NN).
public typealias Vec = SIMD8<Float>

/// Eight floats from p (unaligned).
@inlinable @inline(__always) public func loadVec(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

/// Eight floats to p (unaligned).
@inlinable @inline(__always) public func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// dst[0..<n] = src[0..<n] for short rows that do not overlap.
@inline(__always) func copyRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 8 {
        var j = 0
        while j + 8 <= n { storeVec(loadVec(src + j), dst + j); j += 8 }
        // The last (partly repeated) vector ends exactly at n.
        if j < n { storeVec(loadVec(src + n - 8), dst + n - 8) }
    } else if n >= 4 {
        let a = UnsafeRawPointer(src).loadUnaligned(as: SIMD4<Float>.self)
        let b = UnsafeRawPointer(src + n - 4).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(dst).storeBytes(of: a, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(dst + n - 4).storeBytes(of: b, as: SIMD4<Float>.self)
    } else {
        for j in 0..<n { dst[j] = src[j] }
    }
}

/// Σ p[0..<n] in Float with 16 lanes of partial sums (n is a plane or a row: partial sums stay small).
@inline(__always) func vectorSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a = Vec(), b = Vec()
    var j = 0
    while j + 16 <= n { a += loadVec(p + j); b += loadVec(p + j + 8); j += 16 }
    if j + 8 <= n { a += loadVec(p + j); j += 8 }
    var s = (a + b).sum()
    while j < n { s += p[j]; j += 1 }
    return s
}

/// Σ (p[j] − c)² over 0..<n.
@inline(__always) func vectorCenteredSquares(_ p: UnsafePointer<Float>, _ n: Int, _ c: Float) -> Float {
    var a = Vec(), b = Vec()
    let cv = Vec(repeating: c)
    var j = 0
    while j + 16 <= n {
        let d = loadVec(p + j) - cv, e = loadVec(p + j + 8) - cv
        a += d * d; b += e * e
        j += 16
    }
    if j + 8 <= n { let d = loadVec(p + j) - cv; a += d * d; j += 8 }
    var s = (a + b).sum()
    while j < n { let d = p[j] - c; s += d * d; j += 1 }
    return s
}

/// (Σ g, Σ g·(x − c)) over 0..<n.
@inline(__always) func vectorGradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int,
                                          _ c: Float) -> (Float, Float) {
    var a = Vec(), b = Vec(), a2 = Vec(), b2 = Vec()
    let cv = Vec(repeating: c)
    var j = 0
    while j + 16 <= n {
        let g0 = loadVec(g + j), g1 = loadVec(g + j + 8)
        a += g0; a2 += g1
        b += g0 * (loadVec(x + j) - cv); b2 += g1 * (loadVec(x + j + 8) - cv)
        j += 16
    }
    if j + 8 <= n { let g0 = loadVec(g + j); a += g0; b += g0 * (loadVec(x + j) - cv); j += 8 }
    var sa = (a + a2).sum(), sb = (b + b2).sum()
    while j < n { sa += g[j]; sb += g[j] * (x[j] - c); j += 1 }
    return (sa, sb)
}

/// y[j] = x[j]·k + d over 0..<n, then + r[j] when a residual is given, then max(·, 0) (NaN to 0,
/// as relu) when `relu`: BatchNorm's map and the residual block's epilogue in one pass.
@inline(__always) func vectorAffine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                                    _ k: Float, _ d: Float, residual r: UnsafePointer<Float>? = nil, relu: Bool = false) {
    let kv = Vec(repeating: k), dv = Vec(repeating: d)
    var j = 0
    // One loop per case: the branches stay out of the vector loop.
    switch (r, relu) {
    case (let r?, true):
        while j + 8 <= n { let v = loadVec(x + j) * kv + dv + loadVec(r + j); storeVec(v.replacing(with: 0, where: .!(v .> 0)), y + j); j += 8 }
    case (let r?, false):
        while j + 8 <= n { storeVec(loadVec(x + j) * kv + dv + loadVec(r + j), y + j); j += 8 }
    case (nil, true):
        while j + 8 <= n { let v = loadVec(x + j) * kv + dv; storeVec(v.replacing(with: 0, where: .!(v .> 0)), y + j); j += 8 }
    case (nil, false):
        while j + 8 <= n { storeVec(loadVec(x + j) * kv + dv, y + j); j += 8 }
    }
    while j < n {
        var v = x[j] * k + d
        if let r { v += r[j] }
        y[j] = relu ? (v > 0 ? v : 0) : v
        j += 1
    }
}

/// g[j] where m[j] > 0, else 0, written to out, with (Σ out, Σ out·(x − c)) over 0..<n: relu's
/// backward and BatchNorm's gradient sums in one pass.
@inline(__always) func vectorMaskedGradientSums(_ g: UnsafePointer<Float>, _ m: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                                _ out: UnsafeMutablePointer<Float>, _ n: Int, _ c: Float) -> (Float, Float) {
    var a = Vec(), b = Vec()
    let cv = Vec(repeating: c)
    var j = 0
    while j + 8 <= n {
        let g0 = loadVec(g + j).replacing(with: 0, where: loadVec(m + j) .<= 0)
        storeVec(g0, out + j)
        a += g0; b += g0 * (loadVec(x + j) - cv)
        j += 8
    }
    var sa = a.sum(), sb = b.sum()
    while j < n { let g0 = m[j] > 0 ? g[j] : 0; out[j] = g0; sa += g0; sb += g0 * (x[j] - c); j += 1 }
    return (sa, sb)
}

/// out[j] = u·g[j] + v·x[j] + w over 0..<n.
@inline(__always) func vectorLinear2(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                     _ n: Int, _ u: Float, _ v: Float, _ w: Float) {
    let uv = Vec(repeating: u), vv = Vec(repeating: v), wv = Vec(repeating: w)
    var j = 0
    while j + 8 <= n { storeVec(uv * loadVec(g + j) + vv * loadVec(x + j) + wv, out + j); j += 8 }
    while j < n { out[j] = u * g[j] + v * x[j] + w; j += 1 }
}
