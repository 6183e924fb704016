import Foundation
import Tensor

/// The directions of Keskar's box: the whole parameter space (A = I) or a random subspace.
///
///     let s = try KeskarSharpness.measure(at: w, subspace: .random(dimension: 100, seed: 1)) { lossAndGrad($0) }
public enum KeskarSubspace: Sendable {
    /// A = I: y has one entry per parameter.
    case full
    /// A is n×p with i.i.d. N(0, 1) entries drawn from `seed`: column j is n draws of
    /// `RandomGenerator(seed: mixSeed(seed, j)).normal()`, stored when n·p ≤ 2²⁶ and regenerated
    /// on the fly in row blocks above that (`RandomSubspace`).
    case random(dimension: Int, seed: UInt64)
}

/// How the box maximum is approximated.
///
///     let s = try KeskarSharpness.measure(at: w, maximizer: .projectedGradientAscent(step: 1e-3)) { f($0) }
public enum KeskarMaximizer: Sendable {
    /// L-BFGS-B on −L (the original's choice).
    case lbfgsb
    /// Projected gradient ascent from y = 0, with Armijo backtracking from `step` when
    /// `backtracking`, else fixed steps of `step`.
    case projectedGradientAscent(step: Double, backtracking: Bool = true)
}

/// (C_ε, A)-sharpness (Keskar et al. 2016) on a flat parameter vector, given the loss and its
/// gradient at any parameter vector:
///
///     φ = (max_{y ∈ C_ε} L(w + Ay) − L(w)) / (1 + L(w)) × 100,
///     C_ε = { y : |yᵢ| ≤ ε(|(A⁺w)ᵢ| + 1) },
///
/// the maximum approximated by `iterations` iterations of L-BFGS-B on −L(w + Ay) from y = 0
/// (∇_y = Aᵀ∇L), as in the original. `maxLoss` is L at the final iterate (L-BFGS-B's iterates
/// increase L monotonically). The closure receives w + Ay as Float32 and must return L and ∇L
/// there; the model-level measure evaluates the model at those parameters and restores w.
///
///     let k = try KeskarSharpness.measure(at: w, eps: 1e-3) { p in try model.lossAndGradient(p) }
///     print(k.value, k.loss, k.maxLoss, k.iterations)
public struct KeskarSharpness: Sendable {
    /// φ, in percent.
    public var value: Double
    /// L(w).
    public var loss: Double
    /// L(w + Ay) at the maximizer found.
    public var maxLoss: Double
    /// Optimizer iterations used (≤ the limit).
    public var iterations: Int
    /// Loss-and-gradient evaluations.
    public var evaluations: Int
    /// The maximizer in box coordinates (length n for `.full`, p for a subspace).
    public var y: [Double]
    /// Half-widths of the box, ε(|(A⁺w)ᵢ| + 1).
    public var radius: [Double]
    /// Why the optimizer stopped.
    public var status: String

    /// The loss and its gradient at a flat parameter vector.
    ///
    ///     let loss: KeskarSharpness.Loss = { p in try model.lossAndGradient(flat: p) }
    public typealias Loss = ([Float]) throws -> (value: Double, gradient: [Float])

    /// - Parameters:
    ///   - eps: ε of the box (1e-3; the paper also uses 5e-4).
    ///   - iterations: optimizer iterations (10, as the original).
    ///
    ///     let k = try KeskarSharpness.measure(at: w, eps: 5e-4, iterations: 10, subspace: .full) { loss($0) }
    public static func measure(at w: [Float], eps: Double = 1e-3, iterations: Int = 10,
                               subspace: KeskarSubspace = .full, maximizer: KeskarMaximizer = .lbfgsb,
                               progress: MeasureProgress = .automatic,
                               _ loss: Loss) throws -> KeskarSharpness {
        let n = w.count
        guard n > 0 else { throw SharpnessError("keskar", "no parameters") }
        guard eps > 0, eps.isFinite else { throw SharpnessError("keskar", "eps must be positive, got \(eps)") }
        guard iterations >= 1 else { throw SharpnessError("keskar", "iterations must be at least 1") }

        // A (nil for the identity), A⁺w, and the box.
        var matrix: RandomSubspace? = nil
        let coordinates: [Double]
        switch subspace {
        case .full:
            coordinates = w.map(Double.init)
        case .random(let p, let seed):
            guard p >= 1, p <= n else { throw SharpnessError("keskar", "subspace dimension \(p) must be in 1...\(n)") }
            let a = RandomSubspace(rows: n, columns: p, seed: seed)
            coordinates = try a.pseudoInverseTimes(w)
            matrix = a
        }
        let radius = coordinates.map { eps * (abs($0) + 1) }
        let bounds = Bounds(lower: radius.map { -$0 }, upper: radius)

        func parameters(_ y: [Double]) -> [Float] {
            guard let matrix else { return (0..<n).map { Float(Double(w[$0]) + y[$0]) } }
            return matrix.combine(w, y)
        }
        var lossAtW: Double? = nil
        func objective(_ y: [Double]) throws -> (value: Double, gradient: [Double]) {
            let (value, gradient) = try loss(parameters(y))
            guard gradient.count == n else {
                throw SharpnessError("keskar", "loss gradient has \(gradient.count) entries for \(n) parameters")
            }
            if lossAtW == nil { lossAtW = value }   // the first evaluation is at y = 0
            let gy = matrix.map { $0.transposeTimes(gradient).map { -$0 } } ?? gradient.map { -Double($0) }
            return (-value, gy)
        }

        let hook = ProgressHook(progress, label: "keskar", total: iterations, unit: "it")
        let report = MeasureProgress.report { step, info in hook.update(step, info) }
        let y0 = [Double](repeating: 0, count: radius.count)
        let x: [Double], maxLoss: Double, used: Int, evaluations: Int, status: String
        switch maximizer {
        case .lbfgsb:
            var options = LBFGSB.Options()
            options.maxIterations = iterations
            let r = try LBFGSB.minimize(from: y0, bounds: bounds, options: options, progress: report, objective)
            (x, maxLoss, used, evaluations, status) = (r.x, -r.value, r.iterations, r.evaluations, r.status.rawValue)
        case .projectedGradientAscent(let step, let backtracking):
            let options = ProjectedGradient.Options(maxIterations: iterations, step: step, backtracking: backtracking)
            let r = try ProjectedGradient.descend(from: y0, bounds: bounds, options: options, progress: report, objective)
            (x, maxLoss, used, evaluations, status) = (r.x, -r.value, r.iterations, r.evaluations, r.status.rawValue)
        }
        guard let l = lossAtW else { throw SharpnessError("keskar", "the loss was never evaluated") }
        let value = (maxLoss - l) / (1 + l) * 100
        hook.finish(String(format: "sharpness %.4g  loss %.4g → %.4g", value, l, maxLoss))
        return KeskarSharpness(value: value, loss: l, maxLoss: maxLoss, iterations: used, evaluations: evaluations,
                               y: x, radius: radius, status: status)
    }

    /// A⁺w for A with the given columns (full column rank): the solution z of AᵀA z = Aᵀw, by
    /// Cholesky in Double with Double-accumulated inner products.
    static func leastSquaresCoordinates(_ columns: [[Float]], _ w: [Float]) throws -> [Double] {
        let p = columns.count
        var gram = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for i in 0..<p { for j in i..<p {
            let g = dot(columns[i], columns[j])
            gram[i][j] = g
            gram[j][i] = g
        } }
        let rhs = columns.map { dot($0, w) }
        guard let u = choleskyUpper(gram), let t = solveUpperTransposed(u, rhs), let z = solveUpper(u, t) else {
            throw SharpnessError("keskar", "the subspace matrix A is rank-deficient")
        }
        return z
    }
}
