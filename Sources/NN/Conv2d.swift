import Tensor

/// 2-D convolution as PyTorch's `nn.Conv2d` (square kernel, groups 1, dilation 1): `weight`
/// [out, in, k, k], optional `bias` [out]. Initialized as PyTorch does (Kaiming-uniform a = √5,
/// i.e. U(±1/√(in·k·k)), and the bias U(±1/√(in·k·k))). Takes and gives [N, C, H, W].
///
///     let conv = try Conv2d(3, 64, kernel: 3, padding: 1, bias: false, seed: 0)   // Conv2d(3 -> 64, 3x3, padding 1, no bias)
public final class Conv2d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Tensor
    public let bias: Tensor?

    /// Draws the initial weights from `rng`.
    ///
    ///     let conv = try Conv2d(16, 32, kernel: 3, stride: 2, padding: 1, bias: false, rng: &rng)
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) throws {
        guard inChannels > 0, outChannels > 0, kernel > 0, stride > 0, padding >= 0 else {
            throw NNError("Conv2d", "need positive channels, kernel and stride and padding ≥ 0, got \(inChannels) -> \(outChannels), kernel \(kernel), stride \(stride), padding \(padding)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let (w, b) = Init.pytorchDefault(weightShape: [outChannels, inChannels, kernel, kernel], bias: bias, using: &rng)
        weight = w
        self.bias = b
        super.init()
        registerParameter("weight", w)
        if let b { registerParameter("bias", b) }
    }

    /// Seeded (`seed: nil` draws from the global generator).
    ///
    ///     let conv = try Conv2d(1, 8, kernel: 5, seed: 3)
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                            bias: Bool = true, seed: UInt64? = nil) throws {
        if let seed {
            var rng = RandomGenerator(seed: seed)
            try self.init(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias, rng: &rng)
        } else {
            try self.init(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias,
                          rng: &GlobalRandom.generator)
        }
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw NNError(summary, "expected input [N, \(inChannels), H, W], got \(shapeText(x.shape))")
        }
        let y = try x.conv2d(weight, stride: stride, padding: padding)
        guard let bias else { return y }
        return try y + bias.reshaped([1, outChannels, 1, 1])
    }

    public override func makeBlankCopy() throws -> Module {
        try Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias != nil, seed: 0)
    }

    public override var summary: String {
        var s = "Conv2d(\(inChannels) -> \(outChannels), \(kernel)x\(kernel)"
        if stride != 1 { s += ", stride \(stride)" }
        if padding != 0 { s += ", padding \(padding)" }
        if bias == nil { s += ", no bias" }
        return s + ")"
    }
}
