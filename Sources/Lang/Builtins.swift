import Tensor

/// The type a builtin parameter accepts. The registry checks arguments against it before the
/// builtin runs, so every builtin reports a wrong argument the same way, with its signature.
public indirect enum ArgType: Sendable {
    case any, number, string, bool, list, record, tensor, function
    /// A whole number.
    case int
    /// A number or a tensor.
    case numeric
    /// Anything `tensor(...)` accepts: tensor, number, (nested) list of numbers, range.
    case tensorLike
    /// A whole number or a list of whole numbers.
    case shape
    /// Something `for` walks: list, range, string, tensor, record.
    case sequence
    /// A list of records, or a record of lists (columns).
    case rows
    /// A host object of that `typeName` ("model", "dataset", "optimizer", "schedule", "tracker").
    case object(String)
    /// `nil` or the wrapped type.
    case optional(ArgType)
    case oneOf([ArgType])

    /// "a number", "a list of whole numbers" — for messages and help.
    public var name: String {
        switch self {
        case .any: "any value"
        case .number: "a number"
        case .string: "a string"
        case .bool: "true or false"
        case .list: "a list"
        case .record: "a record"
        case .tensor: "a tensor"
        case .function: "a function"
        case .int: "a whole number"
        case .numeric: "a number or a tensor"
        case .tensorLike: "a tensor, a number or a list of numbers"
        case .shape: "a shape (a whole number or a list of whole numbers)"
        case .sequence: "a list, range, string, tensor or record"
        case .rows: "a list of records or a record of lists"
        case .object(let kind): ("aeiou".contains(kind.first ?? "x") ? "an " : "a ") + kind
        case .optional(let t): t.name + " or nil"
        case .oneOf(let ts): ts.map(\.name).joined(separator: " or ")
        }
    }

    public func accepts(_ v: Value) -> Bool {
        switch (self, v) {
        case (.any, _): return true
        case (.number, .number), (.string, .string), (.bool, .bool), (.list, .list), (.record, .record),
             (.tensor, .tensor), (.function, .function), (.function, .builtin):
            return true
        case (.int, .number(let d)): return wholeNumber(d) != nil
        case (.numeric, .number), (.numeric, .tensor): return true
        case (.tensorLike, .tensor), (.tensorLike, .number), (.tensorLike, .list), (.tensorLike, .range): return true
        case (.shape, .number(let d)): return wholeNumber(d) != nil
        case (.shape, .list(let l)):
            return l.items.allSatisfy { if case .number(let d) = $0 { return wholeNumber(d) != nil }; return false }
        case (.shape, .range): return true
        case (.sequence, .list), (.sequence, .range), (.sequence, .string), (.sequence, .tensor), (.sequence, .record):
            return true
        case (.rows, .list), (.rows, .record): return true
        case (.object(let kind), .object(let o)): return o.typeName == kind
        case (.optional, .null): return true
        case (.optional(let t), _): return t.accepts(v)
        case (.oneOf(let ts), _): return ts.contains { $0.accepts(v) }
        default: return false
        }
    }
}

/// A builtin's parameter: positional or by keyword (`f(1, b: 3)`); required unless it has a default.
public struct Param: Sendable {
    public let name: String
    public let type: ArgType
    /// nil: required.
    let defaultValue: DefaultValue?
    /// Takes all remaining positional arguments (as a list); parameters after it are keyword-only.
    public let isVariadic: Bool
    public let doc: String

    /// Defaults are plain data (Sendable), turned into values at each call.
    enum DefaultValue: Sendable {
        case null, bool(Bool), number(Double), string(String)
        /// A list of numbers (a fresh list at each call: lists are shared and mutable).
        case numbers([Double])
        var value: Value {
            switch self {
            case .null: .null
            case .bool(let b): .bool(b)
            case .number(let d): .number(d)
            case .string(let s): .string(s)
            case .numbers(let xs): .list(ListValue(xs.map { .number($0) }))
            }
        }
    }

    /// `name` with no default: the caller must give it.
    public static func required(_ name: String, _ type: ArgType, _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: nil, isVariadic: false, doc: doc)
    }

    /// `name: nil` by default.
    public static func optional(_ name: String, _ type: ArgType, _ doc: String = "") -> Param {
        Param(name: name, type: .optional(type), defaultValue: .null, isVariadic: false, doc: doc)
    }

    public static func optional(_ name: String, _ type: ArgType, default d: Double, _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: .number(d), isVariadic: false, doc: doc)
    }

    public static func optional(_ name: String, _ type: ArgType, default d: Bool, _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: .bool(d), isVariadic: false, doc: doc)
    }

    public static func optional(_ name: String, _ type: ArgType, default d: String, _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: .string(d), isVariadic: false, doc: doc)
    }

    public static func optional(_ name: String, _ type: ArgType, default d: [Double], _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: .numbers(d), isVariadic: false, doc: doc)
    }

    /// `name...`: the remaining positional arguments.
    public static func variadic(_ name: String, _ type: ArgType, _ doc: String = "") -> Param {
        Param(name: name, type: type, defaultValue: nil, isVariadic: true, doc: doc)
    }

    var signatureText: String {
        if isVariadic { return name + "..." }
        guard let d = defaultValue else { return name }
        let text: String
        switch d {
        case .null: text = "nil"
        case .bool(let b): text = b ? "true" : "false"
        case .number(let x): text = formatNumber(x)
        case .string(let s): text = quoteString(s)
        case .numbers(let xs): text = "[" + xs.map(formatNumber).joined(separator: ", ") + "]"
        }
        return "\(name): \(text)"
    }
}

/// One builtin function: its declaration (name, topic, parameters, doc, example) and its body.
/// The body receives arguments already bound and type-checked.
public final class Builtin {
    public let name: String
    public let topic: String
    public let params: [Param]
    /// What it returns, for help ("tensor", "{loss, acc}").
    public let returns: String
    public let doc: String
    /// A line (or a few) of code that runs; `help` shows it and a test runs every example.
    public let example: String
    let body: (BuiltinArgs) throws -> Value

    public init(_ name: String, topic: String, params: [Param], returns: String = "", doc: String, example: String,
                body: @escaping (BuiltinArgs) throws -> Value) {
        self.name = name
        self.topic = topic
        self.params = params
        self.returns = returns
        self.doc = doc
        self.example = example
        self.body = body
    }

    /// `rand(shape, low: 0, high: 1, seed: nil)`
    public var signature: String {
        name + "(" + params.map(\.signatureText).joined(separator: ", ") + ")"
    }

    /// `help(name)`: signature, doc, parameter types and the example.
    public var helpText: String {
        var s = signature + (returns.isEmpty ? "" : " → " + returns)
        s += "\n  " + doc.replacingOccurrences(of: "\n", with: "\n  ")
        for p in params {
            s += "\n  \(p.name): \(p.type.name)" + (p.doc.isEmpty ? "" : " — " + p.doc)
        }
        s += "\n  example: " + example.replacingOccurrences(of: "\n", with: "\n           ")
        return s
    }

    /// Binds call arguments to the parameters: positional in order (the rest into a variadic
    /// parameter), keywords by name, defaults for the missing, then the type checks.
    func bind(_ positional: [Value], _ keywords: [(name: String, value: Value)]) throws -> [Value] {
        var bound = [Value?](repeating: nil, count: params.count)
        let variadicIndex = params.firstIndex(where: \.isVariadic)
        let positionalSlots = variadicIndex ?? params.count
        var rest: [Value] = []
        for (i, v) in positional.enumerated() {
            if i < positionalSlots {
                bound[i] = v
            } else if variadicIndex != nil {
                rest.append(v)
            } else {
                throw LangError.usage("\(name) takes \(positionalSlots == 0 ? "no" : "at most \(positionalSlots)") positional argument\(positionalSlots == 1 ? "" : "s"), got \(positional.count)")
            }
        }
        if let vi = variadicIndex { bound[vi] = .list(ListValue(rest)) }
        for (k, v) in keywords {
            guard let i = params.firstIndex(where: { $0.name == k && !$0.isVariadic }) else {
                let hint = closestName(to: k, in: params.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw LangError.usage("\(name) has no parameter '\(k)'\(hint)")
            }
            if bound[i] != nil { throw LangError.usage("\(name): argument '\(k)' given twice") }
            bound[i] = v
        }
        var out: [Value] = []
        out.reserveCapacity(params.count)
        for (i, p) in params.enumerated() {
            guard let v = bound[i] ?? p.defaultValue?.value else {
                throw LangError.usage("\(name): missing argument '\(p.name)'")
            }
            if p.isVariadic, case .list(let l) = v {
                for (j, item) in l.items.enumerated() where !p.type.accepts(item) {
                    throw LangError.usage("\(name): argument \(positionalSlots + j + 1) must be \(p.type.name), got \(describeType(item))")
                }
            } else if !p.type.accepts(v) && !(v.isNil && p.defaultValue.map({ if case .null = $0 { return true }; return false }) == true) {
                throw LangError.usage("\(name): argument '\(p.name)' must be \(p.type.name), got \(describeType(v))")
            }
            out.append(v)
        }
        return out
    }
}

/// "a string", "the number 1.5" — what a value is, for argument errors.
func describeType(_ v: Value) -> String {
    switch v {
    case .number(let d): "the number \(formatNumber(d))"
    case .null: "nil"
    case .bool(let b): b ? "true" : "false"
    case .list: "a list"
    case .record: "a record"
    case .range: "a range"
    case .tensor(let t): "a tensor of shape [\(t.shape.map(String.init).joined(separator: ", "))]"
    case .string: "a string"
    case .function, .builtin: "a function"
    case .object(let o): ArgType.object(o.typeName).name
    }
}

/// The arguments of one builtin call, bound and checked, with typed accessors.
public struct BuiltinArgs {
    public let interpreter: Interpreter
    let builtin: Builtin
    let values: [Value]

    /// The raw value of parameter `name`.
    public subscript(_ name: String) -> Value {
        guard let i = builtin.params.firstIndex(where: { $0.name == name }) else { return .null }
        return values[i]
    }

    /// The values a variadic parameter collected.
    public func rest(_ name: String) -> [Value] {
        if case .list(let l) = self[name] { return l.items }
        return []
    }

    public func isNil(_ name: String) -> Bool { self[name].isNil }

    public func number(_ name: String) throws -> Double {
        switch self[name] {
        case .number(let d): return d
        case .tensor(let t) where t.count == 1: return Double(try t.item())
        case let v: throw LangError.usage("\(builtin.name): argument '\(name)' must be a number, got \(describeType(v))")
        }
    }

    public func int(_ name: String) throws -> Int {
        let d = try number(name)
        guard let i = wholeNumber(d) else {
            throw LangError.usage("\(builtin.name): argument '\(name)' must be a whole number, got \(formatNumber(d))")
        }
        return i
    }

    public func optionalInt(_ name: String) throws -> Int? { isNil(name) ? nil : try int(name) }
    public func optionalNumber(_ name: String) throws -> Double? { isNil(name) ? nil : try number(name) }
    public func optionalString(_ name: String) throws -> String? { isNil(name) ? nil : try string(name) }

    public func string(_ name: String) throws -> String {
        if case .string(let s) = self[name] { return s }
        throw LangError.usage("\(builtin.name): argument '\(name)' must be a string, got \(describeType(self[name]))")
    }

    public func bool(_ name: String) throws -> Bool {
        if case .bool(let b) = self[name] { return b }
        throw LangError.usage("\(builtin.name): argument '\(name)' must be true or false, got \(describeType(self[name]))")
    }

    public func list(_ name: String) throws -> ListValue {
        if case .list(let l) = self[name] { return l }
        throw LangError.usage("\(builtin.name): argument '\(name)' must be a list, got \(describeType(self[name]))")
    }

    public func record(_ name: String) throws -> RecordValue {
        if case .record(let r) = self[name] { return r }
        throw LangError.usage("\(builtin.name): argument '\(name)' must be a record, got \(describeType(self[name]))")
    }

    /// A tensor, converting numbers, nested lists and ranges.
    public func tensor(_ name: String) throws -> Tensor {
        try interpreter.toTensor(self[name], what: "\(builtin.name): argument '\(name)'")
    }

    /// A shape: a whole number n gives [n].
    public func shape(_ name: String) throws -> [Int] {
        let dims: [Int]
        switch self[name] {
        case .number: dims = [try int(name)]
        case .list(let l):
            dims = try l.items.map { v in
                guard case .number(let d) = v, let i = wholeNumber(d) else {
                    throw LangError.usage("\(builtin.name): argument '\(name)' must be \(ArgType.shape.name)")
                }
                return i
            }
        case .range(let r): dims = Array(r.lo ... max(r.lo, r.hi)).prefix(r.count).map { $0 }
        case let v: throw LangError.usage("\(builtin.name): argument '\(name)' must be \(ArgType.shape.name), got \(describeType(v))")
        }
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw LangError.usage("\(builtin.name): argument '\(name)' has a negative dimension")
        }
        try interpreter.checkSize(dims.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 },
                                  what: builtin.name)
        return dims
    }
}

/// All the builtins an interpreter knows, in registration order, grouped by topic for `help()`.
///
///     let reg = Builtins.standard()
///     reg.register(Builtin("twice", topic: "general", params: [.required("x", .number)],
///                          doc: "Doubles x.", example: "twice(2)") { a in .number(try a.number("x") * 2) })
public final class BuiltinRegistry {
    public private(set) var all: [Builtin] = []
    private var byName: [String: Int] = [:]

    public init() {}

    /// Adds a builtin, or replaces the one of the same name (keeping its place).
    public func register(_ builtin: Builtin) {
        if let i = byName[builtin.name] {
            all[i] = builtin
        } else {
            byName[builtin.name] = all.count
            all.append(builtin)
        }
    }

    /// Declares and adds a builtin in one call.
    public func register(_ name: String, topic: String, params: [Param], returns: String = "", doc: String,
                         example: String, body: @escaping (BuiltinArgs) throws -> Value) {
        register(Builtin(name, topic: topic, params: params, returns: returns, doc: doc, example: example, body: body))
    }

    public subscript(name: String) -> Builtin? { byName[name].map { all[$0] } }

    /// Topics in the order their first builtin was registered.
    public var topics: [String] {
        var seen: [String] = []
        for b in all where !seen.contains(b.topic) { seen.append(b.topic) }
        return seen
    }

    /// `help()`: every builtin name, by topic.
    public func index() -> String {
        var s = "Builtins by topic (help(name) shows one):"
        for t in topics {
            let names = all.filter { $0.topic == t }.map(\.name)
            s += "\n  \(t):"
            var line = "   "
            for n in names {
                if line.count + n.count + 1 > 78 {
                    s += "\n" + line
                    line = "   "
                }
                line += " " + n
            }
            s += "\n" + line
        }
        return s
    }

    /// The Markdown reference for the README, generated so it cannot drift from the code.
    public func markdown() -> String {
        var s = "## Builtin reference\n\n"
        s += "Generated by `losscape --builtins-markdown` from the builtins registry; `help(name)` shows the same in the REPL.\n"
        for t in topics {
            s += "\n### \(t)\n"
            for b in all where b.topic == t {
                s += "\n#### `\(b.signature)`" + (b.returns.isEmpty ? "" : " → \(b.returns)") + "\n\n"
                s += b.doc + "\n\n"
                for p in b.params {
                    s += "- `\(p.name)`: \(p.type.name)" + (p.doc.isEmpty ? "" : " — " + p.doc) + "\n"
                }
                s += "\n```\n\(b.example)\n```\n"
            }
        }
        return s
    }
}

/// The standard builtins. Each layer's builtins are one registration function; a layer that
/// lands later adds its function to `installers` (its topic then shows in `help()` in that order).
public enum Builtins {
    public static let installers: [@Sendable (BuiltinRegistry) -> Void] = [
        registerGeneral,
        registerMath,
        registerTensors,
        registerFiles,
        registerData,
        registerModels,
        registerTraining,
        registerContrastive,
        registerMeasures,
        registerPlots,
    ]

    /// A fresh registry holding every standard builtin.
    public static func standard() -> BuiltinRegistry {
        let r = BuiltinRegistry()
        for install in installers { install(r) }
        return r
    }
}

/// The Double as an Int when it is a whole number that an Int holds exactly.
@inline(__always)
public func wholeNumber(_ d: Double) -> Int? {
    guard d.isFinite, d == d.rounded(), Swift.abs(d) <= 9.007199254740992e15 else { return nil }
    return Int(d)
}

/// The name closest to `name` by edit distance (a swap of neighbours counts as one edit), when
/// close enough to be a likely typo.
func closestName(to name: String, in candidates: [String]) -> String? {
    let a = Array(name.lowercased())
    var best: (String, Int)?
    for c in candidates where c != name {
        let b = Array(c.lowercased())
        guard abs(a.count - b.count) <= 2, !a.isEmpty, !b.isEmpty else { continue }
        // Optimal string alignment distance over three rolling rows.
        var before = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = prev
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    cur[j] = min(cur[j], before[j - 2] + 1)
                }
            }
            before = prev
            prev = cur
        }
        let d = prev[b.count]
        if d <= max(1, min(2, a.count / 3)) && (best.map { d < $0.1 } ?? true) { best = (c, d) }
    }
    return best?.0
}
