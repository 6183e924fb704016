import Foundation

/// Dense symmetric eigen-decomposition by Householder reduction to tridiagonal form (EISPACK
/// `tred2`) followed by implicit QL — O(n³) with a small constant. Thick-restart Lanczos needs it
/// for its projected matrix, which after a restart is an arrowhead rather than a tridiagonal.
enum HouseholderTridiagonal {
    /// Reduces the symmetric n×n row-major `matrix` to Q T Qᵀ: returns T's diagonal, its
    /// subdiagonal (n − 1) and Q (row-major, n×n).
    static func reduce(_ matrix: [Double], _ n: Int) -> (d: [Double], e: [Double], q: [Double]) {
        // 1-based indices as in the reference, on an (n+1)×(n+1) scratch array.
        let s = n + 1
        var a = [Double](repeating: 0, count: s * s)
        for i in 0..<n { for j in 0..<n { a[(i + 1) * s + j + 1] = matrix[i * n + j] } }
        var d = [Double](repeating: 0, count: s)
        var e = [Double](repeating: 0, count: s)
        if n >= 2 {
            for i in stride(from: n, through: 2, by: -1) {
                let l = i - 1
                var h = 0.0
                if l > 1 {
                    var scaleSum = 0.0
                    for k in 1...l { scaleSum += abs(a[i * s + k]) }
                    if scaleSum == 0 {
                        e[i] = a[i * s + l]
                    } else {
                        for k in 1...l {
                            a[i * s + k] /= scaleSum
                            h += a[i * s + k] * a[i * s + k]
                        }
                        var f = a[i * s + l]
                        var g = f >= 0 ? -h.squareRoot() : h.squareRoot()
                        e[i] = scaleSum * g
                        h -= f * g
                        a[i * s + l] = f - g
                        f = 0
                        for j in 1...l {
                            a[j * s + i] = a[i * s + j] / h
                            g = 0
                            for k in 1...j { g += a[j * s + k] * a[i * s + k] }
                            if j + 1 <= l { for k in (j + 1)...l { g += a[k * s + j] * a[i * s + k] } }
                            e[j] = g / h
                            f += e[j] * a[i * s + j]
                        }
                        let hh = f / (h + h)
                        for j in 1...l {
                            f = a[i * s + j]
                            g = e[j] - hh * f
                            e[j] = g
                            for k in 1...j { a[j * s + k] -= f * e[k] + g * a[i * s + k] }
                        }
                    }
                } else {
                    e[i] = a[i * s + l]
                }
                d[i] = h
            }
        }
        d[1] = 0
        e[1] = 0
        // Accumulate the transformations into Q.
        for i in 1...n {
            let l = i - 1
            if d[i] != 0 && l >= 1 {
                for j in 1...l {
                    var g = 0.0
                    for k in 1...l { g += a[i * s + k] * a[k * s + j] }
                    for k in 1...l { a[k * s + j] -= g * a[k * s + i] }
                }
            }
            d[i] = a[i * s + i]
            a[i * s + i] = 1
            if l >= 1 { for j in 1...l { a[j * s + i] = 0; a[i * s + j] = 0 } }
        }
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { q[i * n + j] = a[(i + 1) * s + j + 1] } }
        // e[i] (1-based, i ≥ 2) couples rows i−1 and i.
        return (Array(d[1...n]), n >= 2 ? Array(e[2...n]) : [], q)
    }

    /// Eigenvalues (ascending) of the symmetric `matrix` and the requested rows of its eigenvector
    /// matrix (`components[r][i]` = entry `rows[r]` of eigenvector i).
    static func decompose(_ matrix: [Double], _ n: Int,
                          rows: [Int]) throws -> (values: [Double], components: [[Double]]) {
        guard n > 0 else { return ([], rows.map { _ in [] }) }
        guard matrix.allSatisfy(\.isFinite) else {
            throw SharpnessError("symmetric eigen", "matrix has a non-finite entry")
        }
        var (d, e, q) = reduce(matrix, n)
        var z = rows.map { r in Array(q[(r * n)..<(r * n + n)]) }
        try TridiagonalEigen.implicitQL(&d, &e, &z)
        return TridiagonalEigen.sortAscending(d, z)
    }
}
