import Foundation
import XCTest
import Data
import NN
import Tensor

/// A tiny quadratic f(p) = ½ Σ aᵢ (pᵢ − cᵢ)² over two parameter tensors, so every update is
/// computable by hand; the references below follow PyTorch's documented algorithms in Float64.
final class OptimizerTests: XCTestCase {
    final class Quadratic: Module {
        let u: Tensor, v: Tensor
        static let a: [Double] = [1, 2, 0.5, 3, 1.5]
        static let c: [Double] = [0.3, -1, 2, 0.5, -0.25]
        init(_ p: [Float]) {
            u = Tensor(Array(p[0..<3]))
            v = Tensor(Array(p[3..<5]), shape: [2, 1])
            super.init()
            registerParameter("u", u)
            registerParameter("v", v)
        }
        func loss() throws -> Tensor {
            let p = try Tensor.concat([u, try v.reshaped([2])])
            let d = try p - Tensor(Self.c.map(Float.init))
            return try (d * d * Tensor(Self.a.map(Float.init))).sum() * 0.5
        }
        var values: [Float] { u.scalars + v.scalars }
        static func grad(_ p: [Double]) -> [Double] { p.indices.map { a[$0] * (p[$0] - c[$0]) } }
    }

    static let start: [Float] = [1, 0.5, -1, 2, 0.75]

    func run(_ make: (Module) throws -> Optimizer, steps: Int) throws -> [Float] {
        let q = Quadratic(Self.start)
        let opt = try make(q)
        for _ in 0..<steps { try opt.step(loss: q.loss()) }
        return q.values
    }

    /// PyTorch's SGD in Float64.
    func referenceSGD(lr: Double, momentum: Double, dampening: Double, wd: Double, nesterov: Bool, steps: Int) -> [Double] {
        var p = Self.start.map(Double.init)
        var buf: [Double]? = nil
        for _ in 0..<steps {
            var d = zip(Quadratic.grad(p), p).map { $0 + wd * $1 }
            if momentum != 0 {
                if let b = buf { buf = zip(b, d).map { momentum * $0 + (1 - dampening) * $1 } } else { buf = d }
                d = nesterov ? zip(d, buf!).map { $0 + momentum * $1 } : buf!
            }
            p = zip(p, d).map { $0 - lr * $1 }
        }
        return p
    }

    /// PyTorch's Adam / AdamW in Float64.
    func referenceAdam(lr: Double, betas: (Double, Double), eps: Double, wd: Double, decoupled: Bool, amsgrad: Bool,
                       steps: Int) -> [Double] {
        var p = Self.start.map(Double.init)
        var m = [Double](repeating: 0, count: p.count), v = m, vmax = m
        for t in 1...steps {
            var g = Quadratic.grad(p)
            if decoupled { p = p.map { $0 * (1 - lr * wd) } } else { g = zip(g, p).map { $0 + wd * $1 } }
            m = zip(m, g).map { betas.0 * $0 + (1 - betas.0) * $1 }
            v = zip(v, g).map { betas.1 * $0 + (1 - betas.1) * $1 * $1 }
            vmax = zip(vmax, v).map { max($0, $1) }
            let bc1 = 1 - pow(betas.0, Double(t)), bc2 = 1 - pow(betas.1, Double(t))
            for i in p.indices {
                let denom = (amsgrad ? vmax[i] : v[i]).squareRoot() / bc2.squareRoot() + eps
                p[i] -= lr / bc1 * m[i] / denom
            }
        }
        return p
    }

    // MARK: Hand-computed steps on f(p) = p²

    func scalarRun(_ make: (Module) throws -> Optimizer, steps: Int) throws -> [Float] {
        final class Square: Module {
            let p = Tensor([1])
            override init() { super.init(); registerParameter("p", p) }
        }
        let m = Square()
        let opt = try make(m)
        var out: [Float] = []
        for _ in 0..<steps {
            try opt.step(gradients: [m.p * 2])
            out.append(m.p.scalars[0])
        }
        return out
    }

    func testSGDStepsByHand() throws {
        // Plain: p ← p − 0.1·2p.
        assertClose(try scalarRun({ try SGD($0, lr: 0.1) }, steps: 2), [0.8, 0.64], tol: 1e-7)
        // Momentum 0.9: buf₁ = 2, p₁ = 0.8; buf₂ = 0.9·2 + 1.6 = 3.4, p₂ = 0.46.
        assertClose(try scalarRun({ try SGD($0, lr: 0.1, momentum: 0.9) }, steps: 2), [0.8, 0.46], tol: 1e-7)
        // Dampening 0.5: buf₁ = d₁ = 2 (the first step is not dampened); buf₂ = 1.8 + 0.5·1.6 = 2.6, p₂ = 0.54.
        assertClose(try scalarRun({ try SGD($0, lr: 0.1, momentum: 0.9, dampening: 0.5) }, steps: 2), [0.8, 0.54], tol: 1e-7)
        // Nesterov: d₁ = 2 + 0.9·2 = 3.8, p₁ = 0.62; g₂ = 1.24, buf₂ = 1.8 + 1.24 = 3.04, d₂ = 1.24 + 2.736 = 3.976, p₂ = 0.2224.
        assertClose(try scalarRun({ try SGD($0, lr: 0.1, momentum: 0.9, nesterov: true) }, steps: 2), [0.62, 0.2224], tol: 1e-7)
        // Weight decay 0.1 added to the gradient: d = 2p + 0.1p, p₁ = 0.79.
        assertClose(try scalarRun({ try SGD($0, lr: 0.1, weightDecay: 0.1) }, steps: 1), [0.79], tol: 1e-7)
        XCTAssertThrowsError(try SGD(Quadratic(Self.start), lr: 0.1, momentum: 0, nesterov: true))
        XCTAssertThrowsError(try SGD(Quadratic(Self.start), lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true))
        XCTAssertThrowsError(try SGD(Quadratic(Self.start), lr: -1))
    }

    func testAdamFirstStepByHand() throws {
        // m̂ = g, v̂ = g²: p₁ = 1 − 0.1·2/(2 + 1e-8).
        assertClose(try scalarRun({ try Adam($0, lr: 0.1) }, steps: 1), [1 - 0.2 / (2 + 1e-8)], tol: 1e-7)
        // AdamW decays first: 1·(1 − 0.1·0.1) = 0.99, then the same step.
        assertClose(try scalarRun({ try AdamW($0, lr: 0.1, weightDecay: 0.1) }, steps: 1), [0.99 - 0.2 / (2 + 1e-8)], tol: 1e-7)
        // Adam's L2: g = 2 + 0.1 = 2.1, still a step of lr·g/|g|.
        assertClose(try scalarRun({ try Adam($0, lr: 0.1, weightDecay: 0.1) }, steps: 1), [1 - 0.21 / (2.1 + 1e-8)], tol: 1e-7)
    }

    // MARK: Several steps on the quadratic against the Float64 references

    func testSGDVariantsAgainstReference() throws {
        let cases: [(Double, Double, Double, Bool)] = [(0, 0, 0, false), (0.9, 0, 0, false), (0.9, 0.3, 0, false),
                                                       (0.9, 0, 0.05, true), (0.5, 0.1, 5e-4, false)]
        for (mom, damp, wd, nest) in cases {
            let got = try run({ try SGD($0, lr: 0.05, momentum: mom, dampening: damp, weightDecay: wd, nesterov: nest) }, steps: 6)
            let want = referenceSGD(lr: 0.05, momentum: mom, dampening: damp, wd: wd, nesterov: nest, steps: 6)
            assertClose(got, want, tol: 2e-6, "SGD momentum \(mom) dampening \(damp) wd \(wd) nesterov \(nest)")
        }
    }

    func testAdamAndAdamWAgainstReference() throws {
        for amsgrad in [false, true] {
            for wd in [0.0, 0.1] {
                let adam = try run({ try Adam($0, lr: 0.05, betas: (0.8, 0.95), eps: 1e-6, weightDecay: wd, amsgrad: amsgrad) }, steps: 7)
                assertClose(adam, referenceAdam(lr: 0.05, betas: (0.8, 0.95), eps: 1e-6, wd: wd, decoupled: false,
                                                amsgrad: amsgrad, steps: 7), tol: 2e-6, "Adam wd \(wd) amsgrad \(amsgrad)")
                let adamw = try run({ try AdamW($0, lr: 0.05, betas: (0.8, 0.95), eps: 1e-6, weightDecay: wd, amsgrad: amsgrad) }, steps: 7)
                assertClose(adamw, referenceAdam(lr: 0.05, betas: (0.8, 0.95), eps: 1e-6, wd: wd, decoupled: true,
                                                 amsgrad: amsgrad, steps: 7), tol: 2e-6, "AdamW wd \(wd) amsgrad \(amsgrad)")
            }
        }
        // amsgrad changes the trajectory here (v shrinks once the gradient does).
        XCTAssertNotEqual(try run({ try Adam($0, lr: 0.05, amsgrad: true) }, steps: 30),
                          try run({ try Adam($0, lr: 0.05) }, steps: 30))
    }

    func testLearningRateIsSettableBetweenSteps() throws {
        let got = try scalarRun({ opt in
            let o = try SGD(opt, lr: 0.1)
            o.lr = 0.25
            XCTAssertEqual(o.initialLR, 0.1)
            return o
        }, steps: 1)
        assertClose(got, [0.5], tol: 1e-7)
    }

    // MARK: Trainable parameters only

    func testFrozenParametersAreNotUpdatedAndGetNoGradient() throws {
        let q = Quadratic(Self.start)
        let opt = try SGD(q, lr: 0.1, momentum: 0.9, weightDecay: 0.1)
        try q.freeze("u")
        XCTAssertEqual(opt.trainableParameters.map(\.name), ["v"])
        let before = q.u.scalars
        for _ in 0..<3 { try opt.step(loss: q.loss()) }
        XCTAssertEqual(q.u.scalars, before)
        XCTAssertNotEqual(q.v.scalars, [2, 0.75])
        XCTAssertFalse(opt.stateDict().names.contains("u.momentum_buffer"))
        // One gradient per trainable parameter, in order.
        XCTAssertThrowsError(try opt.step(gradients: [Tensor.zeros([3]), Tensor.zeros([2, 1])])) {
            XCTAssertTrue(nnError($0).contains("2 gradients for 1 trainable"))
        }
        XCTAssertThrowsError(try opt.step(gradients: [Tensor.zeros([2])]))
        // Unfrozen, it trains again, and its momentum starts fresh (PyTorch: no buffer yet).
        try q.unfreeze("u")
        let g = try gradients(of: q.loss(), wrt: q.parameters(trainableOnly: true))
        let u0 = q.u.scalars.map(Double.init)
        try opt.step(gradients: g)
        let expected = zip(u0, g[0].scalars).map { $0 - 0.1 * (Double($1) + 0.1 * $0) }
        assertClose(q.u.scalars, expected, tol: 1e-6)
    }

    // MARK: State export and import

    func testResumingFromExportedStateContinuesExactly() throws {
        let dir = try makeTempDir(self)
        let makers: [(String, (Module) throws -> Optimizer)] = [
            ("sgd", { try SGD($0, lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
            ("adam", { try Adam($0, lr: 0.05, amsgrad: true) }),
            ("adamw", { try AdamW($0, lr: 0.05, weightDecay: 0.1) }),
        ]
        for (name, make) in makers {
            let a = Quadratic(Self.start)
            let optA = try make(a)
            for _ in 0..<3 { try optA.step(loss: a.loss()) }
            optA.lr = 0.02
            let path = dir + "/\(name).safetensors"
            try Safetensors.write(optA.stateDict(), to: path)
            try Checkpoint.save(a, to: dir + "/\(name)-model.safetensors")

            let b = Quadratic([0, 0, 0, 0, 0])
            try Checkpoint.load(b, from: dir + "/\(name)-model.safetensors")
            let optB = try make(b)
            try optB.loadStateDict(try Safetensors.read(path), source: path)
            XCTAssertEqual(optB.lr, 0.02)
            XCTAssertEqual(optB.stepCount, 3)
            for _ in 0..<2 {
                try optA.step(loss: a.loss())
                try optB.step(loss: b.loss())
            }
            XCTAssertEqual(a.values, b.values, name)
        }
    }

    func testExportedStateNamesAndDtypes() throws {
        let q = Quadratic(Self.start)
        let adam = try Adam(q, amsgrad: true)
        XCTAssertTrue(adam.stateDict().names.isEmpty)
        try adam.step(loss: q.loss())
        let s = adam.stateDict()
        XCTAssertEqual(s.names, ["u.step", "u.exp_avg", "u.exp_avg_sq", "u.max_exp_avg_sq",
                                 "v.step", "v.exp_avg", "v.exp_avg_sq", "v.max_exp_avg_sq"])
        XCTAssertEqual(s.dtype(of: "u.step"), .int64)
        XCTAssertEqual(s["u.step"]?.scalars, [1])
        XCTAssertEqual(s["v.exp_avg"]?.shape, [2, 1])
        XCTAssertEqual(s.metadata["optimizer"], "Adam")
        XCTAssertEqual(s.metadata["lr"], "0.001")
        let sgd = try SGD(q, lr: 0.1, momentum: 0.9)
        try sgd.step(loss: q.loss())
        XCTAssertEqual(sgd.stateDict().names, ["u.momentum_buffer", "v.momentum_buffer"])
        // A training checkpoint can hold model and optimizer side by side.
        var all = q.stateDict().prefixed("model.")
        all.merge(sgd.stateDict().prefixed("optimizer."))
        XCTAssertEqual(all.names, ["model.u", "model.v", "optimizer.u.momentum_buffer", "optimizer.v.momentum_buffer"])
        XCTAssertEqual(all.unprefixed("optimizer.").metadata["optimizer"], "SGD")
        XCTAssertEqual(all.unprefixed("model.").names, ["u", "v"])
    }

    func testImportingMismatchedStateNamesEachProblem() throws {
        let q = Quadratic(Self.start)
        let sgd = try SGD(q, lr: 0.1, momentum: 0.9)
        var bad = TensorBundle()
        bad.set("w.momentum_buffer", Tensor([1]))
        bad.set("u.exp_avg", Tensor([1, 2, 3]))
        bad.set("v.momentum_buffer", Tensor([1, 2]))
        bad.metadata["optimizer"] = "SGD"
        XCTAssertThrowsError(try sgd.loadStateDict(bad, source: "opt.safetensors")) { error in
            let text = nnError(error)
            XCTAssertTrue(text.hasPrefix("opt.safetensors: "), text)
            XCTAssertTrue(text.contains("unexpected: w.momentum_buffer"), text)
            XCTAssertTrue(text.contains("unexpected: u.exp_avg"), text)
            XCTAssertTrue(text.contains("shape mismatch: v.momentum_buffer is [2] but [2, 1]"), text)
        }
        var adamState = TensorBundle()
        adamState.metadata["optimizer"] = "Adam"
        XCTAssertThrowsError(try sgd.loadStateDict(adamState)) { XCTAssertTrue(nnError($0).contains("Adam state")) }
    }
}
