import Foundation
import Tensor

/// How stochastic Lanczos quadrature draws its start vectors (normalized to unit length).
///
///     let q = try SpectralDensity.quadrature(of: h, probe: .gaussian)
public enum ProbeDistribution: String, Sendable {
    /// Independent ±1 entries, scaled by 1/√n.
    case rademacher
    /// Independent standard normal entries, normalized.
    case gaussian
}

/// The Gauss quadrature rules of stochastic Lanczos quadrature, one per probe: nodes are the
/// eigenvalues θᵢ of the m×m Lanczos tridiagonal, weights τᵢ² the squared first components of its
/// unit eigenvectors (Golub–Welsch), so each rule's weights sum to 1 and Σᵢ τᵢ² f(θᵢ) ≈ vᵀf(H)v.
///
///     let q = try SpectralDensity.quadrature(of: h, steps: 80, probes: 10); let d = q.density()
public struct SpectralQuadrature: Sendable {
    public var nodes: [[Double]]
    public var weights: [[Double]]
    /// Operator applications (steps per probe, fewer when a Krylov space closes early).
    public var hvps: Int

    /// The default smoothing width: 1% of the node range (or of max(|node|, 1) when all nodes
    /// coincide).
    public var defaultSigma: Double {
        let all = nodes.flatMap { $0 }
        guard let lo = all.min(), let hi = all.max() else { return 1e-2 }
        let width = hi - lo
        return 0.01 * (width > 0 ? width : max(abs(hi), 1))
    }

    /// The Gaussian-smoothed density (PyHessian's ESD): the probe average of
    /// Σᵢ τᵢ² N(x; θᵢ, σ²) on `points` equally spaced x from (min node − padding) to
    /// (max node + padding). σ defaults to `defaultSigma` and padding to 5σ, so the grid holds all
    /// but ~6e-7 of the mass and the density integrates to 1 up to that and the grid spacing.
    ///
    ///     let d = q.density(sigma: 0.05, points: 2000)
    public func density(sigma: Double? = nil, points: Int = 1000, padding: Double? = nil) -> SpectralDensity {
        let s = sigma ?? defaultSigma
        let pad = padding ?? 5 * s
        let all = nodes.flatMap { $0 }
        let lo = (all.min() ?? 0) - pad, hi = (all.max() ?? 0) + pad
        let count = max(points, 2)
        let x = (0..<count).map { lo + (hi - lo) * Double($0) / Double(count - 1) }
        return SpectralDensity(x: x, density: density(at: x, sigma: s), sigma: s, hvps: hvps)
    }

    /// The smoothed density at the given x.
    ///
    ///     let y = q.density(at: [0, 0.5, 1], sigma: 0.1)
    public func density(at x: [Double], sigma: Double) -> [Double] {
        var total = [Double](repeating: 0, count: x.count)
        for p in nodes.indices {
            let one = SpectralDensity.gaussianSmoothing(nodes: nodes[p], weights: weights[p], sigma: sigma, at: x)
            for i in x.indices { total[i] += one[i] }
        }
        let probes = Double(max(nodes.count, 1))
        return total.map { $0 / probes }
    }
}

/// A spectral density on a grid, ready to plot (the `hessian_density` record).
///
///     let d = try SpectralDensity.estimate(of: hessian, steps: 100, probes: 10)
///     plot(d.x, d.density)
public struct SpectralDensity: Sendable {
    public var x: [Double]
    public var density: [Double]
    /// Width of the Gaussian kernel used.
    public var sigma: Double
    public var hvps: Int

    /// Stochastic Lanczos quadrature followed by Gaussian smoothing: `quadrature(...)` then
    /// `density(sigma:points:padding:)`.
    ///
    ///     let d = try SpectralDensity.estimate(of: h, steps: 80, probes: 20, sigma: 0.05)
    public static func estimate(of op: some SymmetricOperator, steps: Int = 100, probes: Int = 10,
                                seed: UInt64 = 0, probe: ProbeDistribution = .rademacher,
                                sigma: Double? = nil, points: Int = 1000, padding: Double? = nil,
                                progress: MeasureProgress = .automatic) throws -> SpectralDensity {
        try quadrature(of: op, steps: steps, probes: probes, seed: seed, probe: probe, progress: progress)
            .density(sigma: sigma, points: points, padding: padding)
    }

    /// Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; PyHessian's ESD): per probe, m
    /// steps of Lanczos with full reorthogonalization from a random unit vector; the rule's nodes
    /// and weights come from the tridiagonal's eigenpairs. probes × steps operator applications.
    ///
    ///     let q = try SpectralDensity.quadrature(of: h, steps: 100, probes: 10, seed: 3)
    public static func quadrature(of op: some SymmetricOperator, steps: Int = 100, probes: Int = 10,
                                  seed: UInt64 = 0, probe: ProbeDistribution = .rademacher,
                                  progress: MeasureProgress = .automatic) throws -> SpectralQuadrature {
        let n = op.dimension
        guard n > 0 else { throw SharpnessError("spectral density", "operator of dimension 0") }
        guard steps >= 1 else { throw SharpnessError("spectral density", "steps must be at least 1, got \(steps)") }
        guard probes >= 1 else { throw SharpnessError("spectral density", "probes must be at least 1, got \(probes)") }
        var h = CountingOperator(op, op: "spectral density")
        let hook = ProgressHook(progress, label: "spectral density", total: probes, unit: "probe")
        var rng = RandomGenerator(seed: seed)
        var nodes: [[Double]] = []
        var weights: [[Double]] = []
        for p in 0..<probes {
            let raw = probe == .rademacher ? rademacher(n, &rng) : gaussian(n, &rng)
            guard let start = normalized(raw) else { throw SharpnessError("spectral density", "zero probe") }
            let (alpha, beta) = try Lanczos.tridiagonal(&h, start: start, steps: steps)
            let (theta, first) = try TridiagonalEigen.decompose(diagonal: alpha, offDiagonal: beta, rows: [0])
            nodes.append(theta)
            weights.append(first[0].map { $0 * $0 })
            hook.update(p + 1, "hvps \(h.count)")
        }
        hook.finish("\(h.count) hvps")
        return SpectralQuadrature(nodes: nodes, weights: weights, hvps: h.count)
    }

    /// Σᵢ wᵢ N(x; λᵢ, σ²) at each x. With λ the exact eigenvalues of a matrix and wᵢ = 1/n this is
    /// the smoothed density SLQ estimates.
    ///
    ///     let exact = SpectralDensity.gaussianSmoothing(nodes: eig, weights: Array(repeating: 1 / Double(n), count: n), sigma: 0.05, at: d.x)
    public static func gaussianSmoothing(nodes: [Double], weights: [Double], sigma: Double,
                                         at x: [Double]) -> [Double] {
        let norm = 1 / (sigma * (2 * Double.pi).squareRoot())
        let inv = 1 / (2 * sigma * sigma)
        return x.map { xi in
            var s = 0.0
            for (lambda, w) in zip(nodes, weights) {
                let d = xi - lambda
                s += w * exp(-d * d * inv)
            }
            return s * norm
        }
    }
}
