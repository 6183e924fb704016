/// One value of a history column: a number, or a flat record of named numbers in a fixed order
/// (what a tracked measure such as RAG returns: `{rag, loss_adv, loss}`). The language layer turns
/// a number into a number and a record into a record with `.field` access.
///
/// Equality is bitwise on the numbers (0 and −0 differ), except that every NaN equals every NaN,
/// so two histories compare equal exactly when a resumed run reproduced them bit for bit.
///
///     let v: TrackedValue = 0.25;  let r = TrackedValue(["rag": 0.1, "loss": 0.3])
public enum TrackedValue: Sendable, CustomStringConvertible {
    case number(Double)
    /// Field names and their values, in the same order (names unique).
    case record(fields: [String], values: [Double])

    /// A record from (name, value) pairs, in that order.
    ///
    ///     let r = TrackedValue([("rag", 0.12), ("loss_adv", 0.9), ("loss", 0.8)])
    public init(_ pairs: [(String, Double)]) {
        self = .record(fields: pairs.map(\.0), values: pairs.map(\.1))
    }

    /// A record from a dictionary literal (its order is kept).
    ///
    ///     let r = TrackedValue(["rag": 0.12, "loss": 0.8])
    public init(_ pairs: KeyValuePairs<String, Double>) {
        self = .record(fields: pairs.map(\.key), values: pairs.map(\.value))
    }

    /// The number, or nil for a record.
    ///
    ///     TrackedValue.number(2).number   // 2
    public var number: Double? {
        if case .number(let x) = self { return x }
        return nil
    }

    /// The record's field names, or nil for a number.
    public var fields: [String]? {
        if case .record(let f, _) = self { return f }
        return nil
    }

    /// The value of record field `name`, or nil (a number, or no such field).
    ///
    ///     r["rag"]   // 0.12
    public subscript(name: String) -> Double? {
        guard case .record(let f, let v) = self, let i = f.firstIndex(of: name) else { return nil }
        return v[i]
    }

    /// `0.25` or `{rag: 0.12, loss: 0.8}`.
    public var description: String {
        switch self {
        case .number(let x): return formatNumber(x)
        case .record(let f, let v):
            return "{" + zip(f, v).map { "\($0): \(formatNumber($1))" }.joined(separator: ", ") + "}"
        }
    }

    /// Checks a value a measure returned: a record has as many values as fields, unique non-empty
    /// field names. Returns a message when it is malformed.
    func problem() -> String? {
        guard case .record(let f, let v) = self else { return nil }
        if f.count != v.count { return "a record with \(f.count) field names but \(v.count) values" }
        if f.isEmpty { return "an empty record" }
        if f.contains(where: \.isEmpty) { return "a record with an empty field name" }
        if Set(f).count != f.count { return "a record with a repeated field name (\(f))" }
        return nil
    }

    /// Whether two values have the same shape: both numbers, or records with the same fields.
    func sameKind(as other: TrackedValue) -> Bool {
        switch (self, other) {
        case (.number, .number): return true
        case let (.record(a, _), .record(b, _)): return a == b
        default: return false
        }
    }
}

extension TrackedValue: Equatable {
    public static func == (a: TrackedValue, b: TrackedValue) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)): return same(x, y)
        case let (.record(f, v), .record(g, w)):
            return f == g && v.count == w.count && zip(v, w).allSatisfy { same($0, $1) }
        default: return false
        }
    }
}

/// Bitwise equality, any NaN equal to any NaN.
private func same(_ x: Double, _ y: Double) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }

extension TrackedValue: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

/// Shortest text that reads back to the same Double; whole numbers without ".0".
func formatNumber(_ x: Double) -> String {
    if x.isFinite, x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
}
