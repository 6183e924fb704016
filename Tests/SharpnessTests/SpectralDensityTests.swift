import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// Stochastic Lanczos quadrature against the Gaussian-smoothed density of a dense matrix's exact
/// eigenvalues.
final class SpectralDensityTests: XCTestCase {

    /// L1 distance ∫|p − q| dx on a uniform grid (trapezoid rule).
    func l1(_ p: [Double], _ q: [Double], _ x: [Double]) -> Double {
        let dx = x[1] - x[0]
        var s = 0.0
        for i in x.indices { s += abs(p[i] - q[i]) * (i == 0 || i == x.count - 1 ? 0.5 : 1) }
        return s * dx
    }

    func integral(_ p: [Double], _ x: [Double]) -> Double { l1(p, [Double](repeating: 0, count: p.count), x) }

    func testMatchesSmoothedDensityOfExactEigenvalues() throws {
        let n = 300
        let spectrum = outlierSpectrum(n, seed: 1)
        let h = try denseOperator(spectrum, seed: 1)
        // The matrix is QᵀΛQ: its exact eigenvalues are the spectrum it was built from.
        let exactEigenvalues = spectrum
        let sigma = 1.0
        let q = try SpectralDensity.quadrature(of: h, steps: 60, probes: 20, seed: 1, progress: .silent)
        XCTAssertEqual(q.hvps, 60 * 20)
        for w in q.weights { XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-6) }
        for nodes in q.nodes {
            XCTAssertGreaterThanOrEqual(nodes.min()!, -37 - 1e-3)
            XCTAssertLessThanOrEqual(nodes.max()!, 50 + 1e-3)
        }
        let d = q.density(sigma: sigma, points: 2000)
        let exact = SpectralDensity.gaussianSmoothing(nodes: exactEigenvalues,
                                                      weights: [Double](repeating: 1 / Double(n), count: n),
                                                      sigma: sigma, at: d.x)
        let distance = l1(d.density, exact, d.x)
        print("SLQ vs exact smoothed density: L1 \(distance)")
        XCTAssertLessThan(distance, 0.1)
        XCTAssertEqual(integral(d.density, d.x), 1, accuracy: 1e-3)
        XCTAssertEqual(integral(exact, d.x), 1, accuracy: 1e-3)
    }

    /// On a diagonal operator with n distinct eigenvalues, n steps from a Rademacher probe give
    /// exactly the eigenvalues as nodes with weights z_i²/n = 1/n.
    func testFullLengthRunOnDiagonalIsExact() throws {
        let values: [Float] = [3, -1, 0.5, 7, 2, -4, 1, 5, -2.5, 6, 0, 4]
        let q = try SpectralDensity.quadrature(of: DiagonalOperator(values), steps: 12, probes: 3,
                                               seed: 2, progress: .silent)
        let sorted = values.map(Double.init).sorted()
        for p in 0..<3 {
            XCTAssertEqual(q.nodes[p].count, 12)
            for (a, b) in zip(q.nodes[p], sorted) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            for w in q.weights[p] { XCTAssertEqual(w, 1.0 / 12, accuracy: 1e-5) }
        }
    }

    func testDefaultGridAndSigma() throws {
        let d = try SpectralDensity.estimate(of: DiagonalOperator((0..<50).map { Float($0) / 10 }), steps: 20,
                                             probes: 4, seed: 3, probe: .gaussian, progress: .silent)
        XCTAssertEqual(d.x.count, 1000)
        XCTAssertEqual(d.density.count, 1000)
        XCTAssertGreaterThan(d.sigma, 0)
        XCTAssertEqual(integral(d.density, d.x), 1, accuracy: 1e-3)
        XCTAssertTrue(d.density.allSatisfy { $0 >= 0 })
        XCTAssertThrowsError(try SpectralDensity.estimate(of: DiagonalOperator([1]), steps: 0, progress: .silent))
    }
}
