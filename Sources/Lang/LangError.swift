import Data
import Tensor

/// The one error type of the language: syntax and runtime errors, each with a location, the
/// source line under a caret, notes (a builtin's usage), and the call stack of a runtime error
/// raised inside functions.
///
///     do { try interp.run("1 +", file: "x.lsc") } catch let e as LangError { print(e.rendered()) }
public struct LangError: Error, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case syntax, runtime
        /// Ctrl-C (or `Cancellation.request()`) stopped the program.
        case interrupted
    }

    public var kind: Kind
    public var message: String
    /// Where the error happened; nil only until the interpreter fills in the call site of a builtin.
    public var location: SourceLocation?
    /// A syntax error found at the end of the input inside an unfinished construct (an open
    /// bracket, a block without its `}`, a trailing operator): the REPL asks for more lines.
    public var isIncomplete: Bool
    /// Extra lines shown after the source excerpt, e.g. `usage: zeros(shape)`.
    public var notes: [String]
    /// Innermost first: each function the error passed through and where that function was.
    public var trace: [(function: String, location: SourceLocation)]

    /// While unwinding: where the frame being left currently is (the error site, then each call site).
    var frameLocation: SourceLocation?
    /// Set by the registry's argument checks: the interpreter adds the builtin's usage line.
    var wantsUsage = false

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil, incomplete: Bool = false) {
        self.kind = kind
        self.message = message
        self.location = location
        self.isIncomplete = incomplete
        self.notes = []
        self.trace = []
        self.frameLocation = location
    }

    static func syntax(_ message: String, at location: SourceLocation, incomplete: Bool = false) -> LangError {
        LangError(.syntax, message, at: location, incomplete: incomplete)
    }

    /// A runtime error; builtins throw these without a location and the interpreter adds the call's.
    public static func runtime(_ message: String, at location: SourceLocation? = nil) -> LangError {
        LangError(.runtime, message, at: location)
    }

    /// An argument error of a builtin: shown with the builtin's signature.
    public static func usage(_ message: String) -> LangError {
        var e = LangError(.runtime, message)
        e.wantsUsage = true
        return e
    }

    /// `file:line:col: error: message`, the source line, a caret under the column, the notes and
    /// the call stack.
    public func rendered() -> String {
        var out = ""
        if let loc = location {
            out += "\(loc): error: \(message)"
            if let text = loc.source?.line(loc.line) {
                out += "\n    " + text + "\n    " + caretLine(text, column: loc.column)
            }
        } else {
            out += "error: \(message)"
        }
        for n in notes { out += "\n  " + n }
        // Runs of the same frame (deep recursion) are shown three times, then counted.
        var i = 0
        while i < trace.count {
            let f = trace[i]
            var j = i + 1
            while j < trace.count && trace[j].function == f.function && trace[j].location == f.location { j += 1 }
            for _ in 0..<min(j - i, 3) { out += "\n  in \(f.function) at \(f.location)" }
            if j - i > 3 { out += "\n  … the same \(j - i - 3) more time\(j - i - 3 == 1 ? "" : "s")" }
            i = j
        }
        return out
    }

    public var description: String { rendered() }

    /// Spaces (tabs where the source has tabs, so the caret lines up) and a `^`.
    private func caretLine(_ text: String, column: Int) -> String {
        var pad = ""
        for (i, ch) in text.unicodeScalars.enumerated() where i < column - 1 {
            pad.append(ch == "\t" ? "\t" : " ")
        }
        let missing = column - 1 - text.unicodeScalars.count
        if missing > 0 { pad += String(repeating: " ", count: missing) }
        return pad + "^"
    }

    /// Any error from below (engine, data files, Ctrl-C) as a language error without location.
    static func from(_ error: Error) -> LangError {
        switch error {
        case let e as LangError: return e
        case let e as TensorError: return .runtime("\(e.op): \(e.message)")
        case let e as DataError: return .runtime(e.description)
        case is Cancelled: return LangError(.interrupted, "interrupted")
        default: return .runtime("\(error)")
        }
    }
}
