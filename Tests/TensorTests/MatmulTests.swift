import Foundation
import XCTest
@testable import Tensor

/// matmul for 2-D, batched 3-D × 3-D and 3-D × 2-D operands under every transpose combination:
/// values against a Float64 triple loop, derivatives against finite differences.
final class MatmulTests: XCTestCase {
    /// op(A)·op(B) in Float64, with A and B stored as given (row-major), batched over a leading axis.
    func reference(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> [Double] {
        let av = doubles(a), bv = doubles(b)
        let batch = a.rank == 3 ? a.shape[0] : 1
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1], br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc
        var out: [Double] = []
        for t in 0..<batch {
            let ao = t * ar * ac, bo = b.rank == 3 ? t * br * bc : 0
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        let x = transposeA ? av[ao + p * ac + i] : av[ao + i * ac + p]
                        let y = transposeB ? bv[bo + j * bc + p] : bv[bo + p * bc + j]
                        s += x * y
                    }
                    out.append(s)
                }
            }
        }
        return out
    }

    /// (batch?, m, k, n) → stored shapes of A and B for the given flags.
    func shapes(batchA: Int?, batchB: Int?, m: Int, k: Int, n: Int, tA: Bool, tB: Bool) -> ([Int], [Int]) {
        let a = tA ? [k, m] : [m, k], b = tB ? [n, k] : [k, n]
        return ((batchA.map { [$0] } ?? []) + a, (batchB.map { [$0] } ?? []) + b)
    }

    let configs: [(String, Int?, Int?)] = [("2-D", nil, nil), ("3-D×3-D", 2, 2), ("3-D×2-D", 3, nil)]

    func testValuesAllTransposeCombinations() throws {
        var seed: UInt64 = 500
        for (name, ba, bb) in configs {
            for tA in [false, true] {
                for tB in [false, true] {
                    let (sa, sb) = shapes(batchA: ba, batchB: bb, m: 3, k: 5, n: 4, tA: tA, tB: tB)
                    let a = sample(sa, seed: seed), b = sample(sb, seed: seed + 1)
                    seed += 2
                    let y = try a.matmul(b, transposeA: tA, transposeB: tB)
                    let outShape = (ba.map { [$0] } ?? []) + [3, 4]
                    assertClose(y, reference(a, b, transposeA: tA, transposeB: tB), shape: outShape, tol: 1e-5, "\(name) tA \(tA) tB \(tB)")
                }
            }
        }
    }

    func testDerivativesAllTransposeCombinations() throws {
        var seed: UInt64 = 600
        for (name, ba, bb) in configs {
            for tA in [false, true] {
                for tB in [false, true] {
                    let (sa, sb) = shapes(batchA: ba, batchB: bb, m: 3, k: 4, n: 2, tA: tA, tB: tB)
                    try checkDerivatives("matmul \(name) tA \(tA) tB \(tB)", [sample(sa, seed: seed), sample(sb, seed: seed + 1)]) {
                        try $0[0].matmul($0[1], transposeA: tA, transposeB: tB)
                    }
                    seed += 2
                }
            }
        }
    }

    func testSharedOperand() throws {
        // x·xᵀ and xᵀ·x: the same tensor on both sides.
        let x = sample([3, 4], seed: 700)
        try checkDerivatives("x·xᵀ", [x]) { try $0[0].matmul($0[0], transposeB: true) }
        try checkDerivatives("xᵀ·x", [x]) { try $0[0].matmul($0[0], transposeA: true) }
        let xx = try x.matmul(x, transposeB: true)
        assertClose(xx, reference(x, x, transposeA: false, transposeB: true), tol: 1e-6, "x·xᵀ")
    }

    func testLinearLayerForm() throws {
        // x·Wᵀ + b as in a Linear layer, with the bias broadcast over rows.
        try checkDerivatives("linear", [sample([5, 3], seed: 701), sample([4, 3], seed: 702), sample([4], seed: 703)]) {
            try $0[0].matmul($0[1], transposeB: true) + $0[2]
        }
    }

    func testLargerProductAgainstReference() throws {
        let a = sample([37, 65], seed: 704), b = sample([65, 29], seed: 705)
        assertClose(try a.matmul(b), reference(a, b, transposeA: false, transposeB: false), tol: 1e-5, "37×65·65×29")
    }

    func testEmptyInnerDimensionGivesZeros() throws {
        let a = Tensor.zeros([2, 0]), b = Tensor.zeros([0, 3])
        let y = try a.matmul(b)
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.scalars, [0, 0, 0, 0, 0, 0])
    }
}
