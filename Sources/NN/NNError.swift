/// Every failure of the NN layer throws this: where it happened (a module, an optimizer, a
/// schedule, or a checkpoint file) and what was wrong, specific enough to fix the call or the file.
///
///     catch let e as NNError { print(e) }   // "m.safetensors: missing: linear.bias"
public struct NNError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The module (`Linear(784 -> 256)`), the operation (`freeze`, `SGD`) or the file path.
    public let location: String
    /// What is wrong, in words.
    public let message: String

    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
