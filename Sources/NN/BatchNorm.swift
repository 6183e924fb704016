import Data
import Tensor

/// Batch normalization as PyTorch's `nn.BatchNorm1d` / `nn.BatchNorm2d` (affine, tracking
/// running statistics): parameters `weight` (1) and `bias` (0); buffers `running_mean` (0),
/// `running_var` (1) and `num_batches_tracked` (0, saved as I64).
///
/// Training mode normalizes with the batch's statistics (biased variance), adds 1 to
/// `num_batches_tracked`, and updates the running statistics in place:
/// r ← (1 − f)·r + f·batch statistic, with the *unbiased* variance, where f = `momentum`
/// (0.1), or 1/num_batches_tracked when `momentum` is nil (a cumulative average, as PyTorch's
/// `momentum=None`). Evaluation mode normalizes with the running statistics.
///
///     let bn = try BatchNorm2d(64); let y = try bn(x)
public class BatchNorm: Module {
    public let features: Int
    /// Settable, e.g. to nil to recompute the running statistics as a plain average over a pass
    /// and back to 0.1 after; must be nil or in [0, 1] (checked at construction only).
    public var momentum: Float?
    public let eps: Float
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// A whole number stored as Float32 (exact up to 2²⁴ batches).
    public let numBatchesTracked: Tensor

    init(_ features: Int, momentum: Float?, eps: Float, kind: String) throws {
        guard features > 0 else { throw NNError(kind, "number of features must be positive, got \(features)") }
        if let momentum, !(momentum >= 0 && momentum <= 1) {
            throw NNError(kind, "momentum \(momentum) is outside [0, 1]")
        }
        guard eps > 0 else { throw NNError(kind, "eps must be positive, got \(eps)") }
        self.features = features
        self.momentum = momentum
        self.eps = eps
        weight = Tensor.ones([features])
        bias = Tensor.zeros([features])
        runningMean = Tensor.zeros([features])
        runningVar = Tensor.ones([features])
        numBatchesTracked = Tensor.zeros([])
        super.init()
        registerParameter("weight", weight)
        registerParameter("bias", bias)
        registerBuffer("running_mean", runningMean)
        registerBuffer("running_var", runningVar)
        registerBuffer("num_batches_tracked", numBatchesTracked, dtype: .int64)
    }

    /// Normalizes a [N, C] or [N, C, H, W] input (subclasses accept their own ranks), then adds
    /// `residual` and rectifies when asked, fused into the same passes when training.
    func normalize(_ x: Tensor, residual: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        guard x.shape[1] == features else {
            throw NNError(summary, "input \(shapeText(x.shape)) has \(x.shape[1]) channels, expected \(features)")
        }
        guard isTraining else {
            return try x.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                   training: false, eps: eps, residual: residual, relu: relu)
        }
        let tracked = try numBatchesTracked.item() + 1
        let factor = momentum ?? 1 / tracked
        let y = try x.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                training: true, momentum: factor, eps: eps, residual: residual, relu: relu)
        numBatchesTracked.withUnsafeMutableBufferPointer { $0[0] = tracked }
        return y
    }

    var optionsText: String {
        var s = ""
        if momentum != 0.1 { s += ", momentum \(momentum.map { "\($0)" } ?? "nil")" }
        if eps != 1e-5 { s += ", eps \(eps)" }
        return s
    }
}

/// BatchNorm over the channels of [N, C, H, W] images (PyTorch's `nn.BatchNorm2d`).
///
///     let bn = try BatchNorm2d(64)   // BatchNorm2d(64)
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, momentum: Float? = 0.1, eps: Float = 1e-5) throws {
        try super.init(features, momentum: momentum, eps: eps, kind: "BatchNorm2d")
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try self(x, relu: false) }

    /// relu(self(x) + residual) (residual optional), fused: a residual block's epilogue.
    public func callAsFunction(_ x: Tensor, adding residual: Tensor? = nil, relu: Bool) throws -> Tensor {
        guard x.rank == 4 else { throw NNError(summary, "expected input [N, C, H, W], got \(shapeText(x.shape))") }
        return try normalize(x, residual: residual, relu: relu)
    }

    public override var summary: String { "BatchNorm2d(\(features)\(optionsText))" }

    public override func makeBlankCopy() throws -> Module { try BatchNorm2d(features, momentum: momentum, eps: eps) }
}

/// BatchNorm over the features of [N, C] (or the channels of [N, C, L]), as PyTorch's `nn.BatchNorm1d`.
///
///     let bn = try BatchNorm1d(256)   // BatchNorm1d(256)
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, momentum: Float? = 0.1, eps: Float = 1e-5) throws {
        try super.init(features, momentum: momentum, eps: eps, kind: "BatchNorm1d")
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch x.rank {
        case 2: return try normalize(x)
        case 3:
            // [N, C, L] as [N, C, L, 1]: the statistics then run over N and L, as PyTorch's.
            let y = try normalize(try x.reshaped(x.shape + [1]))
            return try y.reshaped(x.shape)
        default:
            throw NNError(summary, "expected input [N, C] or [N, C, L], got \(shapeText(x.shape))")
        }
    }

    public override var summary: String { "BatchNorm1d(\(features)\(optionsText))" }

    public override func makeBlankCopy() throws -> Module { try BatchNorm1d(features, momentum: momentum, eps: eps) }
}
