import CBLAS
import Data
import Foundation
import NN
import Tensor
import Train

/// The `rag` record: RAG and its two means, and the per-evaluation series.
///
///     let r = try rag(net, train); print(r.rag, r.lossAdv, r.loss, r.series.lossAdv.count)
public struct RAGResult: Sendable {
    /// Per evaluation i (one per batch of the pass, in pass order): the perturbed loss
    /// L_{B_{i−1}}(w + η g_i), the unperturbed loss L_{B_{i−1}}(w) of the same evaluation batch,
    /// and that batch's size (the weight of both in the means).
    public struct Series: Sendable {
        public var lossAdv: [Double]
        public var loss: [Double]
        public var sizes: [Int]
    }

    /// (L(w_adv) − L(w)) / (1 + L(w)) of the means below.
    public var rag: Double
    /// Mean perturbed loss, weighted by the evaluation batches' sizes.
    public var lossAdv: Double
    /// Mean unperturbed loss on the same evaluation batches, same weights.
    public var loss: Double
    public var series: Series
    /// The ascent step η.
    public var step: Double
    /// The seed of the permutation (nil with `shuffle: false`).
    public var seed: UInt64?

    /// `{rag, loss_adv, loss}` for a training history (what `every(n, "rag")` records).
    ///
    ///     let v = r.trackedValue
    public var trackedValue: TrackedValue { TrackedValue([("rag", rag), ("loss_adv", lossAdv), ("loss", loss)]) }
}

/// RAG, the paper's robustness to adversarial gradients — DESIGN.md's `rag(model, data, batch:
/// 128, step: 0.1, shuffle: true, seed:, bn: "eval", wrt: "trainable")`.
///
/// One pass over the data: permute it (`shuffle: false` keeps data order; the permutation is
/// `RandomGenerator(seed:).permutation`, as `fit`'s shuffling) and cut it into batches B₀ … B_{m−1}
/// of `batch` items, a last smaller batch kept. For batch i: g_i = ∇L_{B_i}(w), the plain
/// gradient of the mean cross-entropy (no weight decay, not normalized, through the reduction
/// seam); w_adv = w + η g_i (one ascent step); the perturbed loss L_{B_{i−1}}(w_adv) on the
/// previous batch (for i = 0 the last batch of the pass); then w is copied back bit for bit. The
/// unperturbed loss L_{B_{i−1}}(w) is the loss of the forward pass that gave B_{i−1}'s own
/// gradient (not recomputed). Both means are weighted by the size of the evaluation batch, and
/// RAG = (L_adv − L) / (1 + L). Cost: about one training epoch (a forward and a backward per
/// batch, plus a forward without graph). Progress per batch; Ctrl-C stops between batches with
/// `Cancelled`, the weights restored.
///
///     let r = try rag(net, train, batch: 128, step: 0.1, seed: 0); print(r.rag)
public func rag(_ model: Module, _ data: Dataset, batch: Int = 128, step: Double = 0.1, shuffle: Bool = true,
                seed: UInt64? = nil, bn: BatchNormPolicy = .eval, wrt: ParameterFilter = .trainable,
                reduction: GradientReduction = LocalReduction(),
                progress: MeasureProgress = .automatic) throws -> RAGResult {
    guard data.count > 0 else { throw SharpnessError("rag", "the data set \(data.name) is empty") }
    guard batch >= 1 else { throw SharpnessError("rag", "batch must be at least 1, got \(batch)") }
    guard step.isFinite else { throw SharpnessError("rag", "step must be finite, got \(step)") }
    let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "rag")
    let s = shuffle ? resolvedSeed(seed) : nil
    var rng = RandomGenerator(seed: s ?? 0)
    let batches = shuffle ? try data.batches(size: batch, shuffle: &rng) : try data.batches(size: batch)
    let m = batches.count
    func fetch(_ i: Int) -> (x: Tensor, labels: [Int]) {
        let b = batches[i]
        return (b.x, b.indices.map { data.labels[$0] })
    }
    let params = scope.tensors
    let eta = Float(step)
    let hook = ProgressHook(progress, label: "rag", total: m, unit: "batch")
    var lossAt = [Double](repeating: .nan, count: m)
    var lossAdv = [Double](repeating: .nan, count: m)
    let snapshot = WeightSnapshot(params)
    defer { snapshot.restore() }
    try scope.run {
        var previous = fetch(m - 1)   // B_{i−1}, wrapping around for the first batch
        var sumAdv = 0.0, sumLoss = 0.0, weight = 0.0
        for i in 0..<m {
            try Cancellation.check()
            let current = fetch(i)
            let (loss, g) = try batchLossAndGradient(scope, current.x, current.labels)
            let grads = try reduction.reduce(g, batchSize: current.labels.count)
            lossAt[i] = loss
            lossAdv[i] = try withNoGrad {
                for (p, gp) in zip(params, grads) { ascend(p, by: gp, eta) }
                defer { snapshot.restore() }
                let (l, _) = try meanCrossEntropy(scope.model, previous.x, previous.labels)
                return Double(try l.item())
            }
            // Running means over the evaluations whose unperturbed loss is known (all but the first).
            if i > 0 {
                let b = Double(previous.labels.count)
                sumAdv += b * lossAdv[i]; sumLoss += b * lossAt[i - 1]; weight += b
                let (la, l) = (sumAdv / weight, sumLoss / weight)
                hook.update(i + 1, String(format: "rag %.4g  loss_adv %.4f  loss %.4f", (la - l) / (1 + l), la, l))
            } else {
                hook.update(1)
            }
            previous = current
        }
    }
    var series = RAGResult.Series(lossAdv: [], loss: [], sizes: [])
    var sumAdv = 0.0, sumLoss = 0.0, total = 0.0
    for i in 0..<m {
        let e = (i + m - 1) % m   // the evaluation batch of step i
        let b = batches[e].count
        series.lossAdv.append(lossAdv[i])
        series.loss.append(lossAt[e])
        series.sizes.append(b)
        sumAdv += Double(b) * lossAdv[i]
        sumLoss += Double(b) * lossAt[e]
        total += Double(b)
    }
    let la = sumAdv / total, l = sumLoss / total
    let value = (la - l) / (1 + l)
    hook.finish(String(format: "rag %.4g  loss_adv %.4f  loss %.4f", value, la, l))
    return RAGResult(rag: value, lossAdv: la, loss: l, series: series, step: step, seed: s)
}

/// p ← p + η·g in place (outside any graph).
func ascend(_ p: Tensor, by g: Tensor, _ eta: Float) {
    g.withUnsafeBufferPointer { gp in
        p.withUnsafeMutableBufferPointer { pp in
            cblas_saxpy(Int32(pp.count), eta, gp.baseAddress, 1, pp.baseAddress, 1)
        }
    }
}
