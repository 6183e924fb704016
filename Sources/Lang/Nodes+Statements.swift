import Tensor

/// A compiled statement. Each one counts a step before it runs (the fuzzer's step limit).
class StmtNode {
    func exec(_ f: Frame) throws -> Flow { preconditionFailure("StmtNode.exec is abstract") }
}

/// A sequence of statements; `if`, `while` and `for` bodies share the enclosing scope.
final class Block {
    let statements: [StmtNode]
    /// `statements` unretained, for the loop that runs them (`statements` keeps them).
    private let refs: [Unmanaged<StmtNode>]

    init(_ statements: [StmtNode]) {
        self.statements = statements
        refs = statements.map { .passUnretained($0) }
    }

    @inline(__always)
    func exec(_ f: Frame) throws -> Flow {
        var i = 0
        while i < refs.count {
            let flow = try refs[i]._withUnsafeGuaranteedRef { try $0.exec(f) }
            if case .normal = flow {
                i += 1
                continue
            }
            return flow
        }
        return .normal
    }
}

final class ExpressionStmt: StmtNode {
    let expr: Node
    init(_ expr: Node) { self.expr = expr }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        _ = try expr.eval(f)
        return .normal
    }
}

/// `x = value` where `x` is a local of the current function.
final class LocalAssignStmt: StmtNode {
    let target: LocalNode
    let value: Node
    init(_ target: LocalNode, _ value: Node) {
        self.target = target
        self.value = value
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let v = try value.eval(f)
        let slot = target.slot
        if f.slots[slot] == nil && target.outer.rebind(f, v) { return .normal }
        f.slots[slot] = v
        return .normal
    }
}

/// `x = value` at top level: a global.
final class GlobalAssignStmt: StmtNode {
    let id: Int
    let value: Node
    init(id: Int, _ value: Node) {
        self.id = id
        self.value = value
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let v = try value.eval(f)
        f.envRef._withUnsafeGuaranteedRef { $0.setGlobal(id, v) }
        return .normal
    }
}

/// `x op= value`: the value first, then the old one (builtins included), then the rebinding.
final class CompoundAssignStmt: StmtNode {
    let target: VariableNode
    let op: BinaryOp
    let value: Node
    let loc: SourceLocation
    init(_ target: VariableNode, _ op: BinaryOp, _ value: Node, _ loc: SourceLocation) {
        self.target = target
        self.op = op
        self.value = value
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let v = try value.eval(f)
        guard let old = target.lookup(f) else { throw f.interp.undefined(target.id, loc) }
        target.assign(f, try f.interp.binary(op, old, v, loc))
        return .normal
    }
}

final class IndexAssignStmt: StmtNode {
    let base: Node
    let index: Node
    let op: BinaryOp?
    let value: Node
    let loc: SourceLocation
    init(_ base: Node, _ index: Node, _ op: BinaryOp?, _ value: Node, _ loc: SourceLocation) {
        self.base = base
        self.index = index
        self.op = op
        self.value = value
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let b = try base.eval(f)
        let i = try index.eval(f)
        var v = try value.eval(f)
        if let op { v = try f.interp.binary(op, try f.interp.index(b, i, loc), v, loc) }
        try f.interp.setIndex(b, i, v, loc)
        return .normal
    }
}

final class FieldAssignStmt: StmtNode {
    let base: Node
    let name: String
    let op: BinaryOp?
    let value: Node
    let loc: SourceLocation
    init(_ base: Node, _ name: String, _ op: BinaryOp?, _ value: Node, _ loc: SourceLocation) {
        self.base = base
        self.name = name
        self.op = op
        self.value = value
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let b = try base.eval(f)
        var v = try value.eval(f)
        if let op { v = try f.interp.binary(op, try f.interp.field(b, name, loc), v, loc) }
        guard case .record(let r) = b else {
            throw LangError.runtime("cannot set field '\(name)' of \(describeType(b)) (only records have settable fields)", at: loc)
        }
        r[name] = v
        return .normal
    }
}

/// `fn name(…) { … }`: a closure over the current scope, assigned like any value.
final class FunctionStmt: StmtNode {
    let target: VariableNode
    let decl: FunctionDecl
    init(_ target: VariableNode, _ decl: FunctionDecl) {
        self.target = target
        self.decl = decl
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        target.assign(f, .function(Closure(decl: decl, env: f.env)))
        return .normal
    }
}

final class IfStmt: StmtNode {
    let branches: [(condition: Node, body: Block)]
    let elseBody: Block?
    /// `branches` unretained (`branches` keeps them).
    private let refs: [(condition: Unmanaged<Node>, body: Unmanaged<Block>)]

    init(_ branches: [(condition: Node, body: Block)], _ elseBody: Block?) {
        self.branches = branches
        self.elseBody = elseBody
        refs = branches.map { (.passUnretained($0.condition), .passUnretained($0.body)) }
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        var i = 0
        while i < refs.count {
            let b = refs[i]
            if try b.condition._withUnsafeGuaranteedRef({ try $0.test(f) }) {
                return try b.body._withUnsafeGuaranteedRef { try $0.exec(f) }
            }
            i += 1
        }
        if let elseBody { return try elseBody.exec(f) }
        return .normal
    }
}

final class WhileStmt: StmtNode {
    let condition: Node
    let body: Block
    let loc: SourceLocation
    init(_ condition: Node, _ body: Block, _ loc: SourceLocation) {
        self.condition = condition
        self.body = body
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        while try condition.test(f) {
            try f.step(at: loc)
            try pollInterrupt(at: loc)
            let flow = try body.exec(f)
            switch flow {
            case .normal, .continueLoop: continue
            case .breakLoop: return .normal
            case .returned: return flow
            }
        }
        return .normal
    }
}

final class ForStmt: StmtNode {
    let variable: VariableNode
    let sequence: Node
    let body: Block
    let loc: SourceLocation
    init(_ variable: VariableNode, _ sequence: Node, _ body: Block, _ loc: SourceLocation) {
        self.variable = variable
        self.sequence = sequence
        self.body = body
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        let seq = try sequence.eval(f)
        // One body run per element; the loop variable is an ordinary variable of the enclosing scope.
        func run(_ v: Value) throws -> Flow? {
            try f.step(at: loc)
            try pollInterrupt(at: loc)
            variable.assign(f, v)
            let flow = try body.exec(f)
            switch flow {
            case .normal, .continueLoop: return nil
            case .breakLoop: return .normal
            case .returned: return flow
            }
        }
        switch seq {
        case .range(let r):
            var i = r.lo
            while i <= r.hi {
                if let flow = try run(.number(Double(i))) { return flow }
                i += 1
            }
        case .list(let l):
            var i = 0
            while i < l.items.count {   // live: the body may append
                if let flow = try run(l.items[i]) { return flow }
                i += 1
            }
        case .string(let s):
            for ch in s { if let flow = try run(.string(String(ch))) { return flow } }
        case .record(let r):
            for k in r.keys { if let flow = try run(.string(k)) { return flow } }
        case .tensor(let t):
            guard t.rank > 0 else { throw LangError.runtime("cannot loop over a scalar tensor", at: loc) }
            for i in 0..<t.shape[0] {
                let interp = f.interp
                if let flow = try run(try interp.located({ try interp.tensorRow(t, i) }, loc)) { return flow }
            }
        default:
            throw LangError.runtime("cannot loop over \(describeType(seq)) (expected a list, range, string, record or tensor)", at: loc)
        }
        return .normal
    }
}

final class ReturnStmt: StmtNode {
    let value: Node?
    init(_ value: Node?) { self.value = value }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        return .returned(try value?.eval(f) ?? .null)
    }
}

final class BreakStmt: StmtNode {
    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        return .breakLoop
    }
}

final class ContinueStmt: StmtNode {
    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        return .continueLoop
    }
}

final class ImportStmt: StmtNode {
    let path: String
    let loc: SourceLocation
    init(_ path: String, _ loc: SourceLocation) {
        self.path = path
        self.loc = loc
    }

    override func exec(_ f: Frame) throws -> Flow {
        try f.step(at: nil)
        try f.interp.importFile(path, at: loc)
        return .normal
    }
}
