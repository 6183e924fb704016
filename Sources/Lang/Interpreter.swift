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
/// call stack). The interpreter is single-threaded: one chunk at a time. Each chunk is parsed,
/// compiled to a tree of nodes with its variables resolved (`Compiler`, `Nodes.swift`), and run.
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

    let globals = Environment()
    /// Builtins indexed by symbol id: the last stop of a variable lookup.
    private var builtinByID: [Value?] = []
    private var stepsLeft = Int.max
    var callDepth = 0
    /// The slot stack of calls to functions that make no closures (`Interpreter+Calls.swift`).
    var slotBase: UnsafeMutablePointer<Value?>?
    var slotTop = 0
    var slotCapacity = 0
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
        globals.setGlobal(Symbols.id("args"), .strings(arguments))
    }

    deinit {
        // Every call has emptied and popped its slots by the time the interpreter goes.
        slotBase?.deallocate()
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
    public func global(_ name: String) -> Value? { globals.global(Symbols.id(name)) }

    public func setGlobal(_ name: String, _ value: Value) { globals.setGlobal(Symbols.id(name), value) }

    /// The names bound in the global scope, in the order they were first bound (for completion).
    public var globalNames: [String] { globals.names }

    // MARK: - Running statements

    private func runTopLevel(_ chunk: Chunk, echo: Bool) throws -> Value? {
        stepsLeft = limits.maxSteps ?? Int.max
        callDepth = 0
        stackGuardRef.refresh()
        do {
            return try execute(chunk, echo: echo)
        } catch var e as LangError {
            if !e.trace.isEmpty, let loc = e.frameLocation { e.trace.append(("main chunk", loc)) }
            throw e
        }
    }

    /// Compiles a chunk and runs it in the global scope; returns the value of the last statement
    /// when it is a bare expression.
    private func execute(_ chunk: Chunk, echo: Bool) throws -> Value? {
        let nodes = Compiler.topLevel(chunk)
        // Top-level code has no locals: its frame's slots are never read.
        let frame = Frame(slots: globals.slots, env: globals, interp: self)
        var last: Value?
        for node in nodes {
            last = nil
            switch node {
            case .expression(let e):
                try step(at: nil)
                let v = try e.eval(frame)
                if echo && !v.isNil { output(v.repr + "\n") }
                last = v
            case .statement(let s):
                _ = try s.exec(frame)
            }
        }
        return last
    }

    /// Counts one statement or call against `limits.maxSteps`.
    @inline(__always)
    func step(at loc: SourceLocation?) throws {
        stepsLeft -= 1
        if stepsLeft < 0 { throw stepLimitExceeded(at: loc) }
    }

    @inline(never)
    private func stepLimitExceeded(at loc: SourceLocation?) -> LangError {
        LangError.runtime("step limit exceeded (\(limits.maxSteps ?? 0) steps)", at: loc)
    }

    @inline(__always)
    func builtinValue(_ id: Int) -> Value? { id < builtinByID.count ? builtinByID[id] : nil }

    @inline(never)
    func undefined(_ id: Int, _ loc: SourceLocation) -> LangError {
        let name = Symbols.name(id)
        var candidates = globals.names + builtins.all.map(\.name)
        candidates.append(contentsOf: ["true", "false", "nil"])
        let hint = closestName(to: name, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
        return LangError.runtime("undefined variable '\(name)'\(hint)", at: loc)
    }

    // MARK: - Import

    func importFile(_ path: String, at loc: SourceLocation) throws {
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
            _ = try execute(chunk, echo: false)
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
