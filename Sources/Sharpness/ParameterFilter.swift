import NN
import Tensor

/// Which parameters a measure acts on (`wrt:` in the language): the trainable ones (the
/// default), all of them (frozen ones included: they are tracked for the measurement only), or
/// those whose names match a pattern in `freeze`'s syntax (`ParameterPattern`: `"linear"`,
/// `"*.bias"`, `"layer4*"`), frozen or not. The order is always registration order.
///
///     let last = try hessianEigs(net, data, wrt: .pattern("linear"))
public enum ParameterFilter: Sendable, Equatable {
    case trainable
    case all
    case pattern(String)

    /// `"trainable"`, `"all"`, or any other text as a name pattern.
    ///
    ///     let f = ParameterFilter("layer4")   // .pattern("layer4")
    public init(_ text: String) {
        switch text {
        case "trainable": self = .trainable
        case "all": self = .all
        default: self = .pattern(text)
        }
    }

    /// The selected parameters with their names; throws when none is selected (a typo in a
    /// pattern, or a fully frozen model under `.trainable`).
    ///
    ///     let ps = try ParameterFilter.all.select(in: net)
    public func select(in model: Module, op: String = "wrt") throws -> [(name: String, tensor: Tensor)] {
        let all = model.namedParameters()
        let chosen: [(name: String, tensor: Tensor)]
        switch self {
        case .trainable: chosen = all.filter { $0.tensor.requiresGrad }
        case .all: chosen = all
        case .pattern(let p): chosen = all.filter { ParameterPattern.matches(p, $0.name) }
        }
        guard !chosen.isEmpty else {
            let sample = all.prefix(4).map(\.name).joined(separator: ", ")
            switch self {
            case .trainable:
                throw SharpnessError(op, all.isEmpty ? "\(model.summary) has no parameters"
                    : "every parameter of \(model.summary) is frozen; pass wrt: \"all\" or a name pattern")
            case .all:
                throw SharpnessError(op, "\(model.summary) has no parameters")
            case .pattern(let p):
                throw SharpnessError(op, "pattern '\(p)' selects no parameter of \(model.summary) (names look like \(sample)\(all.count > 4 ? ", …" : ""))")
            }
        }
        return chosen
    }
}
