/// Every bad input to the engine throws this: it names the op and what was wrong (shapes included),
/// so the REPL can show it and carry on.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let message: String

    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

/// A shape as `[2, 3]`, the way every layer's errors write it.
public func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
