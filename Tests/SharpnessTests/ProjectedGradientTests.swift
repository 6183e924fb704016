import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// Projected gradient descent/ascent on the same closed-form box problems as L-BFGS-B.
final class ProjectedGradientTests: XCTestCase {

    func testDescentReachesClosedFormBoxMinimum() throws {
        let (f, bounds, xStar, active) = boxQuadratic(n: 30, seed: 1)
        let r = try ProjectedGradient.descend(from: [Double](repeating: 0, count: 30), bounds: bounds,
                                              options: .init(maxIterations: 5000, pgtol: 1e-7), f)
        XCTAssertEqual(r.status, .projectedGradientConverged)
        for (a, b) in zip(r.x, xStar) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(r.activeSet, active)
        let l = try LBFGSB.minimize(from: [Double](repeating: 0, count: 30), bounds: bounds, f)
        print("box QP n 30: projected gradient \(r.iterations) iterations / \(r.evaluations) evaluations, "
              + "L-BFGS-B \(l.iterations) / \(l.evaluations)")
    }

    /// Ascent with a fixed step on a concave function: the maximum over the box is clamp(c).
    func testFixedStepAscent() throws {
        let c: [Double] = [0.3, -2, 0.05, 5]
        let concave: LBFGSB.Objective = { y in
            var value = 0.0
            var g = [Double](repeating: 0, count: y.count)
            for i in y.indices {
                value -= (y[i] - c[i]) * (y[i] - c[i])
                g[i] = -2 * (y[i] - c[i])
            }
            return (value, g)
        }
        let options = ProjectedGradient.Options(maxIterations: 200, step: 0.25, backtracking: false, pgtol: 1e-12,
                                                recordIterates: true)
        let r = try ProjectedGradient.ascend(from: [0, 0, 0, 0], bounds: .box(4, lower: -0.1, upper: 0.1),
                                             options: options, concave)
        for (y, ci) in zip(r.x, c) { XCTAssertEqual(y, min(max(ci, -0.1), 0.1), accuracy: 1e-8) }
        XCTAssertLessThan(r.value, 0)
        XCTAssertEqual(r.iterates.last?.value ?? 0, r.value, accuracy: 1e-15)
        // Ascent: the recorded values never decrease.
        let values = r.iterates.map { $0.value }
        XCTAssertEqual(values, values.sorted())
    }

    func testIterationLimit() throws {
        let r = try ProjectedGradient.descend(from: [-1.2, 1], bounds: .box(2, lower: -2, upper: 2),
                                              options: .init(maxIterations: 10)) { rosenbrock($0) }
        XCTAssertEqual(r.iterations, 10)
        XCTAssertEqual(r.status, .maxIterations)
        XCTAssertLessThan(r.value, rosenbrock([-1.2, 1]).value)
    }
}
