import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// Deflated power iteration, the second method: same record as Lanczos, same truth.
final class PowerIterationTests: XCTestCase {

    /// Separated outliers of both signs over a bulk in [−1, 1].
    func separatedSpectrum(_ n: Int, seed: UInt64) -> [Double] {
        var rng = testDataGenerator(seed ^ 4)
        let outliers: [Double] = [10, -8, 6, -5.5, 4.5, 3]
        let all = outliers + (0..<(n - outliers.count)).map { _ in -1 + 2 * rng.uniformDouble() }
        return rng.permutation(n).map { all[$0] }
    }

    func check(_ r: Eigenpairs, truth: [Double], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRelativelyClose(r.values, truth, 1e-4, label, file: file, line: line)
        XCTAssertTrue(r.converged.allSatisfy { $0 }, "\(label): \(r.residuals)", file: file, line: line)
        XCTAssertTrue(r.residuals.allSatisfy { $0 <= 1e-4 }, file: file, line: line)
        XCTAssertEqual(r.method, "power", file: file, line: line)
        print("\(label): \(r.hvps) hvps")
    }

    func testLargestMagnitudeOnDiagonal() throws {
        let spectrum = separatedSpectrum(500, seed: 1)
        let r = try PowerIteration.eigenpairs(of: DiagonalOperator(spectrum.map(Float.init)), k: 4, seed: 1,
                                              vectors: true, progress: .silent)
        check(r, truth: [10, -8, 6, -5.5], "power LM top-4 (diag)")
        XCTAssertEqual(r.vectors.count, 4)
    }

    func testBothEndsOnRandomOrthogonalMatrix() throws {
        let spectrum = separatedSpectrum(200, seed: 2)
        let h = try denseOperator(spectrum, seed: 2)
        check(try PowerIteration.eigenpairs(of: h, k: 3, which: .largestAlgebraic, seed: 2, progress: .silent),
              truth: [10, 6, 4.5], "power LA top-3 (QΛQᵀ)")
        check(try PowerIteration.eigenpairs(of: h, k: 2, which: .smallestAlgebraic, seed: 3, progress: .silent),
              truth: [-8, -5.5], "power SA bottom-2 (QΛQᵀ)")
    }

    /// Lanczos and power iteration agree on the same operator.
    func testAgreesWithLanczos() throws {
        let spectrum = separatedSpectrum(300, seed: 4)
        let h = try denseOperator(spectrum, seed: 4)
        let power = try PowerIteration.eigenpairs(of: h, k: 3, seed: 5, progress: .silent)
        let lanczos = try Lanczos.eigenpairs(of: h, k: 3, seed: 5, progress: .silent)
        assertRelativelyClose(power.values, lanczos.values, 1e-4, "power vs lanczos")
        XCTAssertLessThan(lanczos.hvps, power.hvps)
    }

    /// Out of iterations: the pair comes back flagged, with its honest residual.
    func testUnconvergedPairIsFlagged() throws {
        let d: [Float] = [1, 0.999, 0.5] + [Float](repeating: 0.1, count: 97)
        let r = try PowerIteration.eigenpairs(of: DiagonalOperator(d), k: 1, tol: 1e-8, seed: 1,
                                              maxIterations: 5, progress: .silent)
        XCTAssertEqual(r.converged, [false])
        XCTAssertGreaterThan(r.residuals[0], 1e-8)
        XCTAssertEqual(r.hvps, 5)
    }
}
