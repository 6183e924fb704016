import Foundation

/// The Moré–Thuente line search (MINPACK-2 `dcsrch`/`dcstep`, the search L-BFGS-B calls): finds
/// a step satisfying the sufficient-decrease condition f(stp) ≤ f(0) + ftol·stp·f′(0) and the
/// curvature condition |f′(stp)| ≤ gtol·|f′(0)| by safeguarded cubic and quadratic
/// interpolation inside a shrinking interval of uncertainty. A state machine: start it, then feed
/// it f and f′ at each step it asks for.
struct MoreThuenteSearch {
    enum Task { case evaluate, converged, warning, error }

    let ftol: Double, gtol: Double, xtol: Double
    let stpmin: Double, stpmax: Double

    private var bracketed = false
    private var stage = 1
    private var finit = 0.0, ginit = 0.0, gtest = 0.0
    private var stx = 0.0, fx = 0.0, gx = 0.0
    private var sty = 0.0, fy = 0.0, gy = 0.0
    private var stmin = 0.0, stmax = 0.0
    private var width = 0.0, width1 = 0.0
    private var started = false

    init(ftol: Double = 1e-3, gtol: Double = 0.9, xtol: Double = 0.1, stpmin: Double, stpmax: Double) {
        self.ftol = ftol; self.gtol = gtol; self.xtol = xtol
        self.stpmin = stpmin; self.stpmax = stpmax
    }

    /// On the first call f and g are f(0) and f′(0) and `stp` the initial trial step; later calls
    /// pass f and f′ at the step last asked for. Returns what to do next; `stp` is the step to
    /// evaluate (`.evaluate`) or the accepted one.
    mutating func next(f: Double, g: Double, stp: inout Double) -> Task {
        if !started {
            started = true
            if stp < stpmin || stp > stpmax || g >= 0 || stpmax < stpmin { return .error }
            bracketed = false
            stage = 1
            finit = f
            ginit = g
            gtest = ftol * ginit
            width = stpmax - stpmin
            width1 = width / 0.5
            stx = 0; fx = finit; gx = ginit
            sty = 0; fy = finit; gy = ginit
            stmin = 0
            stmax = stp + 4.0 * stp
            return .evaluate
        }
        let ftest = finit + stp * gtest
        if stage == 1 && f <= ftest && g >= 0 { stage = 2 }

        var task: Task? = nil
        if bracketed && (stp <= stmin || stp >= stmax) { task = .warning }
        if bracketed && stmax - stmin <= xtol * stmax { task = .warning }
        if stp == stpmax && f <= ftest && g <= gtest { task = .warning }
        if stp == stpmin && (f > ftest || g >= gtest) { task = .warning }
        if f <= ftest && abs(g) <= gtol * (-ginit) { task = .converged }
        if let task { return task }

        if stage == 1 && f <= fx && f > ftest {
            // A lower value without sufficient decrease: step on the modified function
            // ψ(stp) = f(stp) − f(0) − ftol·stp·f′(0).
            var fxm = fx - stx * gtest, fym = fy - sty * gtest
            var gxm = gx - gtest, gym = gy - gtest
            let fm = f - stp * gtest, gm = g - gtest
            MoreThuenteSearch.step(&stx, &fxm, &gxm, &sty, &fym, &gym, &stp, fm, gm, &bracketed, stmin, stmax)
            fx = fxm + stx * gtest
            fy = fym + sty * gtest
            gx = gxm + gtest
            gy = gym + gtest
        } else {
            MoreThuenteSearch.step(&stx, &fx, &gx, &sty, &fy, &gy, &stp, f, g, &bracketed, stmin, stmax)
        }

        // Bisect when the interval does not shrink fast enough.
        if bracketed {
            if abs(sty - stx) >= 0.66 * width1 { stp = stx + 0.5 * (sty - stx) }
            width1 = width
            width = abs(sty - stx)
        }
        if bracketed {
            stmin = min(stx, sty)
            stmax = max(stx, sty)
        } else {
            stmin = stp + 1.1 * (stp - stx)
            stmax = stp + 4.0 * (stp - stx)
        }
        stp = max(stp, stpmin)
        stp = min(stp, stpmax)
        // No further progress possible: fall back to the best step so far.
        if (bracketed && (stp <= stmin || stp >= stmax)) || (bracketed && stmax - stmin <= xtol * stmax) {
            stp = stx
        }
        return .evaluate
    }

    /// `dcstep`: a safeguarded trial step from the interval [stx, sty] and the new point, by the
    /// four cases of Moré & Thuente (1994), and the updated interval.
    static func step(_ stx: inout Double, _ fx: inout Double, _ dx: inout Double,
                     _ sty: inout Double, _ fy: inout Double, _ dy: inout Double,
                     _ stp: inout Double, _ fp: Double, _ dp: Double, _ brackt: inout Bool,
                     _ stpmin: Double, _ stpmax: Double) {
        let sgnd = dp * (dx / abs(dx))
        var stpf: Double
        if fp > fx {
            // Case 1: higher function value; the minimum is bracketed.
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp < stx { gamma = -gamma }
            let p = (gamma - dx) + theta
            let q = ((gamma - dx) + gamma) + dp
            let r = p / q
            let stpc = stx + r * (stp - stx)
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
            stpf = abs(stpc - stx) < abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0
            brackt = true
        } else if sgnd < 0 {
            // Case 2: lower value, derivatives of opposite sign; bracketed.
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = ((gamma - dp) + gamma) + dx
            let r = p / q
            let stpc = stp + r * (stx - stp)
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            brackt = true
        } else if abs(dp) < abs(dx) {
            // Case 3: lower value, same sign, derivative decreasing in magnitude.
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = (gamma + (dx - dp)) + gamma
            let r = p / q
            let stpc: Double
            if r < 0 && gamma != 0 {
                stpc = stp + r * (stx - stp)
            } else if stp > stx {
                stpc = stpmax
            } else {
                stpc = stpmin
            }
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            if brackt {
                stpf = abs(stpc - stp) < abs(stpq - stp) ? stpc : stpq
                if stp > stx {
                    stpf = min(stp + 0.66 * (sty - stp), stpf)
                } else {
                    stpf = max(stp + 0.66 * (sty - stp), stpf)
                }
            } else {
                stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
                stpf = min(stpmax, stpf)
                stpf = max(stpmin, stpf)
            }
        } else {
            // Case 4: lower value, same sign, derivative not decreasing.
            if brackt {
                let theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
                let s = max(abs(theta), abs(dy), abs(dp))
                var gamma = s * ((theta / s) * (theta / s) - (dy / s) * (dp / s)).squareRoot()
                if stp > sty { gamma = -gamma }
                let p = (gamma - dp) + theta
                let q = ((gamma - dp) + gamma) + dy
                let r = p / q
                stpf = stp + r * (sty - stp)
            } else if stp > stx {
                stpf = stpmax
            } else {
                stpf = stpmin
            }
        }
        // Update the interval of uncertainty.
        if fp > fx {
            sty = stp; fy = fp; dy = dp
        } else {
            if sgnd < 0 {
                sty = stx; fy = fx; dy = dx
            }
            stx = stp; fx = fp; dx = dp
        }
        stp = stpf
    }
}

extension LBFGSBSolver {
    enum LineSearchOutcome {
        /// A new iterate: the accepted step, g·d at it and at the start, and ‖d‖².
        case accepted(stp: Double, gd: Double, gdOld: Double, dtd: Double)
        /// No acceptable step (not a descent direction, search error or maxLineSearch trials);
        /// x, f and g are back at the start of the search.
        case failed
    }

    /// Line search along d = z − x (`lnsrlb`). The first iteration of an unboxed problem starts
    /// at stp = min(1/‖d‖, stpmax), later ones at stp = 1 (the subspace point z); stpmax keeps
    /// every trial point feasible. Trial points other than stp = 1 are clipped to the bounds
    /// against rounding.
    func lineSearch(direction d: [Double], target z: [Double]) throws -> LineSearchOutcome {
        var sumsq = 0.0
        for v in d { sumsq += v * v }
        let dnorm = sumsq.squareRoot()
        let dtd = dnorm * dnorm
        var stpmx = 1e10
        if constrained {
            if iterations == 0 {
                stpmx = 1
            } else {
                for i in 0..<n where kind[i] != 0 {
                    let a1 = d[i]
                    if a1 < 0 && kind[i] <= 2 {
                        let a2 = lower[i] - x[i]
                        if a2 >= 0 { stpmx = 0 } else if a1 * stpmx < a2 { stpmx = a2 / a1 }
                    } else if a1 > 0 && kind[i] >= 2 {
                        let a2 = upper[i] - x[i]
                        if a2 <= 0 { stpmx = 0 } else if a1 * stpmx > a2 { stpmx = a2 / a1 }
                    }
                }
            }
        }
        var stp = iterations == 0 && !boxed ? min(1 / dnorm, stpmx) : 1
        let x0 = x, g0 = g, f0 = f
        var gd = dotD(g, d)
        let gdOld = gd
        guard gd < 0 else { return .failed }   // not a descent direction
        var search = MoreThuenteSearch(stpmin: 0, stpmax: stpmx)
        var trials = 0
        while true {
            switch search.next(f: f, g: gd, stp: &stp) {
            case .converged, .warning:
                return .accepted(stp: stp, gd: gd, gdOld: gdOld, dtd: dtd)
            case .error:
                // Bad arguments (stpmax < stp when a variable sits on its bound and d points out,
                // which feasible z rules out). The original would evaluate anyway; we fail the
                // search and let the caller reset the memory.
                x = x0; g = g0; f = f0
                return .failed
            case .evaluate:
                trials += 1
                if trials - 1 >= options.maxLineSearch {
                    x = x0; g = g0; f = f0
                    return .failed
                }
                if stp == 1 {
                    x = z
                } else {
                    for i in 0..<n {
                        var xi = stp * d[i] + x0[i]
                        if kind[i] == 1 || kind[i] == 2 { xi = max(xi, lower[i]) }
                        if kind[i] == 2 || kind[i] == 3 { xi = min(xi, upper[i]) }
                        x[i] = xi
                    }
                }
                try evaluate()
                gd = dotD(g, d)
            }
        }
    }
}
