import Foundation

/// Cyclic Jacobi eigensolver for dense symmetric matrices, in Double: sweeps of plane rotations
/// over every off-diagonal pair until the off-diagonal mass is negligible. Slow (O(n³) per sweep)
/// but simple and independent of the QL path, which makes it the reference the tests diagonalize
/// assembled Hessians with.
///
///     let e = try JacobiEigen.decompose(matrix: [2, 1, 1, 2], dimension: 2); e.values   // [1, 3]
public enum JacobiEigen {
    /// Eigenvalues ascending and (when `vectors`) unit eigenvectors of the symmetric row-major
    /// `matrix`. The matrix is symmetrized as (A + Aᵀ)/2 first, so a slightly asymmetric
    /// assembled Hessian is read as its symmetric part.
    ///
    ///     let e = try JacobiEigen.decompose(matrix: h, dimension: n, vectors: false)
    public static func decompose(matrix: [Double], dimension n: Int, vectors: Bool = true,
                                 maxSweeps: Int = 100) throws -> SymmetricEigensystem {
        guard n > 0, matrix.count == n * n else {
            throw SharpnessError("jacobi eigen", "\(matrix.count) entries do not make a \(n)×\(n) matrix")
        }
        guard matrix.allSatisfy(\.isFinite) else { throw SharpnessError("jacobi eigen", "matrix has a non-finite entry") }
        var a = matrix
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) {
            let m = (a[i * n + j] + a[j * n + i]) / 2
            a[i * n + j] = m
            a[j * n + i] = m
        } }
        var v = [Double](repeating: 0, count: vectors ? n * n : 0)
        if vectors { for i in 0..<n { v[i * n + i] = 1 } }

        let total = a.reduce(0) { $0 + $1 * $1 }
        var sweep = 0
        while true {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where j != i { off += a[i * n + j] * a[i * n + j] } }
            // Converged when the off-diagonal mass is at the rounding level of the entries.
            if off <= Double(n * n) * Double.ulpOfOne * Double.ulpOfOne * total || off == 0 { break }
            sweep += 1
            if sweep > maxSweeps {
                throw SharpnessError("jacobi eigen", "no convergence in \(maxSweeps) sweeps")
            }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    // Rotation angle φ with t = tan φ the smaller root of t² + 2θt − 1 = 0,
                    // which zeroes a[p][q] and keeps the rotation close to the identity.
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t: Double
                    if abs(theta) > 1e150 {
                        t = 1 / (2 * theta)
                    } else {
                        t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    }
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    // A ← Jᵀ A J: columns p and q, then rows p and q.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    if vectors {
                        for k in 0..<n {
                            let vkp = v[k * n + p], vkq = v[k * n + q]
                            v[k * n + p] = c * vkp - s * vkq
                            v[k * n + q] = s * vkp + c * vkq
                        }
                    }
                }
            }
        }
        let diagonal = (0..<n).map { a[$0 * n + $0] }
        let order = diagonal.indices.sorted { diagonal[$0] < diagonal[$1] || (diagonal[$0] == diagonal[$1] && $0 < $1) }
        let vecs = vectors ? order.map { i in (0..<n).map { k in v[k * n + i] } } : []
        return SymmetricEigensystem(values: order.map { diagonal[$0] }, vectors: vecs)
    }
}
