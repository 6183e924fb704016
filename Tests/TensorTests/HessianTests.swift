import Foundation
import XCTest
@testable import Tensor

/// Exact Hessian-vector products by double backward: against closed forms (quadratic, multinomial
/// logistic regression) computed in Float64 here, and against finite differences of gradients (MLP).
final class HessianTests: XCTestCase {

    // MARK: Quadratic

    /// A random symmetric n×n matrix (Float32 entries, exactly symmetric) and its Float64 copy.
    func symmetric(_ n: Int, seed: UInt64) -> (Tensor, [[Double]]) {
        let m = doubles(sample([n, n], seed: seed))
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = Double(onGrid((m[i * n + j] + m[j * n + i]) / 2)) } }
        return (Tensor(a.flatMap { $0.map(Float.init) }, shape: [n, n]), a)
    }

    func matVec(_ a: [[Double]], _ v: [Double]) -> [Double] {
        a.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    func testQuadraticHVPIsAv() throws {
        let n = 7
        let (a, ad) = symmetric(n, seed: 3000)
        let b = sample([n], seed: 3001)
        for (k, xSeed) in [3002, 3003].enumerated() {
            let x = sample([n], seed: UInt64(xSeed)).requiringGrad()
            // f(x) = ½ xᵀAx + bᵀx
            let ax = try a.matmul(x.reshaped([n, 1])).reshaped([n])
            let f = try (x * ax).sum() * 0.5 + (b * x).sum()
            XCTAssertEqual(Double(try f.item()),
                           0.5 * zip(doubles(x), matVec(ad, doubles(x))).reduce(0) { $0 + $1.0 * $1.1 } + zip(doubles(b), doubles(x)).reduce(0) { $0 + $1.0 * $1.1 },
                           accuracy: 1e-5)
            // ∇f = Ax + b
            let g = try gradients(of: f, wrt: [x])[0]
            assertClose(g.scalars, zip(matVec(ad, doubles(x)), doubles(b)).map { $0 + $1 }, tol: 1e-6, "gradient Ax + b")
            // Hv = Av for several random v, whatever x is.
            let op = try HessianVectorProduct(f, params: [x])
            for s in 0..<3 {
                let v = sample([n], seed: UInt64(3100 + 10 * k + s), low: -2, high: 2)
                let want = matVec(ad, doubles(v))
                assertClose(try hvp(f, params: [x], v: [v])[0].scalars, want, tol: 1e-6, "hvp = Av")
                assertClose(try op.apply([v])[0].scalars, want, tol: 1e-6, "amortized hvp = Av")
            }
        }
    }

    func testQuadraticFormNonSymmetricGivesSymmetrizedHessian() throws {
        // f = ½ xᵀ M x (written xᵀ·(M·x) with a transposed matmul) has H = (M + Mᵀ)/2.
        let n = 5
        let m = sample([n, n], seed: 3200)
        let md = doubles(m)
        let x = sample([n, 1], seed: 3201).requiringGrad()
        let f = try (try x.matmul(m.matmul(x), transposeA: true)).sum() * 0.5
        let v = sample([n, 1], seed: 3202)
        let vd = doubles(v)
        let want = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + (md[i * n + $1] + md[$1 * n + i]) / 2 * vd[$1] } }
        assertClose(try hvp(f, params: [x], v: [v])[0], want, shape: [n, 1], tol: 1e-6, "Hv = (M + Mᵀ)v/2")
    }

    // MARK: Multinomial logistic regression

    struct Problem {
        let n = 6, d = 4, k = 3
        let x: Tensor, w: Tensor, b: Tensor
        let labels = [2, 0, 1, 1, 0, 2]
        init() {
            x = sample([6, 4], seed: 3300, low: -1.5, high: 1.5)
            w = sample([3, 4], seed: 3301)
            b = sample([3], seed: 3302)
        }
        /// Class probabilities p[s][k] in Float64 from the Float32 data.
        func probabilities() -> [[Double]] {
            let xv = doubles(x), wv = doubles(w), bv = doubles(b)
            return (0..<n).map { s in
                let z = (0..<k).map { c in bv[c] + (0..<d).reduce(0.0) { $0 + wv[c * d + $1] * xv[s * d + $1] } }
                let m = z.max()!
                let e = z.map { Foundation.exp($0 - m) }, sum = e.reduce(0, +)
                return e.map { $0 / sum }
            }
        }
        /// Features with a trailing 1 (the bias), as Float64 rows.
        func augmented(withBias: Bool) -> [[Double]] {
            let xv = doubles(x)
            return (0..<n).map { s in Array(xv[(s * d)..<(s * d + d)]) + (withBias ? [1] : []) }
        }
        /// (H v) for θ = [W | b] (or W alone), H[(k,i),(l,j)] = (1/n) Σ_s (p_sk δ_kl − p_sk p_sl) x̃_si x̃_sj.
        func closedFormHv(_ v: [[Double]], withBias: Bool) -> [[Double]] {
            let p = probabilities(), xs = augmented(withBias: withBias)
            let dd = xs[0].count
            var out = [[Double]](repeating: [Double](repeating: 0, count: dd), count: k)
            for s in 0..<n {
                let u = (0..<k).map { l in (0..<dd).reduce(0.0) { $0 + v[l][$1] * xs[s][$1] } }   // u = V x̃_s
                let pu = (0..<k).reduce(0.0) { $0 + p[s][$1] * u[$1] }
                for c in 0..<k {
                    for i in 0..<dd { out[c][i] += xs[s][i] * p[s][c] * (u[c] - pu) / Double(n) }
                }
            }
            return out
        }
        func loss(_ w: Tensor, _ b: Tensor, smoothing: Float = 0) throws -> Tensor {
            try crossEntropy(try x.matmul(w, transposeB: true) + b, labels: labels, labelSmoothing: smoothing)
        }
    }

    func testLogisticRegressionHVPWeightsOnly() throws {
        let pr = Problem()
        let w = pr.w.copy().requiringGrad()
        for smoothing: Float in [0, 0.1] {
            // The Hessian in the logits is diag(p) − ppᵀ for any target that sums to 1, so smoothing does not change it.
            let loss = try pr.loss(w, pr.b, smoothing: smoothing)
            for s in 0..<3 {
                let v = sample([3, 4], seed: UInt64(3400 + s), low: -1, high: 1)
                let vv = doubles(v)
                let want = pr.closedFormHv((0..<3).map { Array(vv[($0 * 4)..<($0 * 4 + 4)]) }, withBias: false)
                assertClose(try hvp(loss, params: [w], v: [v])[0], want.flatMap { $0 }, shape: [3, 4], tol: 1e-5, "logistic Hv (W), smoothing \(smoothing)")
            }
        }
    }

    func testLogisticRegressionFullHessianEntries() throws {
        // Every column of H (W only) by an HVP with a basis vector, against the entrywise formula.
        let pr = Problem()
        let w = pr.w.copy().requiringGrad()
        let op = try HessianVectorProduct(try pr.loss(w, pr.b), params: [w])
        let p = pr.probabilities(), xs = pr.augmented(withBias: false)
        var columns: [[Float]] = []
        for col in 0..<12 {
            var e = [Float](repeating: 0, count: 12)
            e[col] = 1
            columns.append(try op.apply([Tensor(e, shape: [3, 4])])[0].scalars)
        }
        for row in 0..<12 {
            for col in 0..<12 {
                let (k, i) = (row / 4, row % 4), (l, j) = (col / 4, col % 4)
                var h = 0.0
                for s in 0..<6 { h += (p[s][k] * (k == l ? 1 : 0) - p[s][k] * p[s][l]) * xs[s][i] * xs[s][j] / 6 }
                XCTAssertEqual(Double(columns[col][row]), h, accuracy: 1e-6, "H[(\(k),\(i)),(\(l),\(j))]")
            }
        }
    }

    func testLogisticRegressionHVPWeightsAndBias() throws {
        let pr = Problem()
        let w = pr.w.copy().requiringGrad(), b = pr.b.copy().requiringGrad()
        let loss = try pr.loss(w, b)
        let vw = sample([3, 4], seed: 3500), vb = sample([3], seed: 3501)
        let vwd = doubles(vw), vbd = doubles(vb)
        let want = pr.closedFormHv((0..<3).map { Array(vwd[($0 * 4)..<($0 * 4 + 4)]) + [vbd[$0]] }, withBias: true)
        let hv = try hvp(loss, params: [w, b], v: [vw, vb])
        assertClose(hv[0], want.flatMap { Array($0[0..<4]) }, shape: [3, 4], tol: 1e-5, "Hv, W part")
        assertClose(hv[1], want.map { $0[4] }, shape: [3], tol: 1e-5, "Hv, b part")
    }

    // MARK: A small MLP

    struct MLP {
        let x = sample([6, 4], seed: 3600, low: -1, high: 1)
        let labels = [0, 2, 1, 1, 2, 0]
        var params: [Tensor] = [sample([5, 4], seed: 3601), sample([5], seed: 3602), sample([3, 5], seed: 3603), sample([3], seed: 3604)]
        var relu = false

        func hidden(_ p: [Tensor]) throws -> Tensor { try x.matmul(p[0], transposeB: true) + p[1] }
        func loss(_ p: [Tensor]) throws -> Tensor {
            let pre = try hidden(p)
            let h = relu ? try pre.relu() : try pre.tanh()
            return try crossEntropy(try h.matmul(p[2], transposeB: true) + p[3], labels: labels)
        }
    }

    /// 4-point central difference of reverse-mode gradients along v (see `checkDerivatives`).
    func finiteDifferenceHVP(_ loss: ([Tensor]) throws -> Tensor, at params: [Tensor], v: [Tensor], h: Double) throws -> [[Double]] {
        func gradAt(_ t: Double) throws -> [[Double]] {
            let ps = zip(params, v).map { p, d in
                Tensor(zip(p.scalars, d.scalars).map { Float(Double($0) + t * Double($1)) }, shape: p.shape).requiringGrad()
            }
            return try gradients(of: try loss(ps), wrt: ps).map(doubles)
        }
        let p1 = try gradAt(h), m1 = try gradAt(-h), p2 = try gradAt(2 * h), m2 = try gradAt(-2 * h)
        return params.indices.map { k in
            (0..<params[k].count).map { j in (8 * (p1[k][j] - m1[k][j]) - (p2[k][j] - m2[k][j])) / (12 * h) }
        }
    }

    func checkMLP(_ mlp: MLP, h: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let params = mlp.params.map { $0.copy().requiringGrad() }
        let loss = try mlp.loss(params)
        let v = params.indices.map { sample(params[$0].shape, seed: UInt64(3700 + $0), low: -1, high: 1) }
        let oneShot = try hvp(loss, params: params, v: v)
        let fd = try finiteDifferenceHVP(mlp.loss, at: mlp.params, v: v, h: h)
        for k in params.indices {
            assertClose(oneShot[k].scalars, fd[k], tol: 2e-3, "MLP Hv part \(k)", file: file, line: line)
        }
        // The amortized operator gives the same as the one-shot hvp, and stays reusable.
        let op = try HessianVectorProduct(loss, params: params)
        let u = params.indices.map { sample(params[$0].shape, seed: UInt64(3800 + $0), low: -1, high: 1) }
        let a1 = try op.apply(v), a2 = try op.apply(u), a3 = try op.apply(v)
        for k in params.indices {
            assertClose(a1[k].scalars, doubles(oneShot[k]), tol: 1e-6, "amortized = one-shot", file: file, line: line)
            XCTAssertEqual(a3[k].scalars, a1[k].scalars, "apply is repeatable", file: file, line: line)
            XCTAssertFalse(a1[k].requiresGrad, file: file, line: line)
        }
        // Symmetry: uᵀHv = vᵀHu.
        func dot(_ a: [Tensor], _ b: [Tensor]) -> Double {
            zip(a, b).reduce(0.0) { acc, pair in acc + zip(pair.0.scalars, pair.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        }
        XCTAssertEqual(dot(u, a1), dot(v, a2), accuracy: 1e-5 * Swift.max(1, Swift.abs(dot(u, a1))), "uᵀHv = vᵀHu", file: file, line: line)
        // Linearity: H(2v + u) = 2Hv + Hu.
        let comb = try op.apply(zip(v, u).map { try $0 * 2 + $1 })
        for k in params.indices {
            assertClose(comb[k].scalars, zip(a1[k].scalars, a2[k].scalars).map { 2 * Double($0) + Double($1) }, tol: 1e-5, "linearity", file: file, line: line)
        }
        // And the gradient itself against finite differences of the loss.
        try checkDerivatives("MLP loss", mlp.params, hessian: false, file: file, line: line) { try mlp.loss($0) }
    }

    func testTanhMLPHVPMatchesFiniteDifferences() throws {
        try checkMLP(MLP(), h: 1.0 / 128)
    }

    func testReluMLPHVPMatchesFiniteDifferences() throws {
        var mlp = MLP()
        mlp.relu = true
        // Precondition: along the finite-difference path (steps up to 2h·|v|, |v| ≤ 1) no pre-activation
        // crosses 0, so the loss is smooth there and the difference quotient is meaningful.
        let h = 1.0 / 512
        let pre = doubles(try mlp.hidden(mlp.params))
        let maxShift = 2 * h * (doubles(mlp.x).map { Swift.abs($0) }.max()! * 4 + 1)
        XCTAssertGreaterThan(pre.map { Swift.abs($0) }.min()!, maxShift, "pick data away from the relu kink")
        try checkMLP(mlp, h: h)
    }

    func testSmallCNNHVPMatchesFiniteDifferences() throws {
        // conv → batch norm (training) → tanh → avg pool → conv (stride 2) → global avg pool → linear → CE:
        // every parameter, smooth everywhere, so the difference quotient is valid at any point.
        let x = sample([3, 2, 6, 6], seed: 3970)
        let labels = [1, 0, 2]
        let params = [sample([3, 2, 3, 3], seed: 3971, low: -0.5, high: 0.5), sample([3], seed: 3972, low: 0.5, high: 1.5),
                      sample([3], seed: 3973), sample([4, 3, 3, 3], seed: 3974, low: -0.5, high: 0.5),
                      sample([3, 4], seed: 3975), sample([3], seed: 3976)]
        func loss(_ p: [Tensor]) throws -> Tensor {
            var h = try x.conv2d(p[0], padding: 1)
            h = try h.batchNorm(weight: p[1], bias: p[2], runningMean: nil, runningVar: nil, training: true).tanh()
            h = try h.avgPool2d(kernel: 2).conv2d(p[3], stride: 2, padding: 1).globalAvgPool()
            return try crossEntropy(try h.matmul(p[4], transposeB: true) + p[5], labels: labels)
        }
        let ps = params.map { $0.copy().requiringGrad() }
        let v = params.indices.map { sample(params[$0].shape, seed: UInt64(3980 + $0), low: -1, high: 1) }
        let hv = try hvp(try loss(ps), params: ps, v: v)
        let fd = try finiteDifferenceHVP(loss, at: params, v: v, h: 1.0 / 128)
        // Entries of Hv here are 0.05–0.35 in size; the quotient's error is ~1e-5, so 2e-4 is tight and safe.
        for k in params.indices { assertClose(hv[k].scalars, fd[k], tol: 2e-4, "CNN Hv part \(k)") }
        let again = try HessianVectorProduct(try loss(ps), params: ps).apply(v)
        for k in params.indices { assertClose(again[k].scalars, doubles(hv[k]), tol: 1e-6, "CNN amortized = one-shot") }
    }

    func testHVPWithUnusedParameterIsZero() throws {
        let x = sample([3], seed: 3950).requiringGrad(), unused = sample([2], seed: 3951).requiringGrad()
        let f = try (x * x * x).sum()
        let hv = try hvp(f, params: [x, unused], v: [Tensor.ones([3]), Tensor.ones([2])])
        assertAllClose(hv[0].scalars, doubles(x).map { 6 * $0 }, "d²(Σx³) = diag(6x)")
        XCTAssertEqual(hv[1].scalars, [0, 0])
    }

    func testHVPOfLinearFunctionIsZero() throws {
        let x = sample([2, 3], seed: 3960).requiringGrad()
        let f = try (x * 3 + 1).sum()
        XCTAssertEqual(try hvp(f, params: [x], v: [Tensor.ones([2, 3])])[0].scalars, [0, 0, 0, 0, 0, 0])
    }
}
