import Foundation
import Tensor

/// The read-eval-print logic of the REPL and of piped input, independent of how lines are read
/// (libedit in the `losscape` executable; plain lines in tests and for pipes).
///
/// Lines accumulate until they parse: an incomplete parse (open bracket, block without its `}`,
/// trailing operator) asks for more with the `.. ` prompt; in the interactive REPL a blank line
/// cancels the unfinished input. Every entry runs in the same interpreter, so variables persist
/// across entries, errors and Ctrl-C.
///
///     let s = ReplSession(interpreter: Interpreter())
///     s.feed("fn f(x) {")   // .needsMore
///     s.feed("  return x }")   // .ran
public final class ReplSession {
    public enum Outcome: Equatable {
        /// The input is unfinished: read another line (prompt `.. `).
        case needsMore
        /// The entry ran (or was blank).
        case ran
        /// A blank line or Ctrl-C dropped the unfinished input.
        case cancelled
        case failed(LangError.Kind)
    }

    public let interpreter: Interpreter
    /// Where error reports go (with their trailing newline).
    public var errorOutput: (String) -> Void = { text in
        fflush(nil)
        FileHandle.standardError.write(text.data(using: .utf8) ?? .init())
    }
    /// Whether a blank line cancels unfinished input (the terminal REPL; not piped input, where
    /// blank lines inside a function are ordinary).
    public var blankLineCancels = true
    /// Print each entry's wall time after it (`--time`, or `:time` at the prompt).
    public var showsTiming = false
    /// The name errors give the input.
    public var fileName = "<stdin>"
    public private(set) var pending: [String] = []
    private var completedEntry: String?
    private var nextLine = 1

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    /// `> ` for a new entry, `.. ` while the entry is unfinished.
    public var prompt: String { pending.isEmpty ? "> " : ".. " }

    /// The unfinished entry (for history), or the empty string.
    public var pendingText: String { pending.joined(separator: "\n") }

    /// Drops unfinished input (Ctrl-C at the prompt).
    public func cancel() {
        nextLine += pending.count
        pending = []
    }

    /// Feeds one line (without its newline).
    @discardableResult
    public func feed(_ line: String) -> Outcome {
        let blank = line.allSatisfy(\.isWhitespace)
        if pending.isEmpty && blank {
            nextLine += 1
            return .ran
        }
        if !pending.isEmpty && blank && blankLineCancels {
            cancel()
            nextLine += 1
            return .cancelled
        }
        if pending.isEmpty && line.trimmingCharacters(in: .whitespaces) == ":time" {
            showsTiming.toggle()
            interpreter.output("timing \(showsTiming ? "on" : "off")\n")
            nextLine += 1
            return .ran
        }
        pending.append(line)
        let source = pendingText
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            try interpreter.run(source, file: fileName, firstLine: nextLine, echo: true)
        } catch let e as LangError where e.isIncomplete {
            return .needsMore
        } catch {
            let e = LangError.from(error)
            finishEntry()
            if e.kind == .interrupted { Cancellation.clear() }
            errorOutput(e.rendered() + "\n")
            return .failed(e.kind)
        }
        finishEntry()
        if showsTiming {
            let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            interpreter.output("(\(TextFormat.humanDuration(s)))\n")
        }
        return .ran
    }

    /// At the end of piped input: an unfinished entry is a syntax error.
    public func finish() -> Outcome {
        guard !pending.isEmpty else { return .ran }
        let source = pendingText
        let first = nextLine
        finishEntry()
        do {
            try interpreter.run(source, file: fileName, firstLine: first, echo: true)
            return .ran
        } catch {
            let e = LangError.from(error)
            errorOutput(e.rendered() + "\n")
            return .failed(e.kind)
        }
    }

    private func finishEntry() {
        completedEntry = pendingText
        nextLine += pending.count
        pending = []
    }

    /// The text of the entry that last ran (for history), once; nil when none ran since.
    public func takeCompletedEntry() -> String? {
        defer { completedEntry = nil }
        return completedEntry
    }
}

extension TextFormat {
    /// 0.0123 → "12.3 ms", 75 → "1m 15s".
    static func humanDuration(_ s: Double) -> String {
        if s < 1e-3 { return String(format: "%.0f µs", s * 1e6) }
        if s < 1 { return String(format: "%.1f ms", s * 1e3) }
        if s < 60 { return String(format: "%.2f s", s) }
        return "\(Int(s) / 60)m \(Int(s) % 60)s"
    }
}
