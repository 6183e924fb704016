import NN
import Tensor

/// A module that draws random numbers from a generator of its own while it runs (Dropout's
/// masks). A training checkpoint saves each such generator by the module's name and a resumed run
/// restores it, so the masks drawn after a resume are those the uninterrupted run would draw.
/// NN's `Dropout` conforms here; a new random layer joins by conforming.
///
///     extension MyNoiseLayer: StochasticModule {}
public protocol StochasticModule: AnyObject {
    var rng: RandomGenerator { get set }
}

extension Dropout: StochasticModule {}

extension Module {
    /// The modules of this tree that hold a generator, with their dotted names (the root is "").
    ///
    ///     net.stochasticModules().map(\.name)   // ["drop1"]
    public func stochasticModules() -> [(name: String, module: StochasticModule)] {
        namedModules().compactMap { entry in
            (entry.module as? StochasticModule).map { (entry.name, $0) }
        }
    }
}

/// Generator states as checkpoint metadata text: the six words of `RandomGenerator.state` in hex,
/// comma-separated (exact, unlike a Float32 tensor).
enum RandomStateText {
    static func encode(_ g: RandomGenerator) -> String {
        g.state.map { String($0, radix: 16) }.joined(separator: ",")
    }

    static func decode(_ text: String) -> RandomGenerator? {
        let words = text.split(separator: ",").map { UInt64($0, radix: 16) }
        guard words.allSatisfy({ $0 != nil }) else { return nil }
        return RandomGenerator(state: words.map { $0! })
    }
}
