import Foundation
import NN
import Tensor
import Train

/// The one BatchNorm policy every model-level measure shares (`bn:` in the language).
///
/// - `eval` (the default): BatchNorm normalizes with its running statistics, so the loss is the
///   function of the weights that `evaluate` reports, and it is the same on every batch.
/// - `train`: BatchNorm normalizes with the statistics of the batch at hand (as in a training
///   step), and its Hessian includes the terms through those statistics.
///
/// Either way the running statistics (`running_mean`, `running_var`, `num_batches_tracked`) are
/// never changed by a measurement: they are copied before each forward pass and copied back after
/// it, bit for bit. Every other module runs in evaluation mode (Dropout passes its input through),
/// and afterwards every module is back in the mode it was in.
///
///     let r = try rag(net, data, bn: .train)
public enum BatchNormPolicy: String, Sendable, CaseIterable {
    /// Running statistics (evaluation mode).
    case eval
    /// Batch statistics (training mode), running statistics untouched.
    case train

    /// Parses `"eval"` or `"train"`; anything else throws, naming the choices.
    ///
    ///     let bn = try BatchNormPolicy(parsing: "train")
    public init(parsing text: String) throws {
        guard let p = BatchNormPolicy(rawValue: text) else {
            throw SharpnessError("bn", "unknown BatchNorm policy '\(text)'; use \"eval\" (running statistics) or \"train\" (batch statistics)")
        }
        self = p
    }
}

/// A model, the parameters a measure differentiates with respect to, and the BatchNorm policy:
/// `run` puts the model in the measurement state for the duration of a closure and restores
/// modes, buffers and trainable flags afterwards (also when the closure throws).
struct MeasurementScope {
    let model: Module
    let policy: BatchNormPolicy
    /// The selected parameters (the filter's), in registration order.
    let parameters: [(name: String, tensor: Tensor)]

    init(model: Module, wrt filter: ParameterFilter, bn policy: BatchNormPolicy, op: String) throws {
        self.model = model
        self.policy = policy
        self.parameters = try filter.select(in: model, op: op)
    }

    var tensors: [Tensor] { parameters.map(\.tensor) }
    /// Number of selected parameter values.
    var dimension: Int { parameters.reduce(0) { $0 + $1.tensor.count } }

    /// Runs `body` with the model in evaluation mode (BatchNorm in training mode under the `train`
    /// policy), every selected parameter requiring grad, and every buffer saved; restores all.
    func run<T>(_ body: () throws -> T) throws -> T {
        let modes = ModeSnapshot(model)
        let buffers = model.namedBuffers().map { ($0.tensor, $0.tensor.copy()) }
        let flags = parameters.map { ($0.tensor, $0.tensor.requiresGrad) }
        defer {
            for (t, flag) in flags { t.requiringGrad(flag) }
            // Same shapes by construction: assign cannot fail.
            for (t, saved) in buffers { try? t.assign(saved) }
            modes.restore()
        }
        model.eval()
        if policy == .train {
            for (_, m) in model.namedModules() where m is BatchNorm { m.train() }
        }
        for p in parameters { p.tensor.requiringGrad(true) }
        return try body()
    }
}

/// Copies of some parameter tensors, written back bit for bit by `restore()`: how Keskar, RAG and
/// the slices put the weights back after moving them.
struct WeightSnapshot {
    private let saved: [(live: Tensor, copy: Tensor)]

    init(_ tensors: [Tensor]) { saved = tensors.map { ($0, $0.copy()) } }

    /// The saved values of tensor i.
    func original(_ i: Int) -> Tensor { saved[i].copy }

    func restore() {
        withNoGrad {
            for (live, copy) in saved { try? live.assign(copy) }
        }
    }
}

/// Flat vector ↔ parameter-shaped tensors, in the selected parameters' order.
struct ParameterLayout {
    let shapes: [[Int]]
    let counts: [Int]
    let dimension: Int

    init(_ tensors: [Tensor]) {
        shapes = tensors.map(\.shape)
        counts = tensors.map(\.count)
        dimension = counts.reduce(0, +)
    }

    /// The flat vector cut into tensors of the parameters' shapes.
    func split(_ v: [Float]) -> [Tensor] {
        var out: [Tensor] = []
        out.reserveCapacity(shapes.count)
        var offset = 0
        v.withUnsafeBufferPointer { p in
            for (shape, n) in zip(shapes, counts) {
                out.append(Tensor(Array(p[offset ..< offset + n]), shape: shape))
                offset += n
            }
        }
        return out
    }

    /// The tensors' values one after another.
    func flatten(_ tensors: [Tensor]) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(dimension)
        for t in tensors { t.withUnsafeBufferPointer { out.append(contentsOf: $0) } }
        return out
    }

    /// Writes a flat vector into the (live) tensors, outside any graph.
    func write(_ v: [Float], into tensors: [Tensor]) {
        var offset = 0
        v.withUnsafeBufferPointer { p in
            for (t, n) in zip(tensors, counts) {
                t.withUnsafeMutableBufferPointer { q in
                    q.baseAddress!.update(from: p.baseAddress! + offset, count: n)
                }
                offset += n
            }
        }
    }
}
