import Tensor

/// Inverted dropout (PyTorch's `nn.Dropout`): in training mode each element is zeroed with
/// probability p and the rest scaled by 1/(1 − p); in evaluation mode the input passes through.
/// The mask comes from the layer's own seeded generator, so a seed fixes every mask drawn.
///
///     let drop = try Dropout(0.5, seed: 7)   // Dropout(p: 0.5)
public final class Dropout: Module {
    public let p: Float
    /// The generator the masks are drawn from (part of a training run's random state).
    public var rng: RandomGenerator

    /// `seed: nil` seeds the layer from the global generator.
    public init(_ p: Float = 0.5, seed: UInt64? = nil) throws {
        guard p >= 0 && p < 1 else { throw NNError("Dropout", "probability \(p) is outside [0, 1)") }
        self.p = p
        rng = RandomGenerator(seed: seed ?? GlobalRandom.generator.next())
        super.init()
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.dropout(p, training: isTraining, using: &rng)
    }

    public override var summary: String { "Dropout(p: \(p))" }

    /// `copy()` then carries over the generator's state.
    public override func makeBlankCopy() throws -> Module { try Dropout(p, seed: 0) }
}
