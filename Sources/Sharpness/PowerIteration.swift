import Foundation
import Tensor

/// Top-k eigenpairs by power iteration with deflation: the second method of `hessian_eigs`,
/// returning the same record as Lanczos.
///
/// Pair i iterates v ← P(H − σI)v / ‖·‖, where P projects out the i − 1 eigenvectors already
/// found (deflation by projection, which, unlike Hotelling's H − Σλuuᵀ, cannot let a found
/// direction creep back). Each iteration's application of H also gives the Rayleigh quotient and
/// the relative residual ‖Hv − λv‖/|λ| of the current v, so the reported residual is that of the
/// returned vector, from a real application, at no extra cost. Each pair iterates to tol/10,
/// because a found vector's error resurfaces in the residuals of the pairs deflated against it
/// (or until its residual is within tol and stalls, or `maxIterations`). For "LM" σ = 0. For "LA" and
/// "SA" one run on H first finds the dominant eigenvalue μ; then σ = ∓1.05|μ| makes the wanted end
/// the largest in magnitude. Power iteration converges at the rate |λᵢ₊₁ − σ|/|λᵢ − σ|: slow for
/// clustered spectra, which is why Lanczos is the default.
///
///     let top = try PowerIteration.eigenpairs(of: hessian, k: 5, seed: 1)
public enum PowerIteration {
    /// - Parameters:
    ///   - maxIterations: operator applications allowed per eigenpair (default 1000); a pair
    ///     that runs out comes back with `converged` false and the search moves on.
    ///
    ///     let bottom = try PowerIteration.eigenpairs(of: h, k: 2, which: .smallestAlgebraic)
    public static func eigenpairs(of op: some SymmetricOperator, k: Int = 10,
                                  which: SpectrumEnd = .largestMagnitude, tol: Double = 1e-4,
                                  seed: UInt64 = 0, maxIterations: Int = 1000,
                                  vectors: Bool = false,
                                  progress: MeasureProgress = .automatic) throws -> Eigenpairs {
        let n = op.dimension
        guard n > 0 else { throw SharpnessError("power iteration", "operator of dimension 0") }
        guard k >= 1, k <= n else { throw SharpnessError("power iteration", "k = \(k) must be in 1...\(n) (the dimension)") }
        guard tol > 0, tol.isFinite else { throw SharpnessError("power iteration", "tol must be positive, got \(tol)") }
        guard maxIterations >= 1 else { throw SharpnessError("power iteration", "maxIterations must be positive") }

        var h = CountingOperator(op, op: "power iteration")
        let hook = ProgressHook(progress, label: "power iteration", total: nil, unit: "hvp")
        var rng = RandomGenerator(seed: seed)
        var found: [Pair] = []
        var shift = 0.0

        if which != .largestMagnitude {
            let dominant = try run(&h, shift: 0, deflate: [], tol: tol, maxIterations: maxIterations,
                                   rng: &rng, hook: hook, label: "dominant")
            if (which == .largestAlgebraic && dominant.value > 0) || (which == .smallestAlgebraic && dominant.value < 0) {
                found.append(dominant)
            }
            let radius = abs(dominant.value)
            shift = which == .largestAlgebraic ? -1.05 * radius : 1.05 * radius
        }
        while found.count < k {
            let pair = try run(&h, shift: shift, deflate: found.map(\.vector), tol: tol,
                               maxIterations: maxIterations, rng: &rng, hook: hook,
                               label: "pair \(found.count + 1)/\(k)")
            found.append(pair)
        }
        found.sort { which.precedes($0.value, $1.value) }
        let done = found.filter { $0.residual <= tol }.count
        hook.finish("\(done)/\(k) converged, \(h.count) hvps")
        return Eigenpairs(values: found.map(\.value), residuals: found.map(\.residual),
                          converged: found.map { $0.residual <= tol }, hvps: h.count,
                          vectors: vectors ? found.map(\.vector) : [], which: which, tol: tol,
                          method: "power")
    }

    struct Pair {
        var value: Double
        var residual: Double
        var vector: [Float]
    }

    /// One deflated, shifted power iteration; returns the last iterate with its Rayleigh quotient
    /// and residual under H (not the shifted operator).
    private static func run(_ h: inout CountingOperator, shift: Double, deflate: [[Float]], tol: Double,
                            maxIterations: Int, rng: inout RandomGenerator, hook: ProgressHook,
                            label: String) throws -> Pair {
        let n = h.dimension
        var start = gaussian(n, &rng)
        project(&start, out: deflate)
        guard var v = normalized(start) else { throw SharpnessError("power iteration", "zero start vector") }
        var best = Pair(value: 0, residual: .infinity, vector: v)
        var reference = Double.infinity   // residual at the last 10% improvement
        var sinceImprovement = 0
        for _ in 0..<maxIterations {
            let hv = try h.apply(v)
            let (lambda, residual) = rayleighResidual(v, hv)
            best = Pair(value: lambda, residual: residual, vector: v)
            hook.update(h.count, "\(label)  λ \(String(format: "%.6g", lambda))  residual \(String(format: "%.2e", residual))")
            // Iterate to tol/10: the next pairs are deflated against this vector, and its error
            // reappears in their residuals. That error also puts a floor under this pair's residual,
            // so a residual within tol that stopped improving (by 10% in 20 iterations) ends the pair.
            if residual <= 0.1 * tol { break }
            if residual < 0.9 * reference {
                reference = residual
                sinceImprovement = 0
            } else {
                sinceImprovement += 1
                if residual <= tol && sinceImprovement >= 20 { break }
            }
            var w = hv
            if shift != 0 { axpy(Float(-shift), v, &w) }
            project(&w, out: deflate)
            guard let next = normalized(w) else { break }   // v spans an invariant null direction
            v = next
        }
        return best
    }

    /// w ← (I − UUᵀ)w, twice (the found vectors are orthonormal only to rounding).
    private static func project(_ w: inout [Float], out vectors: [[Float]]) {
        guard !vectors.isEmpty else { return }
        for _ in 0..<2 {
            for u in vectors { axpy(Float(-dot(u, w)), u, &w) }
        }
    }
}
