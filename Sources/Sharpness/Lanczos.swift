import Foundation
import Tensor

/// Which end of the spectrum an eigensolver looks for, and how its results are ordered.
///
///     let bottom = try Lanczos.eigenpairs(of: h, k: 5, which: .smallestAlgebraic)
public enum SpectrumEnd: String, Sendable, CaseIterable {
    /// Largest |λ| first ("LM").
    case largestMagnitude = "LM"
    /// Largest λ first ("LA").
    case largestAlgebraic = "LA"
    /// Smallest λ first ("SA").
    case smallestAlgebraic = "SA"

    /// Whether `a` comes before `b` in this order.
    func precedes(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .largestMagnitude: return abs(a) > abs(b) || (abs(a) == abs(b) && a > b)
        case .largestAlgebraic: return a > b
        case .smallestAlgebraic: return a < b
        }
    }

    /// Indices of `values` in this order.
    func order(_ values: [Double]) -> [Int] {
        values.indices.sorted { precedes(values[$0], values[$1]) || (values[$0] == values[$1] && $0 < $1) }
    }
}

/// The result record of `hessian_eigs`: eigenvalues in `which` order, each with its relative
/// residual ‖Hv − λv‖/|λ| recomputed from a real operator application at the end, whether that
/// residual is within `tol`, and the operator applications spent.
///
///     let e = try Lanczos.eigenpairs(of: h, k: 10); print(e.values[0], e.residuals[0], e.hvps)
public struct Eigenpairs: Sendable {
    /// Eigenvalues (Rayleigh quotients of the returned vectors), ordered as `which` orders them.
    public var values: [Double]
    /// ‖Hv − λv‖ / |λ| for unit v, from one final operator application per pair.
    public var residuals: [Double]
    /// residuals[i] ≤ tol.
    public var converged: [Bool]
    /// Operator applications used, the final residual checks included.
    public var hvps: Int
    /// Unit eigenvectors when asked for (`vectors: true`), else empty.
    public var vectors: [[Float]]
    public var which: SpectrumEnd
    public var tol: Double
    /// "lanczos" or "power".
    public var method: String
}

/// Top-k eigenpairs of a symmetric operator by Lanczos with full reorthogonalization.
///
/// Each step applies H once, orthogonalizes the product against the whole stored basis by
/// classical Gram–Schmidt done twice, and grows the projected matrix T. The Krylov space grows
/// until the Ritz residual estimates |β·sₘ| of the k wanted Ritz pairs are below tol·|θ|/2; then
/// the Ritz vectors are formed and each residual is recomputed with one real application of H.
/// If the basis reaches `maxBasis` vectors first, the run thick-restarts (Wu & Simon 2000): it
/// keeps the k + (maxBasis − k)/2 wanted Ritz vectors and the residual direction, so memory stays
/// at maxBasis × dimension floats while convergence continues.
///
///     let top = try Lanczos.eigenpairs(of: hessian, k: 10, which: .largestMagnitude, seed: 1)
public enum Lanczos {
    /// - Parameters:
    ///   - k: number of eigenpairs (1 ... dimension).
    ///   - which: the end of the spectrum, and the order of the results.
    ///   - tol: relative residual that counts as converged (1e-4, as `hessian_eigs`).
    ///   - seed: seeds the Gaussian start vector.
    ///   - maxBasis: basis vectors kept in memory. Default: max(100, 3k), but no more than fit in
    ///     1 GiB (and no fewer than 2k + 2), capped at the dimension — 100 vectors for 10⁵ or 10⁶
    ///     parameters, 24 for ResNet-18's 11 M.
    ///   - maxSteps: Lanczos steps (operator applications before the final checks); default
    ///     max(500, 30k). Pairs not converged by then come back with `converged` false.
    ///   - vectors: return the unit eigenvectors.
    ///
    ///     let bottom = try Lanczos.eigenpairs(of: h, k: 3, which: .smallestAlgebraic, tol: 1e-5)
    public static func eigenpairs(of op: some SymmetricOperator, k: Int = 10,
                                  which: SpectrumEnd = .largestMagnitude, tol: Double = 1e-4,
                                  seed: UInt64 = 0, maxBasis: Int? = nil, maxSteps: Int? = nil,
                                  vectors: Bool = false,
                                  progress: MeasureProgress = .automatic) throws -> Eigenpairs {
        let n = op.dimension
        guard n > 0 else { throw SharpnessError("lanczos", "operator of dimension 0") }
        guard k >= 1, k <= n else { throw SharpnessError("lanczos", "k = \(k) must be in 1...\(n) (the dimension)") }
        guard tol > 0, tol.isFinite else { throw SharpnessError("lanczos", "tol must be positive, got \(tol)") }
        let memoryCap = max(2 * k + 2, (1 << 30) / (4 * n))
        let mb = min(n, maxBasis ?? min(max(100, 3 * k), memoryCap))
        guard mb == n || mb >= k + 2 else {
            throw SharpnessError("lanczos", "maxBasis = \(mb) must be at least k + 2 = \(k + 2)")
        }
        let stepLimit = maxSteps ?? max(500, 30 * k)
        guard stepLimit >= 1 else { throw SharpnessError("lanczos", "maxSteps must be positive") }

        var h = CountingOperator(op, op: "lanczos")
        let hook = ProgressHook(progress, label: "lanczos", total: nil, unit: "hvp")
        var rng = RandomGenerator(seed: seed)
        guard let start = normalized(gaussian(n, &rng)) else { throw SharpnessError("lanczos", "zero start vector") }

        let basis = KrylovBasis(dimension: n, capacity: mb)
        basis.append(start)
        var t = ProjectedMatrix(capacity: mb)
        var steps = 0
        var verifyAfter = 0          // steps before the next residual check is allowed
        var failedChecks = 0
        var normEstimate = 0.0       // running max |T| entry ≈ ‖H‖, for the breakdown test
        var blockStart = 0           // first basis index of the current Krylov block
        var blockAfterBreakdown = false

        while true {
            let j = basis.count - 1
            var w = try h.apply(basis.row(j))
            steps += 1
            let coefficients = basis.orthogonalize(&w)
            t[j, j] = coefficients[j]
            var beta = norm(w)
            normEstimate = max(normEstimate, abs(coefficients[j]), beta)
            let m = j + 1
            let exhausted = m == n     // the basis spans the whole space: Ritz pairs are exact
            if exhausted { beta = 0 }

            // Ritz values of T and the last row of its eigenvectors: residual estimates β|sₘᵢ|.
            let (theta, lastRow) = try t.eigen(size: m, rows: [m - 1])
            let order = which.order(theta)
            let wanted = Array(order.prefix(k))
            let estimatedDone = m >= k && wanted.allSatisfy { i in
                beta * abs(lastRow[0][i]) <= 0.5 * tol * abs(theta[i])
            }
            let convergedCount = wanted.filter { beta * abs(lastRow[0][$0]) <= 0.5 * tol * abs(theta[$0]) }.count
            hook.update(steps, "hvps \(h.count)  converged ~\(m >= k ? convergedCount : 0)/\(k)")

            let outOfSteps = steps >= stepLimit
            let breakdown = !exhausted && beta <= 1e-6 * normEstimate
            var mayStop = estimatedDone && steps >= verifyAfter
            if breakdown && mayStop {
                // An invariant subspace: every Ritz pair is exact, but a repeated eigenvalue, or one
                // the start vector missed, may lie outside it. Stop only once a block started in the
                // complement has closed without reaching the wanted end (a random vector there
                // touches every eigenvalue of the complement, so its closed block holds them all).
                let kth = theta[wanted[k - 1]]
                let reached = blockAfterBreakdown
                    ? try t.blockEigenvalues(blockStart..<m).contains { !which.precedes(kth, $0) } : true
                mayStop = !reached
            }
            if mayStop || exhausted || outOfSteps {
                let result = try ritzCheck(t: t, size: m, basis: basis, wanted: wanted, h: &h,
                                           which: which, tol: tol, vectors: vectors)
                if result.converged.allSatisfy({ $0 }) || exhausted || outOfSteps || failedChecks >= 2 {
                    let done = result.converged.filter { $0 }.count
                    hook.update(steps, "hvps \(h.count)  converged \(done)/\(k)")
                    hook.finish("\(done)/\(k) converged, \(h.count) hvps")
                    return Eigenpairs(values: result.values, residuals: result.residuals,
                                      converged: result.converged, hvps: h.count, vectors: result.vectors,
                                      which: which, tol: tol, method: "lanczos")
                }
                // The estimates were too optimistic (rounding floor): grow the space a while longer
                // before spending k more applications on checks.
                failedChecks += 1
                verifyAfter = steps + max(5, steps / 10)
            }

            // Next basis vector: the normalized residual, or after a breakdown (an invariant
            // subspace found) a fresh random direction with zero coupling.
            var coupling = beta
            if breakdown {
                coupling = 0
                var fresh = gaussian(n, &rng)
                basis.orthogonalize(&fresh)
                guard let unit = normalized(fresh) else { throw SharpnessError("lanczos", "could not extend the basis") }
                w = unit
            } else {
                scale(&w, Float(1 / beta))
            }

            if basis.count == mb {
                // Thick restart: keep the p best Ritz vectors; the residual direction couples to
                // each of them with β·sₘᵢ, giving T an arrowhead.
                let keep = min(mb - 2, k + (mb - k) / 2)
                let kept = Array(order.prefix(keep))
                let (_, rows) = try t.eigen(size: m, rows: Array(0..<m))
                basis.replaceWithCombinations(kept.map { i in (0..<m).map { r in rows[r][i] } })
                basis.append(w)
                var restarted = ProjectedMatrix(capacity: mb)
                for (a, i) in kept.enumerated() {
                    restarted[a, a] = theta[i]
                    restarted[a, keep] = coupling * rows[m - 1][i]
                    restarted[keep, a] = coupling * rows[m - 1][i]
                }
                restarted.isTridiagonal = false
                t = restarted
                blockStart = breakdown ? keep : 0
                blockAfterBreakdown = breakdown
            } else {
                basis.append(w)
                t[j, j + 1] = coupling
                t[j + 1, j] = coupling
                if breakdown {
                    blockStart = m
                    blockAfterBreakdown = true
                }
            }
        }
    }

    /// Forms the wanted Ritz vectors, applies H to each and reports Rayleigh quotients and
    /// relative residuals, in `which` order.
    private static func ritzCheck(t: ProjectedMatrix, size m: Int, basis: KrylovBasis, wanted: [Int],
                                  h: inout CountingOperator, which: SpectrumEnd, tol: Double,
                                  vectors: Bool) throws
        -> (values: [Double], residuals: [Double], converged: [Bool], vectors: [[Float]]) {
        let (_, rows) = try t.eigen(size: m, rows: Array(0..<m))
        var pairs: [(value: Double, residual: Double, vector: [Float])] = []
        for i in wanted {
            let s = (0..<m).map { r in rows[r][i] }
            let y = normalized(basis.combination(s)) ?? basis.row(0)
            let hy = try h.apply(y)
            let (lambda, r) = rayleighResidual(y, hy)
            pairs.append((lambda, r, y))
        }
        pairs.sort { which.precedes($0.value, $1.value) }
        return (pairs.map(\.value), pairs.map(\.residual), pairs.map { $0.residual <= tol },
                vectors ? pairs.map(\.vector) : [])
    }

    /// Runs `steps` Lanczos steps with full reorthogonalization from the unit vector `start` and
    /// returns the tridiagonal (α: diagonal, β: subdiagonal). Stops early when the Krylov space
    /// becomes invariant (β below the rounding level), returning the smaller, exact tridiagonal.
    static func tridiagonal(_ h: inout CountingOperator, start: [Float],
                            steps: Int) throws -> (alpha: [Double], beta: [Double]) {
        let n = h.dimension
        let m = min(steps, n)
        let basis = KrylovBasis(dimension: n, capacity: m)
        basis.append(start)
        var alpha: [Double] = []
        var beta: [Double] = []
        var normEstimate = 0.0
        for j in 0..<m {
            var w = try h.apply(basis.row(j))
            let coefficients = basis.orthogonalize(&w)
            alpha.append(coefficients[j])
            normEstimate = max(normEstimate, abs(coefficients[j]))
            if j == m - 1 { break }
            let b = norm(w)
            normEstimate = max(normEstimate, b)
            if b <= 1e-6 * normEstimate { break }
            beta.append(b)
            scale(&w, Float(1 / b))
            basis.append(w)
        }
        return (alpha, beta)
    }
}

/// λ = yᵀHy / yᵀy and ‖Hy − λy‖ / (|λ|·‖y‖), accumulated in Double.
func rayleighResidual(_ y: [Float], _ hy: [Float]) -> (value: Double, residual: Double) {
    let yy = dot(y, y)
    let lambda = dot(y, hy) / yy
    var r2 = 0.0
    for i in 0..<y.count {
        let d = Double(hy[i]) - lambda * Double(y[i])
        r2 += d * d
    }
    let residual = lambda == 0 ? Double.infinity : r2.squareRoot() / (abs(lambda) * yy.squareRoot())
    return (lambda, residual)
}

/// The projected matrix T = VᵀHV of a Lanczos run: tridiagonal until a thick restart, then an
/// arrowhead block followed by a tridiagonal tail. Stored dense (it has at most maxBasis rows).
struct ProjectedMatrix {
    let capacity: Int
    private var entries: [Double]
    var isTridiagonal = true

    init(capacity: Int) {
        self.capacity = capacity
        entries = [Double](repeating: 0, count: capacity * capacity)
    }

    subscript(i: Int, j: Int) -> Double {
        get { entries[i * capacity + j] }
        set { entries[i * capacity + j] = newValue }
    }

    /// Eigenvalues of the tridiagonal diagonal block on `range` (a Krylov block decoupled from the
    /// rest after a breakdown).
    func blockEigenvalues(_ range: Range<Int>) throws -> [Double] {
        let d = range.map { self[$0, $0] }
        let e = range.dropLast().map { self[$0 + 1, $0] }
        return try TridiagonalEigen.decompose(diagonal: d, offDiagonal: Array(e), rows: []).values
    }

    /// Eigenvalues (ascending) of the leading size×size block and the given rows of its
    /// eigenvector matrix: implicit QL while tridiagonal, Householder + QL after a restart.
    func eigen(size m: Int, rows: [Int]) throws -> (values: [Double], components: [[Double]]) {
        if isTridiagonal {
            let d = (0..<m).map { self[$0, $0] }
            let e = (0..<max(0, m - 1)).map { self[$0 + 1, $0] }
            return try TridiagonalEigen.decompose(diagonal: d, offDiagonal: e, rows: rows)
        }
        var block = [Double](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0..<m { block[i * m + j] = self[i, j] } }
        return try HouseholderTridiagonal.decompose(block, m, rows: rows)
    }
}
