import Foundation
import Tensor

/// A value of the language. Lists and records are shared references (assignment does not copy);
/// numbers are Doubles; tensors are the engine's immutable `Tensor`s.
///
///     let v: Value = .list(ListValue([.number(1), .string("a")]))
public enum Value {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list(ListValue)
    case record(RecordValue)
    /// `a..b`: whole numbers from `a` to `b`, both included (empty when `b < a`).
    case range(RangeValue)
    case tensor(Tensor)
    case function(Closure)
    case builtin(Builtin)
    /// Models, data sets, optimizers and whatever later layers bring.
    case object(any LangObject)

    /// Only `nil` and `false` are falsy.
    @inline(__always)
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        default: true
        }
    }

    /// The name `type(x)` returns and error messages use.
    public var typeName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .list: "list"
        case .record: "record"
        case .range: "range"
        case .tensor: "tensor"
        case .function, .builtin: "function"
        case .object(let o): o.typeName
        }
    }

    public var isNil: Bool { if case .null = self { return true }; return false }

    /// A list of strings, e.g. for `args`.
    public static func strings(_ items: [String]) -> Value { .list(ListValue(items.map { .string($0) })) }

    /// A record from ordered pairs.
    public static func record(_ pairs: [(String, Value)]) -> Value { .record(RecordValue(pairs)) }
}

/// Later layers wrap their objects (models, data sets, optimizers) in this to make them values:
/// a type name, a printed form, and optionally `.field` access and `len`.
///
///     final class ModelValue: LangObject { var typeName: String { "model" } … }
public protocol LangObject: AnyObject {
    var typeName: String { get }
    /// How `print` shows it.
    var description: String { get }
    /// `x.name`; nil when there is no such field.
    func field(_ name: String) -> Value?
    /// The names `x.` completes to and `keys(x)` lists.
    var fieldNames: [String] { get }
    /// `len(x)`; nil when it has none.
    var length: Int? { get }
}

extension LangObject {
    public func field(_ name: String) -> Value? { nil }
    public var fieldNames: [String] { [] }
    public var length: Int? { nil }
}

/// A host object that can be called like a function: a model applied to a tensor, `net(x)`.
public protocol CallableLangObject: LangObject {
    /// Runs the call with evaluated arguments; errors without a location get the call's.
    func call(_ positional: [Value], _ keywords: [(name: String, value: Value)], _ interpreter: Interpreter) throws -> Value
}

/// A list: a shared, mutable array of values.
public final class ListValue {
    public var items: [Value]

    public init(_ items: [Value] = []) { self.items = items }

    deinit { Teardown.release(&items) }
}

/// A record: named fields in insertion order, shared and mutable.
public final class RecordValue {
    public private(set) var keys: [String] = []
    public private(set) var values: [Value] = []

    public init() {}

    public init(_ pairs: [(String, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> Value? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let i = keys.firstIndex(of: key) {
                if let v = newValue { values[i] = v } else { keys.remove(at: i); values.remove(at: i) }
            } else if let v = newValue {
                keys.append(key)
                values.append(v)
            }
        }
    }

    public var pairs: [(String, Value)] { Array(zip(keys, values)) }

    deinit { Teardown.release(&values) }
}

/// `lo..hi`, both ends included.
public struct RangeValue: Equatable, Sendable {
    public let lo: Int
    public let hi: Int

    public init(_ lo: Int, _ hi: Int) {
        self.lo = lo
        self.hi = hi
    }

    public var count: Int { hi >= lo ? hi - lo + 1 : 0 }
}

/// A user function with the scope it was created in (so closures keep state).
public final class Closure {
    let decl: FunctionDecl
    let env: Environment

    init(decl: FunctionDecl, env: Environment) {
        self.decl = decl
        self.env = env
    }

    public var name: String { decl.name }
}

/// Frees deeply nested lists and records without recursing: a 100,000-deep `[[[…]]]` built by a
/// loop would otherwise overflow the native stack in the chain of `deinit`s. A dying container
/// with containers inside hands its items to a work list that the outermost release drains.
enum Teardown {
    // Recursive: the optimizer may free a batch (running nested `deinit`s, which come back here)
    // wherever it likes after its last use, even while this thread holds the lock.
    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var pending: [[Value]] = []
    nonisolated(unsafe) private static var draining = false

    static func release(_ items: inout [Value]) {
        guard items.contains(where: { v in
            switch v {
            case .list, .record: true
            default: false
            }
        }) else { return }
        lock.lock()
        pending.append(items)
        lock.unlock()
        items = []   // `pending` holds the buffer: nothing is freed here
        guard startDraining() else { return }
        while let batch = nextBatch() { discard(consume batch) }
    }

    /// True when this call is the outermost release and must drain the work list.
    private static func startDraining() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if draining { return false }
        draining = true
        return true
    }

    private static func nextBatch() -> [Value]? {
        lock.lock()
        defer { lock.unlock() }
        guard let batch = pending.popLast() else {
            draining = false
            return nil
        }
        return batch
    }

    /// Frees one batch, here and now: dying containers inside append to `pending` and return.
    @inline(never)
    private static func discard(_ batch: consuming [Value]) {}
}
