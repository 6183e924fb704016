import Tensor

/// Where compiled code runs: the slots of the current function call, the innermost scope that
/// closures can keep (the call's own when the function captures, else the one its closure was
/// made in; the globals at top level), and the interpreter.
///
/// Passed by value down the tree and never stored, so stack slots never outlive their call. It
/// holds its scope and interpreter unretained — whoever makes a frame keeps both alive while it
/// runs — because retaining them for every call and every node was most of the time a scalar
/// loop took.
struct Frame {
    let slots: UnsafeMutablePointer<Value?>
    let envRef: Unmanaged<Environment>
    let interpRef: Unmanaged<Interpreter>

    init(slots: UnsafeMutablePointer<Value?>, env: Environment, interp: Interpreter) {
        self.slots = slots
        envRef = .passUnretained(env)
        interpRef = .passUnretained(interp)
    }

    init(slots: UnsafeMutablePointer<Value?>, envRef: Unmanaged<Environment>, interpRef: Unmanaged<Interpreter>) {
        self.slots = slots
        self.envRef = envRef
        self.interpRef = interpRef
    }

    /// For the slow paths: a strong reference costs a retain.
    var env: Environment { envRef.takeUnretainedValue() }
    var interp: Interpreter { interpRef.takeUnretainedValue() }

    /// Counts a statement or a loop iteration (`Interpreter.step`).
    @inline(__always)
    func step(at loc: SourceLocation?) throws {
        try interpRef._withUnsafeGuaranteedRef { try $0.step(at: loc) }
    }

    @inline(__always)
    func withInterp<R>(_ body: (Interpreter) throws -> R) rethrows -> R {
        try interpRef._withUnsafeGuaranteedRef(body)
    }

    /// The scope `hops` parents out from `env`.
    @inline(__always)
    func scope(hops: Int) -> Unmanaged<Environment> {
        var e = envRef
        var h = 0
        while h < hops {
            e = e._withUnsafeGuaranteedRef { $0.parentRef! }
            h += 1
        }
        return e
    }
}

/// Ctrl-C: loops and calls poll the flag the signal handler sets.
@inline(__always)
func pollInterrupt(at loc: SourceLocation) throws {
    if Cancellation.isRequested { throw LangError(.interrupted, "interrupted", at: loc) }
}

/// How a statement ended.
enum Flow {
    case normal, breakLoop, continueLoop
    case returned(Value)
}

/// A compiled expression. The tree is made of final classes whose `eval` the interpreter calls
/// through the vtable: no enum payloads to copy and retain on the way down, and each operator
/// has its own number fast path.
class Node {
    func eval(_ f: Frame) throws -> Value { preconditionFailure("Node.eval is abstract") }

    /// The expression as a condition (only nil and false are falsy); comparisons answer without
    /// building a Value.
    func test(_ f: Frame) throws -> Bool { try eval(f).isTruthy }
}

// MARK: - Literals

final class NumberNode: Node {
    let value: Double
    init(_ value: Double) { self.value = value }
    override func eval(_ f: Frame) throws -> Value { .number(value) }
    override func test(_ f: Frame) throws -> Bool { true }
}

final class ConstantNode: Node {
    let value: Value
    init(_ value: Value) { self.value = value }
    override func eval(_ f: Frame) throws -> Value { value }
}

final class ListNode: Node {
    let items: [Node]
    let loc: SourceLocation
    init(_ items: [Node], _ loc: SourceLocation) {
        self.items = items
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value {
        try f.interp.checkSize(items.count, what: "list", at: loc)
        var values: [Value] = []
        values.reserveCapacity(items.count)
        for item in items { values.append(try item.eval(f)) }
        return .list(ListValue(values))
    }
}

final class RecordNode: Node {
    let fields: [(key: String, value: Node)]
    init(_ fields: [(key: String, value: Node)]) { self.fields = fields }

    override func eval(_ f: Frame) throws -> Value {
        let r = RecordValue()
        for field in fields { r[field.key] = try field.value.eval(f) }
        return .record(r)
    }
}

final class FunctionNode: Node {
    let decl: FunctionDecl
    init(_ decl: FunctionDecl) { self.decl = decl }
    override func eval(_ f: Frame) throws -> Value { .function(Closure(decl: decl, env: f.env)) }
}

// MARK: - Variables

/// A variable: read (falling back to the builtins), or assigned by the rule "rebind the nearest
/// enclosing variable, else create a local".
class VariableNode: Node {
    let id: Int
    let loc: SourceLocation

    init(id: Int, _ loc: SourceLocation) {
        self.id = id
        self.loc = loc
    }

    /// The value the name has here, builtins included; nil when it is undefined.
    func lookup(_ f: Frame) -> Value? { preconditionFailure("VariableNode.lookup is abstract") }

    func assign(_ f: Frame, _ value: Value) { preconditionFailure("VariableNode.assign is abstract") }

    override func eval(_ f: Frame) throws -> Value {
        if let v = lookup(f) { return v }
        throw f.interp.undefined(id, loc)
    }
}

/// Where a name lives outside the innermost function: slots of enclosing functions that may bind
/// it (nearest first), then the globals; each so many `parent` hops from the frame's env.
struct OuterLookup {
    struct Candidate {
        let hops: Int
        let slot: Int
    }

    let id: Int
    let candidates: [Candidate]
    let globalHops: Int

    func get(_ f: Frame) -> Value? {
        var env = f.envRef
        var h = 0
        for c in candidates {
            while h < c.hops { env = env._withUnsafeGuaranteedRef { $0.parentRef! }; h += 1 }
            if let v = env._withUnsafeGuaranteedRef({ $0.slots[c.slot] }) { return v }
        }
        while h < globalHops { env = env._withUnsafeGuaranteedRef { $0.parentRef! }; h += 1 }
        return env._withUnsafeGuaranteedRef { $0.global(id) }
    }

    /// Rebinds the nearest enclosing variable; false when there is none.
    func rebind(_ f: Frame, _ value: Value) -> Bool {
        var env = f.envRef
        var h = 0
        for c in candidates {
            while h < c.hops { env = env._withUnsafeGuaranteedRef { $0.parentRef! }; h += 1 }
            let slots = env._withUnsafeGuaranteedRef { $0.slots }
            if slots[c.slot] != nil {
                slots[c.slot] = value
                return true
            }
        }
        while h < globalHops { env = env._withUnsafeGuaranteedRef { $0.parentRef! }; h += 1 }
        return env._withUnsafeGuaranteedRef { $0.rebindGlobal(id, value) }
    }
}

/// A local of the current function: its slot, or (while unbound) the enclosing scopes.
final class LocalNode: VariableNode {
    let slot: Int
    let outer: OuterLookup

    init(slot: Int, outer: OuterLookup, _ loc: SourceLocation) {
        self.slot = slot
        self.outer = outer
        super.init(id: outer.id, loc)
    }

    override func eval(_ f: Frame) throws -> Value {
        if let v = f.slots[slot] { return v }
        return try unbound(f)
    }

    @inline(never)
    private func unbound(_ f: Frame) throws -> Value {
        if let v = outer.get(f) ?? f.interp.builtinValue(id) { return v }
        throw f.interp.undefined(id, loc)
    }

    override func lookup(_ f: Frame) -> Value? {
        f.slots[slot] ?? outer.get(f) ?? f.interp.builtinValue(id)
    }

    override func assign(_ f: Frame, _ value: Value) {
        if f.slots[slot] == nil && outer.rebind(f, value) { return }
        f.slots[slot] = value
    }
}

/// A global (or a builtin), `hops` scopes out from the frame's env.
final class GlobalNode: VariableNode {
    let hops: Int

    init(id: Int, hops: Int, _ loc: SourceLocation) {
        self.hops = hops
        super.init(id: id, loc)
    }

    override func eval(_ f: Frame) throws -> Value {
        if hops == 0, let v = f.envRef._withUnsafeGuaranteedRef({ $0.global(id) }) { return v }
        return try slow(f)
    }

    @inline(never)
    private func slow(_ f: Frame) throws -> Value {
        if let v = lookup(f) { return v }
        throw f.interp.undefined(id, loc)
    }

    override func lookup(_ f: Frame) -> Value? {
        f.scope(hops: hops)._withUnsafeGuaranteedRef { $0.global(id) } ?? f.interp.builtinValue(id)
    }

    override func assign(_ f: Frame, _ value: Value) {
        f.scope(hops: hops)._withUnsafeGuaranteedRef { $0.setGlobal(id, value) }
    }
}

/// A name the current function never binds but an enclosing function may.
final class OuterNode: VariableNode {
    let outer: OuterLookup

    init(_ outer: OuterLookup, _ loc: SourceLocation) {
        self.outer = outer
        super.init(id: outer.id, loc)
    }

    override func lookup(_ f: Frame) -> Value? { outer.get(f) ?? f.interp.builtinValue(id) }

    override func assign(_ f: Frame, _ value: Value) {
        preconditionFailure("a name a function assigns is one of its locals")
    }
}

// MARK: - Operators

class BinaryNode: Node {
    let lhs: Node
    let rhs: Node
    let loc: SourceLocation

    init(_ lhs: Node, _ rhs: Node, _ loc: SourceLocation) {
        self.lhs = lhs
        self.rhs = rhs
        self.loc = loc
    }
}

final class AddNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .number(x + y) }
        return try f.interp.binary(.add, a, b, loc)
    }
}

final class SubNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .number(x - y) }
        return try f.interp.binary(.sub, a, b, loc)
    }
}

final class MulNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .number(x * y) }
        return try f.interp.binary(.mul, a, b, loc)
    }
}

final class DivNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .number(x / y) }
        return try f.interp.binary(.div, a, b, loc)
    }
}

final class ModNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .number(floorMod(x, y)) }
        return try f.interp.binary(.mod, a, b, loc)
    }
}

final class PowNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        try f.interp.binary(.pow, try lhs.eval(f), try rhs.eval(f), loc)
    }
}

final class MatmulNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        try f.interp.binary(.matmul, try lhs.eval(f), try rhs.eval(f), loc)
    }
}

final class EqualNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x == y) }
        return try f.interp.binary(.eq, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x == y }
        return try f.interp.binary(.eq, a, b, loc).isTruthy
    }
}

final class NotEqualNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x != y) }
        return try f.interp.binary(.ne, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x != y }
        return try f.interp.binary(.ne, a, b, loc).isTruthy
    }
}

final class LessNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x < y) }
        return try f.interp.binary(.lt, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x < y }
        return try f.interp.binary(.lt, a, b, loc).isTruthy
    }
}

final class LessEqualNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x <= y) }
        return try f.interp.binary(.le, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x <= y }
        return try f.interp.binary(.le, a, b, loc).isTruthy
    }
}

final class GreaterNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x > y) }
        return try f.interp.binary(.gt, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x > y }
        return try f.interp.binary(.gt, a, b, loc).isTruthy
    }
}

final class GreaterEqualNode: BinaryNode {
    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return .bool(x >= y) }
        return try f.interp.binary(.ge, a, b, loc)
    }

    override func test(_ f: Frame) throws -> Bool {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        if case .number(let x) = a, case .number(let y) = b { return x >= y }
        return try f.interp.binary(.ge, a, b, loc).isTruthy
    }
}

final class AndNode: Node {
    let lhs: Node
    let rhs: Node
    init(_ lhs: Node, _ rhs: Node) {
        self.lhs = lhs
        self.rhs = rhs
    }

    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f)
        return a.isTruthy ? try rhs.eval(f) : a
    }

    override func test(_ f: Frame) throws -> Bool { try lhs.test(f) && rhs.test(f) }
}

final class OrNode: Node {
    let lhs: Node
    let rhs: Node
    init(_ lhs: Node, _ rhs: Node) {
        self.lhs = lhs
        self.rhs = rhs
    }

    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f)
        return a.isTruthy ? a : try rhs.eval(f)
    }

    override func test(_ f: Frame) throws -> Bool { try lhs.test(f) || rhs.test(f) }
}

final class NotNode: Node {
    let operand: Node
    init(_ operand: Node) { self.operand = operand }
    override func eval(_ f: Frame) throws -> Value { .bool(!(try operand.test(f))) }
    override func test(_ f: Frame) throws -> Bool { !(try operand.test(f)) }
}

final class NegateNode: Node {
    let operand: Node
    let loc: SourceLocation
    init(_ operand: Node, _ loc: SourceLocation) {
        self.operand = operand
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value {
        switch try operand.eval(f) {
        case .number(let d): return .number(-d)
        case .tensor(let t): return .tensor(-t)
        case let v: throw LangError.runtime("cannot negate \(describeType(v))", at: loc)
        }
    }
}

final class RangeNode: Node {
    let lhs: Node
    let rhs: Node
    let loc: SourceLocation
    init(_ lhs: Node, _ rhs: Node, _ loc: SourceLocation) {
        self.lhs = lhs
        self.rhs = rhs
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value {
        let a = try lhs.eval(f), b = try rhs.eval(f)
        guard case .number(let x) = a, case .number(let y) = b, let lo = wholeNumber(x), let hi = wholeNumber(y) else {
            throw LangError.runtime("range bounds must be whole numbers, got \(describeType(a)) and \(describeType(b))", at: loc)
        }
        return .range(RangeValue(lo, hi))
    }
}

// MARK: - Indexing and calls

final class IndexNode: Node {
    let base: Node
    let index: Node
    let loc: SourceLocation
    init(_ base: Node, _ index: Node, _ loc: SourceLocation) {
        self.base = base
        self.index = index
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value {
        let b = try base.eval(f), i = try index.eval(f)
        return try f.interp.index(b, i, loc)
    }
}

final class FieldNode: Node {
    let base: Node
    let name: String
    let loc: SourceLocation
    init(_ base: Node, _ name: String, _ loc: SourceLocation) {
        self.base = base
        self.name = name
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value { try f.interp.field(try base.eval(f), name, loc) }
}

final class CallNode: Node {
    let callee: Node
    let args: [Node]
    /// `args` unretained, so the fast path reads them without ARC traffic (`args` keeps them).
    private let argRefs: [Unmanaged<Node>]
    /// nil for positional arguments.
    let names: [String?]
    let argLocations: [SourceLocation]
    let hasKeywords: Bool
    let loc: SourceLocation

    init(_ callee: Node, _ args: [(name: String?, value: Node, location: SourceLocation)], _ loc: SourceLocation) {
        self.callee = callee
        self.args = args.map(\.value)
        argRefs = args.map { .passUnretained($0.value) }
        names = args.map(\.name)
        argLocations = args.map(\.location)
        hasKeywords = args.contains { $0.name != nil }
        self.loc = loc
    }

    override func eval(_ f: Frame) throws -> Value {
        let callee = try callee.eval(f)
        return try withExtendedLifetime(callee) {
            // A user function with positional arguments only: they go straight into its slots.
            if !hasKeywords, let closure = callee.unretainedClosure {
                return try closure._withUnsafeGuaranteedRef { try call($0, f) }
            }
            return try generic(callee, f)
        }
    }

    /// `closure` stays alive while this runs: the caller holds it.
    @inline(never)
    private func call(_ closure: Closure, _ f: Frame) throws -> Value {
        guard let code = closure.decl.code else { return try generic(.function(closure), f) }
        return try code._withUnsafeGuaranteedRef { fn in
            if argRefs.count > fn.paramCount { return try generic(.function(closure), f) }
            return try f.withInterp { try $0.callCompiled(closure, fn, argRefs, f, at: loc) }
        }
    }

    private func generic(_ c: Value, _ f: Frame) throws -> Value {
        var positional: [Value] = []
        positional.reserveCapacity(args.count)
        var keywords: [(String, Value, SourceLocation)] = []
        for i in args.indices {
            let v = try args[i].eval(f)
            if let n = names[i] { keywords.append((n, v, argLocations[i])) } else { positional.append(v) }
        }
        return try f.interp.callValue(c, positional, keywords, at: loc)
    }
}

extension Value {
    /// The closure of a function value, unretained: the value keeps it alive.
    @inline(__always)
    fileprivate var unretainedClosure: Unmanaged<Closure>? {
        if case .function(let c) = self { return .passUnretained(c) }
        return nil
    }
}
