import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// Hutchinson's estimator against the exact trace of matrices built with a known spectrum.
final class HutchinsonTests: XCTestCase {

    func testMeanWithinThreeStandardErrorsOfExactTrace() throws {
        let spectrum = outlierSpectrum(300, seed: 1)
        let a = denseWithSpectrum(spectrum, seed: 1)
        let h = try DenseSymmetricOperator(matrix: a.map(Float.init), dimension: 300)
        let exact = spectrum.reduce(0, +)
        let t = try Hutchinson.trace(of: h, probes: 200, seed: 1, progress: .silent)
        print("hutchinson: trace \(t.trace) ± \(t.stderr), exact \(exact)")
        XCTAssertEqual(t.hvps, 200)
        XCTAssertEqual(t.samples.count, 200)
        XCTAssertLessThanOrEqual(abs(t.trace - exact), 3 * t.stderr)
        // The per-probe variance of a Rademacher probe is 2·Σ_{i≠j} Aᵢⱼ²; the sample variance
        // behind the standard error should be near it.
        var offDiagonal = 0.0
        for i in 0..<300 { for j in 0..<300 where i != j { offDiagonal += a[i * 300 + j] * a[i * 300 + j] } }
        let sampleVariance = t.stderr * t.stderr * 200
        XCTAssertEqual(sampleVariance / (2 * offDiagonal), 1, accuracy: 0.35)
    }

    /// zᵀDz = tr D for every ±1 probe: no variance at all.
    func testDiagonalOperatorIsExact() throws {
        let d: [Float] = (0..<100).map { Float($0 % 7) - 2.5 }
        let t = try Hutchinson.trace(of: DiagonalOperator(d), probes: 10, seed: 3, progress: .silent)
        XCTAssertEqual(t.trace, d.reduce(0) { $0 + Double($1) }, accuracy: 1e-9)
        XCTAssertEqual(t.stderr, 0, accuracy: 1e-9)
    }

    func testStandardErrorDefinitionAndErrors() throws {
        let (mean, se) = meanAndStandardError([1, 2, 3, 4])
        XCTAssertEqual(mean, 2.5)
        XCTAssertEqual(se, (5.0 / 3.0 / 4.0).squareRoot(), accuracy: 1e-15)
        XCTAssertTrue(try Hutchinson.trace(of: DiagonalOperator([1, 2]), probes: 1, progress: .silent).stderr.isNaN)
        XCTAssertThrowsError(try Hutchinson.trace(of: DiagonalOperator([1, 2]), probes: 0, progress: .silent))
    }
}
