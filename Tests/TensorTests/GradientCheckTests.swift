import Foundation
import XCTest
@testable import Tensor

/// First derivatives (reverse mode vs central differences) and second derivatives (double-backward
/// HVP vs central differences of gradients) of the elementwise ops, with broadcasting on both
/// sides. See `checkDerivatives` for the method and the tolerances.
final class GradientCheckTests: XCTestCase {

    // MARK: Arithmetic, tensor ⊕ tensor with broadcasting

    func testAddBroadcasting() throws {
        try checkDerivatives("[2,3]+[3]", [sample([2, 3], seed: 1), sample([3], seed: 2)]) { try $0[0] + $0[1] }
        try checkDerivatives("[3]+[2,3]", [sample([3], seed: 3), sample([2, 3], seed: 4)]) { try $0[0] + $0[1] }
        try checkDerivatives("[2,1,4]+[3,1]", [sample([2, 1, 4], seed: 5), sample([3, 1], seed: 6)]) { try $0[0] + $0[1] }
        try checkDerivatives("[2,3]+[]", [sample([2, 3], seed: 7), sample([], seed: 8)]) { try $0[0] + $0[1] }
        try checkDerivatives("same shape", [sample([2, 3], seed: 9), sample([2, 3], seed: 10)]) { try $0[0] + $0[1] }
    }

    func testSubBroadcasting() throws {
        try checkDerivatives("[2,3]-[3]", [sample([2, 3], seed: 11), sample([3], seed: 12)]) { try $0[0] - $0[1] }
        try checkDerivatives("[3,1]-[2,1,4]", [sample([3, 1], seed: 13), sample([2, 1, 4], seed: 14)]) { try $0[0] - $0[1] }
        try checkDerivatives("[1]-[2,2]", [sample([1], seed: 15), sample([2, 2], seed: 16)]) { try $0[0] - $0[1] }
    }

    func testMulBroadcasting() throws {
        try checkDerivatives("[2,1,4]*[3,1]", [sample([2, 1, 4], seed: 17), sample([3, 1], seed: 18)]) { try $0[0] * $0[1] }
        try checkDerivatives("[2,3]*[3]", [sample([2, 3], seed: 19), sample([3], seed: 20)]) { try $0[0] * $0[1] }
        try checkDerivatives("[1,3]*[2,1]", [sample([1, 3], seed: 21), sample([2, 1], seed: 22)]) { try $0[0] * $0[1] }
        try checkDerivatives("same shape", [sample([2, 3], seed: 23), sample([2, 3], seed: 24)]) { try $0[0] * $0[1] }
        try checkDerivatives("x*x", [sample([2, 3], seed: 25)]) { try $0[0] * $0[0] }
    }

    func testDivBroadcasting() throws {
        // Denominators in [0.5, 1.5]: smooth and well scaled.
        try checkDerivatives("[2,3]/[3]", [sample([2, 3], seed: 26), sample([3], seed: 27, low: 0.5, high: 1.5)]) { try $0[0] / $0[1] }
        try checkDerivatives("[3,1]/[2,1,4]", [sample([3, 1], seed: 28), sample([2, 1, 4], seed: 29, low: 0.5, high: 1.5)]) { try $0[0] / $0[1] }
        try checkDerivatives("x/x²", [sample([4], seed: 30, low: 0.6, high: 1.4)]) { try $0[0] / ($0[0] * $0[0]) }
    }

    // MARK: Arithmetic with a Float scalar

    func testScalarForms() throws {
        let x = sample([2, 3], seed: 31)
        try checkDerivatives("x+s", [x]) { $0[0] + 1.5 }
        try checkDerivatives("s+x", [x]) { 1.5 + $0[0] }
        try checkDerivatives("x-s", [x]) { $0[0] - 0.75 }
        try checkDerivatives("s-x", [x]) { 0.75 - $0[0] }
        try checkDerivatives("x*s", [x]) { $0[0] * -2.5 }
        try checkDerivatives("s*x", [x]) { -2.5 * $0[0] }
        try checkDerivatives("x/s", [x]) { $0[0] / 4 }
        try checkDerivatives("s/x", [sample([2, 3], seed: 32, low: 0.5, high: 1.5)]) { try 2 / $0[0] }
        try checkDerivatives("neg", [x]) { -$0[0] }
    }

    // MARK: Elementwise functions

    func testExpLogSqrt() throws {
        try checkDerivatives("exp", [sample([2, 3], seed: 33)]) { try $0[0].exp() }
        try checkDerivatives("log", [sample([2, 3], seed: 34, low: 0.5, high: 2)]) { try $0[0].log() }
        try checkDerivatives("sqrt", [sample([2, 3], seed: 35, low: 0.5, high: 2)]) { try $0[0].sqrt() }
    }

    func testPowScalar() throws {
        let pos = sample([2, 3], seed: 36, low: 0.5, high: 1.5)
        try checkDerivatives("pow 2", [sample([2, 3], seed: 37)]) { try $0[0].pow(2) }
        try checkDerivatives("pow 3", [sample([2, 3], seed: 38)]) { try $0[0].pow(3) }
        try checkDerivatives("pow 0.5", [pos]) { try $0[0].pow(0.5) }
        try checkDerivatives("pow -0.5", [pos]) { try $0[0].pow(-0.5) }
        try checkDerivatives("pow -2", [pos]) { try $0[0].pow(-2) }
        try checkDerivatives("pow 1", [pos]) { try $0[0].pow(1) }
    }

    func testPowTensor() throws {
        try checkDerivatives("[2,3]^[3]", [sample([2, 3], seed: 39, low: 0.5, high: 1.5), sample([3], seed: 40, low: -1.5, high: 2)]) {
            try $0[0].pow($0[1])
        }
        try checkDerivatives("[3]^[2,1]", [sample([3], seed: 41, low: 0.5, high: 1.5), sample([2, 1], seed: 42, low: -1, high: 2)]) {
            try $0[0].pow($0[1])
        }
    }

    func testTanhSigmoid() throws {
        try checkDerivatives("tanh", [sample([2, 3], seed: 43, low: -2, high: 2)]) { try $0[0].tanh() }
        try checkDerivatives("sigmoid", [sample([2, 3], seed: 44, low: -3, high: 3)]) { try $0[0].sigmoid() }
    }

    func testReluAbsAwayFromZero() throws {
        try checkDerivatives("relu", [awayFromZero([3, 4], seed: 45)]) { try $0[0].relu() }
        try checkDerivatives("abs", [awayFromZero([3, 4], seed: 46)]) { try $0[0].abs() }
        // Inside a smooth function so that the second derivative is not trivially zero.
        try checkDerivatives("tanh(relu)·x", [awayFromZero([2, 3], seed: 47)]) { try $0[0].relu().tanh() * $0[0] }
    }

    func testClamp() throws {
        // Values at least 0.1 from the bounds −0.5 and 0.5 (some inside, some clamped on each side).
        let x = Tensor([-1.25, -0.75, -0.25, 0.0625, 0.375, 0.625, 1.0, -0.625], shape: [2, 4])
        try checkDerivatives("clamp", [x]) { try $0[0].clamp(min: -0.5, max: 0.5) }
        try checkDerivatives("clamp min", [x]) { try $0[0].clamp(min: -0.5) }
        try checkDerivatives("clamp max", [x]) { try $0[0].clamp(max: 0.5) }
        try checkDerivatives("clamp·x", [x]) { try $0[0].clamp(min: -0.5, max: 0.5) * $0[0] }
    }

    func testWhereBroadcasting() throws {
        let cond = Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        try checkDerivatives("where same shape", [sample([2, 3], seed: 48), sample([2, 3], seed: 49)]) {
            try Tensor.where(cond, $0[0], $0[1])
        }
        try checkDerivatives("where [2,3],[3],[2,1]", [sample([3], seed: 50), sample([2, 1], seed: 51)]) {
            try Tensor.where(cond, $0[0], $0[1])
        }
        try checkDerivatives("where [3] cond, [2,3]", [sample([2, 3], seed: 52), sample([2, 3], seed: 53)]) {
            try Tensor.where(Tensor([0, 1, 0]), $0[0] * $0[1], $0[1].exp())
        }
    }

    func testCompositeSmoothFunction() throws {
        // A mix of ops sharing inputs in several branches.
        try checkDerivatives("composite", [sample([2, 3], seed: 54), sample([3], seed: 55, low: 0.5, high: 1.5)]) { xs in
            let a = xs[0], b = xs[1]
            let t = try (a * b).tanh() + (a / b).sigmoid() * a
            return try t * (a - b).exp() + b.log() - a.pow(2) * 0.5
        }
    }
}

/// Forward values of the elementwise ops against Float64 references (broadcasting written out).
final class ElementwiseForwardTests: XCTestCase {
    func testBroadcastArithmeticValues() throws {
        let cases: [([Int], [Int], [Int])] = [
            ([2, 3], [3], [2, 3]), ([3], [2, 3], [2, 3]), ([2, 1, 4], [3, 1], [2, 3, 4]),
            ([1, 3], [2, 1], [2, 3]), ([2, 3], [], [2, 3]), ([], [2, 2], [2, 2]), ([4, 1, 1], [1, 2, 3], [4, 2, 3]),
            ([2, 3], [2, 3], [2, 3]),
        ]
        for (i, (sa, sb, so)) in cases.enumerated() {
            let a = sample(sa, seed: UInt64(100 + i)), b = sample(sb, seed: UInt64(200 + i), low: 0.5, high: 1.5)
            let what = "\(sa) ⊕ \(sb)"
            assertAllClose(try (a + b).scalars, referenceBinary(a, b, outShape: so, +), what + " +")
            assertAllClose(try (a - b).scalars, referenceBinary(a, b, outShape: so, -), what + " -")
            assertAllClose(try (a * b).scalars, referenceBinary(a, b, outShape: so, *), what + " *")
            assertAllClose(try (a / b).scalars, referenceBinary(a, b, outShape: so, /), what + " /")
            XCTAssertEqual(try (a * b).shape, so, what)
        }
    }

    /// Large enough for the multi-threaded paths of the broadcasting kernel (≥ 2¹⁶ elements).
    func testLargeBroadcastUsesSameValues() throws {
        let saved = Parallelism.workers
        Parallelism.workers = 4
        defer { Parallelism.workers = saved }
        let a = sample([3, 1, 200, 120], seed: 300), b = sample([4, 1, 120], seed: 301)
        let got = try (a * b).scalars
        let want = referenceBinary(a, b, outShape: [3, 4, 200, 120], *)
        assertAllClose(got, want, "large broadcast")
        let c = sample([3, 4, 200, 120], seed: 302)
        assertAllClose((c + 1).scalars, doubles(c).map { $0 + 1 }, "large scalar add")
        let e = try c.exp().scalars
        assertAllClose(e, doubles(c).map { Foundation.exp($0) }, rtol: 1e-6, "large exp")
    }

    func testUnaryValues() throws {
        let x = sample([3, 4], seed: 303, low: -2, high: 2)
        let pos = sample([3, 4], seed: 304, low: 0.25, high: 3)
        let xv = doubles(x), pv = doubles(pos)
        assertAllClose(try x.exp().scalars, xv.map { Foundation.exp($0) }, "exp")
        assertAllClose(try pos.log().scalars, pv.map { Foundation.log($0) }, "log")
        assertAllClose(try pos.sqrt().scalars, pv.map { $0.squareRoot() }, "sqrt")
        assertAllClose(try x.tanh().scalars, xv.map { Foundation.tanh($0) }, "tanh")
        assertAllClose(try x.sigmoid().scalars, xv.map { 1 / (1 + Foundation.exp(-$0)) }, "sigmoid")
        assertAllClose(try x.relu().scalars, xv.map { Swift.max($0, 0) }, "relu")
        assertAllClose(try x.abs().scalars, xv.map { Swift.abs($0) }, "abs")
        assertAllClose((-x).scalars, xv.map { -$0 }, "neg")
        assertAllClose(try pos.pow(1.5).scalars, pv.map { Foundation.pow($0, 1.5) }, "pow 1.5")
        assertAllClose(try x.pow(2).scalars, xv.map { $0 * $0 }, "pow 2")
        assertAllClose(try x.pow(3).scalars, xv.map { $0 * $0 * $0 }, "pow 3")
        assertAllClose(try pos.pow(x).scalars, zip(pv, xv).map { Foundation.pow($0, $1) }, "pow tensor")
        assertAllClose(try x.clamp(min: -1, max: 0.5).scalars, xv.map { Swift.min(Swift.max($0, -1), 0.5) }, "clamp")
        assertAllClose(try (2 / pos).scalars, pv.map { 2 / $0 }, "rdiv")
        assertAllClose((3 - x).scalars, xv.map { 3 - $0 }, "rsub")
        XCTAssertEqual(Tensor([-2, 0, 3]).sign().scalars, [-1, 0, 1])
    }

    func testSigmoidIsStableForLargeInputs() throws {
        let s = try Tensor([-100, -30, 0, 30, 100]).sigmoid().scalars
        XCTAssertEqual(s[0], 0, accuracy: 1e-30)
        XCTAssertEqual(Double(s[1]), Foundation.exp(-30.0), accuracy: 1e-15)
        XCTAssertEqual(s[2], 0.5)
        XCTAssertEqual(s[4], 1)
        XCTAssertFalse(s.contains { $0.isNaN })
    }

    func testComparisonsAndWhere() throws {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = Tensor([2, 2, 2])
        XCTAssertEqual(try a.eq(b).scalars, [0, 1, 0, 0, 0, 0])
        XCTAssertEqual(try a.ne(b).scalars, [1, 0, 1, 1, 1, 1])
        XCTAssertEqual(try a.lt(b).scalars, [1, 0, 0, 0, 0, 0])
        XCTAssertEqual(try a.le(b).scalars, [1, 1, 0, 0, 0, 0])
        XCTAssertEqual(try a.gt(b).scalars, [0, 0, 1, 1, 1, 1])
        XCTAssertEqual(try a.ge(b).scalars, [0, 1, 1, 1, 1, 1])
        let w = try Tensor.where(a.gt(b), a, Tensor([-1, -2, -3]))
        XCTAssertEqual(w.shape, [2, 3])
        XCTAssertEqual(w.scalars, [-1, -2, 3, 4, 5, 6])
        // Selection is exact: an infinity in the branch not taken does not leak a NaN.
        let inf = Tensor([.infinity, 1, .infinity])
        XCTAssertEqual(try Tensor.where(Tensor([0, 1, 0]), inf, Tensor([7, 8, 9])).scalars, [7, 1, 9])
    }
}
