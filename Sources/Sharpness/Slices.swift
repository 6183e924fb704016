import Data
import Foundation
import NN
import Tensor
import Train

/// A direction of a loss-landscape slice.
///
///     let d: SliceDirection = .vector(eig.vectors[0])   // along the top Hessian eigenvector
public enum SliceDirection {
    /// A Gaussian direction (one N(0, 1) entry per selected parameter, drawn from the slice's
    /// seed), normalized as the slice's `normalization` says.
    case random
    /// A given flat direction over the selected parameters (registration order), used as is —
    /// e.g. a Hessian eigenvector from `hessianEigs(..., vectors: true)`.
    case vector([Float])
    /// A given direction as one tensor per selected parameter (their shapes), used as is.
    case tensors([Tensor])
    /// The line w(t) = (1 − t)·w₀ + t·w₁ between two checkpoints; t = 0 and t = 1 are the
    /// checkpoints themselves (the model's own weights do not enter).
    case between(SliceEndpoint, SliceEndpoint)
}

/// One end of a checkpoint line.
///
///     let line = SliceDirection.between(.stateDict(before), .stateDict(net.stateDict()))
public enum SliceEndpoint {
    /// A state dict (e.g. `model.stateDict()` or a safetensors checkpoint): every parameter and
    /// every running statistic (`running_mean`, `running_var`) of the model is interpolated, so
    /// each end reproduces that checkpoint exactly, also in `bn: .eval`.
    case stateDict(TensorBundle)
    /// A flat vector over the selected parameters (`wrt`); buffers stay the model's.
    case vector([Float])
}

/// How random slice directions are scaled (Li et al. 2018).
///
///     let s = try slice1d(net, data, normalization: .none)
public enum SliceNormalization: String, Sendable, CaseIterable {
    /// Filter normalization: each filter of a direction (a slice along the first axis of a conv
    /// or linear weight: an output channel or a row) is rescaled to the norm of the same filter
    /// of the weights, ‖w_f‖/(‖d_f‖ + 1e-10)·d_f.
    case filter
    /// The raw Gaussian direction.
    case none

    /// `"filter"` or `"none"`; anything else throws.
    ///
    ///     let n = try SliceNormalization(parsing: "filter")
    public init(parsing text: String) throws {
        guard let n = SliceNormalization(rawValue: text) else {
            throw SharpnessError("slice", "unknown normalization '\(text)'; use \"filter\" or \"none\"")
        }
        self = n
    }
}

/// A 1-D slice: the loss and accuracy over the data at each t, ready to plot (`slice1d`).
///
///     plot(s.t, s.loss)
public struct Slice1D: Sendable {
    public var t: [Double]
    public var loss: [Double]
    public var acc: [Double]
}

/// A 2-D slice on the grid x × y: `loss[j][i]` and `acc[j][i]` at (x[i], y[j]) — rows follow y,
/// as contour and surface plots take them (`slice2d`).
///
///     contour(s.x, s.y, s.loss)
public struct Slice2D: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var loss: [[Double]]
    public var acc: [[Double]]
}

/// The loss landscape along one direction (Li et al. 2018): L(w + t·d) and the accuracy at
/// `points` equally spaced t in `range` (default −1…1; 0…1 for a checkpoint line, where w(t) =
/// (1 − t)w₀ + t·w₁). The loss is the mean cross-entropy over all of `data` (chunks of `batch`,
/// the same arithmetic as `evaluate`, so t = 0 gives exactly the unperturbed loss), BatchNorm
/// as `bn` says (running statistics untouched), the weights restored bit for bit afterwards.
///
/// Random directions are Gaussian (seeded), filter-normalized by default; the directions of
/// biases and BatchNorm parameters (every tensor with at most one axis) are zero unless
/// `includeBiasAndBN`, which then uses the weights themselves as their direction (Li et al.'s
/// code). Given directions are used as they are.
///
///     let s = try slice1d(net, test, direction: .random, range: -1...1, points: 21, seed: 0)
public func slice1d(_ model: Module, _ data: Dataset, direction: SliceDirection = .random,
                    range: ClosedRange<Double>? = nil, points: Int = 21, normalization: SliceNormalization = .filter,
                    includeBiasAndBN: Bool = false, seed: UInt64? = nil, bn: BatchNormPolicy = .eval,
                    wrt: ParameterFilter = .trainable, batch: Int = 512,
                    progress: MeasureProgress = .automatic) throws -> Slice1D {
    guard points >= 1 else { throw SharpnessError("slice1d", "points must be at least 1, got \(points)") }
    let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "slice1d")
    let source = try BatchSource.dataset(data, chunk: batch, op: "slice1d")
    let s = resolvedSeed(seed)
    let isLine: Bool
    if case .between = direction { isLine = true } else { isLine = false }
    let r = range ?? (isLine ? 0...1 : -1...1)
    let t = grid(r, points)
    let hook = ProgressHook(progress, label: "slice1d", total: points, unit: "point")
    var loss: [Double] = [], acc: [Double] = []

    if case .between(let a, let b) = direction {
        let line = try CheckpointLine(scope: scope, a, b)
        defer { line.restore() }
        try scope.run {
            for (i, ti) in t.enumerated() {
                line.set(ti)
                let (l, c) = try sourceLossAndAccuracy(scope, source)
                loss.append(l); acc.append(c)
                hook.update(i + 1, String(format: "t %.3g  loss %.4f", ti, l))
            }
        }
    } else {
        let d = try sliceDirection(direction, scope: scope, normalization: normalization,
                                   includeBiasAndBN: includeBiasAndBN, seed: mixSeed(s, 0), op: "slice1d")
        let plane = SlicePlane(scope.tensors, [d])
        defer { plane.restore() }
        try scope.run {
            for (i, ti) in t.enumerated() {
                plane.set([ti])
                let (l, c) = try sourceLossAndAccuracy(scope, source)
                loss.append(l); acc.append(c)
                hook.update(i + 1, String(format: "t %.3g  loss %.4f", ti, l))
            }
        }
    }
    hook.finish()
    return Slice1D(t: t, loss: loss, acc: acc)
}

/// The loss landscape on a plane (Li et al. 2018): L(w + x·d₁ + y·d₂) and the accuracy on the
/// grid `xRange` × `yRange` with `xPoints` × `yPoints` points; directions, normalization, data,
/// BatchNorm and restoring as `slice1d` (the two random directions come from one seed, d₁ the
/// same as `slice1d`'s). Rows of `loss` follow y.
///
///     let s = try slice2d(net, test, xPoints: 11, yPoints: 11, seed: 0)
public func slice2d(_ model: Module, _ data: Dataset, x: SliceDirection = .random, y: SliceDirection = .random,
                    xRange: ClosedRange<Double> = -1...1, yRange: ClosedRange<Double> = -1...1,
                    xPoints: Int = 21, yPoints: Int = 21, normalization: SliceNormalization = .filter,
                    includeBiasAndBN: Bool = false, seed: UInt64? = nil, bn: BatchNormPolicy = .eval,
                    wrt: ParameterFilter = .trainable, batch: Int = 512,
                    progress: MeasureProgress = .automatic) throws -> Slice2D {
    guard xPoints >= 1, yPoints >= 1 else {
        throw SharpnessError("slice2d", "points must be at least 1, got \(xPoints) × \(yPoints)")
    }
    let scope = try MeasurementScope(model: model, wrt: wrt, bn: bn, op: "slice2d")
    let source = try BatchSource.dataset(data, chunk: batch, op: "slice2d")
    let s = resolvedSeed(seed)
    let d1 = try sliceDirection(x, scope: scope, normalization: normalization, includeBiasAndBN: includeBiasAndBN,
                                seed: mixSeed(s, 0), op: "slice2d")
    let d2 = try sliceDirection(y, scope: scope, normalization: normalization, includeBiasAndBN: includeBiasAndBN,
                                seed: mixSeed(s, 1), op: "slice2d")
    let xs = grid(xRange, xPoints), ys = grid(yRange, yPoints)
    let plane = SlicePlane(scope.tensors, [d1, d2])
    defer { plane.restore() }
    let hook = ProgressHook(progress, label: "slice2d", total: xPoints * yPoints, unit: "point")
    var loss: [[Double]] = [], acc: [[Double]] = []
    try scope.run {
        for (j, yj) in ys.enumerated() {
            var lrow: [Double] = [], arow: [Double] = []
            for (i, xi) in xs.enumerated() {
                plane.set([xi, yj])
                let (l, c) = try sourceLossAndAccuracy(scope, source)
                lrow.append(l); arow.append(c)
                hook.update(j * xPoints + i + 1, String(format: "(%.3g, %.3g)  loss %.4f", xi, yj, l))
            }
            loss.append(lrow); acc.append(arow)
        }
    }
    hook.finish()
    return Slice2D(x: xs, y: ys, loss: loss, acc: acc)
}

/// `points` equally spaced values from lo to hi (both included; the midpoint of a symmetric
/// range is exactly 0).
func grid(_ r: ClosedRange<Double>, _ points: Int) -> [Double] {
    guard points > 1 else { return [r.lowerBound] }
    return (0..<points).map { i in
        i == points - 1 ? r.upperBound : r.lowerBound + (r.upperBound - r.lowerBound) * Double(i) / Double(points - 1)
    }
}

/// A slice direction as one Float array per selected parameter.
func sliceDirection(_ direction: SliceDirection, scope: MeasurementScope, normalization: SliceNormalization,
                    includeBiasAndBN: Bool, seed: UInt64, op: String) throws -> [[Float]] {
    let params = scope.tensors
    switch direction {
    case .random:
        var rng = RandomGenerator(seed: seed)
        return params.map { p in
            var d = (0..<p.count).map { _ in Float(rng.normal()) }
            if p.rank <= 1 {
                if !includeBiasAndBN { return [Float](repeating: 0, count: p.count) }
                if normalization == .filter { return p.scalars }
                return d
            }
            if normalization == .filter { filterNormalize(&d, like: p) }
            return d
        }
    case .vector(let v):
        let layout = ParameterLayout(params)
        guard v.count == layout.dimension else {
            throw SharpnessError(op, "direction of length \(v.count) for \(layout.dimension) parameter values")
        }
        return layout.split(v).map(\.scalars)
    case .tensors(let ts):
        guard ts.count == params.count else {
            throw SharpnessError(op, "\(ts.count) direction tensors for \(params.count) parameters")
        }
        for (d, p) in zip(ts, params) where d.shape != p.shape {
            throw SharpnessError(op, "direction of shape \(d.shape) for a parameter of shape \(p.shape)")
        }
        return ts.map(\.scalars)
    case .between:
        throw SharpnessError(op, "a checkpoint line is a 1-D slice: use slice1d")
    }
}

/// d_f ← d_f · ‖w_f‖ / (‖d_f‖ + 1e-10) for each filter f (slice along the first axis).
func filterNormalize(_ d: inout [Float], like w: Tensor) {
    let filters = w.shape[0]
    let size = w.count / max(filters, 1)
    w.withUnsafeBufferPointer { wp in
        for f in 0..<filters {
            var wn = 0.0, dn = 0.0
            for k in f * size ..< (f + 1) * size {
                wn += Double(wp[k]) * Double(wp[k])
                dn += Double(d[k]) * Double(d[k])
            }
            let scale = wn.squareRoot() / (dn.squareRoot() + 1e-10)
            for k in f * size ..< (f + 1) * size { d[k] = Float(Double(d[k]) * scale) }
        }
    }
}

/// Sets the selected parameters to w + Σ cₖdₖ (computed in Double, rounded once, so all-zero
/// coefficients give w exactly); `restore()` writes w back.
struct SlicePlane {
    let params: [Tensor]
    let origin: [[Float]]
    let directions: [[[Float]]]   // [direction][parameter][value]
    let snapshot: WeightSnapshot

    init(_ params: [Tensor], _ directions: [[[Float]]]) {
        self.params = params
        self.origin = params.map(\.scalars)
        self.directions = directions
        self.snapshot = WeightSnapshot(params)
    }

    func set(_ c: [Double]) {
        for (k, p) in params.enumerated() {
            let w = origin[k]
            p.withUnsafeMutableBufferPointer { out in
                for i in 0..<w.count {
                    var v = Double(w[i])
                    for (a, d) in zip(c, directions) { v += a * Double(d[k][i]) }
                    out[i] = Float(v)
                }
            }
        }
    }

    func restore() { snapshot.restore() }
}

/// Sets the model to (1 − t)·w₀ + t·w₁ on the line between two checkpoints.
struct CheckpointLine {
    let targets: [Tensor]
    let start: [[Float]]
    let end: [[Float]]
    let snapshot: WeightSnapshot

    init(scope: MeasurementScope, _ a: SliceEndpoint, _ b: SliceEndpoint) throws {
        // The tensors the line moves: state dicts move every parameter and running statistic
        // they hold; vectors move the selected parameters.
        let model = scope.model
        var named: [(name: String, tensor: Tensor)] = model.namedParameters()
        named += model.namedBuffers().filter { $0.dtype == .float32 }.map { ($0.name, $0.tensor) }
        func values(_ e: SliceEndpoint, for names: [(name: String, tensor: Tensor)]) throws -> [[Float]] {
            switch e {
            case .stateDict(let bundle):
                return try names.map { n in
                    guard let t = bundle.tensors[n.name] else {
                        throw SharpnessError("slice1d", "the checkpoint has no tensor '\(n.name)'")
                    }
                    guard t.shape == n.tensor.shape else {
                        throw SharpnessError("slice1d", "checkpoint tensor '\(n.name)' has shape \(t.shape), the model's \(n.tensor.shape)")
                    }
                    return t.scalars
                }
            case .vector(let v):
                let layout = ParameterLayout(names.map(\.tensor))
                guard v.count == layout.dimension else {
                    throw SharpnessError("slice1d", "checkpoint vector of length \(v.count) for \(layout.dimension) parameter values")
                }
                return layout.split(v).map(\.scalars)
            }
        }
        let names: [(name: String, tensor: Tensor)]
        switch (a, b) {
        case (.stateDict, .stateDict): names = named
        case (.vector, .vector): names = scope.parameters
        default: throw SharpnessError("slice1d", "both ends of a checkpoint line must be state dicts, or both vectors")
        }
        targets = names.map(\.tensor)
        start = try values(a, for: names)
        end = try values(b, for: names)
        snapshot = WeightSnapshot(targets)
    }

    func set(_ t: Double) {
        for (k, p) in targets.enumerated() {
            let (a, b) = (start[k], end[k])
            p.withUnsafeMutableBufferPointer { out in
                for i in 0..<a.count { out[i] = Float((1 - t) * Double(a[i]) + t * Double(b[i])) }
            }
        }
    }

    func restore() { snapshot.restore() }
}
