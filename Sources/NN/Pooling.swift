import Tensor

/// The window of a 2-D pooling layer: `kernel`, `stride` (default: the kernel) and `padding`,
/// checked once for both kinds.
public class Pool2d: Module {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    private let kind: String

    init(_ kind: String, kernel: Int, stride: Int?, padding: Int) throws {
        let s = stride ?? kernel
        guard kernel >= 1, s >= 1, padding >= 0, 2 * padding <= kernel else {
            throw NNError(kind, "kernel \(kernel), stride \(s), padding \(padding): need kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2")
        }
        self.kind = kind
        self.kernel = kernel
        self.stride = s
        self.padding = padding
        super.init()
    }

    public override var summary: String { "\(kind)(\(poolText(kernel, stride, padding)))" }
}

/// Max pooling over [N, C, H, W] (PyTorch's `nn.MaxPool2d`; stride defaults to the kernel,
/// padding counts as −∞).
///
///     let pool = try MaxPool2d(2)   // MaxPool2d(2x2)
public final class MaxPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        try super.init("MaxPool2d", kernel: kernel, stride: stride, padding: padding)
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }

    public override func makeBlankCopy() throws -> Module { try MaxPool2d(kernel, stride: stride, padding: padding) }
}

/// Average pooling over [N, C, H, W] (PyTorch's `nn.AvgPool2d`, padding counted in the average).
///
///     let pool = try AvgPool2d(4)   // AvgPool2d(4x4)
public final class AvgPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        try super.init("AvgPool2d", kernel: kernel, stride: stride, padding: padding)
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
    }

    public override func makeBlankCopy() throws -> Module { try AvgPool2d(kernel, stride: stride, padding: padding) }
}

/// The mean over H and W: [N, C, H, W] → [N, C] (PyTorch's `adaptive_avg_pool2d(x, 1)` then
/// flatten; on ResNet-18's 4×4 map for 32×32 inputs it equals kuangliu's `avg_pool2d(out, 4)`).
///
///     let feats = try GlobalAvgPool()(x)
public final class GlobalAvgPool: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try x.globalAvgPool() }
    public override var summary: String { "GlobalAvgPool" }
    public override func makeBlankCopy() throws -> Module { GlobalAvgPool() }
}

/// Flattens every dimension after the first: [N, …] → [N, ∏…] (PyTorch's `nn.Flatten()`).
///
///     let v = try Flatten()(images)   // [N, 784] from [N, 1, 28, 28]
public final class Flatten: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1 else { throw NNError(summary, "cannot flatten a scalar") }
        return try x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])
    }
    public override var summary: String { "Flatten" }
    public override func makeBlankCopy() throws -> Module { Flatten() }
}

func poolText(_ k: Int, _ s: Int, _ p: Int) -> String {
    "\(k)x\(k)" + (s != k ? ", stride \(s)" : "") + (p != 0 ? ", padding \(p)" : "")
}
