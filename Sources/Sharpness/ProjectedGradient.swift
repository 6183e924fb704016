import Foundation
import Tensor

/// Projected gradient descent and ascent on a box: xₖ₊₁ = P(xₖ ∓ αₖ∇f(xₖ)), P the clip to the
/// bounds. An alternative to L-BFGS-B for Keskar's sharpness (first-order, one evaluation per
/// step when the step is fixed), not a stand-in for it: it neither builds curvature information
/// nor finds Cauchy points, and usually needs many more iterations for the same accuracy.
///
/// With `backtracking` (the default) αₖ starts at `step` each iteration and halves until the
/// Armijo condition along the projection arc holds (Bertsekas 1976):
/// f(xₖ₊₁) ≤ f(xₖ) + c·∇f(xₖ)ᵀ(xₖ₊₁ − xₖ). Without it every step has size `step`.
///
///     let r = try ProjectedGradient.ascend(from: y0, bounds: box) { y in (loss(y), grad(y)) }
public enum ProjectedGradient {
    /// Settings.
    ///
    ///     let o = ProjectedGradient.Options(maxIterations: 10, step: 1e-3, backtracking: false)
    public struct Options: Sendable {
        public var maxIterations = 100
        /// Initial (or, without backtracking, fixed) step size α.
        public var step = 1.0
        public var backtracking = true
        /// α ← shrink·α per rejected trial.
        public var shrink = 0.5
        /// c of the Armijo condition.
        public var sufficientDecrease = 1e-4
        public var maxBacktracks = 40
        /// Stop when max |P(x − ∇f) − x|ᵢ ≤ pgtol (as L-BFGS-B's pgtol).
        public var pgtol = 1e-5
        public var recordIterates = false

        public init(maxIterations: Int = 100, step: Double = 1.0, backtracking: Bool = true,
                    shrink: Double = 0.5, sufficientDecrease: Double = 1e-4, maxBacktracks: Int = 40,
                    pgtol: Double = 1e-5, recordIterates: Bool = false) {
            self.maxIterations = maxIterations
            self.step = step
            self.backtracking = backtracking
            self.shrink = shrink
            self.sufficientDecrease = sufficientDecrease
            self.maxBacktracks = maxBacktracks
            self.pgtol = pgtol
            self.recordIterates = recordIterates
        }
    }

    /// Why the run stopped.
    ///
    ///     if r.status == .projectedGradientConverged { print(r.x) }
    public enum Status: String, Sendable {
        case projectedGradientConverged = "projected gradient <= pgtol"
        case maxIterations = "iteration limit reached"
        /// Backtracking found no decrease within `maxBacktracks` halvings.
        case noProgress = "line search made no progress"
    }

    /// The outcome of a run (same fields as L-BFGS-B's).
    ///
    ///     let r = try ProjectedGradient.descend(from: x0, bounds: box, f); print(r.x, r.value)
    public struct Result: Sendable {
        public var x: [Double]
        /// f(x) — for `ascend`, the maximized function's value (not its negative).
        public var value: Double
        public var gradient: [Double]
        public var iterations: Int
        public var evaluations: Int
        public var status: Status
        public var projectedGradientNorm: Double
        public var activeSet: [Int]
        /// x₁, x₂, … when `recordIterates`.
        public var iterates: [OptimizerIterate]
    }

    /// Minimizes `objective` over the box from `x0` (projected first).
    ///
    ///     let r = try ProjectedGradient.descend(from: x0, bounds: .box(n, lower: -1, upper: 1)) { x in (f(x), g(x)) }
    public static func descend(from x0: [Double], bounds: Bounds, options: Options = Options(),
                               progress: MeasureProgress = .silent,
                               _ objective: LBFGSB.Objective) throws -> Result {
        let n = x0.count
        guard n > 0 else { throw SharpnessError("projected gradient", "no variables") }
        guard bounds.lower.count == n, bounds.upper.count == n else {
            throw SharpnessError("projected gradient", "bounds for \(bounds.lower.count)/\(bounds.upper.count) variables, x0 has \(n)")
        }
        for i in 0..<n where !(bounds.lower[i] <= bounds.upper[i]) {
            throw SharpnessError("projected gradient", "bad bounds [\(bounds.lower[i]), \(bounds.upper[i])] for variable \(i)")
        }
        guard options.step > 0, options.shrink > 0, options.shrink < 1, options.maxIterations >= 0 else {
            throw SharpnessError("projected gradient", "step must be positive and shrink in (0, 1)")
        }
        let project = { (v: [Double]) in (0..<n).map { min(max(v[$0], bounds.lower[$0]), bounds.upper[$0]) } }
        var evaluations = 0
        func evaluate(_ x: [Double]) throws -> (Double, [Double]) {
            try Cancellation.check()
            let (v, g) = try objective(x)
            evaluations += 1
            guard g.count == n else { throw SharpnessError("projected gradient", "gradient of length \(g.count) for \(n) variables") }
            guard v.isFinite, g.allSatisfy(\.isFinite) else {
                throw SharpnessError("projected gradient", "objective returned a non-finite value or gradient at evaluation \(evaluations)")
            }
            return (v, g)
        }
        func projectedGradientNorm(_ x: [Double], _ g: [Double]) -> Double {
            let moved = project((0..<n).map { x[$0] - g[$0] })
            return (0..<n).reduce(0.0) { max($0, abs(moved[$1] - x[$1])) }
        }

        let hook = ProgressHook(progress, label: "projected gradient", total: options.maxIterations, unit: "it")
        var x = project(x0)
        var (f, g) = try evaluate(x)
        var iterates: [OptimizerIterate] = []
        var status = Status.maxIterations
        var iterations = 0
        while true {
            if projectedGradientNorm(x, g) <= options.pgtol { status = .projectedGradientConverged; break }
            if iterations >= options.maxIterations { status = .maxIterations; break }
            var alpha = options.step
            var accepted: ([Double], Double, [Double])? = nil
            for _ in 0...options.maxBacktracks {
                let trial = project((0..<n).map { x[$0] - alpha * g[$0] })
                let (ft, gt) = try evaluate(trial)
                var decrease = 0.0
                for i in 0..<n { decrease += g[i] * (trial[i] - x[i]) }
                if !options.backtracking || ft <= f + options.sufficientDecrease * decrease {
                    accepted = (trial, ft, gt)
                    break
                }
                alpha *= options.shrink
            }
            guard let (xn, fn, gn) = accepted else { status = .noProgress; break }
            x = xn; f = fn; g = gn
            iterations += 1
            if options.recordIterates { iterates.append(OptimizerIterate(x: x, value: f)) }
            hook.update(iterations, "f \(String(format: "%.6g", f))")
        }
        hook.finish("f \(String(format: "%.6g", f)), \(evaluations) evaluations")
        let active = (0..<n).filter { x[$0] == bounds.lower[$0] || x[$0] == bounds.upper[$0] }
        return Result(x: x, value: f, gradient: g, iterations: iterations, evaluations: evaluations,
                      status: status, projectedGradientNorm: projectedGradientNorm(x, g),
                      activeSet: active, iterates: iterates)
    }

    /// Maximizes `objective` over the box: descent on −f, with values and gradients reported for
    /// f itself.
    ///
    ///     let r = try ProjectedGradient.ascend(from: zeros, bounds: box, options: .init(maxIterations: 10)) { y in (L(y), dL(y)) }
    public static func ascend(from x0: [Double], bounds: Bounds, options: Options = Options(),
                              progress: MeasureProgress = .silent,
                              _ objective: LBFGSB.Objective) throws -> Result {
        var r = try descend(from: x0, bounds: bounds, options: options, progress: progress) { x in
            let (v, g) = try objective(x)
            return (-v, g.map { -$0 })
        }
        r.value = -r.value
        r.gradient = r.gradient.map { -$0 }
        r.iterates = r.iterates.map { OptimizerIterate(x: $0.x, value: -$0.value) }
        return r
    }
}
