/// Turns the parsed tree into nodes the interpreter runs (`Nodes.swift`), once per chunk: each
/// function body is compiled when the code around it is, and every variable is resolved here.
///
/// The scoping rules make most of a lookup static. Only functions open scopes, and a scope only
/// ever binds its parameters and the names assigned in its own body (blocks included, nested
/// functions not): those are its locals, numbered in order. A local's slot stays nil until bound,
/// and while it is nil the name means whatever the enclosing scopes hold — exactly the old rule
/// "assignment rebinds the nearest enclosing variable, else creates a local". So a name resolves
/// to its slot in the innermost function that may bind it, then the candidate slots of enclosing
/// functions (each a known number of `parent` hops away), then the globals, then the builtins.
/// Globals are looked up by symbol id at run time, since the REPL and `import` add them.
struct Compiler {
    /// The function scopes around the code being compiled, innermost last; empty at top level.
    private var scopes: [Scope] = []

    private struct Scope {
        let slotOf: [Int: Int]
        /// Whether this function creates closures: then its slots live in an `Environment` (one
        /// hop from its code), else on the native stack.
        let capturing: Bool
    }

    // MARK: - Chunks and functions

    /// A chunk's top-level statements, in the global scope.
    static func topLevel(_ chunk: Chunk) -> [TopLevelNode] {
        var c = Compiler()
        return chunk.statements.map { s in
            if case .expression(let e, _) = s { return .expression(c.expr(e)) }
            return .statement(c.stmt(s))
        }
    }

    private mutating func function(_ decl: FunctionDecl) -> CompiledFunction {
        if let done = decl.compiled { return done }
        var slotOf: [Int: Int] = [:]
        var names: [Int] = []
        func bind(_ id: Int) {
            if slotOf[id] == nil {
                slotOf[id] = names.count
                names.append(id)
            }
        }
        for p in decl.params { bind(p.id) }
        Compiler.assignedNames(decl.body, bind)
        let capturing = decl.params.contains { $0.defaultValue.map(Compiler.makesClosure) ?? false }
            || decl.body.contains(where: Compiler.makesClosure)
        scopes.append(Scope(slotOf: slotOf, capturing: capturing))
        defer { scopes.removeLast() }
        let defaults = decl.params.map { p in p.defaultValue.map { expr($0) } }
        let compiled = CompiledFunction(slotCount: max(names.count, 1), paramCount: decl.params.count,
                                        capturing: capturing, defaults: defaults, body: block(decl.body))
        decl.compiled = compiled
        return compiled
    }

    /// Names a function body binds in its own scope: assignment targets, loop variables and
    /// `fn name` declarations, in blocks too but not inside nested functions.
    private static func assignedNames(_ body: [Stmt], _ bind: (Int) -> Void) {
        for s in body {
            switch s {
            case .assign(.variable(let id), _, _, _), .function(let id, _):
                bind(id)
            case .forLoop(let id, _, let inner, _):
                bind(id)
                assignedNames(inner, bind)
            case .whileLoop(_, let inner, _):
                assignedNames(inner, bind)
            case .ifElse(let branches, let elseBody):
                for b in branches { assignedNames(b.body, bind) }
                if let elseBody { assignedNames(elseBody, bind) }
            default:
                break
            }
        }
    }

    /// Whether a statement creates a closure over the scope it runs in.
    private static func makesClosure(_ s: Stmt) -> Bool {
        switch s {
        case .function: true
        case .expression(let e, _): makesClosure(e)
        case .assign(let target, _, let value, _):
            switch target {
            case .variable: makesClosure(value)
            case .index(let b, let i): makesClosure(b) || makesClosure(i) || makesClosure(value)
            case .field(let b, _): makesClosure(b) || makesClosure(value)
            }
        case .ifElse(let branches, let elseBody):
            branches.contains { makesClosure($0.condition) || $0.body.contains(where: makesClosure) }
                || (elseBody?.contains(where: makesClosure) ?? false)
        case .whileLoop(let c, let body, _): makesClosure(c) || body.contains(where: makesClosure)
        case .forLoop(_, let seq, let body, _): makesClosure(seq) || body.contains(where: makesClosure)
        case .returnValue(let e, _): e.map(makesClosure) ?? false
        case .breakLoop, .continueLoop, .importFile: false
        }
    }

    private static func makesClosure(_ e: Expr) -> Bool {
        switch e {
        case .function: true
        case .number, .string, .bool, .nilLiteral, .variable: false
        case .list(let items, _): items.contains(where: makesClosure)
        case .record(let fields, _): fields.contains { makesClosure($0.value) }
        case .unaryMinus(let x, _), .not(let x, _), .field(let x, _, _): makesClosure(x)
        case .binary(_, let a, let b, _), .range(let a, let b, _), .index(let a, let b, _): makesClosure(a) || makesClosure(b)
        case .and(let a, let b), .or(let a, let b): makesClosure(a) || makesClosure(b)
        case .call(let callee, let args, _): makesClosure(callee) || args.contains { makesClosure($0.value) }
        }
    }

    // MARK: - Variables

    private func variable(_ id: Int, _ loc: SourceLocation) -> VariableNode {
        guard let current = scopes.last else { return GlobalNode(id: id, hops: 0, loc) }
        let outer = outerLookup(id)
        if let slot = current.slotOf[id] { return LocalNode(slot: slot, outer: outer, loc) }
        if outer.candidates.isEmpty { return GlobalNode(id: id, hops: outer.globalHops, loc) }
        return OuterNode(outer, loc)
    }

    /// Where `id` lives outside the innermost function, counted in `parent` hops from the
    /// frame's environment (its own when it captures, else the one its closure keeps).
    private func outerLookup(_ id: Int) -> OuterLookup {
        let n = scopes.count
        let first = scopes[n - 1].capturing ? 1 : 0
        var candidates: [OuterLookup.Candidate] = []
        for k in stride(from: n - 2, through: 0, by: -1) {
            if let slot = scopes[k].slotOf[id] { candidates.append(.init(hops: first + n - 2 - k, slot: slot)) }
        }
        return OuterLookup(id: id, candidates: candidates, globalHops: first + n - 1)
    }

    // MARK: - Statements

    private mutating func block(_ body: [Stmt]) -> Block { Block(body.map { stmt($0) }) }

    private mutating func stmt(_ s: Stmt) -> StmtNode {
        switch s {
        case .expression(let e, _):
            return ExpressionStmt(expr(e))
        case .assign(let target, let op, let valueExpr, let loc):
            let value = expr(valueExpr)
            switch target {
            case .variable(let id):
                let v = variable(id, loc)
                if let op { return CompoundAssignStmt(v, op, value, loc) }
                if let local = v as? LocalNode { return LocalAssignStmt(local, value) }
                // Only top-level code assigns a name that is not a local.
                return GlobalAssignStmt(id: id, value)
            case .index(let b, let i):
                return IndexAssignStmt(expr(b), expr(i), op, value, loc)
            case .field(let b, let name):
                return FieldAssignStmt(expr(b), name, op, value, loc)
            }
        case .function(let id, let decl):
            _ = function(decl)
            return FunctionStmt(variable(id, decl.location), decl)
        case .ifElse(let branches, let elseBody):
            return IfStmt(branches.map { (expr($0.condition), block($0.body)) }, elseBody.map { block($0) })
        case .whileLoop(let cond, let body, let loc):
            return WhileStmt(expr(cond), block(body), loc)
        case .forLoop(let id, let seq, let body, let loc):
            return ForStmt(variable(id, loc), expr(seq), block(body), loc)
        case .returnValue(let e, _):
            return ReturnStmt(e.map { expr($0) })
        case .breakLoop:
            return BreakStmt()
        case .continueLoop:
            return ContinueStmt()
        case .importFile(let path, let loc):
            return ImportStmt(path, loc)
        }
    }

    // MARK: - Expressions

    private mutating func expr(_ e: Expr) -> Node {
        switch e {
        case .number(let d): return NumberNode(d)
        case .string(let s): return ConstantNode(.string(s))
        case .bool(let b): return ConstantNode(.bool(b))
        case .nilLiteral: return ConstantNode(.null)
        case .variable(let id, let loc): return variable(id, loc)
        case .list(let items, let loc): return ListNode(items.map { expr($0) }, loc)
        case .record(let fields, _): return RecordNode(fields.map { ($0.key, expr($0.value)) })
        case .unaryMinus(let x, let loc): return NegateNode(expr(x), loc)
        case .not(let x, _): return NotNode(expr(x))
        case .binary(let op, let a, let b, let loc): return Compiler.binary(op, expr(a), expr(b), loc)
        case .and(let a, let b): return AndNode(expr(a), expr(b))
        case .or(let a, let b): return OrNode(expr(a), expr(b))
        case .range(let a, let b, let loc): return RangeNode(expr(a), expr(b), loc)
        case .call(let callee, let args, let loc):
            return CallNode(expr(callee), args.map { (name: $0.name, value: expr($0.value), location: $0.location) }, loc)
        case .index(let b, let i, let loc): return IndexNode(expr(b), expr(i), loc)
        case .field(let b, let name, let loc): return FieldNode(expr(b), name, loc)
        case .function(let decl):
            _ = function(decl)
            return FunctionNode(decl)
        }
    }

    private static func binary(_ op: BinaryOp, _ a: Node, _ b: Node, _ loc: SourceLocation) -> Node {
        switch op {
        case .add: AddNode(a, b, loc)
        case .sub: SubNode(a, b, loc)
        case .mul: MulNode(a, b, loc)
        case .div: DivNode(a, b, loc)
        case .mod: ModNode(a, b, loc)
        case .pow: PowNode(a, b, loc)
        case .eq: EqualNode(a, b, loc)
        case .ne: NotEqualNode(a, b, loc)
        case .lt: LessNode(a, b, loc)
        case .le: LessEqualNode(a, b, loc)
        case .gt: GreaterNode(a, b, loc)
        case .ge: GreaterEqualNode(a, b, loc)
        case .matmul: MatmulNode(a, b, loc)
        }
    }
}

/// A user function ready to run.
final class CompiledFunction {
    /// Locals: the parameters first, in order, then the names the body assigns (at least one
    /// slot, so a frame always has an address).
    let slotCount: Int
    let paramCount: Int
    /// Whether the body creates closures, which keep its scope: then a call's slots live in an
    /// `Environment`, else on the native stack.
    let capturing: Bool
    /// Each parameter's default, evaluated in the call's own scope.
    let defaults: [Node?]
    let body: Block

    init(slotCount: Int, paramCount: Int, capturing: Bool, defaults: [Node?], body: Block) {
        self.slotCount = slotCount
        self.paramCount = paramCount
        self.capturing = capturing
        self.defaults = defaults
        self.body = body
    }
}

/// A top-level statement; bare expressions are kept apart so the REPL can echo their values.
enum TopLevelNode {
    case expression(Node)
    case statement(StmtNode)
}
