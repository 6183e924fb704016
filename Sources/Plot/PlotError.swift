/// Every failure of the plot layer throws this: what went wrong, in words, and for gnuplot's own
/// errors the line of the script it refers to, so a user of the raw escape hatch can fix the script.
///
///     catch let e as PlotError { print(e) }   // "gnuplot: line 2: undefined function: foo\n  plot foo(x)"
public struct PlotError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure, for callers that react differently (a missing gnuplot is a setup problem).
    public enum Kind: String, Sendable {
        /// The gnuplot executable is not installed or not where the settings say.
        case gnuplotMissing
        /// The output path's folder does not exist or cannot be written, or the path is a folder.
        case output
        /// The figure's data or options are inconsistent (mismatched lengths, nothing to draw, …).
        case invalidData
        /// gnuplot itself reported an error (or a warning that means nothing was drawn).
        case gnuplot
        /// gnuplot ran longer than its time limit and was stopped.
        case timeout
    }

    /// What kind of failure: `if e.kind == .gnuplotMissing { … }`.
    public let kind: Kind
    /// The message; for `.gnuplot`, gnuplot's own words.
    public let message: String
    /// The 1-based line of the script gnuplot refers to (of the user's script for a raw render).
    public let line: Int?
    /// The text of that line.
    public let source: String?

    /// `PlotError(.invalidData, "x has 3 values but y has 4")`.
    public init(_ kind: Kind, _ message: String, line: Int? = nil, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.source = source
    }

    /// `gnuplot: line 3: message` followed by the script line, or just the message.
    public var description: String {
        var text = kind == .gnuplot ? "gnuplot: " : ""
        if let line { text += "line \(line): " }
        text += message
        if let source, !source.isEmpty { text += "\n  \(source)" }
        return text
    }
}
