import Tensor

/// max(x, 0), elementwise (PyTorch's `nn.ReLU`).
///
///     let y = try ReLU()(x)
public final class ReLU: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
    public override var summary: String { "ReLU" }
    public override func makeBlankCopy() throws -> Module { ReLU() }
}

/// tanh(x), elementwise (PyTorch's `nn.Tanh`).
///
///     let y = try Tanh()(x)
public final class Tanh: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try x.tanh() }
    public override var summary: String { "Tanh" }
    public override func makeBlankCopy() throws -> Module { Tanh() }
}

/// 1/(1 + e^−x), elementwise (PyTorch's `nn.Sigmoid`).
///
///     let y = try Sigmoid()(x)
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { try x.sigmoid() }
    public override var summary: String { "Sigmoid" }
    public override func makeBlankCopy() throws -> Module { Sigmoid() }
}

/// Passes its input through (PyTorch's `nn.Identity`).
///
///     let head = Identity()
public final class Identity: Module {
    public override init() { super.init() }
    public override func callAsFunction(_ x: Tensor) throws -> Tensor { x }
    public override var summary: String { "Identity" }
    public override func makeBlankCopy() throws -> Module { Identity() }
}
