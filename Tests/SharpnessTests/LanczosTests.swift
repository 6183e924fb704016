import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// Lanczos with full reorthogonalization against operators whose spectra the test chose: top and
/// bottom eigenvalues to 1e-4 relative (the contract's tol), residuals recomputed and within tol.
final class LanczosTests: XCTestCase {

    func check(_ r: Eigenpairs, truth: [Double], tol: Double = 1e-4, _ label: String,
               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.values.count, truth.count, file: file, line: line)
        assertRelativelyClose(r.values, truth, tol, label, file: file, line: line)
        XCTAssertTrue(r.converged.allSatisfy { $0 }, "\(label): converged \(r.converged)", file: file, line: line)
        for (res, ok) in zip(r.residuals, r.converged) {
            XCTAssertEqual(res <= r.tol, ok, file: file, line: line)
            XCTAssertLessThanOrEqual(res, tol, "\(label): residual", file: file, line: line)
        }
        print("\(label): \(r.hvps) hvps, max residual \(String(format: "%.1e", r.residuals.max() ?? 0))")
    }

    // MARK: Known spectra

    func testTopTenLargestMagnitudeOnDiagonalWithOutliersAndCluster() throws {
        let spectrum = outlierSpectrum(2000, seed: 1)
        let h = DiagonalOperator(spectrum.map(Float.init))
        let r = try Lanczos.eigenpairs(of: h, k: 10, which: .largestMagnitude, seed: 1, progress: .silent)
        check(r, truth: expected(spectrum, k: 10, which: .largestMagnitude), "diag outliers LM top-10")
        XCTAssertEqual(r.method, "lanczos")
    }

    func testLargestAndSmallestAlgebraicOnRandomOrthogonalMatrix() throws {
        let spectrum = outlierSpectrum(300, seed: 2)
        let h = try denseOperator(spectrum, seed: 2)
        let top = try Lanczos.eigenpairs(of: h, k: 6, which: .largestAlgebraic, seed: 2, progress: .silent)
        check(top, truth: expected(spectrum, k: 6, which: .largestAlgebraic), "QΛQᵀ LA top-6")
        let bottom = try Lanczos.eigenpairs(of: h, k: 4, which: .smallestAlgebraic, seed: 3, progress: .silent)
        check(bottom, truth: expected(spectrum, k: 4, which: .smallestAlgebraic), "QΛQᵀ SA bottom-4")
        XCTAssertEqual(bottom.values, bottom.values.sorted())
        XCTAssertEqual(top.values, top.values.sorted(by: >))
    }

    func testTopTenOnHessianLikeSpectra() throws {
        let spectrum = hessianLikeSpectrum(400, seed: 4)
        let dense = try denseOperator(spectrum, seed: 4)
        let r = try Lanczos.eigenpairs(of: dense, k: 10, seed: 4, progress: .silent)
        check(r, truth: expected(spectrum, k: 10, which: .largestMagnitude), "QΛQᵀ Hessian-like LM top-10 (n 400)")

        let big = hessianLikeSpectrum(20000, seed: 5)
        let diag = try Lanczos.eigenpairs(of: DiagonalOperator(big.map(Float.init)), k: 10, seed: 5, progress: .silent)
        check(diag, truth: expected(big, k: 10, which: .largestMagnitude), "diag Hessian-like LM top-10 (n 20000)")
    }

    /// Top-10 of a 10⁵-dimensional operator stays within a 100-vector basis (40 MB).
    func testTopTenOfHundredThousandDimensions() throws {
        let n = 100_000
        let spectrum = hessianLikeSpectrum(n, seed: 6)
        let r = try Lanczos.eigenpairs(of: DiagonalOperator(spectrum.map(Float.init)), k: 10, seed: 6,
                                       vectors: true, progress: .silent)
        check(r, truth: expected(spectrum, k: 10, which: .largestMagnitude), "diag Hessian-like LM top-10 (n 1e5)")
        // The eigenvectors of a diagonal operator are coordinate vectors.
        for (v, lambda) in zip(r.vectors, r.values) {
            let i = spectrum.firstIndex(of: spectrum.min { abs($0 - lambda) < abs($1 - lambda) }!)!
            XCTAssertEqual(abs(Double(v[i])), 1, accuracy: 1e-4)
        }
    }

    /// A basis too small for the cluster forces thick restarts; the answer is the same.
    func testThickRestartConvergesWithSmallBasis() throws {
        let spectrum = outlierSpectrum(1000, seed: 7)
        let h = DiagonalOperator(spectrum.map(Float.init))
        let r = try Lanczos.eigenpairs(of: h, k: 10, seed: 7, maxBasis: 24, progress: .silent)
        check(r, truth: expected(spectrum, k: 10, which: .largestMagnitude), "diag outliers LM top-10, maxBasis 24")
        let s = try Lanczos.eigenpairs(of: h, k: 4, which: .smallestAlgebraic, seed: 7, maxBasis: 12, progress: .silent)
        check(s, truth: expected(spectrum, k: 4, which: .smallestAlgebraic), "diag outliers SA bottom-4, maxBasis 12")
    }

    /// When the basis can span the whole space the Ritz pairs are exact.
    func testSmallOperatorWholeSpectrum() throws {
        let spectrum: [Double] = [5, -3, 2, 2, 1, 0.5, -0.25, 7, -6, 4, 3, 1.5]
        let h = try denseOperator(spectrum, seed: 8)
        let r = try Lanczos.eigenpairs(of: h, k: 11, which: .largestAlgebraic, seed: 8, progress: .silent)
        check(r, truth: expected(spectrum, k: 11, which: .largestAlgebraic), tol: 1e-5, "12×12 LA top-11")
    }

    /// An operator with an invariant subspace the start vector cannot leave (a diagonal with
    /// repeated values): breakdowns restart with fresh directions.
    func testRepeatedEigenvaluesAcrossBreakdowns() throws {
        var d = [Float](repeating: 1, count: 300)
        for i in 0..<5 { d[i * 7] = 9 }        // λ = 9 five times
        d[100] = -4
        let r = try Lanczos.eigenpairs(of: DiagonalOperator(d), k: 6, seed: 9, progress: .silent)
        check(r, truth: [9, 9, 9, 9, 9, -4], "repeated eigenvalue 9 ×5")
    }

    func testSeedReproducesAndResultsCountOperatorApplications() throws {
        let spectrum = outlierSpectrum(500, seed: 10)
        var calls = 0
        let h = ClosureOperator(dimension: 500) { v in
            calls += 1
            return zip(spectrum, v).map { Float($0) * $1 }
        }
        let a = try Lanczos.eigenpairs(of: h, k: 5, seed: 42, progress: .silent)
        XCTAssertEqual(a.hvps, calls)
        let b = try Lanczos.eigenpairs(of: h, k: 5, seed: 42, progress: .silent)
        XCTAssertEqual(a.values, b.values)
        XCTAssertEqual(a.hvps, b.hvps)
        XCTAssertTrue(a.vectors.isEmpty)
    }

    func testProgressReportsEachApplicationAndCancellationStops() throws {
        let h = DiagonalOperator(outlierSpectrum(400, seed: 11).map(Float.init))
        var steps: [Int] = []
        _ = try Lanczos.eigenpairs(of: h, k: 3, seed: 1, progress: .report { step, _ in steps.append(step) })
        XCTAssertEqual(steps.first, 1)
        XCTAssertEqual(steps, steps.sorted())

        Cancellation.request()
        defer { Cancellation.clear() }
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: h, k: 3, progress: .silent)) { error in
            XCTAssertTrue(error is Cancelled)
        }
    }

    func testBadArgumentsThrow() {
        let h = DiagonalOperator([1, 2, 3])
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: h, k: 4, progress: .silent))
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: h, k: 0, progress: .silent))
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: h, k: 1, tol: 0, progress: .silent))
        let big = DiagonalOperator([Float](repeating: 1, count: 50))
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: big, k: 10, maxBasis: 11, progress: .silent))
        let wrong = ClosureOperator(dimension: 3) { _ in [1, 2] }
        XCTAssertThrowsError(try Lanczos.eigenpairs(of: wrong, k: 1, progress: .silent))
    }
}
