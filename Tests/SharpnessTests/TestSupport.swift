import CBLAS
import Foundation
import XCTest
@testable import Sharpness
import Tensor

// Shared helpers for the Sharpness tests: operators with known spectra (the independent truth),
// comparisons and the fixture path.

/// A generator for test data whose stream never coincides with a solver's seeded start vectors
/// (a start vector equal to the first row of Q would be an exact eigenvector).
func testDataGenerator(_ seed: UInt64) -> RandomGenerator {
    RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x5EED_DA7A)
}

/// A random orthogonal n×n matrix (row-major, Double): modified Gram–Schmidt, twice, on the rows
/// of a seeded Gaussian matrix.
func randomOrthogonal(_ n: Int, seed: UInt64) -> [Double] {
    var rng = testDataGenerator(seed)
    var q = (0..<(n * n)).map { _ in rng.normal() }
    q.withUnsafeMutableBufferPointer { p in
        let base = p.baseAddress!
        for i in 0..<n {
            for _ in 0..<2 {
                for j in 0..<i {
                    let c = cblas_ddot(Int32(n), base + j * n, 1, base + i * n, 1)
                    cblas_daxpy(Int32(n), -c, base + j * n, 1, base + i * n, 1)
                }
            }
            let norm = cblas_dnrm2(Int32(n), base + i * n, 1)
            cblas_dscal(Int32(n), 1 / norm, base + i * n, 1)
        }
    }
    return q
}

/// QᵀΛQ for the rows of a random orthogonal Q: a dense symmetric matrix (Double, row-major) whose
/// eigenvalues are exactly `eigenvalues` (up to Double rounding).
func denseWithSpectrum(_ eigenvalues: [Double], seed: UInt64) -> [Double] {
    let n = eigenvalues.count
    let q = randomOrthogonal(n, seed: seed)
    var scaled = q
    for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= eigenvalues[i] } }
    var a = [Double](repeating: 0, count: n * n)
    // A = Qᵀ (ΛQ)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, q, Int32(n),
                scaled, Int32(n), 0, &a, Int32(n))
    for i in 0..<n { for j in (i + 1)..<max(i + 1, n) {
        let m = (a[i * n + j] + a[j * n + i]) / 2
        a[i * n + j] = m
        a[j * n + i] = m
    } }
    return a
}

/// The Float32 operator of `denseWithSpectrum`.
func denseOperator(_ eigenvalues: [Double], seed: UInt64) throws -> DenseSymmetricOperator {
    let a = denseWithSpectrum(eigenvalues, seed: seed)
    return try DenseSymmetricOperator(matrix: a.map(Float.init), dimension: eigenvalues.count)
}

/// The test spectrum: well-separated outliers of both signs, a cluster of three, and a bulk.
///
/// positives 50, 41, 33, 27, 22, 18, cluster 15.5, 15.4, 15.3, then 12, 11, 10;
/// negatives −37, −24, −13, −9; the rest uniform in [−2, 6].
func outlierSpectrum(_ n: Int, seed: UInt64) -> [Double] {
    let outliers: [Double] = [50, 41, 33, 27, 22, 18, 15.5, 15.4, 15.3, 12, 11, 10, -37, -24, -13, -9]
    var rng = testDataGenerator(seed ^ 1)
    let bulk = (0..<(n - outliers.count)).map { _ in -2 + 8 * rng.uniformDouble() }
    var all = outliers + bulk
    // Shuffle so the big ones are not the first coordinates.
    let order = rng.permutation(n)
    all = order.map { all[$0] }
    return all
}

/// A spectrum shaped like a trained network's Hessian: a few outliers decaying geometrically
/// (100, 70, 49, …), a bulk near zero of both signs.
func hessianLikeSpectrum(_ n: Int, seed: UInt64) -> [Double] {
    var rng = testDataGenerator(seed ^ 2)
    let outliers = (0..<12).map { 100 * pow(0.7, Double($0)) }
    let bulk = (0..<(n - outliers.count)).map { _ in 0.2 * rng.normal() }
    let order = rng.permutation(n)
    let all = outliers + bulk
    return order.map { all[$0] }
}

/// The first k of `values` in `which` order (the truth a solver should return).
func expected(_ values: [Double], k: Int, which: SpectrumEnd) -> [Double] {
    Array(values.sorted { which.precedes($0, $1) }.prefix(k))
}

func assertRelativelyClose(_ a: [Double], _ b: [Double], _ tol: Double, _ message: String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        let rel = abs(x - y) / max(abs(y), 1e-300)
        XCTAssertLessThanOrEqual(rel, tol, "\(message) [\(i)]: \(x) vs \(y) (relative \(rel))", file: file, line: line)
    }
}

/// Tests/SharpnessTests/Fixtures/<name>.
func fixtureURL(_ name: String, file: StaticString = #filePath) -> URL {
    URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Fixtures")
        .appendingPathComponent(name)
}

/// f(x) = ½xᵀQx − bᵀx on a box, with b built from a chosen minimizer x*: free coordinates
/// have zero gradient, coordinates at a lower bound a positive one, at an upper bound a
/// negative one. Q is positive definite, so x* is the unique minimizer (KKT).
func boxQuadratic(n: Int, seed: UInt64) -> (LBFGSB.Objective, Bounds, xStar: [Double], active: [Int]) {
    var rng = testDataGenerator(seed ^ 3)
    let m = (0..<(n * n)).map { _ in rng.normal() }
    var q = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for j in 0..<n {
        var s = 0.0
        for k in 0..<n { s += m[k * n + i] * m[k * n + j] }
        q[i][j] = s / Double(n) + (i == j ? 0.3 : 0)
    } }
    let lower = (0..<n).map { _ in -1 - rng.uniformDouble() }
    let upper = (0..<n).map { _ in 1 + rng.uniformDouble() }
    var xStar = [Double](repeating: 0, count: n)
    var gStar = [Double](repeating: 0, count: n)
    var active: [Int] = []
    for i in 0..<n {
        switch i % 3 {
        case 0: xStar[i] = lower[i]; gStar[i] = 0.5 + rng.uniformDouble(); active.append(i)
        case 1: xStar[i] = upper[i]; gStar[i] = -0.5 - rng.uniformDouble(); active.append(i)
        default: xStar[i] = lower[i] + (upper[i] - lower[i]) * (0.2 + 0.6 * rng.uniformDouble())
        }
    }
    let b = (0..<n).map { i in zip(q[i], xStar).reduce(0) { $0 + $1.0 * $1.1 } - gStar[i] }
    let f: LBFGSB.Objective = { x in
        let qx = q.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
        let value = 0.5 * zip(x, qx).reduce(0) { $0 + $1.0 * $1.1 } - zip(b, x).reduce(0) { $0 + $1.0 * $1.1 }
        return (value, zip(qx, b).map { $0 - $1 })
    }
    return (f, Bounds(lower: lower, upper: upper), xStar, active)
}

/// Rosenbrock's function Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² and its gradient.
func rosenbrock(_ x: [Double]) -> (value: Double, gradient: [Double]) {
    var value = 0.0
    var g = [Double](repeating: 0, count: x.count)
    for i in 0..<(x.count - 1) {
        let a = x[i + 1] - x[i] * x[i], b = 1 - x[i]
        value += 100 * a * a + b * b
        g[i] += -400 * x[i] * a - 2 * b
        g[i + 1] += 200 * a
    }
    return (value, g)
}
