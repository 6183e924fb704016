import Foundation

/// The limited-memory BFGS matrix in compact form (Byrd, Nocedal & Schnabel 1994):
///
///     B = θI − W M Wᵀ,   W = [Y  θS],   M⁻¹ = [ −D   Lᵀ  ]
///                                             [  L   θSᵀS ]
///
/// with S, Y the last `col` ≤ m corrections (oldest first), D = diag(SᵀY), L its strictly lower
/// part and θ = yᵀy / sᵀy of the newest pair. M is never formed: products with it go through the
/// Cholesky factor J of T = θSᵀS + L D⁻¹ Lᵀ (routines `matupd`, `formt` and `bmv` of L-BFGS-B).
struct CompactBFGS {
    let m: Int
    /// Corrections sₖ = xₖ₊₁ − xₖ and yₖ = gₖ₊₁ − gₖ, oldest first.
    private(set) var s: [[Double]] = []
    private(set) var y: [[Double]] = []
    /// sy[i][j] = sᵢᵀyⱼ, kept for i ≥ j (L and D); ss[i][j] = sᵢᵀsⱼ, kept for i ≤ j.
    private(set) var sy: [[Double]] = []
    private(set) var ss: [[Double]] = []
    private(set) var theta = 1.0
    /// Upper-triangular Jᵀ with T = J Jᵀ.
    private var jt: [[Double]] = []

    init(m: Int) { self.m = m }

    var col: Int { s.count }

    /// Forgets every correction (B = I), as the original does after any numerical failure.
    mutating func reset() {
        s = []; y = []; sy = []; ss = []; jt = []
        theta = 1
    }

    /// Adds the pair (s, y), dropping the oldest beyond m; `rr` = yᵀy, `dr` = sᵀy. The newest
    /// diagonal of SᵀS comes from the line search's ‖d‖² as in the original (stp²·dtd).
    mutating func update(s newS: [Double], y newY: [Double], rr: Double, dr: Double, stp: Double, dtd: Double) {
        if col == m {
            s.removeFirst(); y.removeFirst()
            sy.removeFirst(); ss.removeFirst()
            for i in sy.indices { sy[i].removeFirst(); ss[i].removeFirst() }
        }
        s.append(newS)
        y.append(newY)
        theta = rr / dr
        let c = col
        for i in sy.indices { sy[i].append(0); ss[i].append(0) }
        sy.append([Double](repeating: 0, count: c))
        ss.append([Double](repeating: 0, count: c))
        for j in 0..<(c - 1) {
            sy[c - 1][j] = dotD(newS, y[j])
            ss[j][c - 1] = dotD(s[j], newS)
        }
        ss[c - 1][c - 1] = stp == 1 ? dtd : stp * stp * dtd
        sy[c - 1][c - 1] = dr
    }

    /// Forms T = θSᵀS + L D⁻¹ Lᵀ (upper half) and factors it; false when T is not positive
    /// definite (`formt`).
    mutating func formT() -> Bool {
        let c = col
        var t = [[Double]](repeating: [Double](repeating: 0, count: c), count: c)
        for j in 0..<c { t[0][j] = theta * ss[0][j] }
        for i in 1..<max(1, c) {
            for j in i..<c {
                var sum = 0.0
                for k in 0..<min(i, j) { sum += sy[i][k] * sy[j][k] / sy[k][k] }
                t[i][j] = sum + theta * ss[i][j]
            }
        }
        guard let u = choleskyUpper(t) else { return false }
        jt = u
        return true
    }

    /// M·v for a 2·col vector v = [v₁; v₂] (`bmv`); nil when a triangular solve meets a zero pivot.
    func middleProduct(_ v: [Double]) -> [Double]? {
        let c = col
        guard c > 0 else { return [] }
        var p = [Double](repeating: 0, count: 2 * c)
        // Solve [ D^½  0 ; −L D^-½  J ] [p₁; p₂] = [v₁; v₂]: first J p₂ = v₂ + L D⁻¹ v₁.
        p[c] = v[c]
        for i in 1..<c {
            var sum = 0.0
            for k in 0..<i { sum += sy[i][k] * v[k] / sy[k][k] }
            p[c + i] = v[c + i] + sum
        }
        guard var p2 = solveUpperTransposed(jt, Array(p[c..<(2 * c)])) else { return nil }
        for i in 0..<c { p[i] = v[i] / sy[i][i].squareRoot() }
        // Then [ −D^½  D^-½ Lᵀ ; 0  Jᵀ ] [p₁; p₂] = [p₁; p₂].
        guard let solved = solveUpper(jt, p2) else { return nil }
        p2 = solved
        for i in 0..<c { p[i] = -p[i] / sy[i][i].squareRoot() }
        for i in 0..<c {
            var sum = 0.0
            for k in (i + 1)..<max(i + 1, c) { sum += sy[k][i] * p2[k] / sy[i][i] }
            p[i] += sum
        }
        for i in 0..<c { p[c + i] = p2[i] }
        return p
    }
}

// MARK: - Small dense kernels (Double, row-major [[Double]])

@inline(__always)
func dotD(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

/// Upper U with A = UᵀU from the upper triangle of A (LAPACK `dpotrf` with uplo 'U'); nil when
/// A is not positive definite.
func choleskyUpper(_ a: [[Double]]) -> [[Double]]? {
    let n = a.count
    var u = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for j in 0..<n {
        var ajj = a[j][j]
        for k in 0..<j { ajj -= u[k][j] * u[k][j] }
        guard ajj > 0, ajj.isFinite else { return nil }
        let ujj = ajj.squareRoot()
        u[j][j] = ujj
        for i in (j + 1)..<max(j + 1, n) {
            var sum = a[j][i]
            for k in 0..<j { sum -= u[k][j] * u[k][i] }
            u[j][i] = sum / ujj
        }
    }
    return u
}

/// Solves Uᵀx = b for upper-triangular U (forward substitution); nil on a zero pivot.
func solveUpperTransposed(_ u: [[Double]], _ b: [Double]) -> [Double]? {
    let n = b.count
    var x = b
    for i in 0..<n {
        guard u[i][i] != 0 else { return nil }
        var sum = x[i]
        for k in 0..<i { sum -= u[k][i] * x[k] }
        x[i] = sum / u[i][i]
    }
    return x
}

/// Solves Ux = b for upper-triangular U (back substitution); nil on a zero pivot.
func solveUpper(_ u: [[Double]], _ b: [Double]) -> [Double]? {
    let n = b.count
    var x = b
    for i in stride(from: n - 1, through: 0, by: -1) {
        guard u[i][i] != 0 else { return nil }
        var sum = x[i]
        for k in (i + 1)..<max(i + 1, n) { sum -= u[i][k] * x[k] }
        x[i] = sum / u[i][i]
    }
    return x
}
