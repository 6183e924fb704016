import Foundation
import Tensor

/// The `losscape` command: options, scripts, `-e`, piped input and the REPL loop. The executable
/// only supplies the line editor (libedit) and the BLAS thread setting.
///
///     exit(Driver.main(CommandLine.arguments, editor: EditLineEditor()))
public enum Driver {
    /// Exit codes.
    public static let success: Int32 = 0
    public static let runtimeError: Int32 = 1
    public static let usageError: Int32 = 2
    /// Ctrl-C stopped a script (128 + SIGINT, as shells report it).
    public static let interrupted: Int32 = 130

    public static let usage = """
        usage: losscape [options] [FILE.lsc [args…]]
               losscape [options] -e CODE [args…]
               losscape [options] notebook FILE.lsc [-o DIR] [args…]

        With no FILE, losscape starts the REPL (or, when stdin is not a terminal, runs the
        statements it reads, echoing the value of each bare expression).

        notebook runs FILE.lsc cell by cell (cells start at lines beginning #%%) and writes
        DIR/FILE.md, a Markdown report with each cell's code, output, last value, plots and
        time; DIR defaults to FILE-report/ beside the notebook. Plots go beside the report.

        options:
          -e CODE              run CODE as a script
          --seed N             seed the global random stream (as seed(N))
          --threads N          threads for tensor loops and BLAS
          --quiet              no banner, no progress bars
          --time               REPL: print each entry's wall time (toggle with :time)
          --builtins-markdown  print the builtin reference (Markdown) and exit
          -h, --help           this help

        exit status: 0 success, 1 runtime error, 2 usage or syntax error, 130 interrupted
        """

    public struct Options {
        public var script: String?
        public var code: String?
        public var arguments: [String] = []
        public var seed: UInt64?
        public var threads: Int?
        public var quiet = false
        public var timing = false
        public var markdown = false
        public var help = false
        public var notebook = false
        /// `notebook -o DIR`: the report's folder.
        public var notebookOutput: String?
    }

    /// Parses the command line (without the program name). Options come before the script;
    /// everything after it belongs to the script.
    public static func parse(_ argv: [String]) throws -> Options {
        var o = Options()
        var i = 0
        func value(_ name: String) throws -> String {
            i += 1
            guard i < argv.count else { throw UsageError("\(name) needs a value") }
            return argv[i]
        }
        while i < argv.count {
            let a = argv[i]
            switch a {
            case "-h", "--help": o.help = true
            case "--quiet", "-q": o.quiet = true
            case "--time": o.timing = true
            case "--builtins-markdown": o.markdown = true
            case "--seed":
                let v = try value(a)
                guard let n = UInt64(v) else { throw UsageError("--seed needs a whole number ≥ 0, got '\(v)'") }
                o.seed = n
            case "--threads":
                let v = try value(a)
                guard let n = Int(v), n >= 1, n <= 1024 else { throw UsageError("--threads needs a whole number ≥ 1, got '\(v)'") }
                o.threads = n
            case "-e":
                o.code = try value(a)
                o.arguments = Array(argv[(i + 1)...])
                return o
            case "notebook" where o.script == nil:
                o.notebook = true
                try parseNotebook(Array(argv[(i + 1)...]), into: &o)
                return o
            default:
                if a.hasPrefix("-") && a != "-" { throw UsageError("unknown option '\(a)'") }
                o.script = a
                o.arguments = Array(argv[(i + 1)...])
                return o
            }
            i += 1
        }
        return o
    }

    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }

    /// Runs the command; returns the exit status.
    /// - Parameters:
    ///   - argv: the full command line (program name first).
    ///   - editor: reads lines at a terminal (nil: the REPL falls back to plain reads).
    ///   - setThreads: also sets BLAS threads for `--threads`.
    public static func main(_ argv: [String], editor: LineEditor? = nil, setThreads: (Int) -> Void = { _ in }) -> Int32 {
        let options: Options
        do {
            options = try parse(Array(argv.dropFirst()))
        } catch {
            writeError("losscape: \(error)\n\(usage)\n")
            return usageError
        }
        if options.help {
            print(usage)
            return success
        }
        if options.markdown {
            print(Builtins.standard().markdown(), terminator: "")
            return success
        }
        if let seed = options.seed { GlobalRandom.seed(seed) }
        if let n = options.threads {
            Parallelism.workers = n
            setThreads(n)
        }
        if options.quiet { ProgressReporter.isEnabled = false }
        if options.notebook { return runNotebook(options) }

        if let code = options.code {
            return runScript(options.arguments) { try $0.run(code, file: "<-e>") }
        }
        if let path = options.script {
            guard FileManager.default.isReadableFile(atPath: path) else {
                writeError("losscape: cannot read '\(path)'\n")
                return usageError
            }
            return runScript(options.arguments) { try $0.runFile(path) }
        }
        let interp = Interpreter()
        if isatty(0) == 1, let editor {
            return repl(interp, editor: editor, options: options)
        }
        return runPiped(interp)
    }

    /// A script: prints only what `print` prints; stops at the first error.
    static func runScript(_ arguments: [String], _ body: (Interpreter) throws -> Void) -> Int32 {
        let interp = Interpreter(arguments: arguments)
        Cancellation.installHandler()
        defer { Cancellation.uninstallHandler() }
        do {
            try body(interp)
            fflush(nil)
            return success
        } catch {
            let e = LangError.from(error)
            writeError(e.rendered() + "\n")
            return exitCode(for: e)
        }
    }

    /// Statements from a pipe: run entry by entry with echo, stopping at the first error.
    static func runPiped(_ interp: Interpreter) -> Int32 {
        let session = ReplSession(interpreter: interp)
        session.blankLineCancels = false
        Cancellation.installHandler()
        defer { Cancellation.uninstallHandler() }
        while let line = readLine(strippingNewline: true) {
            if case .failed(let kind) = session.feed(line) { return exitCode(for: kind) }
        }
        if case .failed(let kind) = session.finish() { return exitCode(for: kind) }
        fflush(nil)
        return success
    }

    /// The interactive loop: prompts, history, Ctrl-C returns to the prompt, Ctrl-D quits.
    static func repl(_ interp: Interpreter, editor: LineEditor, options: Options) -> Int32 {
        let session = ReplSession(interpreter: interp)
        session.showsTiming = options.timing
        if !options.quiet {
            print("Losscape — help() lists the builtins, help(name) shows one; Ctrl-D quits.")
        }
        Cancellation.installHandler()
        defer { Cancellation.uninstallHandler() }
        editor.setCompletions { context in completions(for: context, in: interp) }
        while true {
            fflush(nil)
            Cancellation.clear()
            switch editor.readLine(prompt: session.prompt) {
            case .eof:
                if !session.pending.isEmpty {
                    session.cancel()
                }
                print("")
                editor.saveHistory()
                return success
            case .interrupt:
                session.cancel()
                print("")
                continue
            case .line(let line):
                session.feed(line)
                if let entry = session.takeCompletedEntry() { editor.addHistory(entry) }
            }
        }
    }

    static func exitCode(for e: LangError) -> Int32 { exitCode(for: e.kind) }

    static func exitCode(for kind: LangError.Kind) -> Int32 {
        switch kind {
        case .syntax: usageError
        case .runtime: runtimeError
        case .interrupted: interrupted
        }
    }

    static func writeError(_ text: String) {
        fflush(nil)
        FileHandle.standardError.write(text.data(using: .utf8) ?? .init())
    }

    /// Completions for the word before the cursor: `name` → builtins, globals and keywords;
    /// `a.b.` → the fields of that record (or object).
    public static func completions(for context: String, in interp: Interpreter) -> [String] {
        let wordChars = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
        let chain = String(context.reversed().prefix { wordChars.contains($0) }.reversed())
        var parts = chain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let prefix = parts.removeLast()
        var candidates: [String]
        if parts.isEmpty {
            candidates = interp.globalNames + interp.builtins.all.map(\.name) + TokenKind.keywords.keys.sorted()
        } else {
            guard let first = parts.first, var v = interp.global(first) else { return [] }
            for p in parts.dropFirst() {
                switch v {
                case .record(let r): guard let next = r[p] else { return [] }; v = next
                case .object(let o): guard let next = o.field(p) else { return [] }; v = next
                default: return []
                }
            }
            switch v {
            case .record(let r): candidates = r.keys
            case .object(let o): candidates = o.fieldNames
            default: return []
            }
        }
        var seen = Set<String>()
        return candidates.filter { $0.hasPrefix(prefix) && seen.insert($0).inserted }.sorted()
    }
}

/// What the REPL needs from a line editor.
public protocol LineEditor: AnyObject {
    func readLine(prompt: String) -> LineInput
    func addHistory(_ entry: String)
    func saveHistory()
    /// Installs the completion source: given the line up to the cursor, the candidate words.
    func setCompletions(_ source: @escaping (String) -> [String])
}

public enum LineInput {
    case line(String)
    /// Ctrl-C at the prompt.
    case interrupt
    /// Ctrl-D (or the end of input).
    case eof
}
