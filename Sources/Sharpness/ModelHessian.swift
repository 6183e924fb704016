import Data
import Foundation
import NN
import Tensor
import Train

/// The Hessian of a classifier's mean cross-entropy with respect to its selected parameters, as a
/// `SymmetricOperator` on flat vectors (the parameters one after another, registration order):
/// what `hessianEigs`, `hessianTrace` and `hessianDensity` run their algorithms on.
///
/// Each product is exact, by double backward (Hv = ∇(∇L·v)), never finite differences. Over
/// several batches (given ones, or a data set cut into chunks of `chunk` items) the operator is
/// the size-weighted mean H = Σ bᵢHᵢ / Σ bᵢ, i.e. the Hessian of the mean loss over all items.
/// The finished product passes once through the reduction seam (`GradientReduction`, the one `fit`
/// uses, told the number of items), so a data-parallel all-reduce slots in there.
///
/// The first backward's graph of each batch is kept for the next products (one forward and one
/// backward saved per product, `HessianVectorProduct`) while the kept graphs fit in
/// `graphMemory` bytes of resident memory; batches beyond that recompute theirs on every product,
/// so memory stays bounded whatever the data size. A single batch always keeps its graph. The
/// operator is for the weights it first saw: build a new one after changing them.
///
/// The model runs under the BatchNorm policy (`bn`), with running statistics, modes and
/// trainable flags restored after every product.
///
///     let h = try ModelHessian(model: net, data: train.prefix(512))
///     let top = try Lanczos.eigenpairs(of: h, k: 10)
public final class ModelHessian: SymmetricOperator {
    /// Number of selected parameter values.
    public let dimension: Int
    /// The selected parameters' names, in the order of the flat vectors.
    public let parameterNames: [String]
    /// Items per batch.
    public var batchSizes: [Int] { source.sizes }
    /// Batches whose first-backward graph is kept.
    public var cachedGraphs: Int { cache.count }
    /// The resident-memory budget for kept graphs, in bytes.
    public let graphMemory: Int

    let scope: MeasurementScope
    let layout: ParameterLayout
    let source: BatchSource
    let reduction: GradientReduction
    private var cache: [Int: HessianVectorProduct] = [:]
    private var cachingClosed = false
    private var baseline: Int? = nil

    init(scope: MeasurementScope, source: BatchSource, reduction: GradientReduction, graphMemory: Int?) {
        self.scope = scope
        self.source = source
        self.reduction = reduction
        layout = ParameterLayout(scope.tensors)
        dimension = layout.dimension
        parameterNames = scope.parameters.map(\.name)
        self.graphMemory = graphMemory ?? ModelHessian.defaultGraphMemory
    }

    /// min(2 GiB, half the available memory).
    ///
    ///     let h = try ModelHessian(model: net, data: d, graphMemory: ModelHessian.defaultGraphMemory / 2)
    public static var defaultGraphMemory: Int {
        min(2 << 30, (availableMemoryBytes() ?? (4 << 30)) / 2)
    }

    /// The Hessian on one batch.
    ///
    ///     let h = try ModelHessian(model: net, batch: batches[0])
    public convenience init(model: Module, batch: Batch, wrt: ParameterFilter = .trainable,
                            bn: BatchNormPolicy = .eval, reduction: GradientReduction = LocalReduction()) throws {
        try self.init(model: model, batches: [batch], wrt: wrt, bn: bn, reduction: reduction)
    }

    /// The size-weighted mean of the Hessians on the given batches.
    ///
    ///     let h = try ModelHessian(model: net, batches: Array(try data.batches(size: 128).prefix(4)))
    public convenience init(model: Module, batches: [Batch], wrt: ParameterFilter = .trainable,
                            bn: BatchNormPolicy = .eval, reduction: GradientReduction = LocalReduction(),
                            graphMemory: Int? = nil) throws {
        let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "hessian")
        self.init(scope: scope, source: try .batches(batches, op: "hessian"), reduction: reduction, graphMemory: graphMemory)
    }

    /// The Hessian of the mean loss over a whole data set, walked in chunks of `chunk` items (in
    /// data order). Under `bn: .train` each chunk normalizes with its own statistics.
    ///
    ///     let h = try ModelHessian(model: net, data: train, chunk: 512)
    public convenience init(model: Module, data: Dataset, chunk: Int = 512, wrt: ParameterFilter = .trainable,
                            bn: BatchNormPolicy = .eval, reduction: GradientReduction = LocalReduction(),
                            graphMemory: Int? = nil) throws {
        let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "hessian")
        self.init(scope: scope, source: try .dataset(data, chunk: chunk, op: "hessian"), reduction: reduction,
                  graphMemory: graphMemory)
    }

    /// H·v (exact, double backward), through the reduction seam.
    ///
    ///     let hv = try h.apply(v)
    public func apply(_ v: [Float]) throws -> [Float] {
        try checkLength(v, dimension, op: "hessian")
        let parts = layout.split(v)
        return try scope.run {
            if baseline == nil { baseline = residentBytes() }
            if source.count == 1 {
                let hv = try product(0, parts)
                return layout.flatten(try reduction.reduce(hv, batchSize: source.items))
            }
            let total = Double(source.items)
            var acc = [Float](repeating: 0, count: dimension)
            for i in 0..<source.count {
                try Cancellation.check()
                let hv = layout.flatten(try product(i, parts))
                axpy(Float(Double(source.sizes[i]) / total), hv, &acc)
            }
            return layout.flatten(try reduction.reduce(layout.split(acc), batchSize: source.items))
        }
    }

    /// The mean loss over the operator's batches, L(w) (no graph).
    ///
    ///     let l = try h.loss()
    public func loss() throws -> Double {
        try scope.run { try sourceLossAndAccuracy(scope, source).loss }
    }

    /// ∇L(w) as a flat vector, through the reduction seam.
    ///
    ///     let g = try h.gradient()
    public func gradient() throws -> [Float] {
        try scope.run { try sourceLossAndGradient(scope, source, reduction: reduction).gradient }
    }

    /// Hᵢv on batch i: from the kept graph, or from a fresh one (kept while within budget).
    private func product(_ i: Int, _ v: [Tensor]) throws -> [Tensor] {
        if let op = cache[i] { return try op.apply(v) }
        let (x, labels) = try source.batch(i)
        let op = try withGradMode(true) {
            try HessianVectorProduct(meanCrossEntropy(scope.model, x, labels).loss, params: scope.tensors)
        }
        let hv = try op.apply(v)
        if source.count == 1 {
            cache[i] = op
        } else if !cachingClosed {
            if residentBytes() - (baseline ?? 0) <= graphMemory { cache[i] = op } else { cachingClosed = true }
        }
        return hv
    }
}
