import Foundation
import XCTest
import NN
import Tensor

/// SGD and Adam against Float32 references written here op by op as PyTorch's single-tensor
/// implementations run them (torch/optim/sgd.py and adam.py): every tensor op rounds to Float32,
/// scalar hyperparameters enter as Float32 (computed in Double first where Python computes them),
/// and the ops that PyTorch's CPU vector kernels fuse into one multiply-add (`add` with alpha,
/// `lerp`, `addcmul`) round once — written here with `addingProduct`, the correctly rounded FMA.
/// The parameters are long enough for the vector loops, their scalar tails and two threads.
final class OptimizerFloat32Tests: XCTestCase {
    /// Two parameters: one long (vector loop, tail, threaded chunks), one short (tail only).
    static let sizes = [131_075, 5]

    func parameters() -> [(name: String, tensor: Tensor)] {
        Self.sizes.enumerated().map { i, n in ("p\(i)", sample([n], seed: UInt64(40 + i)).requiringGrad()) }
    }

    /// Gradients of step t (1-based) for parameter i: fixed random values, independent of p.
    func gradient(_ i: Int, step t: Int) -> Tensor {
        let g = sample([Self.sizes[i]], seed: UInt64(100 * t + i), low: -0.5, high: 0.5)
        return t % 3 == 0 ? g * 1e-3 : g
    }

    func assertBitwise(_ got: Tensor, _ want: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let g = got.scalars
        XCTAssertEqual(g.count, want.count, what, file: file, line: line)
        let bad = zip(g, want).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        if let first = bad.first {
            XCTFail("\(what): \(bad.count) of \(want.count) differ; first at \(first.offset): \(first.element.0) vs \(first.element.1)",
                    file: file, line: line)
        }
    }

    // MARK: SGD

    /// sgd.py: d_p = grad.add(p, alpha=wd); buf = clone(d_p) first, else buf.mul_(momentum).add_(d_p,
    /// alpha=1 − dampening); d_p = nesterov ? d_p.add(buf, alpha=momentum) : buf; p.add_(d_p, alpha=−lr).
    func referenceSGD(_ p0: [Float], grads: [[Float]], lr: Double, momentum: Double, dampening: Double,
                      wd: Double, nesterov: Bool) -> (p: [Float], buf: [Float]?) {
        var p = p0
        var buf: [Float]? = nil
        let alphaWD = Float(wd), mom = Float(momentum), damp = Float(1 - dampening), alphaLR = Float(-lr)
        for g in grads {
            var d = wd != 0 ? (0..<p.count).map { g[$0].addingProduct(alphaWD, p[$0]) } : g
            if momentum != 0 {
                if let b = buf {
                    buf = (0..<p.count).map { (b[$0] * mom).addingProduct(damp, d[$0]) }
                } else {
                    buf = d
                }
                d = nesterov ? (0..<p.count).map { d[$0].addingProduct(mom, buf![$0]) } : buf!
            }
            p = (0..<p.count).map { p[$0].addingProduct(alphaLR, d[$0]) }
        }
        return (p, buf)
    }

    func testSGDMatchesFloat32OpByOpReference() throws {
        let cases: [(momentum: Double, dampening: Double, wd: Double, nesterov: Bool)] = [
            (0, 0, 0, false), (0, 0, 5e-4, false), (0.9, 0, 5e-4, false), (0.9, 0.25, 1e-2, false), (0.9, 0, 5e-4, true),
        ]
        for c in cases {
            let ps = parameters()
            let starts = ps.map { $0.tensor.scalars }
            let opt = try SGD(parameters: ps, lr: 0.1, momentum: c.momentum, dampening: c.dampening, weightDecay: c.wd,
                              nesterov: c.nesterov)
            let steps = 4
            for t in 1...steps { try opt.step(gradients: ps.indices.map { gradient($0, step: t) }) }
            for i in ps.indices {
                let want = referenceSGD(starts[i], grads: (1...steps).map { gradient(i, step: $0).scalars }, lr: 0.1,
                                        momentum: c.momentum, dampening: c.dampening, wd: c.wd, nesterov: c.nesterov)
                assertBitwise(ps[i].tensor, want.p, "SGD \(c) parameter \(i)")
                if let buf = want.buf, let state = opt.stateDict()["p\(i).momentum_buffer"] {
                    assertBitwise(state, buf, "SGD \(c) momentum buffer \(i)")
                } else {
                    XCTAssertEqual(c.momentum, 0, "a momentum buffer is kept exactly when momentum ≠ 0")
                }
            }
        }
    }

    // MARK: Adam

    /// adam.py (_single_tensor_adam): AdamW p.mul_(1 − lr·wd) or Adam grad = grad.add(p, alpha=wd);
    /// exp_avg.lerp_(grad, 1 − β1); exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 − β2);
    /// step_size = lr / (1 − β1^t); denom = (sqrt(v̂) / (1 − β2^t)^0.5).add_(eps);
    /// p.addcdiv_(exp_avg, denom, value=−step_size).
    func referenceAdam(_ p0: [Float], grads: [[Float]], lr: Double, betas: (Double, Double), eps: Double, wd: Double,
                       decoupled: Bool, amsgrad: Bool) -> (p: [Float], m: [Float], v: [Float], vmax: [Float]) {
        let n = p0.count
        var p = p0, m = [Float](repeating: 0, count: n), v = m, vmax = m
        for (k, g0) in grads.enumerated() {
            let t = Double(k + 1)
            var g = g0
            if wd != 0 {
                if decoupled { p = p.map { $0 * Float(1 - lr * wd) } } else { g = (0..<n).map { g0[$0].addingProduct(Float(wd), p[$0]) } }
            }
            // lerp: weight w < 0.5 → m + w·(g − m); else g + (w − 1)·(g − m) (ATen's lerp, fused).
            let w = Float(1 - betas.0)
            m = (0..<n).map { i in
                let diff = g[i] - m[i]
                return Swift.abs(w) < 0.5 ? m[i].addingProduct(w, diff) : g[i].addingProduct(w - 1, diff)
            }
            let value = Float(1 - betas.1)
            v = (0..<n).map { i in (v[i] * Float(betas.1)).addingProduct(value * g[i], g[i]) }
            let stepSize = lr / (1 - pow(betas.0, t))
            let bc2Sqrt = Float(pow(1 - pow(betas.1, t), 0.5))
            if amsgrad { vmax = (0..<n).map { Swift.max(vmax[$0], v[$0]) } }
            for i in 0..<n {
                let denom = (amsgrad ? vmax[i] : v[i]).squareRoot() / bc2Sqrt + Float(eps)
                p[i] = p[i] + (Float(-stepSize) * m[i]) / denom
            }
        }
        return (p, m, v, vmax)
    }

    func testAdamAndAdamWMatchFloat32OpByOpReference() throws {
        // β1 = 0.3 takes lerp's large-weight branch (1 − β1 ≥ 0.5).
        let cases: [(betas: (Double, Double), wd: Double, decoupled: Bool, amsgrad: Bool)] = [
            ((0.9, 0.999), 0, false, false), ((0.9, 0.999), 1e-2, false, false), ((0.9, 0.999), 1e-2, true, false),
            ((0.3, 0.99), 5e-2, false, true), ((0.8, 0.95), 0.1, true, true),
        ]
        for c in cases {
            let ps = parameters()
            let starts = ps.map { $0.tensor.scalars }
            let opt: Optimizer = c.decoupled
                ? try AdamW(parameters: ps, lr: 1e-2, betas: c.betas, eps: 1e-8, weightDecay: c.wd, amsgrad: c.amsgrad)
                : try Adam(parameters: ps, lr: 1e-2, betas: c.betas, eps: 1e-8, weightDecay: c.wd, amsgrad: c.amsgrad)
            let steps = 5
            for t in 1...steps { try opt.step(gradients: ps.indices.map { gradient($0, step: t) }) }
            let state = opt.stateDict()
            for i in ps.indices {
                let want = referenceAdam(starts[i], grads: (1...steps).map { gradient(i, step: $0).scalars }, lr: 1e-2,
                                         betas: c.betas, eps: 1e-8, wd: c.wd, decoupled: c.decoupled, amsgrad: c.amsgrad)
                let what = "\(c.decoupled ? "AdamW" : "Adam") betas \(c.betas) wd \(c.wd) amsgrad \(c.amsgrad) parameter \(i)"
                assertBitwise(ps[i].tensor, want.p, what)
                assertBitwise(state["p\(i).exp_avg"]!, want.m, what + " exp_avg")
                assertBitwise(state["p\(i).exp_avg_sq"]!, want.v, what + " exp_avg_sq")
                if c.amsgrad { assertBitwise(state["p\(i).max_exp_avg_sq"]!, want.vmax, what + " max_exp_avg_sq") }
            }
        }
    }
}
