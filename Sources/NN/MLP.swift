import Tensor

/// A multilayer perceptron: Linear layers named `fc1`, `fc2`, … with a ReLU (`relu1`, …) between
/// consecutive ones and none after the last, so its state dict is that of a PyTorch module with
/// `self.fc1 = nn.Linear(…)`, …. Takes [N, sizes[0]] and gives [N, sizes.last]; images
/// [N, C, H, W] are flattened first (C·H·W must equal sizes[0]).
///
///     let mlp = try MLP([784, 256, 10], seed: 0)   // MLP(784 -> 256 -> 10)
public final class MLP: Sequential {
    public let sizes: [Int]

    public init(_ sizes: [Int], bias: Bool = true, rng: inout RandomGenerator) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
            throw NNError("MLP", "sizes must be at least two positive numbers, got \(sizes)")
        }
        self.sizes = sizes
        var layers: [(String, Module)] = []
        for i in 1..<sizes.count {
            layers.append(("fc\(i)", try Linear(sizes[i - 1], sizes[i], bias: bias, rng: &rng)))
            if i < sizes.count - 1 { layers.append(("relu\(i)", ReLU())) }
        }
        try super.init(named: layers)
    }

    /// Seeded (`seed: nil` draws from the global generator).
    ///
    ///     let mlp = try MLP([2, 16, 16, 3], seed: 1)
    public convenience init(_ sizes: [Int], bias: Bool = true, seed: UInt64? = nil) throws {
        if let seed {
            var rng = RandomGenerator(seed: seed)
            try self.init(sizes, bias: bias, rng: &rng)
        } else {
            try self.init(sizes, bias: bias, rng: &GlobalRandom.generator)
        }
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank > 2 else { return try super.callAsFunction(x) }
        return try super.callAsFunction(try x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)]))
    }

    public override func makeBlankCopy() throws -> Module {
        let hasBias = (children.first?.module as? Linear)?.bias != nil
        return try MLP(sizes, bias: hasBias, seed: 0)
    }

    public override var summary: String { "MLP(" + sizes.map(String.init).joined(separator: " -> ") + ")" }
}
