import Foundation
import XCTest
@testable import Tensor

// Shared helpers for the Tensor tests: test inputs, comparisons, independent (Float64) reference
// helpers and the finite-difference derivative checker.

// MARK: - Test inputs

/// Rounds to a multiple of 2⁻¹². Inputs on this grid make x ± k·h exact in Float32 for the
/// finite-difference steps used here (h = 2⁻⁷ or 2⁻⁶ and |x| < 2⁸), so the step the engine sees is
/// exactly the step the quotient divides by.
func onGrid(_ x: Double) -> Float { Float((x * 4096).rounded() / 4096) }

/// Uniform values in [low, high), on the 2⁻¹² grid, from a fixed seed.
func sample(_ shape: [Int], seed: UInt64, low: Double = -1, high: Double = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor((0..<n).map { _ in onGrid(low + (high - low) * rng.uniformDouble()) }, shape: shape)
}

/// Values with |x| in [gap, gap + 1): random sign, kept away from the kink of relu/abs at 0.
func awayFromZero(_ shape: [Int], seed: UInt64, gap: Double = 0.1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor((0..<n).map { _ in
        let m = gap + rng.uniformDouble()
        return onGrid(rng.uniformDouble() < 0.5 ? -m : m)
    }, shape: shape)
}

/// Pairwise distinct values spaced `spacing` apart, in shuffled order (no ties for max and max-pool,
/// and every gap much wider than the finite-difference steps).
func distinct(_ shape: [Int], seed: UInt64, spacing: Double = 0.125) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    let perm = rng.permutation(n)
    return Tensor(perm.map { onGrid((Double($0) - Double(n) / 2) * spacing) }, shape: shape)
}

func doubles(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }

// MARK: - Comparisons

/// Fails unless max_i |actual_i − expected_i| ≤ tol · max(1, max_i |expected_i|).
/// (An absolute error for small values, relative to the largest entry for large ones.)
/// Set TENSOR_TESTS_MARGINS=1 to print every comparison's error as a fraction of its tolerance.
func assertClose(_ actual: [Float], _ expected: [Double], tol: Double, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let scale = Swift.max(1, expected.map { Swift.abs($0) }.max() ?? 0)
    var worst = 0.0, at = -1
    for i in actual.indices {
        let e = Swift.abs(Double(actual[i]) - expected[i])
        if !e.isFinite { worst = .infinity; at = i; break }
        if e > worst { worst = e; at = i }
    }
    if ProcessInfo.processInfo.environment["TENSOR_TESTS_MARGINS"] != nil && tol > 0 {
        print("margin \(worst / scale / tol) \(what)")
    }
    if worst > tol * scale {
        XCTFail("\(what): max error \(worst) at \(at) (got \(actual[at]), expected \(expected[at]); scale \(scale), tol \(tol))",
                file: file, line: line)
    }
}

func assertClose(_ actual: Tensor, _ expected: [Double], shape: [Int]? = nil, tol: Double, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    if let shape { XCTAssertEqual(actual.shape, shape, "\(what): shape", file: file, line: line) }
    assertClose(actual.scalars, expected, tol: tol, what, file: file, line: line)
}

/// Elementwise: |a − e| ≤ atol + rtol·|e| for every entry.
func assertAllClose(_ actual: [Float], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6, _ what: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    for i in actual.indices {
        let a = Double(actual[i]), e = expected[i]
        if !(Swift.abs(a - e) <= atol + rtol * Swift.abs(e)) {
            XCTFail("\(what): entry \(i) is \(a), expected \(e)", file: file, line: line)
            return
        }
    }
}

/// The body must throw a TensorError whose op is `op` and whose message contains every string in
/// `mentions` (shapes, the bad index, …).
func assertTensorError<T>(_ op: String, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line,
                          _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected TensorError from \(op), nothing was thrown", file: file, line: line)
    } catch let e as TensorError {
        XCTAssertEqual(e.op, op, "wrong op in \(e)", file: file, line: line)
        for m in mentions {
            XCTAssertTrue(e.message.contains(m), "message \"\(e.message)\" does not mention \(m)", file: file, line: line)
        }
        XCTAssertTrue(e.description.hasPrefix(op + ": "), file: file, line: line)
    } catch {
        XCTFail("expected TensorError from \(op), got \(error)", file: file, line: line)
    }
}

// MARK: - Float64 reference helpers (independent of the engine)

func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    if shape.count >= 2 { for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] } }
    return s
}

func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: shape.count), rem = flat
    for d in stride(from: shape.count - 1, through: 0, by: -1) { idx[d] = rem % shape[d]; rem /= shape[d] }
    return idx
}

func flatIndex(_ idx: [Int], _ shape: [Int]) -> Int {
    zip(idx, rowMajorStrides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// NumPy broadcasting, written out: the value of `values` (shaped `shape`) at output index `outIdx`.
func broadcastRead(_ values: [Double], _ shape: [Int], at outIdx: [Int]) -> Double {
    let lead = outIdx.count - shape.count
    var idx = [Int](repeating: 0, count: shape.count)
    for d in 0..<shape.count { idx[d] = shape[d] == 1 ? 0 : outIdx[lead + d] }
    return values[flatIndex(idx, shape)]
}

/// out = f(a, b) with broadcasting, in Float64.
func referenceBinary(_ a: Tensor, _ b: Tensor, outShape: [Int], _ f: (Double, Double) -> Double) -> [Double] {
    let av = doubles(a), bv = doubles(b)
    let n = outShape.reduce(1, *)
    return (0..<n).map { i in
        let idx = multiIndex(i, outShape)
        return f(broadcastRead(av, a.shape, at: idx), broadcastRead(bv, b.shape, at: idx))
    }
}

/// Reduction over `axes` in Float64: returns values in the order of the kept-dims output.
func referenceReduce(_ x: Tensor, axes: [Int], initial: Double, _ combine: (Double, Double) -> Double) -> (shape: [Int], values: [Double]) {
    var outShape = x.shape
    for a in axes { outShape[a] = 1 }
    var out = [Double](repeating: initial, count: outShape.reduce(1, *))
    let xv = doubles(x)
    for i in 0..<x.count {
        var idx = multiIndex(i, x.shape)
        for a in axes { idx[a] = 0 }
        let o = flatIndex(idx, outShape)
        out[o] = combine(out[o], xv[i])
    }
    return (outShape, out)
}

// MARK: - Finite-difference derivative checks

/// Checks first and second derivatives of `f` (any tensor-valued function of `inputs`).
///
/// The scalar checked is L = Σ r ⊙ y + ½ Σ q ⊙ y ⊙ y with y = f(inputs) and fixed random r, q, so
/// every entry of the Jacobian is exercised, and L has a nonzero Hessian even when f is linear
/// (H = Jᵀ diag(q) J + Σ (r + q ⊙ y) ∇²y), which exercises the double backward through f's rule.
///
/// - Gradients: ∇L by reverse mode against the 4-point central difference
///   [8(L(x+h) − L(x−h)) − (L(x+2h) − L(x−2h))] / 12h per entry. Its truncation error is
///   O(h⁴ L⁽⁵⁾) ≈ 1e-9 at h = 2⁻⁷; the steps are exact (inputs on the 2⁻¹² grid); L itself is summed
///   in Float64 from Float32 outputs, each off by ~6e-8 relative, so the quotient carries a rounding
///   error of about (1.5/h)·6e-8·Σ|r y| ≈ 1e-5·Σ|r y|. The default tol 2e-3 (relative to the largest
///   gradient entry, or absolute below 1) is far above that and far below what a wrong rule gives.
/// - Second derivatives: the exact HVP (double backward, `hvp`) against the same 4-point central
///   difference of reverse-mode gradients along a random direction v in [−1, 1].
func checkDerivatives(_ what: String, _ inputs: [Tensor], h: Double = 1.0 / 128, tol: Double = 2e-3,
                      hessianTol: Double? = nil, hessian: Bool = true,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Tensor]) throws -> Tensor) throws {
    let probe = try withNoGrad { try f(inputs) }
    XCTAssertFalse(probe.requiresGrad, file: file, line: line)
    let r = sample(probe.shape, seed: 1001, low: -1, high: 1)
    let q = sample(probe.shape, seed: 1002, low: -0.5, high: 0.5)
    let rv = doubles(r), qv = doubles(q)

    func lossValue(_ xs: [Tensor]) throws -> Double {
        let y = try withNoGrad { try f(xs) }.scalars
        var s = 0.0
        for i in y.indices { let yi = Double(y[i]); s += rv[i] * yi + 0.5 * qv[i] * yi * yi }
        return s
    }
    func lossGraph(_ xs: [Tensor]) throws -> Tensor {
        let y = try f(xs)
        return try (y * r).sum() + ((y * y) * q).sum() * 0.5
    }

    // Value: the graph's loss equals the Float64 one.
    let params = inputs.map { $0.copy().requiringGrad() }
    let loss = try lossGraph(params)
    XCTAssertTrue(loss.requiresGrad, "\(what): loss is not differentiable", file: file, line: line)
    let lv = try lossValue(inputs)
    XCTAssertEqual(Double(try loss.item()), lv, accuracy: 1e-5 * Swift.max(1, Swift.abs(lv)), "\(what): loss value", file: file, line: line)

    // First derivatives.
    let grads = try gradients(of: loss, wrt: params)
    for (k, x) in inputs.enumerated() {
        XCTAssertEqual(grads[k].shape, x.shape, "\(what): gradient shape", file: file, line: line)
        let base = x.scalars
        var fd = [Double](repeating: 0, count: x.count)
        for j in 0..<x.count {
            func at(_ d: Double) throws -> Double {
                var vals = base
                vals[j] = Float(Double(base[j]) + d)
                var xs = inputs
                xs[k] = Tensor(vals, shape: x.shape)
                return try lossValue(xs)
            }
            fd[j] = (8 * (try at(h) - at(-h)) - (try at(2 * h) - at(-2 * h))) / (12 * h)
        }
        assertClose(grads[k].scalars, fd, tol: tol, "\(what): ∂L/∂input\(k)", file: file, line: line)
    }

    // Second derivatives: H v.
    guard hessian else { return }
    let v = inputs.indices.map { sample(inputs[$0].shape, seed: 2000 + UInt64($0), low: -1, high: 1) }
    let hv = try hvp(try lossGraph(params), params: params, v: v)
    func gradAt(_ t: Double) throws -> [[Double]] {
        let xs = zip(inputs, v).map { x, d in
            Tensor(zip(x.scalars, d.scalars).map { Float(Double($0) + t * Double($1)) }, shape: x.shape).requiringGrad()
        }
        return try gradients(of: try lossGraph(xs), wrt: xs).map(doubles)
    }
    let p1 = try gradAt(h), m1 = try gradAt(-h), p2 = try gradAt(2 * h), m2 = try gradAt(-2 * h)
    for k in inputs.indices {
        XCTAssertEqual(hv[k].shape, inputs[k].shape, "\(what): hvp shape", file: file, line: line)
        let fd = (0..<inputs[k].count).map { j in
            (8 * (p1[k][j] - m1[k][j]) - (p2[k][j] - m2[k][j])) / (12 * h)
        }
        assertClose(hv[k].scalars, fd, tol: hessianTol ?? tol, "\(what): (Hv) for input\(k)", file: file, line: line)
    }
}

/// Direct cross-correlation: y[n,o,i,j] = Σ_{c,a,b} w[o,c,a,b] · x[n,c,i·s−p+a, j·s−p+b] (zero outside).
func referenceConv(_ x: Tensor, _ w: Tensor, stride s: Int, padding p: Int) -> (shape: [Int], values: [Double]) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let ho = (h + 2 * p - kh) / s + 1, wo = (wd + 2 * p - kw) / s + 1
    let xv = doubles(x), wv = doubles(w)
    var out: [Double] = []
    for ni in 0..<n {
        for oi in 0..<o {
            for i in 0..<ho {
                for j in 0..<wo {
                    var acc = 0.0
                    for ci in 0..<c {
                        for a in 0..<kh {
                            for b in 0..<kw {
                                let y = i * s - p + a, xx = j * s - p + b
                                guard y >= 0, y < h, xx >= 0, xx < wd else { continue }
                                acc += wv[((oi * c + ci) * kh + a) * kw + b] * xv[((ni * c + ci) * h + y) * wd + xx]
                            }
                        }
                    }
                    out.append(acc)
                }
            }
        }
    }
    return ([n, o, ho, wo], out)
}
