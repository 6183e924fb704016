import Foundation
import XCTest
@testable import Sharpness
import Tensor

/// L-BFGS-B against iterates recorded from SciPy (scripts/record-lbfgsb.py) and against a
/// bound-constrained quadratic whose minimizer is known in closed form.
final class LBFGSBTests: XCTestCase {

    // MARK: The recorded reference

    struct Problem {
        let name: String
        let objective: LBFGSB.Objective
        let x0: [Double]
        let bounds: Bounds
        let maxIterations: Int
        let iterates: [OptimizerIterate]
        let finalX: [Double]
        let iterations: Int
    }

    /// The objectives of the recording script, rebuilt from the data it stored.
    func objective(_ kind: String, _ params: [String: Any]) throws -> LBFGSB.Objective {
        func matrix(_ key: String) -> [[Double]] { (params[key] as! [[NSNumber]]).map { $0.map(\.doubleValue) } }
        func vector(_ key: String) -> [Double] { (params[key] as! [NSNumber]).map(\.doubleValue) }
        switch kind {
        case "quadratic":
            let q = matrix("Q"), b = vector("b")
            return { x in
                let qx = q.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
                let value = 0.5 * zip(x, qx).reduce(0) { $0 + $1.0 * $1.1 } - zip(b, x).reduce(0) { $0 + $1.0 * $1.1 }
                return (value, zip(qx, b).map { $0 - $1 })
            }
        case "rosenbrock":
            return { x in rosenbrock(x) }
        case "quartic_outside":
            let c = vector("c"), k = (params["coupling"] as! NSNumber).doubleValue
            return { x in
                let r = zip(x, c).map { $0 - $1 }
                let s = r.reduce(0) { $0 + $1 * $1 }
                var value = s + 0.25 * s * s
                for i in 0..<(r.count - 1) { value += k * r[i] * r[i + 1] }
                var g = r.map { 2 * $0 + s * $0 }
                for i in 0..<(r.count - 1) { g[i] += k * r[i + 1]; g[i + 1] += k * r[i] }
                return (value, g)
            }
        case "negative_softplus":
            let a = matrix("A"), b = vector("b"), ridge = (params["ridge"] as! NSNumber).doubleValue
            return { y in
                let z = a.indices.map { i in zip(a[i], y).reduce(0) { $0 + $1.0 * $1.1 } + b[i] }
                var value = 0.5 * ridge * y.reduce(0) { $0 + $1 * $1 }
                var g = y.map { ridge * $0 }
                for (i, zi) in z.enumerated() {
                    value -= max(zi, 0) + log1p(exp(-abs(zi)))
                    let sigmoid = 1 / (1 + exp(-zi))
                    for j in y.indices { g[j] -= a[i][j] * sigmoid }
                }
                return (value, g)
            }
        default:
            throw SharpnessError("test", "unknown objective \(kind)")
        }
    }

    func loadReference() throws -> (scipy: String, problems: [Problem]) {
        let data = try Data(contentsOf: fixtureURL("lbfgsb-reference.json"))
        let doc = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let problems = try (doc["problems"] as! [[String: Any]]).map { p -> Problem in
            let bound = { (key: String, none: Double) in (p[key] as! [Any]).map { ($0 as? NSNumber)?.doubleValue ?? none } }
            let result = p["result"] as! [String: Any]
            return Problem(
                name: p["name"] as! String,
                objective: try objective(p["objective"] as! String, p["params"] as! [String: Any]),
                x0: (p["x0"] as! [NSNumber]).map(\.doubleValue),
                bounds: Bounds(lower: bound("lower", -.infinity), upper: bound("upper", .infinity)),
                maxIterations: (p["maxiter"] as! NSNumber).intValue,
                iterates: (p["iterates"] as! [[String: Any]]).map {
                    OptimizerIterate(x: ($0["x"] as! [NSNumber]).map(\.doubleValue), value: ($0["f"] as! NSNumber).doubleValue)
                },
                finalX: (result["x"] as! [NSNumber]).map(\.doubleValue),
                iterations: (result["nit"] as! NSNumber).intValue)
        }
        return (doc["scipy"] as! String, problems)
    }

    func testIteratesMatchScipyReference() throws {
        let (version, problems) = try loadReference()
        XCTAssertEqual(problems.count, 6)
        for p in problems {
            var options = LBFGSB.Options(memory: 10, maxIterations: p.maxIterations, recordIterates: true)
            options.pgtol = 1e-5
            options.factr = 1e7
            let r = try LBFGSB.minimize(from: p.x0, bounds: p.bounds, options: options, p.objective)
            var worst = 0.0
            var agreeing = 0
            for (k, (mine, ref)) in zip(r.iterates, p.iterates).enumerated() {
                var rel = abs(mine.value - ref.value) / max(abs(ref.value), 1)
                for (a, b) in zip(mine.x, ref.x) { rel = max(rel, abs(a - b) / max(abs(b), 1)) }
                if k < 10 {
                    XCTAssertLessThanOrEqual(rel, 1e-6, "\(p.name) iterate \(k + 1)")
                    worst = max(worst, rel)
                }
                if rel <= 1e-6 { agreeing += 1 }
            }
            for (a, b) in zip(r.x, p.finalX) {
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(abs(b), 1), "\(p.name) final x")
            }
            let referenceActive = p.finalX.indices.filter { p.finalX[$0] == p.bounds.lower[$0] || p.finalX[$0] == p.bounds.upper[$0] }
            XCTAssertEqual(r.activeSet, referenceActive, "\(p.name) active set")
            XCTAssertLessThanOrEqual(abs(r.iterations - p.iterations), 2, "\(p.name) iterations")
            print("\(p.name): \(r.iterations) iterations (scipy \(version): \(p.iterations)), "
                  + "\(agreeing)/\(p.iterates.count) iterates within 1e-6, worst of the first 10 \(String(format: "%.1e", worst)), \(r.status)")
        }
    }

    // MARK: Closed-form truth

    func testBoxConstrainedQuadraticClosedForm() throws {
        let (f, bounds, xStar, active) = boxQuadratic(n: 30, seed: 1)
        let r = try LBFGSB.minimize(from: [Double](repeating: 0, count: 30), bounds: bounds,
                                    options: LBFGSB.Options(pgtol: 1e-10, factr: 10), f)
        XCTAssertTrue(r.status.isConverged, "\(r.status)")
        for (a, b) in zip(r.x, xStar) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        XCTAssertEqual(r.activeSet, active)
        print("box QP n 30: \(r.iterations) iterations, \(r.evaluations) evaluations, \(r.status)")
    }

    /// Keskar's use: maximize by minimizing the negative, 10 iterations, from y = 0.
    /// L(y) = −Σ wᵢ(yᵢ − cᵢ)² has its box maximum at clamp(c).
    func testMaximizationByNegationWithTenIterations() throws {
        let c: [Double] = [0.3, -2, 0.05, 5, -0.01, 0.7]
        let w: [Double] = [1, 2, 0.5, 1, 3, 0.25]
        let radius = 0.1
        var options = LBFGSB.Options()
        options.maxIterations = 10
        let r = try LBFGSB.minimize(from: [Double](repeating: 0, count: 6),
                                    bounds: .box(6, lower: -radius, upper: radius), options: options) { y in
            let value = zip(zip(y, c), w).reduce(0.0) { $0 + $1.1 * ($1.0.0 - $1.0.1) * ($1.0.0 - $1.0.1) }
            return (value, y.indices.map { 2 * w[$0] * (y[$0] - c[$0]) })   // −L and −∇L
        }
        XCTAssertLessThanOrEqual(r.iterations, 10)
        for (y, ci) in zip(r.x, c) { XCTAssertEqual(y, min(max(ci, -radius), radius), accuracy: 1e-8) }
        let maxL = -zip(zip(r.x, c), w).reduce(0.0) { $0 + $1.1 * ($1.0.0 - $1.0.1) * ($1.0.0 - $1.0.1) }
        XCTAssertEqual(-r.value, maxL, accuracy: 1e-12)
    }

    func testIterationLimitAndUnboundedQuadratic() throws {
        var options = LBFGSB.Options(recordIterates: true)
        options.maxIterations = 10
        let r = try LBFGSB.minimize(from: [-1.2, 1, -1.2, 1, -1.2, 1], options: options) { rosenbrock($0) }
        XCTAssertEqual(r.iterations, 10)
        XCTAssertEqual(r.iterates.count, 10)
        XCTAssertEqual(r.status, .maxIterations)
        // Each accepted step decreases f.
        var last = rosenbrock([-1.2, 1, -1.2, 1, -1.2, 1]).value
        for it in r.iterates { XCTAssertLessThan(it.value, last); last = it.value }

        // Unbounded strictly convex quadratic: the minimizer solves Qx = b.
        let q: [[Double]] = [[4, 1, 0], [1, 3, -1], [0, -1, 2]]
        let b: [Double] = [1, -2, 3]
        let u = try LBFGSB.minimize(from: [0, 0, 0], options: LBFGSB.Options(pgtol: 1e-12, factr: 1)) { x in
            let qx = q.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
            return (0.5 * zip(x, qx).reduce(0) { $0 + $1.0 * $1.1 } - zip(b, x).reduce(0) { $0 + $1.0 * $1.1 },
                    zip(qx, b).map { $0 - $1 })
        }
        for (i, row) in q.enumerated() {
            // f carries ~16 digits, so x is good to ~√ε.
            XCTAssertEqual(zip(row, u.x).reduce(0) { $0 + $1.0 * $1.1 }, b[i], accuracy: 1e-7)
        }
    }

    func testStartOutsideBoxIsProjectedAndFixedVariablesStay() throws {
        let r = try LBFGSB.minimize(from: [5, -5, 0.5], bounds: Bounds(lower: [-1, -1, 0.5], upper: [1, 1, 0.5])) { x in
            (x.reduce(0) { $0 + ($1 - 3) * ($1 - 3) }, x.map { 2 * ($0 - 3) })
        }
        XCTAssertEqual(r.x, [1, 1, 0.5])
        XCTAssertEqual(r.activeSet, [0, 1, 2])
    }

    func testBadInputsThrow() {
        let f: LBFGSB.Objective = { x in (x[0] * x[0], [2 * x[0]]) }
        XCTAssertThrowsError(try LBFGSB.minimize(from: [0], bounds: Bounds(lower: [1], upper: [0]), f))
        XCTAssertThrowsError(try LBFGSB.minimize(from: [0, 0], bounds: .box(1, lower: 0, upper: 1), f))
        XCTAssertThrowsError(try LBFGSB.minimize(from: [1, 1]) { _ in (1, [1]) })
        XCTAssertThrowsError(try LBFGSB.minimize(from: [1]) { _ in (.nan, [1]) })
        XCTAssertThrowsError(try LBFGSB.minimize(from: [1], options: LBFGSB.Options(memory: 0), f))
    }
}

