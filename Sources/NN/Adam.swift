import Foundation
import Data
import Tensor

/// Adam with PyTorch's `torch.optim.Adam` semantics, per trainable parameter p with gradient g and
/// its own step count t (counted from 1):
///
///     g = g + weight_decay·p                      (L2, Adam only)
///     p ← p·(1 − lr·weight_decay)                  (decoupled, AdamW only)
///     m = β₁·m + (1 − β₁)·g,   v = β₂·v + (1 − β₂)·g²
///     v̂ = amsgrad ? (vmax = max(vmax, v)) : v
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + eps)
///
/// (eps outside the square root). In Float32, op by op as PyTorch's single-tensor Adam runs them:
/// `p.mul_(1 − lr·wd)` (AdamW) or `grad.add(p, alpha=wd)`, `exp_avg.lerp_(grad, 1 − β1)`,
/// `exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 − β2)`,
/// `denom = (exp_avg_sq.sqrt() / √bias_correction2).add_(eps)` and
/// `p.addcdiv_(exp_avg, denom, value=−lr/bias_correction1)`, with the bias corrections in Double
/// and every tensor op rounding to Float32 (an add with alpha, the lerp and addcmul's final
/// multiply-add round once, as in PyTorch's vector kernels).
///
///     let opt = try Adam(encoder, lr: 1e-3)
public class Adam: Optimizer {
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let amsgrad: Bool
    /// Decoupled weight decay (AdamW) instead of L2 added to the gradient.
    let decoupled: Bool
    var steps: [Int]
    var expAvg: [Tensor?]
    var expAvgSq: [Tensor?]
    var maxExpAvgSq: [Tensor?]

    public override class var kindName: String { "Adam" }

    /// Over `parameters` as `model.namedParameters()` gives them.
    public convenience init(parameters: [(name: String, tensor: Tensor)], lr: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0, amsgrad: Bool = false) throws {
        try self.init(parameters: parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                      amsgrad: amsgrad, decoupled: false)
    }

    /// Over every parameter of `model` (frozen ones are skipped at each step).
    ///
    ///     let opt = try Adam(net, lr: 3e-4, amsgrad: true)
    public convenience init(_ model: Module, lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) throws {
        try self.init(parameters: model.namedParameters(), lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                      amsgrad: amsgrad, decoupled: false)
    }

    init(parameters: [(name: String, tensor: Tensor)], lr: Double, betas: (Double, Double), eps: Double,
         weightDecay: Double, amsgrad: Bool, decoupled: Bool) throws {
        let kind = decoupled ? "AdamW" : "Adam"
        guard betas.0 >= 0, betas.0 < 1, betas.1 >= 0, betas.1 < 1 else {
            throw NNError(kind, "betas must lie in [0, 1), got (\(betas.0), \(betas.1))")
        }
        guard eps >= 0, eps.isFinite else { throw NNError(kind, "eps must be ≥ 0, got \(eps)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw NNError(kind, "weight decay must be ≥ 0, got \(weightDecay)") }
        beta1 = betas.0
        beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        steps = Array(repeating: 0, count: parameters.count)
        expAvg = Array(repeating: nil, count: parameters.count)
        expAvgSq = Array(repeating: nil, count: parameters.count)
        maxExpAvgSq = Array(repeating: nil, count: parameters.count)
        try super.init(parameters: parameters, lr: lr)
    }

    public override func update(_ index: Int, gradient: Tensor) {
        let param = parameters[index].tensor
        let n = param.count
        steps[index] += 1
        let t = Double(steps[index])
        let m = expAvg[index] ?? Tensor.zeros(param.shape)
        let v = expAvgSq[index] ?? Tensor.zeros(param.shape)
        expAvg[index] = m
        expAvgSq[index] = v
        let vmax: Tensor? = amsgrad ? (maxExpAvgSq[index] ?? Tensor.zeros(param.shape)) : nil
        if amsgrad { maxExpAvgSq[index] = vmax }
        // The scalars as PyTorch computes them (Double) and hands them to its Float32 kernels.
        let l2 = !decoupled && weightDecay != 0, decay = decoupled && weightDecay != 0
        let wd = Float(weightDecay), keep = Float(1 - lr * weightDecay)
        let w1 = Float(1 - beta1), small = Swift.abs(w1) < 0.5, w1m1 = w1 - 1
        let b2 = Float(beta2), w2 = Float(1 - beta2)
        let stepSize = lr / (1 - Foundation.pow(beta1, t))
        let bc2Sqrt = Float(Foundation.pow(1 - Foundation.pow(beta2, t), 0.5))
        let eps = Float(self.eps), negStep = Float(-stepSize)
        // Raw pointers for the worker threads; each element is touched by exactly one of them.
        nonisolated(unsafe) let g = gradient.withUnsafeBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let p = param.withUnsafeMutableBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let mp = m.withUnsafeMutableBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let vp = v.withUnsafeMutableBufferPointer { $0.baseAddress! }
        nonisolated(unsafe) let xp = vmax?.withUnsafeMutableBufferPointer { $0.baseAddress! }
        forEachChunk(n) { r in
            sweepVec(r) { j in
                var pj = loadVec(p + j)
                if decay { pj = pj * keep }                                   // p.mul_(1 − lr·wd)
                let gj = l2 ? addScaled(loadVec(g + j), wd, pj) : loadVec(g + j)     // grad.add(p, alpha=wd)
                let mj0 = loadVec(mp + j), d = gj - mj0                          // exp_avg.lerp_(grad, 1 − β1)
                let mj = small ? addScaled(mj0, w1, d) : addScaled(gj, w1m1, d)
                let vj = addProduct(loadVec(vp + j) * b2, w2 * gj, gj)           // mul_(β2).addcmul_(g, g, value=1 − β2)
                storeVec(mj, mp + j)
                storeVec(vj, vp + j)
                var vhat = vj
                if let xp { vhat = pointwiseMax(loadVec(xp + j), vj); storeVec(vhat, xp + j) }
                let denom = vhat.squareRoot() / bc2Sqrt + eps                // (√v / √bc2).add_(eps)
                storeVec(pj + (negStep * mj) / denom, p + j)                      // p.addcdiv_(m, denom, value=−step)
            } scalar: { j in
                var pj = p[j]
                if decay { pj = pj * keep }
                let gj = l2 ? addScaled(g[j], wd, pj) : g[j]
                let mj0 = mp[j], d = gj - mj0
                let mj = small ? addScaled(mj0, w1, d) : addScaled(gj, w1m1, d)
                let vj = addProduct(vp[j] * b2, w2 * gj, gj)
                mp[j] = mj
                vp[j] = vj
                var vhat = vj
                if let xp { vhat = Swift.max(xp[j], vj); xp[j] = vhat }
                let denom = vhat.squareRoot() / bc2Sqrt + eps
                p[j] = pj + (negStep * mj) / denom
            }
        }
    }

    public override var hyperparameters: [(String, String)] {
        [("lr", "\(lr)"), ("beta1", "\(beta1)"), ("beta2", "\(beta2)"), ("eps", "\(eps)"),
         ("weight_decay", "\(weightDecay)"), ("amsgrad", "\(amsgrad)")]
    }

    public override func stateTensors(_ index: Int) -> [(key: String, tensor: Tensor, dtype: DType)] {
        guard steps[index] > 0, let m = expAvg[index], let v = expAvgSq[index] else { return [] }
        var out: [(key: String, tensor: Tensor, dtype: DType)] = [
            ("step", Tensor(scalar: Float(steps[index])), .int64), ("exp_avg", m, .float32), ("exp_avg_sq", v, .float32)]
        if let x = maxExpAvgSq[index] { out.append(("max_exp_avg_sq", x, .float32)) }
        return out
    }

    public override func stateShape(_ key: String, _ index: Int) -> [Int]? {
        switch key {
        case "step": return []
        case "exp_avg", "exp_avg_sq": return parameters[index].tensor.shape
        case "max_exp_avg_sq": return amsgrad ? parameters[index].tensor.shape : nil
        default: return nil
        }
    }

    public override func setState(_ key: String, _ index: Int, _ value: Tensor) {
        switch key {
        case "step": steps[index] = Int(value.scalars[0])
        case "exp_avg": expAvg[index] = value
        case "exp_avg_sq": expAvgSq[index] = value
        case "max_exp_avg_sq": maxExpAvgSq[index] = value
        default: break
        }
    }

    public override func resetState() {
        super.resetState()
        steps = Array(repeating: 0, count: parameters.count)
        expAvg = Array(repeating: nil, count: parameters.count)
        expAvgSq = Array(repeating: nil, count: parameters.count)
        maxExpAvgSq = Array(repeating: nil, count: parameters.count)
    }
}

/// AdamW with PyTorch's `torch.optim.AdamW` semantics: Adam whose weight decay is decoupled,
/// p ← p·(1 − lr·weight_decay) before the Adam step (default weight decay 0.01).
///
///     let opt = try AdamW(net, lr: 1e-3, weightDecay: 0.05)
public final class AdamW: Adam {
    public override class var kindName: String { "AdamW" }

    /// Over `parameters` as `model.namedParameters()` gives them.
    public convenience init(parameters: [(name: String, tensor: Tensor)], lr: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0.01, amsgrad: Bool = false) throws {
        try self.init(parameters: parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                      amsgrad: amsgrad, decoupled: true)
    }

    /// Over every parameter of `model`.
    public convenience init(_ model: Module, lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0.01, amsgrad: Bool = false) throws {
        try self.init(parameters: model.namedParameters(), lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                      amsgrad: amsgrad, decoupled: true)
    }
}
