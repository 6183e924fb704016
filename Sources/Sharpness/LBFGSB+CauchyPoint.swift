import Foundation

/// Bound status of a variable during an iteration (the original's `iwhere`).
enum BoundStatus: Int {
    /// Never constrained (no bounds).
    case unbounded = -1
    /// Has bounds, free, and the projected gradient path moves it.
    case free = 0
    /// Has bounds, free, but its gradient is zero so the path leaves it where it is.
    case freeNotMoving = -3
    case atLower = 1
    case atUpper = 2
    /// l = u: fixed for good.
    case fixed = 3

    /// Counted among the free variables of the subspace problem.
    var isFree: Bool { rawValue <= 0 }
}

extension LBFGSBSolver {
    /// The generalized Cauchy point (Byrd, Lu, Nocedal & Zhu 1995, §4; routine `cauchy`): the
    /// first local minimizer of the quadratic model m(x + s) = gᵀs + ½sᵀBs along the projected
    /// steepest-descent path x(t) = P(x − tg, l, u). The path is piecewise linear with a
    /// breakpoint where each variable reaches its bound; segments are examined in order of
    /// breakpoint, updating the model's first and second directional derivatives f′, f″ in
    /// O(m) per segment via the compact form of B. Updates `status` for the variables that end at
    /// a bound. Returns the point and c = Wᵀ(xᶜ − x) (used to form the reduced gradient), or nil
    /// when a product with M fails (the caller then resets the memory).
    func cauchyPoint(projectedGradientNorm: Double) -> (point: [Double], c: [Double])? {
        let col = memory.col
        if projectedGradientNorm <= 0 { return (x, [Double](repeating: 0, count: 2 * col)) }
        var bounded = true
        var freeWithoutBreakpoint = 0
        var breakpoints: [(t: Double, index: Int)] = []
        var p = [Double](repeating: 0, count: 2 * col)   // Wᵀd, built up with d
        var d = [Double](repeating: 0, count: n)
        var f1 = 0.0
        // Like the original, tl and tu keep their last values across variables; each is read
        // only for variables whose bound it measures.
        var tl = 0.0, tu = 0.0

        for i in 0..<n {
            let negGi = -g[i]
            if status[i] != .fixed && status[i] != .unbounded {
                if kind[i] <= 2 { tl = x[i] - lower[i] }
                if kind[i] >= 2 { tu = upper[i] - x[i] }
                let atLower = kind[i] <= 2 && tl <= 0
                let atUpper = kind[i] >= 2 && tu <= 0
                status[i] = .free
                if atLower {
                    if negGi <= 0 { status[i] = .atLower }
                } else if atUpper {
                    if negGi >= 0 { status[i] = .atUpper }
                } else if abs(negGi) <= 0 {
                    status[i] = .freeNotMoving
                }
            }
            if status[i] != .free && status[i] != .unbounded {
                d[i] = 0
                continue
            }
            d[i] = negGi
            f1 -= negGi * negGi
            for j in 0..<col {
                p[j] += memory.y[j][i] * negGi
                p[col + j] += memory.s[j][i] * negGi
            }
            if kind[i] <= 2 && kind[i] != 0 && negGi < 0 {
                breakpoints.append((tl / -negGi, i))
            } else if kind[i] >= 2 && negGi > 0 {
                breakpoints.append((tu / negGi, i))
            } else {
                freeWithoutBreakpoint += 1
                if abs(negGi) > 0 { bounded = false }
            }
        }
        let theta = memory.theta
        if theta != 1 { for j in 0..<col { p[col + j] *= theta } }
        var xcp = x
        var c = [Double](repeating: 0, count: 2 * col)
        // d = 0: x is the Cauchy point.
        if breakpoints.isEmpty && freeWithoutBreakpoint == 0 { return (xcp, c) }

        var f2 = -theta * f1
        let f2Original = f2
        if col > 0 {
            guard let v = memory.middleProduct(p) else { return nil }
            f2 -= dotD(v, p)
        }
        var dtm = -f1 / f2
        var tsum = 0.0
        segments = 1

        // The original keeps the breakpoints in a heap; visiting them in sorted order (ties by
        // position) is the same sequence.
        breakpoints.sort { $0.t < $1.t || ($0.t == $1.t && $0.index < $1.index) }
        var left = breakpoints.count
        var tj = 0.0
        var allFixed = false
        var searched = breakpoints.isEmpty
        var k = 0
        while !searched {
            let tj0 = tj
            tj = breakpoints[k].t
            let ibp = breakpoints[k].index
            k += 1
            let dt = tj - tj0
            // The minimizer lies inside this segment.
            if dtm < dt { break }

            // Otherwise fix the variable at its bound and move to the next segment.
            tsum += dt
            left -= 1
            let dibp = d[ibp]
            d[ibp] = 0
            let zibp: Double
            if dibp > 0 {
                zibp = upper[ibp] - x[ibp]
                xcp[ibp] = upper[ibp]
                status[ibp] = .atUpper
            } else {
                zibp = lower[ibp] - x[ibp]
                xcp[ibp] = lower[ibp]
                status[ibp] = .atLower
            }
            if left == 0 && breakpoints.count == n {
                // Every variable is at a bound: that is the Cauchy point.
                dtm = dt
                allFixed = true
                break
            }
            segments += 1
            let dibp2 = dibp * dibp
            f1 = f1 + dt * f2 + dibp2 - theta * dibp * zibp
            f2 -= theta * dibp2
            if col > 0 {
                for j in 0..<(2 * col) { c[j] += dt * p[j] }
                // wbp: the row of W for the variable just fixed.
                var wbp = [Double](repeating: 0, count: 2 * col)
                for j in 0..<col {
                    wbp[j] = memory.y[j][ibp]
                    wbp[col + j] = theta * memory.s[j][ibp]
                }
                guard let v = memory.middleProduct(wbp) else { return nil }
                let wmc = dotD(c, v), wmp = dotD(p, v), wmw = dotD(wbp, v)
                for j in 0..<(2 * col) { p[j] += -dibp * wbp[j] }
                f1 += dibp * wmc
                f2 += 2.0 * dibp * wmp - dibp2 * wmw
            }
            f2 = max(Double.ulpOfOne * f2Original, f2)
            if left > 0 {
                dtm = -f1 / f2
            } else if bounded {
                dtm = 0
                searched = true
            } else {
                dtm = -f1 / f2
                searched = true
            }
        }
        if !allFixed {
            if dtm <= 0 { dtm = 0 }
            tsum += dtm
            // Move the variables not yet at a breakpoint (and those without one) by tsum.
            for i in 0..<n { xcp[i] += tsum * d[i] }
        }
        if col > 0 { for j in 0..<(2 * col) { c[j] += dtm * p[j] } }
        return (xcp, c)
    }
}
