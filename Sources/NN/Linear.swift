import Tensor

/// y = x·Wᵀ + b, as PyTorch's `nn.Linear`: `weight` [out, in], `bias` [out]. Initialized as
/// PyTorch does (Kaiming-uniform a = √5, i.e. U(±1/√in), and the bias U(±1/√in)).
/// Takes [N, in] (or [in], or [..., in]) and gives [N, out].
///
///     let fc = try Linear(784, 256, seed: 0); let y = try fc(x)   // Linear(784 -> 256)
public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Tensor
    public let bias: Tensor?

    /// Draws the initial weights from `rng`.
    ///
    ///     var rng = RandomGenerator(seed: 1); let fc = try Linear(10, 5, rng: &rng)
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw NNError("Linear", "sizes must be positive, got \(inFeatures) -> \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let (w, b) = Init.pytorchDefault(weightShape: [outFeatures, inFeatures], bias: bias, using: &rng)
        weight = w
        self.bias = b
        super.init()
        registerParameter("weight", w)
        if let b { registerParameter("bias", b) }
    }

    /// Seeded (`seed: nil` draws from the global generator, which `seed(n)` resets).
    ///
    ///     let fc = try Linear(784, 10, seed: 42)
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, seed: UInt64? = nil) throws {
        if let seed {
            var rng = RandomGenerator(seed: seed)
            try self.init(inFeatures, outFeatures, bias: bias, rng: &rng)
        } else {
            try self.init(inFeatures, outFeatures, bias: bias, rng: &GlobalRandom.generator)
        }
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw NNError(summary, "expected input [N, \(inFeatures)], got \(shapeText(x.shape))")
        }
        let rows = x.rank == 2 ? x : try x.reshaped([-1, inFeatures])
        var y = try rows.matmul(weight, transposeB: true)
        if let bias { y = try y + bias }
        return x.rank == 2 ? y : try y.reshaped(Array(x.shape.dropLast()) + [outFeatures])
    }

    public override func makeBlankCopy() throws -> Module {
        try Linear(inFeatures, outFeatures, bias: bias != nil, seed: 0)
    }

    public override var summary: String {
        "Linear(\(inFeatures) -> \(outFeatures)\(bias == nil ? ", no bias" : ""))"
    }
}
