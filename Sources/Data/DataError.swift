/// Every failure of the data layer throws this: the file (or, for in-memory data, the data set or
/// the operation) and what is wrong with it, specific enough to fix the file or the call.
///
///     catch let e as DataError { print(e) }   // "/d/test_batch.bin: truncated: 30730 bytes is not a multiple of 3073-byte records"
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file path, an archive member (`"w.npz: member 'a.npy'"`), or for in-memory data the
    /// data set's name or the operation.
    public let path: String
    /// What is wrong, in words.
    public let message: String

    /// `DataError("/d/x.npy", "truncated: …")`.
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}

/// The product of dimensions, or nil when it overflows `Int` or a dimension is negative (a header
/// can claim any shape; the claim is checked against the bytes actually present).
func checkedProduct(_ dims: [Int]) -> Int? {
    var n = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// v / 255 for every byte value, correctly rounded (as PyTorch's `x.float() / 255`).
let byteToUnit: [Float] = (0 ..< 256).map { Float($0) / 255 }
