import Tensor

/// Applies its children in order (PyTorch's `nn.Sequential`). Children are named `0`, `1`, …
/// unless given names; with none it passes its input through (kuangliu's identity shortcut).
///
///     let net = try Sequential(Flatten(), Linear(784, 10, seed: 0))
open class Sequential: Module {
    /// Children named `0`, `1`, ….
    public init(_ layers: [Module]) {
        super.init()
        for (i, m) in layers.enumerated() { registerChild(String(i), m) }
    }

    /// Children named `0`, `1`, ….
    ///
    ///     let block = Sequential(conv, bn, ReLU())
    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Children with the given names (unique, without dots).
    ///
    ///     let head = try Sequential(named: [("fc", fc), ("relu", ReLU())])
    public init(named layers: [(String, Module)]) throws {
        super.init()
        var seen = Set<String>()
        for (name, m) in layers {
            guard !name.isEmpty, !name.contains("."), seen.insert(name).inserted else {
                throw NNError("Sequential", "child name '\(name)' is empty, contains a dot, or is repeated")
            }
            registerChild(name, m)
        }
    }

    /// Number of children.
    public var count: Int { children.count }

    /// The i-th child.
    ///
    ///     let first = net[0]
    public subscript(i: Int) -> Module { children[i].module }

    open override func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = x
        for c in children { y = try c.module(y) }
        return y
    }

    /// Copies of the children under the same names.
    open override func makeBlankCopy() throws -> Module {
        try Sequential(named: children.map { ($0.name, try $0.module.copy()) })
    }

    open override var summary: String { children.isEmpty ? "Sequential()" : "Sequential" }
}
