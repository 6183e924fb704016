import Foundation

// MARK: - Broadcasting

/// The broadcast shape of two shapes (NumPy rules), or an error naming the op and both shapes.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    let n = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw TensorError(op, "shapes \(shapeText(a)) and \(shapeText(b)) are not broadcastable")
        }
    }
    return out
}

/// Strides of `shape` seen inside `outShape`, 0 on broadcast dimensions.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let n = outShape.count
    var strides = [Int](repeating: 0, count: n)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let oi = i + n - shape.count
        strides[oi] = shape[i] == 1 && outShape[oi] != 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Merges neighbouring dimensions that both operands walk contiguously, so inner loops are long
/// (a per-channel [1, C, 1, 1] operand against NCHW becomes three dimensions, the last H·W long).
func coalesce(_ shape: [Int], _ sa: [Int], _ sb: [Int]) -> ([Int], [Int], [Int]) {
    var shp: [Int] = [], a: [Int] = [], b: [Int] = []
    for i in 0..<shape.count where shape[i] != 1 {
        if let last = shp.last, a.last! == sa[i] * shape[i], b.last! == sb[i] * shape[i] {
            shp[shp.count - 1] = last * shape[i]
            a[a.count - 1] = sa[i]
            b[b.count - 1] = sb[i]
        } else {
            shp.append(shape[i]); a.append(sa[i]); b.append(sb[i])
        }
    }
    if shp.isEmpty { return ([1], [0], [0]) }
    return (shp, a, b)
}

// MARK: - Elementwise functions as types

// Each elementwise function is a small struct, not a closure: the loops below are generic over it,
// so every op gets its own specialized (and vectorized) loop. A closure argument, captured again
// by `parallelFor`'s worker closure, stayed an indirect call per element (relu and add showed up
// in profiles as a call per value).

protocol UnaryFunction { func callAsFunction(_ x: Float) -> Float }
protocol BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float }

struct Add: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct Subtract: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct Multiply: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct Divide: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
struct Power: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) } }
/// 1 where the comparison holds, else 0.
struct Comparison: BinaryFunction {
    enum Kind { case eq, ne, lt, le, gt, ge }
    let kind: Kind
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float {
        let holds: Bool
        switch kind {
        case .eq: holds = a == b
        case .ne: holds = a != b
        case .lt: holds = a < b
        case .le: holds = a <= b
        case .gt: holds = a > b
        case .ge: holds = a >= b
        }
        return holds ? 1 : 0
    }
}

struct Negate: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
struct AddScalar: UnaryFunction { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { x + s } }
struct MultiplyScalar: UnaryFunction { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { x * s } }
struct DivideByScalar: UnaryFunction { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { x / s } }
struct DivideScalar: UnaryFunction { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { s / x } }
struct Exp: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) } }
struct Log: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
struct SquareRoot: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
struct Square: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x } }
struct PowerOf: UnaryFunction { let p: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) } }
struct HyperbolicTangent: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) } }
struct Logistic: UnaryFunction {
    @inline(__always) func callAsFunction(_ v: Float) -> Float {
        v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v))
    }
}
struct Rectify: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 } }
struct Absolute: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) } }
struct Sign: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) } }
struct Clamp: UnaryFunction {
    let lo, hi: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, lo), hi) }
}
/// 1 inside [lo, hi], else 0.
struct InRange: UnaryFunction {
    let lo, hi: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x >= lo && x <= hi ? 1 : 0 }
}
/// 1 where x ≠ 0 (or, flipped, where x = 0), else 0.
struct NonZero: UnaryFunction {
    let flipped: Bool
    @inline(__always) func callAsFunction(_ x: Float) -> Float { (x != 0) != flipped ? 1 : 0 }
}

/// out[i] = f(a[i'], b[i'']) with broadcasting.
func broadcastBinary<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) throws -> Tensor {
    if a.shape == b.shape {
        let out = Tensor(uninitializedShape: a.shape)
        let pa = a.ptr, pb = b.ptr, po = out.ptr
        parallelFor(a.count) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
        return out
    }
    let shape = try broadcastShape(a.shape, b.shape, op: op)
    let out = Tensor(uninitializedShape: shape)
    if out.count == 0 { return out }
    let pa = a.ptr, pb = b.ptr, po = out.ptr
    if b.count == 1 {
        let s = pb[0]
        parallelFor(out.count) { r in for i in r { po[i] = f(pa[i], s) } }
        return out
    }
    if a.count == 1 {
        let s = pa[0]
        parallelFor(out.count) { r in for i in r { po[i] = f(s, pb[i]) } }
        return out
    }
    let (dims, sa, sb) = coalesce(shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
    let inner = dims[dims.count - 1]
    let ia = sa[sa.count - 1], ib = sb[sb.count - 1]
    let rows = out.count / inner
    parallelFor(rows, grain: Swift.max(1, (1 << 15) / inner)) { r in
        var idx = [Int](repeating: 0, count: dims.count)
        for row in r {
            // Offsets of this row in a and b from its multi-index over the outer dimensions.
            var rem = row, oa = 0, ob = 0
            for d in stride(from: dims.count - 2, through: 0, by: -1) {
                idx[d] = rem % dims[d]; rem /= dims[d]
                oa += idx[d] * sa[d]; ob += idx[d] * sb[d]
            }
            let o = po + row * inner
            let xa = pa + oa, xb = pb + ob
            switch (ia, ib) {
            case (1, 1): for j in 0..<inner { o[j] = f(xa[j], xb[j]) }
            case (1, 0): let s = xb[0]; for j in 0..<inner { o[j] = f(xa[j], s) }
            case (0, 1): let s = xa[0]; for j in 0..<inner { o[j] = f(s, xb[j]) }
            default: for j in 0..<inner { o[j] = f(xa[j * ia], xb[j * ib]) }
            }
        }
    }
    return out
}

func mapUnary<F: UnaryFunction>(_ x: Tensor, _ f: F) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.ptr, po = out.ptr
    parallelFor(x.count) { r in for i in r { po[i] = f(px[i]) } }
    return out
}

// MARK: - Arithmetic (differentiable, broadcasting)

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try broadcastBinary(a, b, op: "add", Add())
        return result(out, op: "add", inputs: [a, b]) { g, _ in
            [try g.sumTo(a.shape), try g.sumTo(b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try broadcastBinary(a, b, op: "sub", Subtract())
        return result(out, op: "sub", inputs: [a, b]) { g, needs in
            [try g.sumTo(a.shape), needs[1] ? try (-g).sumTo(b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try broadcastBinary(a, b, op: "mul", Multiply())
        return result(out, op: "mul", inputs: [a, b]) { g, needs in
            [needs[0] ? try (g * b).sumTo(a.shape) : nil,
             needs[1] ? try (g * a).sumTo(b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try broadcastBinary(a, b, op: "div", Divide())
        return result(out, op: "div", inputs: [a, b]) { g, needs in
            [needs[0] ? try (g / b).sumTo(a.shape) : nil,
             needs[1] ? try (-(g * a) / (b * b)).sumTo(b.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        let out = mapUnary(x, Negate())
        return result(out, op: "neg", inputs: [x]) { g, _ in [-g] }
    }

    // Scalar operands: no broadcasting bookkeeping and no scalar tensor in the graph.
    public static func + (a: Tensor, s: Float) -> Tensor {
        result(mapUnary(a, AddScalar(s: s)), op: "add_scalar", inputs: [a]) { g, _ in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }

    public static func * (a: Tensor, s: Float) -> Tensor {
        result(mapUnary(a, MultiplyScalar(s: s)), op: "mul_scalar", inputs: [a]) { g, _ in [g * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor {
        result(mapUnary(a, DivideByScalar(s: s)), op: "div_scalar", inputs: [a]) { g, _ in [g / s] }
    }
    public static func / (s: Float, a: Tensor) throws -> Tensor {
        let out = mapUnary(a, DivideScalar(s: s))
        return result(out, op: "rdiv_scalar", inputs: [a]) { g, _ in [try -(g * s) / (a * a)] }
    }
}

// MARK: - Elementwise functions

extension Tensor {
    public func exp() throws -> Tensor {
        let out = mapUnary(self, Exp())
        // `out` unowned: the node lives in `out`, so a strong capture would be a retain cycle (a leak).
        return Tensor.result(out, op: "exp", inputs: [self]) { [unowned out] g, _ in [try g * out] }
    }

    public func log() throws -> Tensor {
        let out = mapUnary(self, Log())
        return Tensor.result(out, op: "log", inputs: [self]) { g, _ in [try g / self] }
    }

    public func sqrt() throws -> Tensor {
        let out = mapUnary(self, SquareRoot())
        return Tensor.result(out, op: "sqrt", inputs: [self]) { [unowned out] g, _ in [try (g / out) * 0.5] }
    }

    /// x^p for a constant exponent.
    public func pow(_ p: Float) throws -> Tensor {
        let out: Tensor
        if p == 2 { out = mapUnary(self, Square()) } else { out = mapUnary(self, PowerOf(p: p)) }
        return Tensor.result(out, op: "pow", inputs: [self]) { g, _ in
            if p == 2 { return [try g * self * 2] }
            return [try g * (try self.pow(p - 1) * p)]
        }
    }

    /// x^y elementwise with broadcasting (x > 0 where the exponent's gradient is needed).
    public func pow(_ y: Tensor) throws -> Tensor {
        let out = try broadcastBinary(self, y, op: "pow", Power())
        return Tensor.result(out, op: "pow", inputs: [self, y]) { [unowned out] g, needs in
            [needs[0] ? try (g * y * (try self.pow(y - 1))).sumTo(self.shape) : nil,
             needs[1] ? try (g * out * (try self.log())).sumTo(y.shape) : nil]
        }
    }

    public func tanh() throws -> Tensor {
        let out = mapUnary(self, HyperbolicTangent())
        return Tensor.result(out, op: "tanh", inputs: [self]) { [unowned out] g, _ in [try g * (1 - out * out)] }
    }

    public func sigmoid() throws -> Tensor {
        let out = mapUnary(self, Logistic())
        return Tensor.result(out, op: "sigmoid", inputs: [self]) { [unowned out] g, _ in [try g * out * (1 - out)] }
    }

    public func relu() throws -> Tensor {
        let out = mapUnary(self, Rectify())
        // The mask x > 0 is a constant (zero derivative almost everywhere), so H of relu is exact.
        return Tensor.result(out, op: "relu", inputs: [self]) { g, _ in [g.keeping(where: self)] }
    }

    /// self where mask > 0, else 0: relu's backward without building a mask tensor. Linear in self.
    func keeping(where mask: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let pg = ptr, pm = mask.ptr, po = out.ptr
        // SIMD select: a scalar `?:` on data-dependent signs compiles to a mispredicted branch.
        parallelFor(count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let m = UnsafeRawPointer(pm + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(pg + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(po + i).storeBytes(of: g.replacing(with: 0, where: m .<= 0), as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound { po[i] = pm[i] > 0 ? pg[i] : 0; i += 1 }
        }
        return Tensor.result(out, op: "relu_backward", inputs: [self]) { g, _ in [g.keeping(where: mask)] }
    }

    public func abs() throws -> Tensor {
        let out = mapUnary(self, Absolute())
        return Tensor.result(out, op: "abs", inputs: [self]) { g, _ in [try g * self.sign()] }
    }

    /// -1, 0 or 1 (not differentiable: constant).
    public func sign() -> Tensor { mapUnary(self, Sign()) }

    /// Clamps into [lo, hi]; the gradient passes where lo ≤ x ≤ hi (as PyTorch).
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) throws -> Tensor {
        guard lo <= hi else { throw TensorError("clamp", "min \(lo) is above max \(hi)") }
        let out = mapUnary(self, Clamp(lo: lo, hi: hi))
        return Tensor.result(out, op: "clamp", inputs: [self]) { g, _ in
            [try g * mapUnary(self, InRange(lo: lo, hi: hi))]
        }
    }
}

// MARK: - Comparisons and where (constants: no gradient flows through a comparison)

extension Tensor {
    public func eq(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "eq", Comparison(kind: .eq)) }
    public func ne(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "ne", Comparison(kind: .ne)) }
    public func lt(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "lt", Comparison(kind: .lt)) }
    public func le(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "le", Comparison(kind: .le)) }
    public func gt(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "gt", Comparison(kind: .gt)) }
    public func ge(_ o: Tensor) throws -> Tensor { try broadcastBinary(self, o, op: "ge", Comparison(kind: .ge)) }

    /// cond ? a : b elementwise (cond nonzero = true), with broadcasting of all three.
    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(try broadcastShape(cond.shape, a.shape, op: "where"), b.shape, op: "where")
        let c = try cond.broadcast(to: shape).detached()
        let mask = mapUnary(c, NonZero(flipped: false))
        let inv = mapUnary(c, NonZero(flipped: true))
        // Select exactly (a·mask + b·(1−mask) would turn inf·0 into nan); the gradients are masks.
        let ea = try a.broadcast(to: shape), eb = try b.broadcast(to: shape)
        let out = Tensor(uninitializedShape: shape)
        let pm = mask.ptr, pa = ea.ptr, pb = eb.ptr, po = out.ptr
        parallelFor(out.count) { r in for i in r { po[i] = pm[i] != 0 ? pa[i] : pb[i] } }
        return result(out, op: "where", inputs: [a, b]) { g, needs in
            [needs[0] ? try (g * mask).sumTo(a.shape) : nil,
             needs[1] ? try (g * inv).sumTo(b.shape) : nil]
        }
    }
}
