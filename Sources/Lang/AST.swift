import Foundation

/// Variable names are interned to small integers at parse time so scopes compare integers, not
/// strings. The table only grows; it is shared by every interpreter in the process.
enum Symbols {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var ids: [String: Int] = [:]
    nonisolated(unsafe) private static var names: [String] = []

    static func id(_ name: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if let id = ids[name] { return id }
        names.append(name)
        ids[name] = names.count - 1
        return names.count - 1
    }

    static func name(_ id: Int) -> String {
        lock.lock()
        defer { lock.unlock() }
        return id >= 0 && id < names.count ? names[id] : "?"
    }
}

enum BinaryOp: Sendable {
    case add, sub, mul, div, mod, pow, matmul
    case eq, ne, lt, le, gt, ge

    var symbol: String {
        switch self {
        case .add: "+"
        case .sub: "-"
        case .mul: "*"
        case .div: "/"
        case .mod: "%"
        case .pow: "^"
        case .matmul: "@"
        case .eq: "=="
        case .ne: "!="
        case .lt: "<"
        case .le: "<="
        case .gt: ">"
        case .ge: ">="
        }
    }

    /// The verb of "cannot add number and string".
    var verb: String {
        switch self {
        case .add: "add"
        case .sub: "subtract"
        case .mul: "multiply"
        case .div: "divide"
        case .mod: "take % of"
        case .pow: "raise"
        case .matmul: "matrix-multiply (@)"
        default: "compare (\(symbol))"
        }
    }
}

/// A call argument: positional (`name == nil`) or keyword (`name: value`).
struct Argument {
    let name: String?
    let value: Expr
    let location: SourceLocation
}

/// A parameter of a user function: `a` (required) or `b: 2` (a default, evaluated at each call
/// in the function's own scope, so it may use earlier parameters).
struct Parameter {
    let name: String
    let id: Int
    let defaultValue: Expr?
}

/// A function literal or declaration. A class so closures share it instead of copying the body.
final class FunctionDecl {
    /// `fn` for anonymous functions until an assignment or record field names them.
    var name: String
    let params: [Parameter]
    let body: [Stmt]
    let location: SourceLocation
    /// The body as nodes, set when the code around the declaration is compiled (before any
    /// closure of it can exist).
    var compiled: CompiledFunction? {
        didSet { code = compiled.map { .passUnretained($0) } }
    }
    /// `compiled` unretained, for the call fast path (`compiled` keeps it).
    private(set) var code: Unmanaged<CompiledFunction>?

    init(name: String, params: [Parameter], body: [Stmt], location: SourceLocation) {
        self.name = name
        self.params = params
        self.body = body
        self.location = location
    }

    /// `fn name(a, b: 2)`
    var signature: String {
        let ps = params.map { p in p.defaultValue.map { "\(p.name): \($0.sourceText)" } ?? p.name }
        return "fn \(name)(\(ps.joined(separator: ", ")))"
    }
}

indirect enum Expr {
    case number(Double)
    case string(String)
    case bool(Bool)
    case nilLiteral
    case variable(id: Int, SourceLocation)
    case list([Expr], SourceLocation)
    case record([(key: String, value: Expr)], SourceLocation)
    case unaryMinus(Expr, SourceLocation)
    case not(Expr, SourceLocation)
    case binary(BinaryOp, Expr, Expr, SourceLocation)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case range(Expr, Expr, SourceLocation)
    case call(Expr, [Argument], SourceLocation)
    case index(Expr, Expr, SourceLocation)
    case field(Expr, String, SourceLocation)
    case function(FunctionDecl)

    /// A short rendering for signatures (`b: 2`, `lr: 0.1`); not a full pretty-printer.
    var sourceText: String {
        switch self {
        case .number(let d): formatNumber(d)
        case .string(let s): quoteString(s)
        case .bool(let b): b ? "true" : "false"
        case .nilLiteral: "nil"
        case .variable(let id, _): Symbols.name(id)
        case .unaryMinus(let e, _): "-" + e.sourceText
        case .list(let items, _): "[" + items.map(\.sourceText).joined(separator: ", ") + "]"
        default: "…"
        }
    }
}

/// What an assignment writes to.
enum AssignTarget {
    case variable(id: Int)
    case index(Expr, Expr)
    case field(Expr, String)
}

indirect enum Stmt {
    case expression(Expr, SourceLocation)
    /// `target = value`, or `target op= value` when `op` is set.
    case assign(AssignTarget, BinaryOp?, Expr, SourceLocation)
    case function(id: Int, FunctionDecl)
    case ifElse([(condition: Expr, body: [Stmt])], elseBody: [Stmt]?)
    case whileLoop(Expr, [Stmt], SourceLocation)
    case forLoop(id: Int, Expr, [Stmt], SourceLocation)
    case returnValue(Expr?, SourceLocation)
    case breakLoop(SourceLocation)
    case continueLoop(SourceLocation)
    case importFile(String, SourceLocation)
}

/// A parsed piece of source: its statements and where it came from.
struct Chunk {
    let statements: [Stmt]
    let fileID: Int32
}
