import CSupport
import Foundation
import Tensor

/// Runs Losscape programs: chunks of source (a script, a REPL entry, a notebook cell) in one
/// persistent global scope.
///
///     let interp = Interpreter()
///     interp.output = { text in captured += text }
///     let last = try interp.run("x = 2\nx * 3", file: "cell.lsc", firstLine: 10)   // .number(6)
///
/// Errors are `LangError`s (syntax errors before anything runs; runtime errors located, with the
/// call stack). The interpreter is single-threaded: one chunk at a time.
public final class Interpreter {
    /// Bounds that keep hostile or fuzzed programs from crashing or hanging the process.
    public struct Limits: Sendable {
        /// Statements + calls one `run` may execute; nil for no limit (the fuzzer sets one).
        public var maxSteps: Int?
        /// Nested calls of user functions before "stack overflow".
        public var maxCallDepth = 200
        /// Largest tensor, list or string a builtin or operator may create.
        public var maxElements = 1 << 31
        /// When false, `import`, `load`, `save` and the `write_*` builtins refuse to touch files.
        public var allowFiles = true

        public init(maxSteps: Int? = nil, maxCallDepth: Int = 200, maxElements: Int = 1 << 31, allowFiles: Bool = true) {
            self.maxSteps = maxSteps
            self.maxCallDepth = maxCallDepth
            self.maxElements = maxElements
            self.allowFiles = allowFiles
        }
    }

    public var limits = Limits()
    /// Where `print` and the REPL's echo write (text including its newline). Defaults to stdout.
    public var output: (String) -> Void = { text in Swift.print(text, terminator: "") }
    /// Where plots without `out:` go and who hears of each PNG written (the notebook runner points
    /// the folder at its report and collects each cell's images).
    public var plots = PlotSettings()
    public let builtins: BuiltinRegistry

    let globals = Environment(parent: nil)
    /// Builtins indexed by symbol id: the last stop of a variable lookup.
    private var builtinByID: [Value?] = []
    private var stepsLeft = Int.max
    var callDepth = 0
    /// Where the builtin being run was called (for `call` from inside a builtin).
    var currentCallSite: SourceLocation?
    /// Directories that `import` resolves against, innermost last.
    private var importBases: [String] = []
    private var imported: Set<String> = []
    let stackGuardRef = StackGuard()

    /// - Parameters:
    ///   - builtins: the registry (`Builtins.standard()` plus anything registered on it).
    ///   - arguments: the script's command-line arguments, bound to `args`.
    public init(builtins: BuiltinRegistry = Builtins.standard(), arguments: [String] = []) {
        self.builtins = builtins
        for b in builtins.all {
            let id = Symbols.id(b.name)
            if id >= builtinByID.count { builtinByID += [Value?](repeating: nil, count: id - builtinByID.count + 1) }
            builtinByID[id] = .builtin(b)
        }
        globals.define(Symbols.id("args"), .strings(arguments))
    }

    // MARK: - Public API

    /// Parses and runs `source` in the global scope.
    ///
    /// - Parameters:
    ///   - file: the name errors show; `import` resolves against its directory.
    ///   - firstLine: the line number of the source's first line (a notebook cell inside a file).
    ///   - echo: print the value of every top-level bare expression statement that is not nil
    ///     (the REPL and piped input).
    /// - Returns: the value of the last statement when it is a bare expression (`.null` when that
    ///   expression gave nil, e.g. `print(x)`), else nil — what a notebook cell shows.
    @discardableResult
    public func run(_ source: String, file: String = "<input>", firstLine: Int = 1, echo: Bool = false) throws -> Value? {
        let fileID = SourceRegistry.add(name: file, text: source, firstLine: firstLine)
        let chunk = try Parser.parse(source, fileID: fileID, firstLine: firstLine)
        importBases.append(Interpreter.directory(of: file))
        defer { importBases.removeLast() }
        return try runTopLevel(chunk, echo: echo)
    }

    /// Reads and runs a script file (errors name it as given).
    public func runFile(_ path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LangError.runtime("cannot read '\(path)'")
        }
        imported.insert(Interpreter.canonical(path))
        try run(text, file: path)
    }

    /// Whether `source` is complete, unfinished (the REPL should read more lines), or wrong.
    public static func check(_ source: String, file: String = "<input>") -> ParseStatus {
        do {
            _ = try Parser.parse(source, fileID: SourceRegistry.add(name: file, text: source, firstLine: 1))
            return .complete
        } catch let e as LangError {
            return e.isIncomplete ? .incomplete : .error(e)
        } catch {
            return .error(LangError.from(error))
        }
    }

    public enum ParseStatus {
        case complete, incomplete
        case error(LangError)
    }

    /// Calls a function value (a user function or a builtin), e.g. from a builtin that takes a
    /// callback: `every(2, fn(model, epoch) { … })`.
    public func call(_ function: Value, _ arguments: [Value], keywords: [(String, Value)] = []) throws -> Value {
        let loc = currentCallSite ?? SourceLocation(fileID: -1, line: 0, column: 0)
        stackGuardRef.refresh()
        return try callValue(function, arguments, keywords.map { ($0.0, $0.1, loc) }, at: loc)
    }

    /// A global variable's value, or nil.
    public func global(_ name: String) -> Value? { globals.lookup(Symbols.id(name)) }

    public func setGlobal(_ name: String, _ value: Value) { globals.define(Symbols.id(name), value) }

    /// The names bound in the global scope, in the order they were first bound (for completion).
    public var globalNames: [String] { globals.names }

    // MARK: - Running statements

    enum Flow {
        case normal, breakLoop, continueLoop
        case returned(Value)
    }

    private func runTopLevel(_ chunk: Chunk, echo: Bool) throws -> Value? {
        stepsLeft = limits.maxSteps ?? Int.max
        callDepth = 0
        stackGuardRef.refresh()
        var last: Value?
        do {
            for stmt in chunk.statements {
                last = nil
                if case .expression(let e, _) = stmt {
                    try step(at: nil)
                    let v = try eval(e, globals)
                    if echo && !v.isNil { output(v.repr + "\n") }
                    last = v
                } else {
                    _ = try exec(stmt, globals)
                }
            }
        } catch var e as LangError {
            if !e.trace.isEmpty, let loc = e.frameLocation { e.trace.append(("main chunk", loc)) }
            throw e
        }
        return last
    }

    @inline(__always)
    func step(at loc: SourceLocation?) throws {
        stepsLeft -= 1
        if stepsLeft < 0 {
            throw LangError.runtime("step limit exceeded (\(limits.maxSteps ?? 0) steps)", at: loc)
        }
    }

    @inline(__always)
    func pollInterrupt(at loc: SourceLocation) throws {
        if Cancellation.isRequested { throw LangError(.interrupted, "interrupted", at: loc) }
    }

    func exec(_ body: [Stmt], _ env: Environment) throws -> Flow {
        for s in body {
            let f = try exec(s, env)
            if case .normal = f { continue }
            return f
        }
        return .normal
    }

    func exec(_ stmt: Stmt, _ env: Environment) throws -> Flow {
        try step(at: nil)
        switch stmt {
        case .expression(let e, _):
            _ = try eval(e, env)
        case .assign(let target, let op, let valueExpr, let loc):
            try assign(target, op, valueExpr, loc, env)
        case .function(let id, let decl):
            env.assign(id, .function(Closure(decl: decl, env: env)))
        case .ifElse(let branches, let elseBody):
            for b in branches where try eval(b.condition, env).isTruthy {
                return try exec(b.body, env)
            }
            if let elseBody { return try exec(elseBody, env) }
        case .whileLoop(let cond, let body, let loc):
            while try eval(cond, env).isTruthy {
                try step(at: loc)
                try pollInterrupt(at: loc)
                switch try exec(body, env) {
                case .normal, .continueLoop: continue
                case .breakLoop: return .normal
                case .returned(let v): return .returned(v)
                }
            }
        case .forLoop(let id, let seqExpr, let body, let loc):
            return try forLoop(id, try eval(seqExpr, env), body, loc, env)
        case .returnValue(let e, _):
            return .returned(try e.map { try eval($0, env) } ?? .null)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .importFile(let path, let loc):
            try importFile(path, at: loc)
        }
        return .normal
    }

    private func forLoop(_ id: Int, _ seq: Value, _ body: [Stmt], _ loc: SourceLocation, _ env: Environment) throws -> Flow {
        // One body run per element; the loop variable is an ordinary variable of the enclosing scope.
        func run(_ v: Value) throws -> Flow? {
            try step(at: loc)
            try pollInterrupt(at: loc)
            env.assign(id, v)
            switch try exec(body, env) {
            case .normal, .continueLoop: return nil
            case .breakLoop: return .normal
            case .returned(let v): return .returned(v)
            }
        }
        switch seq {
        case .range(let r):
            var i = r.lo
            while i <= r.hi {
                if let f = try run(.number(Double(i))) { return f }
                i += 1
            }
        case .list(let l):
            var i = 0
            while i < l.items.count {   // live: the body may append
                if let f = try run(l.items[i]) { return f }
                i += 1
            }
        case .string(let s):
            for ch in s { if let f = try run(.string(String(ch))) { return f } }
        case .record(let r):
            for k in r.keys { if let f = try run(.string(k)) { return f } }
        case .tensor(let t):
            guard t.rank > 0 else { throw LangError.runtime("cannot loop over a scalar tensor", at: loc) }
            for i in 0..<t.shape[0] {
                if let f = try run(try located({ try tensorRow(t, i) }, loc)) { return f }
            }
        default:
            throw LangError.runtime("cannot loop over \(describeType(seq)) (expected a list, range, string, record or tensor)", at: loc)
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ op: BinaryOp?, _ valueExpr: Expr, _ loc: SourceLocation, _ env: Environment) throws {
        switch target {
        case .variable(let id):
            var v = try eval(valueExpr, env)
            if let op {
                guard let old = env.lookup(id) ?? builtinValue(id) else { throw undefined(id, loc) }
                v = try binary(op, old, v, loc)
            }
            env.assign(id, v)
        case .index(let baseExpr, let indexExpr):
            let base = try eval(baseExpr, env)
            let index = try eval(indexExpr, env)
            var v = try eval(valueExpr, env)
            if let op { v = try binary(op, try self.index(base, index, loc), v, loc) }
            try setIndex(base, index, v, loc)
        case .field(let baseExpr, let name):
            let base = try eval(baseExpr, env)
            var v = try eval(valueExpr, env)
            if let op { v = try binary(op, try field(base, name, loc), v, loc) }
            guard case .record(let r) = base else {
                throw LangError.runtime("cannot set field '\(name)' of \(describeType(base)) (only records have settable fields)", at: loc)
            }
            r[name] = v
        }
    }

    // MARK: - Expressions

    func eval(_ expr: Expr, _ env: Environment) throws -> Value {
        switch expr {
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .nilLiteral: return .null
        case .variable(let id, let loc):
            if let v = env.lookup(id) ?? builtinValue(id) { return v }
            throw undefined(id, loc)
        case .binary(let op, let l, let r, let loc):
            let a = try eval(l, env)
            let b = try eval(r, env)
            if case .number(let x) = a, case .number(let y) = b, let v = numberOp(op, x, y) { return v }
            return try binary(op, a, b, loc)
        case .call(let calleeExpr, let args, let loc):
            let callee = try eval(calleeExpr, env)
            var positional: [Value] = []
            positional.reserveCapacity(args.count)
            var keywords: [(String, Value, SourceLocation)] = []
            for a in args {
                let v = try eval(a.value, env)
                if let n = a.name { keywords.append((n, v, a.location)) } else { positional.append(v) }
            }
            return try callValue(callee, positional, keywords, at: loc)
        case .and(let l, let r):
            let a = try eval(l, env)
            return a.isTruthy ? try eval(r, env) : a
        case .or(let l, let r):
            let a = try eval(l, env)
            return a.isTruthy ? a : try eval(r, env)
        case .not(let e, _):
            return .bool(!(try eval(e, env).isTruthy))
        case .unaryMinus(let e, let loc):
            switch try eval(e, env) {
            case .number(let d): return .number(-d)
            case .tensor(let t): return .tensor(-t)
            case let v: throw LangError.runtime("cannot negate \(describeType(v))", at: loc)
            }
        case .index(let base, let index, let loc):
            return try self.index(try eval(base, env), try eval(index, env), loc)
        case .field(let base, let name, let loc):
            return try field(try eval(base, env), name, loc)
        case .range(let l, let r, let loc):
            let a = try eval(l, env), b = try eval(r, env)
            guard case .number(let x) = a, case .number(let y) = b, let lo = wholeNumber(x), let hi = wholeNumber(y) else {
                throw LangError.runtime("range bounds must be whole numbers, got \(describeType(a)) and \(describeType(b))", at: loc)
            }
            return .range(RangeValue(lo, hi))
        case .list(let items, let loc):
            try checkSize(items.count, what: "list", at: loc)
            return .list(ListValue(try items.map { try eval($0, env) }))
        case .record(let fields, _):
            let r = RecordValue()
            for f in fields { r[f.key] = try eval(f.value, env) }
            return .record(r)
        case .function(let decl):
            return .function(Closure(decl: decl, env: env))
        }
    }

    @inline(__always)
    private func builtinValue(_ id: Int) -> Value? { id < builtinByID.count ? builtinByID[id] : nil }

    private func undefined(_ id: Int, _ loc: SourceLocation) -> LangError {
        let name = Symbols.name(id)
        var candidates = globals.names + builtins.all.map(\.name)
        candidates.append(contentsOf: ["true", "false", "nil"])
        let hint = closestName(to: name, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
        return LangError.runtime("undefined variable '\(name)'\(hint)", at: loc)
    }

    // MARK: - Import

    private func importFile(_ path: String, at loc: SourceLocation) throws {
        guard limits.allowFiles else { throw LangError.runtime("import is disabled here (no file access)", at: loc) }
        let base = importBases.last ?? "."
        let full = NSString(string: path.hasPrefix("/") ? path : (base == "." ? path : base + "/" + path)).standardizingPath
        let key = Interpreter.canonical(full)
        if imported.contains(key) { return }
        guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
            throw LangError.runtime("cannot import '\(path)': no readable file at '\(full)'", at: loc)
        }
        imported.insert(key)
        let fileID = SourceRegistry.add(name: full, text: text, firstLine: 1)
        let chunk = try Parser.parse(text, fileID: fileID)
        importBases.append(Interpreter.directory(of: full))
        defer { importBases.removeLast() }
        do {
            for stmt in chunk.statements { _ = try exec(stmt, globals) }
        } catch var e as LangError {
            e.trace.append(("import \(quoteString(path))", e.frameLocation ?? loc))
            e.frameLocation = loc
            throw e
        }
    }

    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    // MARK: - Errors

    /// Runs `body`, turning any error into a `LangError` located at `loc` (unless it has a location).
    @inline(__always)
    func located<T>(_ body: () throws -> T, _ loc: SourceLocation) throws -> T {
        do {
            return try body()
        } catch {
            throw locate(error, loc)
        }
    }

    func locate(_ error: Error, _ loc: SourceLocation) -> LangError {
        var e = LangError.from(error)
        if e.location == nil {
            e.location = loc
            e.frameLocation = loc
        }
        return e
    }
}

/// Watches the native stack: deep recursion through builtins and user functions fails with
/// "stack overflow" before the thread's stack runs out, whatever the thread's stack size.
final class StackGuard {
    private var lowBound: UInt = 0
    private var thread: pthread_t?

    /// Records the current thread's stack bounds (once per thread).
    func refresh() {
        let me = pthread_self()
        if let t = thread, pthread_equal(t, me) != 0 { return }
        thread = me
        lowBound = 0
        var addr: UnsafeMutableRawPointer?
        var size = 0
        guard losscape_thread_stack(&addr, &size) == 0, let addr else { return }
        // Keep a margin for the builtins and the engine below the deepest checked frame.
        let margin = min(size / 4, 1 << 20)
        lowBound = UInt(bitPattern: addr) + UInt(margin)
    }

    /// True when the stack is nearly used up.
    @inline(__always)
    var isExhausted: Bool {
        guard lowBound != 0 else { return false }
        var marker: UInt8 = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) } < lowBound
    }
}
