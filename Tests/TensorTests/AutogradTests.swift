import Foundation
import XCTest
@testable import Tensor

/// The reverse-mode engine itself: accumulation where a tensor feeds several branches or is
/// broadcast, seeds, unused inputs, no-grad mode, createGraph, and graph lifetime.
final class AutogradTests: XCTestCase {
    func testSumOfSquaresAndGradient() throws {
        let x = Tensor([1, 2, 3, 4], shape: [2, 2]).requiringGrad()
        let y = try (x * x).sum()
        XCTAssertEqual(try y.item(), 30)
        XCTAssertEqual(try gradients(of: y, wrt: [x])[0].scalars, [2, 4, 6, 8])
    }

    func testAccumulationOnSharedInput() throws {
        // f = Σ (x·x + x): ∂f/∂x = 2x + 1, Hv = 2v.
        let x = sample([2, 3], seed: 4000).requiringGrad()
        let f = try (x * x + x).sum()
        assertAllClose(try gradients(of: f, wrt: [x])[0].scalars, doubles(x).map { 2 * $0 + 1 }, "2x + 1")
        let v = sample([2, 3], seed: 4001)
        assertAllClose(try hvp(f, params: [x], v: [v])[0].scalars, doubles(v).map { 2 * $0 }, "Hv = 2v")

        // x in four branches: g = Σ (eˣ·x + tanh x + x + 3x) → eˣ(1 + x) + 1 − tanh²x + 4.
        let g = try (x.exp() * x + x.tanh() + x + x * 3).sum()
        let want = doubles(x).map { Foundation.exp($0) * (1 + $0) + 1 - Foundation.pow(Foundation.tanh($0), 2) + 4 }
        assertAllClose(try gradients(of: g, wrt: [x])[0].scalars, want, rtol: 1e-5, atol: 1e-5, "four branches")
        // d²: eˣ(2 + x) − 2 tanh x (1 − tanh² x) on the diagonal.
        let want2 = zip(doubles(x), doubles(v)).map { xi, vi in
            (Foundation.exp(xi) * (2 + xi) - 2 * Foundation.tanh(xi) * (1 - Foundation.pow(Foundation.tanh(xi), 2))) * vi
        }
        assertAllClose(try hvp(g, params: [x], v: [v])[0].scalars, want2, rtol: 1e-5, atol: 1e-5, "four branches, Hv")
    }

    func testAccumulationAcrossBroadcasting() throws {
        // y = a[3] + B[2,3] and z = a[3] * B: each entry of a is used twice (once per row).
        let a = Tensor([1, 2, 3]).requiringGrad()
        let bm = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).requiringGrad()
        let f = try ((a + bm) + (a * bm)).sum()
        let g = try gradients(of: f, wrt: [a, bm])
        // ∂f/∂a_j = 2 + Σ_i B_ij ; ∂f/∂B_ij = 1 + a_j
        XCTAssertEqual(g[0].scalars, [2 + 5, 2 + 7, 2 + 9])
        XCTAssertEqual(g[1].scalars, [2, 3, 4, 2, 3, 4])
        // A [1,3] row against a [2,1] column: both stretched.
        let r = Tensor([1, 2, 3], shape: [1, 3]).requiringGrad(), c = Tensor([10, 20], shape: [2, 1]).requiringGrad()
        let gr = try gradients(of: try (r * c).sum(), wrt: [r, c])
        XCTAssertEqual(gr[0].scalars, [30, 30, 30])
        XCTAssertEqual(gr[1].scalars, [6, 6])
        XCTAssertEqual(gr[0].shape, [1, 3])
        XCTAssertEqual(gr[1].shape, [2, 1])
    }

    func testSeededVectorJacobianProduct() throws {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let y = try x * x
        let g = try gradients(of: y, wrt: [x], seed: Tensor([1, 10, 100]))[0]
        XCTAssertEqual(g.scalars, [2, 40, 600])
    }

    func testGradientWithRespectToIntermediateAndUnusedInputs() throws {
        let x = Tensor([1, 2]).requiringGrad()
        let h = x * 3
        let y = try (h * h).sum()
        let unused = Tensor([5, 5, 5]).requiringGrad()
        let g = try gradients(of: y, wrt: [h, x, unused])
        XCTAssertEqual(g[0].scalars, [6, 12])       // 2h
        XCTAssertEqual(g[1].scalars, [18, 36])      // 18x
        XCTAssertEqual(g[2].scalars, [0, 0, 0])
        XCTAssertEqual(g[2].shape, [3])
        // The output itself as an input: gradient 1.
        XCTAssertEqual(try gradients(of: y, wrt: [y])[0].scalars, [1])
    }

    func testConstantsGetNoGraph() throws {
        let a = Tensor([1, 2]), b = Tensor([3, 4])
        XCTAssertFalse(try (a * b).requiresGrad)
        XCTAssertFalse(try a.exp().requiresGrad)
        let p = Tensor([1, 2]).requiringGrad()
        XCTAssertTrue(try (a * p).requiresGrad)
        XCTAssertFalse(p.detached().requiresGrad)
        XCTAssertFalse(p.copy().requiresGrad)
        XCTAssertFalse(p.requiringGrad(false).requiresGrad)
    }

    func testDeepChainDoesNotOverflowTheStack() throws {
        // 20 000 ops: the topological sort is iterative, and so is freeing the graph afterwards
        // (a recursive release of a chain this deep overflows the stack).
        let x = Tensor([0.5]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y + 0.0001 }
        XCTAssertEqual(try gradients(of: try y.sum(), wrt: [x])[0].scalars, [1])
        // Ops whose backward closures capture their inputs (mul) or output (tanh).
        let c = Tensor([1])
        var z = x
        for i in 0..<20_000 { z = i % 2 == 0 ? try z * c : try z.tanh() }
        XCTAssertEqual(try gradients(of: try z.sum(), wrt: [x])[0].count, 1)
        // A deep second-order graph: d²/dx² of 4 000 chained x·1 then x² is 2.
        var w = x
        for _ in 0..<4_000 { w = try w * c }
        XCTAssertEqual(try hvp(try (w * w).sum(), params: [x], v: [Tensor([1])])[0].scalars, [2])
    }

    // MARK: No-grad mode and createGraph

    func testNoGradMode() throws {
        let x = sample([2, 3], seed: 4100).requiringGrad()
        XCTAssertTrue(GradMode.isEnabled)
        let y = try withNoGrad { () -> Tensor in
            XCTAssertFalse(GradMode.isEnabled)
            let inner = try withGradMode(true) { try x.exp() }
            XCTAssertTrue(inner.requiresGrad, "withGradMode(true) turns recording back on inside")
            XCTAssertFalse(GradMode.isEnabled, "and restores the outer mode")
            return try (x * x).exp().sum(axes: [1]) + x.tanh().sum(axes: [1])
        }
        XCTAssertTrue(GradMode.isEnabled, "restored after withNoGrad")
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.node)
        for t in try withNoGrad({ [try x.reshaped([1, 2, 3, 1]).conv2d(Tensor.ones([1, 2, 1, 1])),
                                   try crossEntropy(x, labels: [0, 2]), try x.softmax(), try x.gather([1, 0]),
                                   try Tensor.concat([x, x]), try x.max(), try x.permuted([1, 0]), try x.reshaped([3, 2])] }) {
            XCTAssertFalse(t.requiresGrad)
        }
        // Errors inside withNoGrad still restore the mode.
        XCTAssertThrowsError(try withNoGrad { try x.reshaped([7]) })
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testGradientsWithoutCreateGraphAreConstants() throws {
        let x = sample([3], seed: 4101).requiringGrad()
        let f = try (x * x * x).sum()
        let g = try gradients(of: f, wrt: [x])[0]
        XCTAssertFalse(g.requiresGrad)
        XCTAssertNil(g.node)
        assertAllClose(g.scalars, doubles(x).map { 3 * $0 * $0 }, "3x²")
        // With createGraph the gradient is differentiable: ∂(Σ ∂f/∂x)/∂x = 6x.
        let g2 = try gradients(of: f, wrt: [x], createGraph: true)[0]
        XCTAssertTrue(g2.requiresGrad)
        let gg = try gradients(of: try g2.sum(), wrt: [x])[0]
        assertAllClose(gg.scalars, doubles(x).map { 6 * $0 }, "6x")
        // Third derivative through two createGraph passes: ∂³(Σx³) along ones = 6.
        let g3 = try gradients(of: try g2.sum(), wrt: [x], createGraph: true)[0]
        XCTAssertEqual(try gradients(of: try g3.sum(), wrt: [x])[0].scalars, [6, 6, 6])
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testInnerProduct() throws {
        let a = [Tensor([1, 2]), Tensor([1, 2, 3, 4], shape: [2, 2])], b = [Tensor([3, 4]), Tensor.ones([2, 2])]
        XCTAssertEqual(try innerProduct(a, b).item(), 1 * 3 + 2 * 4 + 10)
        XCTAssertEqual(try innerProduct([], []).item(), 0)
    }

    // MARK: Graph lifetime

    /// A finished graph must be freed with its output: ops whose backward reads their own output
    /// (exp, tanh, sigmoid, sqrt, pow, logsumexp, max) must not keep it alive through their node.
    func testGraphIsFreedWithItsOutput() throws {
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("exp", { try $0.exp() }), ("tanh", { try $0.tanh() }), ("sigmoid", { try $0.sigmoid() }),
            ("sqrt", { try $0.sqrt() }), ("pow tensor", { try $0.pow(Tensor([2])) }), ("logsumexp", { try $0.logsumexp() }),
            ("logsumexp keep", { try $0.logsumexp(keepDims: true) }), ("max", { try $0.max() }),
            ("max keep", { try $0.max(axes: [0], keepDims: true) }), ("softmax", { try $0.softmax() }),
            ("mul", { try $0 * $0 }), ("relu", { try $0.relu() }), ("matmul", { try $0.reshaped([1, 3]).matmul($0.reshaped([3, 1])) }),
            ("batchNorm", { try $0.reshaped([3, 1]).batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true) }),
            ("conv", { try $0.reshaped([1, 1, 1, 3]).conv2d(Tensor.ones([1, 1, 1, 2])) }),
            ("maxpool", { try $0.reshaped([1, 1, 1, 3]).maxPool2d(kernel: 1) }),
        ]
        for (name, op) in ops {
            weak var out: Tensor?
            weak var leaf: Tensor?
            func scope() throws {
                let x = Tensor([0.5, 1, 2]).requiringGrad()
                leaf = x
                let y = try op(x)
                out = y
                _ = try gradients(of: try y.sum(), wrt: [x])
            }
            try scope()
            XCTAssertNil(out, "\(name): output kept alive by its own graph node (retain cycle)")
            XCTAssertNil(leaf, "\(name): input kept alive")
        }
    }
}
