import Foundation
import Tensor

/// Per-variable bounds lᵢ ≤ xᵢ ≤ uᵢ; −∞ / +∞ mean no bound on that side.
///
///     let box = Bounds(lower: [-1, -1], upper: [1, .infinity])
public struct Bounds: Sendable, Equatable {
    public var lower: [Double]
    public var upper: [Double]

    public init(lower: [Double], upper: [Double]) {
        self.lower = lower
        self.upper = upper
    }

    /// The same interval for every one of n variables.
    ///
    ///     let box = Bounds.box(10, lower: -0.01, upper: 0.01)
    public static func box(_ n: Int, lower: Double, upper: Double) -> Bounds {
        Bounds(lower: Array(repeating: lower, count: n), upper: Array(repeating: upper, count: n))
    }

    /// No bounds on n variables (L-BFGS-B then runs as plain L-BFGS).
    ///
    ///     let free = Bounds.unbounded(3)
    public static func unbounded(_ n: Int) -> Bounds { box(n, lower: -.infinity, upper: .infinity) }
}

/// One iterate of a bound-constrained optimizer (after each completed iteration).
///
///     for it in result.iterates { print(it.value) }
public struct OptimizerIterate: Sendable, Equatable {
    public var x: [Double]
    public var value: Double
}

/// L-BFGS-B, the limited-memory quasi-Newton method for bound-constrained minimization of
/// Byrd, Lu, Nocedal & Zhu (1995), as in their Fortran code (version 3.0, with the subspace
/// projection of Morales & Nocedal 2011) that SciPy runs. Each iteration:
///
/// 1. finds the generalized Cauchy point along the projected steepest-descent path, segment by
///    segment between breakpoints (`LBFGSB+CauchyPoint.swift`);
/// 2. minimizes the quadratic model over the variables still free there, by the direct primal
///    method (`LBFGSB+Subspace.swift`);
/// 3. searches along the direction to that point with the Moré–Thuente line search, every trial
///    feasible (`LBFGSB+LineSearch.swift`);
/// 4. updates the compact limited-memory BFGS matrix with the new correction pair, skipping it
///    when the curvature sᵀy ≤ ε·(−gᵀs) is too small to keep B positive definite — the test of
///    the authors' code, which the recorded iterates follow; the paper words it as sᵀy ≤ ε‖y‖²
///    (`LBFGSB+Memory.swift`).
///
/// It stops when the largest projected-gradient component is ≤ `pgtol`, when
/// (fₖ − fₖ₊₁)/max(|fₖ|, |fₖ₊₁|, 1) ≤ factr·ε, or at `maxIterations`/`maxEvaluations`. It minimizes;
/// to maximize L (Keskar's sharpness), minimize −L. Everything runs in Double.
///
///     let r = try LBFGSB.minimize(from: [0, 0], bounds: .box(2, lower: -1, upper: 1)) { x in
///         ((x[0] - 2) * (x[0] - 2) + x[1] * x[1], [2 * (x[0] - 2), 2 * x[1]])
///     }   // r.x == [1, 0]
public enum LBFGSB {
    /// The objective: value and gradient at x.
    ///
    ///     let f: LBFGSB.Objective = { x in (x[0] * x[0], [2 * x[0]]) }
    public typealias Objective = ([Double]) throws -> (value: Double, gradient: [Double])

    /// Settings, with SciPy's defaults.
    ///
    ///     let o = LBFGSB.Options(maxIterations: 10)
    public struct Options: Sendable {
        /// Correction pairs kept (m; SciPy's `maxcor`).
        public var memory = 10
        /// Iterations allowed (SciPy's `maxiter`; Keskar's measure uses 10).
        public var maxIterations = 15000
        /// Objective evaluations allowed; checked after each iteration (SciPy's `maxfun`).
        public var maxEvaluations = 15000
        /// Stop when max |projected gradient component| ≤ pgtol (SciPy's `gtol`).
        public var pgtol = 1e-5
        /// Stop when the relative reduction of f is ≤ factr·ε (SciPy: ftol = factr·ε).
        public var factr = 1e7
        /// Trial steps per line search before it counts as failed (SciPy's `maxls`).
        public var maxLineSearch = 20
        /// Keep every iterate in the result (for tests and plots).
        public var recordIterates = false

        public init(memory: Int = 10, maxIterations: Int = 15000, maxEvaluations: Int = 15000,
                    pgtol: Double = 1e-5, factr: Double = 1e7, maxLineSearch: Int = 20,
                    recordIterates: Bool = false) {
            self.memory = memory
            self.maxIterations = maxIterations
            self.maxEvaluations = maxEvaluations
            self.pgtol = pgtol
            self.factr = factr
            self.maxLineSearch = maxLineSearch
            self.recordIterates = recordIterates
        }
    }

    /// Why the run stopped (the raw value is the original's message).
    ///
    ///     if r.status.isConverged { print(r.x) }
    public enum Status: String, Sendable {
        /// max |projected gradient| ≤ pgtol.
        case projectedGradientConverged = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
        /// Relative reduction of f ≤ factr·ε.
        case reductionConverged = "CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH"
        case maxIterations = "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
        case maxEvaluations = "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT"
        /// The line search failed with an empty memory (nothing left to reset).
        case abnormalLineSearch = "ABNORMAL: LINE SEARCH FAILED"

        public var isConverged: Bool { self == .projectedGradientConverged || self == .reductionConverged }
    }

    /// The outcome of a run.
    ///
    ///     let r = try LBFGSB.minimize(from: x0, bounds: box, f); print(r.x, r.value, r.iterations)
    public struct Result: Sendable {
        /// The final point (the best one: every accepted step decreases f).
        public var x: [Double]
        public var value: Double
        public var gradient: [Double]
        /// Completed iterations (SciPy's `nit`).
        public var iterations: Int
        /// Objective evaluations (SciPy's `nfev` with an analytic gradient).
        public var evaluations: Int
        public var status: Status
        /// max |projected gradient component| at x.
        public var projectedGradientNorm: Double
        /// Indices with x at a bound.
        public var activeSet: [Int]
        /// Correction pairs skipped for too little curvature.
        public var skippedUpdates: Int
        /// x₁, x₂, … after each iteration (x₀ not included), when `recordIterates`.
        public var iterates: [OptimizerIterate]
    }

    /// Minimizes `objective` over the box from `x0` (projected onto the box first).
    ///
    ///     var o = LBFGSB.Options(); o.maxIterations = 10
    ///     let r = try LBFGSB.minimize(from: x0, bounds: box, options: o) { x in (f(x), grad(x)) }
    public static func minimize(from x0: [Double], bounds: Bounds? = nil, options: Options = Options(),
                                progress: MeasureProgress = .silent,
                                _ objective: Objective) throws -> Result {
        try withoutActuallyEscaping(objective) { f in
            let solver = try LBFGSBSolver(objective: f, x0: x0, bounds: bounds ?? .unbounded(x0.count),
                                          options: options, progress: progress)
            return try solver.run()
        }
    }
}

/// The state of one L-BFGS-B run (the original's `mainlb` and its saved variables).
final class LBFGSBSolver {
    let objective: LBFGSB.Objective
    let options: LBFGSB.Options
    let n: Int
    let lower: [Double], upper: [Double]
    /// Bound kind per variable, the original's `nbd`: 0 none, 1 lower, 2 both, 3 upper.
    let kind: [Int]
    /// Some variable has a bound / every variable has both.
    let constrained: Bool, boxed: Bool

    var x: [Double]
    var f = 0.0
    var g: [Double]
    var status: [BoundStatus]
    var memory: CompactBFGS
    var freeSet: [Int]
    var activeSet: [Int] = []
    var iterations = 0
    var evaluations = 0
    var skipped = 0
    var segments = 0
    var subspaceHitBound = false
    private let hook: ProgressHook

    init(objective: @escaping LBFGSB.Objective, x0: [Double], bounds: Bounds, options: LBFGSB.Options,
         progress: MeasureProgress) throws {
        n = x0.count
        guard n > 0 else { throw SharpnessError("lbfgsb", "no variables") }
        guard bounds.lower.count == n, bounds.upper.count == n else {
            throw SharpnessError("lbfgsb", "bounds for \(bounds.lower.count)/\(bounds.upper.count) variables, x0 has \(n)")
        }
        guard options.memory > 0 else { throw SharpnessError("lbfgsb", "memory must be positive") }
        guard options.factr >= 0, options.pgtol >= 0 else { throw SharpnessError("lbfgsb", "factr and pgtol must be non-negative") }
        guard options.maxLineSearch > 0 else { throw SharpnessError("lbfgsb", "maxLineSearch must be positive") }
        guard x0.allSatisfy(\.isFinite) else { throw SharpnessError("lbfgsb", "x0 has a non-finite entry") }
        for i in 0..<n {
            let l = bounds.lower[i], u = bounds.upper[i]
            guard !l.isNaN, !u.isNaN, l != .infinity, u != -.infinity else {
                throw SharpnessError("lbfgsb", "bad bounds [\(l), \(u)] for variable \(i)")
            }
            guard l <= u else { throw SharpnessError("lbfgsb", "lower bound \(l) > upper bound \(u) for variable \(i)") }
        }
        self.objective = objective
        self.options = options
        let lo = bounds.lower, hi = bounds.upper
        lower = lo
        upper = hi
        let kinds: [Int] = (0..<n).map { i in
            switch (lo[i].isFinite, hi[i].isFinite) {
            case (false, false): return 0
            case (true, false): return 1
            case (true, true): return 2
            case (false, true): return 3
            }
        }
        kind = kinds
        constrained = kinds.contains { $0 != 0 }
        boxed = kinds.allSatisfy { $0 == 2 }
        // Project x0 onto the box (`active`).
        x = (0..<n).map { i in min(max(x0[i], bounds.lower[i]), bounds.upper[i]) }
        status = (0..<n).map { i in
            if kinds[i] == 0 { return .unbounded }
            return kinds[i] == 2 && hi[i] - lo[i] <= 0 ? .fixed : .free
        }
        g = [Double](repeating: 0, count: n)
        memory = CompactBFGS(m: options.memory)
        freeSet = Array(0..<n)
        hook = ProgressHook(progress, label: "lbfgsb", total: options.maxIterations <= 1000 ? options.maxIterations : nil,
                            unit: "it")
    }

    /// f and g at x; polls Ctrl-C first.
    func evaluate() throws {
        try Cancellation.check()
        let (value, gradient) = try objective(x)
        evaluations += 1
        guard gradient.count == n else {
            throw SharpnessError("lbfgsb", "objective returned a gradient of length \(gradient.count) for \(n) variables")
        }
        guard value.isFinite, gradient.allSatisfy(\.isFinite) else {
            throw SharpnessError("lbfgsb", "objective returned a non-finite value or gradient at evaluation \(evaluations)")
        }
        f = value
        g = gradient
    }

    /// max over i of |P(x − g) − x|ᵢ, the projected gradient's largest component (`projgr`).
    func projectedGradientNorm() -> Double {
        var norm = 0.0
        for i in 0..<n {
            var gi = g[i]
            if kind[i] != 0 {
                if gi < 0 {
                    if kind[i] >= 2 { gi = max(x[i] - upper[i], gi) }
                } else {
                    if kind[i] <= 2 { gi = min(x[i] - lower[i], gi) }
                }
            }
            norm = max(norm, abs(gi))
        }
        return norm
    }

    func run() throws -> LBFGSB.Result {
        let tolerance = options.factr * Double.ulpOfOne
        var iterates: [OptimizerIterate] = []
        try evaluate()
        var pgNorm = projectedGradientNorm()
        if pgNorm <= options.pgtol { return finish(.projectedGradientConverged, pgNorm, iterates) }

        while true {
            // Generalized Cauchy point (skipped for unconstrained problems once B ≠ I).
            var z: [Double]
            var c = [Double](repeating: 0, count: 2 * memory.col)
            if !constrained && memory.col > 0 {
                z = x
            } else {
                guard let cauchy = cauchyPoint(projectedGradientNorm: pgNorm) else {
                    memory.reset()
                    continue
                }
                z = cauchy.point
                c = cauchy.c
                splitFreeAndActive()
            }
            // Subspace minimization over the free variables (B = θI needs none).
            if !freeSet.isEmpty && memory.col > 0 {
                guard minimizeOnSubspace(point: &z, c: c) else {
                    memory.reset()
                    continue
                }
            }
            // Line search along d = z − x.
            let d = (0..<n).map { z[$0] - x[$0] }
            let fOld = f, gOld = g
            let outcome = try lineSearch(direction: d, target: z)
            guard case let .accepted(stp, gd, gdOld, dtd) = outcome else {
                if memory.col == 0 { return finish(.abnormalLineSearch, pgNorm, iterates) }
                memory.reset()   // and restart the iteration from the same x
                continue
            }
            iterations += 1
            pgNorm = projectedGradientNorm()
            if options.recordIterates { iterates.append(OptimizerIterate(x: x, value: f)) }
            hook.update(iterations, "f \(String(format: "%.6g", f))  |pg| \(String(format: "%.2e", pgNorm))")

            if pgNorm <= options.pgtol { return finish(.projectedGradientConverged, pgNorm, iterates) }
            if fOld - f <= tolerance * max(abs(fOld), abs(f), 1) { return finish(.reductionConverged, pgNorm, iterates) }
            if iterations >= options.maxIterations { return finish(.maxIterations, pgNorm, iterates) }
            if evaluations > options.maxEvaluations { return finish(.maxEvaluations, pgNorm, iterates) }

            // Correction pair s = stp·d, y = g⁺ − g.
            var y = g
            for i in 0..<n { y[i] -= gOld[i] }
            let rr = dotD(y, y)
            let dr: Double, gsDecrease: Double
            var s = d
            if stp == 1 {
                dr = gd - gdOld
                gsDecrease = -gdOld
            } else {
                dr = (gd - gdOld) * stp
                for i in 0..<n { s[i] *= stp }
                gsDecrease = -gdOld * stp
            }
            if dr <= Double.ulpOfOne * gsDecrease {
                skipped += 1
                continue
            }
            memory.update(s: s, y: y, rr: rr, dr: dr, stp: stp, dtd: dtd)
            if !memory.formT() { memory.reset() }
        }
    }

    private func finish(_ status: LBFGSB.Status, _ pgNorm: Double, _ iterates: [OptimizerIterate]) -> LBFGSB.Result {
        hook.finish("\(status.isConverged ? "converged" : "stopped"): f \(String(format: "%.6g", f)), \(evaluations) evaluations")
        let active = (0..<n).filter { x[$0] == lower[$0] || x[$0] == upper[$0] }
        return LBFGSB.Result(x: x, value: f, gradient: g, iterations: iterations, evaluations: evaluations,
                             status: status, projectedGradientNorm: pgNorm, activeSet: active,
                             skippedUpdates: skipped, iterates: iterates)
    }
}
