import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// The small dense solvers: implicit QL on tridiagonals, Householder + QL and cyclic Jacobi on
/// dense matrices, against closed forms and against each other.
final class EigensolverTests: XCTestCase {

    /// tridiag(b, a, b) of size n has eigenvalues a + 2b·cos(kπ/(n+1)), k = 1…n.
    func testTridiagonalToeplitzClosedForm() throws {
        let n = 40, a = 1.5, b = -0.7
        let e = try TridiagonalEigen.decompose(diagonal: Array(repeating: a, count: n),
                                               offDiagonal: Array(repeating: b, count: n - 1))
        let exact = (1...n).map { a + 2 * b * cos(Double($0) * Double.pi / Double(n + 1)) }.sorted()
        for (x, y) in zip(e.values, exact) { XCTAssertEqual(x, y, accuracy: 1e-13) }
        // Eigenvectors: unit, orthogonal, T v = λ v.
        for i in 0..<n {
            let v = e.vectors[i]
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12)
            for r in 0..<n {
                var tv = a * v[r]
                if r > 0 { tv += b * v[r - 1] }
                if r < n - 1 { tv += b * v[r + 1] }
                XCTAssertEqual(tv, e.values[i] * v[r], accuracy: 1e-12)
            }
            if i > 0 {
                let d = zip(v, e.vectors[i - 1]).reduce(0) { $0 + $1.0 * $1.1 }
                XCTAssertEqual(d, 0, accuracy: 1e-12)
            }
        }
    }

    /// Jacobi and tridiagonal QL agree on the same small matrix (a random tridiagonal, read densely
    /// by Jacobi), values and vectors (up to sign).
    func testJacobiAgreesWithTridiagonalQL() throws {
        var rng = RandomGenerator(seed: 11)
        let n = 12
        let d = (0..<n).map { _ in rng.normal() * 3 }
        let off = (0..<(n - 1)).map { _ in rng.normal() }
        var dense = [Double](repeating: 0, count: n * n)
        for i in 0..<n { dense[i * n + i] = d[i] }
        for i in 0..<(n - 1) { dense[(i + 1) * n + i] = off[i]; dense[i * n + i + 1] = off[i] }
        let ql = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: off)
        let jacobi = try JacobiEigen.decompose(matrix: dense, dimension: n)
        for i in 0..<n {
            XCTAssertEqual(ql.values[i], jacobi.values[i], accuracy: 1e-12)
            let sign = zip(ql.vectors[i], jacobi.vectors[i]).reduce(0) { $0 + $1.0 * $1.1 } >= 0 ? 1.0 : -1.0
            for r in 0..<n { XCTAssertEqual(ql.vectors[i][r], sign * jacobi.vectors[i][r], accuracy: 1e-10) }
        }
    }

    /// A dense matrix with a known spectrum (including negative and repeated eigenvalues): Jacobi
    /// and Householder + QL both recover it; Jacobi's vectors satisfy AV = VΛ.
    func testDenseSolversRecoverKnownSpectrum() throws {
        let spectrum: [Double] = [-4, -1, -1, 0, 0.5, 2, 2, 2, 3.25, 7, 11, 20]
        let n = spectrum.count
        let a = denseWithSpectrum(spectrum, seed: 5)
        let exact = spectrum.sorted()
        let jacobi = try JacobiEigen.decompose(matrix: a, dimension: n)
        let householder = try HouseholderTridiagonal.decompose(a, n, rows: Array(0..<n))
        for i in 0..<n {
            XCTAssertEqual(jacobi.values[i], exact[i], accuracy: 1e-12)
            XCTAssertEqual(householder.values[i], exact[i], accuracy: 1e-12)
            for r in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + a[r * n + $1] * jacobi.vectors[i][$1] }
                XCTAssertEqual(av, jacobi.values[i] * jacobi.vectors[i][r], accuracy: 1e-11)
                // Householder + QL eigenvectors (columns of components) satisfy the same.
                let hv = (0..<n).reduce(0.0) { $0 + a[r * n + $1] * householder.components[$1][i] }
                XCTAssertEqual(hv, householder.values[i] * householder.components[r][i], accuracy: 1e-11)
            }
        }
    }

    /// Asking QL for selected rows gives the same components as the full decomposition.
    func testSelectedRowsMatchFullVectors() throws {
        var rng = RandomGenerator(seed: 3)
        let n = 30
        let d = (0..<n).map { _ in rng.normal() }
        let off = (0..<(n - 1)).map { _ in rng.normal() }
        let full = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: off)
        let (values, rows) = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: off, rows: [0, n - 1])
        XCTAssertEqual(values, full.values)
        for i in 0..<n {
            XCTAssertEqual(rows[0][i], full.vectors[i][0], accuracy: 1e-14)
            XCTAssertEqual(rows[1][i], full.vectors[i][n - 1], accuracy: 1e-14)
        }
    }

    func testBadInputsThrow() {
        XCTAssertThrowsError(try TridiagonalEigen.decompose(diagonal: [1, 2], offDiagonal: [1, 2]))
        XCTAssertThrowsError(try TridiagonalEigen.decompose(diagonal: [1, .nan], offDiagonal: [1]))
        XCTAssertThrowsError(try JacobiEigen.decompose(matrix: [1, 2, 3], dimension: 2))
        XCTAssertThrowsError(try DenseSymmetricOperator(matrix: [1, 2, 3], dimension: 2))
    }
}
