import Foundation

extension LBFGSBSolver {
    /// Splits the variables into free (status ≤ 0) and active at the Cauchy point (`freev`):
    /// `freeSet` lists the free indices in increasing order, `activeSet` the others.
    func splitFreeAndActive() {
        freeSet = []
        activeSet = []
        for i in 0..<n {
            if status[i].isFree { freeSet.append(i) } else { activeSet.append(i) }
        }
    }

    /// Subspace minimization by the direct primal method (§5.1 of Byrd, Lu, Nocedal & Zhu, with
    /// the projection step of Morales & Nocedal 2011): minimize the quadratic model over the free
    /// variables with the active ones held at the Cauchy point. Updates `point` (the Cauchy point
    /// on entry) in place; returns false when a factorization or solve fails.
    func minimizeOnSubspace(point z: inout [Double], c: [Double]) -> Bool {
        guard let k = factorReducedMiddleMatrix() else { return false }
        guard let r = reducedGradient(point: z, c: c) else { return false }
        return newtonStepOnSubspace(point: &z, reducedGradient: r, factor: k)
    }

    /// The LELᵀ factorization of the 2col×2col indefinite matrix (routine `formk`)
    ///
    ///     K = [ −D − YᵀZZᵀY/θ    Lₐᵀ − R_zᵀ ]      E = [ −I  0 ]
    ///         [  Lₐ − R_z        θSᵀAAᵀS   ]          [  0  I ]
    ///
    /// where Z selects the free and A the active variables, Lₐ is the strict lower triangle of
    /// SᵀAAᵀY and R_z the upper triangle of SᵀZZᵀY. Returned as the upper-triangular U with
    /// K = Uᵀ E U. The original updates these inner products incrementally as variables enter and
    /// leave the free set; they are recomputed here, which is the same matrix (to rounding) at
    /// O(m²n) a call.
    func factorReducedMiddleMatrix() -> [[Double]]? {
        let col = memory.col, theta = memory.theta
        let s = memory.s, y = memory.y
        var yzzy = [[Double]](repeating: [Double](repeating: 0, count: col), count: col)
        var saas = yzzy
        var lowerBlock = yzzy   // lowerBlock[i][j]: i > j → (Lₐ)ᵢⱼ, i ≤ j → (R_z)ᵢⱼ
        for i in 0..<col {
            for j in 0...i {
                var a = 0.0, b = 0.0
                for k in freeSet { a += y[i][k] * y[j][k] }
                for k in activeSet { b += s[i][k] * s[j][k] }
                yzzy[i][j] = a; yzzy[j][i] = a
                saas[i][j] = b; saas[j][i] = b
            }
            for j in 0..<col {
                var sum = 0.0
                if i > j {
                    for k in activeSet { sum += s[i][k] * y[j][k] }
                } else {
                    for k in freeSet { sum += s[i][k] * y[j][k] }
                }
                lowerBlock[i][j] = sum
            }
        }
        let size = 2 * col
        var wn = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for iy in 0..<col {
            for jy in 0...iy {
                wn[jy][iy] = yzzy[iy][jy] / theta
                wn[col + jy][col + iy] = saas[iy][jy] * theta
            }
            for jy in 0..<iy { wn[jy][col + iy] = -lowerBlock[iy][jy] }
            for jy in iy..<col { wn[jy][col + iy] = lowerBlock[iy][jy] }
            wn[iy][iy] += memory.sy[iy][iy]
        }
        // Factor the (1,1) block D + YᵀZZᵀY/θ = LLᵀ (Lᵀ upper).
        let block11 = (0..<col).map { i in Array(wn[i][0..<col]) }
        guard let l11 = choleskyUpper(block11) else { return nil }
        // (1,2) block ← L⁻¹(−Lₐᵀ + R_zᵀ), column by column.
        var block12 = [[Double]](repeating: [Double](repeating: 0, count: col), count: col)
        for j in 0..<col {
            guard let x = solveUpperTransposed(l11, (0..<col).map { wn[$0][col + j] }) else { return nil }
            for i in 0..<col { block12[i][j] = x[i] }
        }
        // (2,2) block ← θSᵀAAᵀS + (L⁻¹(…))ᵀ(L⁻¹(…)), then factor it.
        var block22 = [[Double]](repeating: [Double](repeating: 0, count: col), count: col)
        for i in 0..<col {
            for j in i..<col {
                var sum = wn[col + i][col + j]
                for k in 0..<col { sum += block12[k][i] * block12[k][j] }
                block22[i][j] = sum
            }
        }
        guard let l22 = choleskyUpper(block22) else { return nil }
        var u = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for i in 0..<col {
            for j in i..<col {
                u[i][j] = l11[i][j]
                u[col + i][col + j] = l22[i][j]
            }
            for j in 0..<col { u[i][col + j] = block12[i][j] }
        }
        return u
    }

    /// r = −Zᵀ(B(xᶜ − x) + g) over the free variables (`cmprlb`), with B(xᶜ − x) from the compact
    /// form and c = Wᵀ(xᶜ − x) from the Cauchy step. Without bounds the Cauchy step is skipped and
    /// r = −g. Nil when the product with M fails.
    func reducedGradient(point z: [Double], c: [Double]) -> [Double]? {
        if !constrained && memory.col > 0 { return g.map { -$0 } }
        let col = memory.col, theta = memory.theta
        var r = freeSet.map { k in -theta * (z[k] - x[k]) - g[k] }
        guard let v = memory.middleProduct(c) else { return nil }
        for j in 0..<col {
            let a1 = v[j], a2 = theta * v[col + j]
            let yj = memory.y[j], sj = memory.s[j]
            for (i, k) in freeSet.enumerated() { r[i] = r[i] + yj[k] * a1 + sj[k] * a2 }
        }
        return r
    }

    /// The subspace Newton step d = −(ZᵀBZ)⁻¹r by Sherman–Morrison–Woodbury,
    /// d = r/θ + Zᵀ W K⁻¹ Wᵀ Z r / θ² (`subsm`), then the projection of Morales & Nocedal (2011):
    /// take P(xᶜ + d) if that is a descent direction from x, otherwise backtrack along d to the
    /// first bound (the 1995 paper's truncated step).
    func newtonStepOnSubspace(point z: inout [Double], reducedGradient r: [Double], factor u: [[Double]]) -> Bool {
        let col = memory.col, theta = memory.theta
        let nsub = freeSet.count
        guard nsub > 0 else { return true }
        var d = r
        var wv = [Double](repeating: 0, count: 2 * col)
        for i in 0..<col {
            var t1 = 0.0, t2 = 0.0
            let yi = memory.y[i], si = memory.s[i]
            for (j, k) in freeSet.enumerated() {
                t1 += yi[k] * d[j]
                t2 += si[k] * d[j]
            }
            wv[i] = t1
            wv[col + i] = theta * t2
        }
        // wv ← K⁻¹wv = U⁻¹ E U⁻ᵀ wv.
        guard var solved = solveUpperTransposed(u, wv) else { return false }
        for i in 0..<col { solved[i] = -solved[i] }
        guard let kwv = solveUpper(u, solved) else { return false }
        for jy in 0..<col {
            let yj = memory.y[jy], sj = memory.s[jy]
            for (i, k) in freeSet.enumerated() {
                d[i] = d[i] + (yj[k] * kwv[jy] / theta) + (sj[k] * kwv[col + jy])
            }
        }
        let inverseTheta = 1 / theta
        for i in 0..<nsub { d[i] *= inverseTheta }

        // Projected Newton point.
        let cauchy = z
        var hitBound = false
        for (i, k) in freeSet.enumerated() {
            let dk = d[i], xk = z[k]
            switch kind[k] {
            case 1:
                z[k] = max(lower[k], xk + dk)
                if z[k] == lower[k] { hitBound = true }
            case 2:
                z[k] = min(upper[k], max(lower[k], xk + dk))
                if z[k] == lower[k] || z[k] == upper[k] { hitBound = true }
            case 3:
                z[k] = min(upper[k], xk + dk)
                if z[k] == upper[k] { hitBound = true }
            default:
                z[k] = xk + dk
            }
        }
        subspaceHitBound = hitBound
        guard hitBound else { return true }
        var slope = 0.0
        for i in 0..<n { slope += (z[i] - x[i]) * g[i] }
        if slope <= 0 { return true }

        // Not a descent direction: back to the Cauchy point and step along d until the first
        // bound. (temp1 deliberately carries over between variables, as in the original.)
        z = cauchy
        var alpha = 1.0, temp1 = 1.0
        var ibd = 0
        for (i, k) in freeSet.enumerated() {
            let dk = d[i]
            if kind[k] != 0 {
                if dk < 0 && kind[k] <= 2 {
                    let temp2 = lower[k] - z[k]
                    if temp2 >= 0 { temp1 = 0 } else if dk * alpha < temp2 { temp1 = temp2 / dk }
                } else if dk > 0 && kind[k] >= 2 {
                    let temp2 = upper[k] - z[k]
                    if temp2 <= 0 { temp1 = 0 } else if dk * alpha > temp2 { temp1 = temp2 / dk }
                }
                if temp1 < alpha {
                    alpha = temp1
                    ibd = i
                }
            }
        }
        if alpha < 1 {
            let dk = d[ibd], k = freeSet[ibd]
            if dk > 0 {
                z[k] = upper[k]
                d[ibd] = 0
            } else if dk < 0 {
                z[k] = lower[k]
                d[ibd] = 0
            }
        }
        for (i, k) in freeSet.enumerated() { z[k] = z[k] + alpha * d[i] }
        return true
    }
}
