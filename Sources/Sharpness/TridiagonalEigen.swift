import Foundation

/// Eigenvalues of a real symmetric matrix in ascending order, with unit eigenvectors when asked
/// for (`vectors[i]` belongs to `values[i]`).
///
///     let e = try TridiagonalEigen.decompose(diagonal: [2, 2], offDiagonal: [1]); e.values   // [1, 3]
public struct SymmetricEigensystem: Sendable {
    public let values: [Double]
    /// Empty when the decomposition was asked for values only.
    public let vectors: [[Double]]

    public init(values: [Double], vectors: [[Double]]) {
        self.values = values
        self.vectors = vectors
    }
}

/// Symmetric tridiagonal eigensolver: the implicit QL algorithm with Wilkinson shifts (EISPACK
/// `tql2`, as in Numerical Recipes' `tqli`), in Double. Debian's OpenBLAS ships no LAPACKE, and
/// Lanczos needs exactly this small problem solved.
///
///     let e = try TridiagonalEigen.decompose(diagonal: [1, 2, 3], offDiagonal: [0.5, 0.5])
public enum TridiagonalEigen {
    /// Eigen-decomposition of the tridiagonal matrix with `diagonal` (n) and `offDiagonal`
    /// (n − 1, the entries T[i+1][i]).
    ///
    ///     let values = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: e, vectors: false).values
    public static func decompose(diagonal: [Double], offDiagonal: [Double],
                                 vectors: Bool = true) throws -> SymmetricEigensystem {
        let n = diagonal.count
        let (values, rows) = try decompose(diagonal: diagonal, offDiagonal: offDiagonal,
                                           rows: vectors ? Array(0..<n) : [])
        guard vectors else { return SymmetricEigensystem(values: values, vectors: []) }
        // rows[r][i] is component r of eigenvector i.
        let vecs = (0..<n).map { i in (0..<n).map { r in rows[r][i] } }
        return SymmetricEigensystem(values: values, vectors: vecs)
    }

    /// Eigenvalues (ascending) and only the requested rows of the eigenvector matrix:
    /// `components[r][i]` is entry `rows[r]` of eigenvector i. Lanczos needs the last row (Ritz
    /// residual estimates) and quadrature the first row (Golub–Welsch weights), each in O(n²).
    static func decompose(diagonal: [Double], offDiagonal: [Double],
                          rows: [Int]) throws -> (values: [Double], components: [[Double]]) {
        let n = diagonal.count
        guard n > 0 else { return ([], rows.map { _ in [] }) }
        guard offDiagonal.count == n - 1 else {
            throw SharpnessError("tridiagonal eigen", "\(offDiagonal.count) off-diagonal entries for a \(n)×\(n) matrix (need \(n - 1))")
        }
        guard diagonal.allSatisfy(\.isFinite), offDiagonal.allSatisfy(\.isFinite) else {
            throw SharpnessError("tridiagonal eigen", "matrix has a non-finite entry")
        }
        var z = rows.map { r in (0..<n).map { $0 == r ? 1.0 : 0.0 } }
        var d = diagonal
        var e = offDiagonal
        try implicitQL(&d, &e, &z)
        return sortAscending(d, z)
    }

    /// The QL iteration proper. On entry `d` is the diagonal, `e` the subdiagonal (n − 1), and
    /// the rows of `z` any rows of the orthogonal matrix the tridiagonal came from (identity rows
    /// for a plain tridiagonal, rows of Q after a Householder reduction); on exit `d` holds the
    /// eigenvalues and `z`'s columns are multiplied by the accumulated rotations.
    static func implicitQL(_ d: inout [Double], _ eIn: inout [Double], _ z: inout [[Double]]) throws {
        let n = d.count
        var e = eIn + [0]
        for l in 0..<n {
            var iterations = 0
            var m = l
            repeat {
                m = l
                while m < n - 1 {
                    let dd = abs(d[m]) + abs(d[m + 1])
                    if abs(e[m]) <= Double.ulpOfOne * dd { break }
                    m += 1
                }
                if m != l {
                    iterations += 1
                    if iterations > 60 {
                        throw SharpnessError("tridiagonal eigen", "QL did not converge in 60 iterations for eigenvalue \(l)")
                    }
                    var g = (d[l + 1] - d[l]) / (2 * e[l])
                    var r = hypot(g, 1)
                    g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r))
                    var s = 1.0, c = 1.0, p = 0.0
                    var i = m - 1
                    var deflated = false
                    while i >= l {
                        var f = s * e[i]
                        let b = c * e[i]
                        r = hypot(f, g)
                        e[i + 1] = r
                        if r == 0 {
                            // Underflow: the matrix split here; restart the sweep at l.
                            d[i + 1] -= p
                            e[m] = 0
                            deflated = true
                            break
                        }
                        s = f / r
                        c = g / r
                        g = d[i + 1] - p
                        r = (d[i] - g) * s + 2 * c * b
                        p = s * r
                        d[i + 1] = g + p
                        g = c * r - b
                        for k in 0..<z.count {
                            f = z[k][i + 1]
                            z[k][i + 1] = s * z[k][i] + c * f
                            z[k][i] = c * z[k][i] - s * f
                        }
                        i -= 1
                    }
                    if deflated { continue }
                    d[l] -= p
                    e[l] = g
                    e[m] = 0
                }
            } while m != l
        }
        eIn = Array(e.prefix(n - 1))
    }

    /// Sorts eigenvalues ascending and permutes the columns of `z` to match.
    static func sortAscending(_ d: [Double], _ z: [[Double]]) -> (values: [Double], components: [[Double]]) {
        let order = d.indices.sorted { d[$0] < d[$1] || (d[$0] == d[$1] && $0 < $1) }
        return (order.map { d[$0] }, z.map { row in order.map { row[$0] } })
    }
}
