import Tensor

/// Max pooling over [N, C, H, W] (PyTorch's `nn.MaxPool2d`; stride defaults to the kernel,
/// padding counts as −∞).
///
///     let pool = try MaxPool2d(2)   // MaxPool2d(2x2)
public final class MaxPool2d: Module {
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        let s = stride ?? kernel
        guard kernel >= 1, s >= 1, padding >= 0, 2 * padding <= kernel else {
            throw NNError("MaxPool2d", "kernel \(kernel), stride \(s), padding \(padding): need kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2")
        }
        self.kernel = kernel
        self.stride = s
        self.padding = padding
        super.init()
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }

    public override var summary: String { "MaxPool2d(\(poolText(kernel, stride, padding)))" }
}

/// Average pooling over [N, C, H, W] (PyTorch's `nn.AvgPool2d`, padding counted in the average).
///
///     let pool = try AvgPool2d(4)   // AvgPool2d(4x4)
public final class AvgPool2d: Module {
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        let s = stride ?? kernel
        guard kernel >= 1, s >= 1, padding >= 0, 2 * padding <= kernel else {
            throw NNError("AvgPool2d", "kernel \(kernel), stride \(s), padding \(padding): need kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2")
        }
        self.kernel = kernel
        self.stride = s
        self.padding = padding
        super.init()
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.avgPool2d(kernel: kernel, stride: stride, padding: padding)
    }

    public override var summary: String { "AvgPool2d(\(poolText(kernel, stride, padding)))" }
}

/// The mean over H and W: [N, C, H, W] → [N, C] (PyTorch's `adaptive_avg_pool2d(x, 1)` then
/// flatten; on ResNet-18's 4×4 map for 32×32 inputs it equals kuangliu's `avg_pool2d(out, 4)`).
///
///     let feats = try GlobalAvgPool()(x)
public final class GlobalAvgPool: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try x.globalAvgPool() }
    public override var summary: String { "GlobalAvgPool" }
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
}

func poolText(_ k: Int, _ s: Int, _ p: Int) -> String {
    "\(k)x\(k)" + (s != k ? ", stride \(s)" : "") + (p != 0 ? ", padding \(p)" : "")
}
