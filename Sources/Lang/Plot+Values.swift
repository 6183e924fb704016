import Foundation
import Plot
import Tensor

/// Where an interpreter's plots go and who hears of them. Scripts and the REPL number plots in the
/// current directory; the notebook runner points `directory` at its report's folder and collects
/// each cell's images through `onWrite`.
///
///     interp.plots.directory = "report"          // plot(...) writes report/plot-001.png
///     interp.plots.onWrite = { path in images.append(path) }
public struct PlotSettings {
    /// The folder for numbered plots (`plot-001.png`, …) and for relative `out:` paths; nil is the
    /// current directory.
    public var directory: String?
    /// The gnuplot executable; nil finds `gnuplot` on `PATH`.
    public var gnuplotExecutable: String?
    /// Called with the path of every PNG a plot builtin wrote.
    public var onWrite: ((String) -> Void)?
    /// Called with the gnuplot script of every figure drawn (tests and debugging; the script's
    /// `set output` names a temporary file beside the final path).
    public var onScript: ((String) -> Void)?

    public init(directory: String? = nil, gnuplotExecutable: String? = nil) {
        self.directory = directory
        self.gnuplotExecutable = gnuplotExecutable
    }

    var gnuplot: Gnuplot { Gnuplot(executable: gnuplotExecutable) }

    /// The path a plot goes to: `out` (relative to `directory` when one is set), or the next
    /// numbered file there.
    func outputPath(_ out: String?) -> String {
        let dir = directory ?? "."
        guard let out, !out.isEmpty else {
            let next = nextNumberedPath(in: dir)
            return directory == nil && next.hasPrefix("./") ? String(next.dropFirst(2)) : next
        }
        let expanded = (out as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") || directory == nil { return expanded }
        return (dir.hasSuffix("/") ? dir : dir + "/") + expanded
    }
}

/// A figure made with `draw: false`: drawn later by `panels([...])`, or inspected (`f.script`).
final class FigureValue: LangObject {
    let figure: Figure
    /// The builtin that made it (`plot`, `bars`, …).
    let kind: String

    init(_ figure: Figure, kind: String) {
        self.figure = figure
        self.kind = kind
    }

    var typeName: String { "figure" }

    var description: String {
        let n = figure.series.count
        return "<figure \(kind): \(n) series" + (figure.title.map { ", \(quoteString($0))" } ?? "") + ">"
    }

    func field(_ name: String) -> Value? {
        switch name {
        case "kind": return .string(kind)
        case "title": return figure.title.map { .string($0) } ?? .null
        case "width": return .number(Double(figure.width))
        case "height": return .number(Double(figure.height))
        case "series": return .number(Double(figure.series.count))
        case "script": return .string((try? figure.script(output: "figure.png")) ?? "")
        default: return nil
        }
    }

    var fieldNames: [String] { ["kind", "title", "width", "height", "series", "script"] }
}

/// Turning language values into what figures draw. Numbers stay Doubles; tensor elements (Float)
/// become the Doubles that print as they do (`plotValues`).
enum PlotData {
    /// One series: a list of numbers (nil is a gap), a range, or a tensor with one axis longer
    /// than 1 (a 1-D tensor, a column, a row).
    static func series(_ v: Value, _ what: String) throws -> [Double] {
        switch v {
        case .list(let l):
            return try l.items.enumerated().map { i, item in
                switch item {
                case .number(let d): return d
                case .null: return .nan
                case .bool(let b): return b ? 1 : 0
                case .tensor(let t) where t.count == 1: return plotValues(t.scalars)[0]
                default:
                    throw LangError.usage("\(what): element \(i) must be a number, got \(describeType(item))")
                }
            }
        case .range(let r): return (0 ..< r.count).map { Double(r.lo + $0) }
        case .tensor(let t):
            guard t.shape.filter({ $0 != 1 }).count <= 1 else {
                throw LangError.usage("\(what) must be a 1-D tensor or a list of numbers, got a tensor of shape [\(t.shape.map(String.init).joined(separator: ", "))]")
            }
            return plotValues(t.scalars)
        case .number(let d): return [d]
        default:
            throw LangError.usage("\(what) must be a list of numbers or a 1-D tensor, got \(describeType(v))")
        }
    }

    /// Whether `v` holds several series: a list of lists / tensors / ranges, or a 2-D tensor.
    static func isSeriesList(_ v: Value) -> Bool {
        switch v {
        case .list(let l):
            guard let first = l.items.first else { return false }
            switch first {
            case .list, .range: return true
            case .tensor(let t): return t.count != 1
            default: return false
            }
        case .tensor(let t): return t.rank == 2 && t.shape[0] > 1 && t.shape[1] > 1
        default: return false
        }
    }

    /// One or several series (the rows of a 2-D tensor are series).
    static func seriesList(_ v: Value, _ what: String) throws -> [[Double]] {
        guard isSeriesList(v) else { return [try series(v, what)] }
        if case .list(let l) = v {
            return try l.items.enumerated().map { try series($1, "\(what)[\($0)]") }
        }
        return try matrix(v, what)
    }

    /// A matrix: a 2-D tensor or a list of rows (lists of numbers or 1-D tensors), rows of equal length.
    static func matrix(_ v: Value, _ what: String) throws -> [[Double]] {
        switch v {
        case .tensor(let t):
            guard t.rank == 2 else {
                throw LangError.usage("\(what) must be a 2-D tensor or a list of rows, got a tensor of shape [\(t.shape.map(String.init).joined(separator: ", "))]")
            }
            let flat = plotValues(t.scalars), cols = t.shape[1]
            return (0 ..< t.shape[0]).map { Array(flat[$0 * cols ..< ($0 + 1) * cols]) }
        case .list(let l):
            guard isMatrix(v) else {
                throw LangError.usage("\(what) must be a 2-D tensor or a list of rows, got a list of \(l.items.first.map(describeType) ?? "nothing")")
            }
            let rows = try l.items.enumerated().map { try series($1, "\(what)[\($0)]") }
            if let n = rows.first?.count, let bad = rows.firstIndex(where: { $0.count != n }) {
                throw LangError.usage("\(what): row \(bad) has \(rows[bad].count) values but row 0 has \(n)")
            }
            return rows
        default:
            throw LangError.usage("\(what) must be a 2-D tensor or a list of rows, got \(describeType(v))")
        }
    }

    /// Whether `v` looks like a matrix (a 2-D tensor or a list of rows).
    static func isMatrix(_ v: Value) -> Bool {
        switch v {
        case .tensor(let t): return t.rank == 2
        case .list(let l):
            guard let first = l.items.first else { return false }
            if case .list = first { return true }
            if case .tensor(let t) = first { return t.rank == 1 }
            return false
        default: return false
        }
    }

    /// A string, or a list of strings (nil entries stay nil).
    static func strings(_ v: Value, _ what: String) throws -> [String?] {
        switch v {
        case .null: return []
        case .string(let s): return [s]
        case .list(let l):
            return try l.items.map { item in
                switch item {
                case .string(let s): return s
                case .null: return nil
                case .number(let d): return formatNumber(d)
                default: throw LangError.usage("\(what) must be a string or a list of strings, got a list holding \(describeType(item))")
                }
            }
        default: throw LangError.usage("\(what) must be a string or a list of strings, got \(describeType(v))")
        }
    }

    /// `[min, max]`, either end nil (automatic).
    static func range(_ v: Value, _ what: String) throws -> (Double?, Double?) {
        guard case .list(let l) = v, l.items.count == 2 else {
            throw LangError.usage("\(what) must be a list [min, max] (nil for an automatic end), got \(describeType(v))")
        }
        func end(_ e: Value) throws -> Double? {
            switch e {
            case .null: return nil
            case .number(let d): return d
            default: throw LangError.usage("\(what): ends must be numbers or nil, got \(describeType(e))")
            }
        }
        return (try end(l.items[0]), try end(l.items[1]))
    }

    /// Markers: numbers (vertical lines at those x) or records `{x:, label:, color:}` / `{y:, …}`.
    static func markers(_ v: Value, _ what: String) throws -> [Marker] {
        guard case .list(let l) = v else {
            if case .number(let d) = v { return [Marker(x: d)] }
            throw LangError.usage("\(what) must be a list of numbers or of records {x:, label:}, got \(describeType(v))")
        }
        return try l.items.map { item in
            switch item {
            case .number(let d): return Marker(x: d)
            case .record(let r):
                let label = r["label"].flatMap { if case .string(let s) = $0 { s } else { nil } }
                let color = r["color"].flatMap { if case .string(let s) = $0 { s } else { nil } }
                if case .number(let x)? = r["x"] { return Marker(x: x, label: label, color: color) }
                if case .number(let y)? = r["y"] { return Marker(y: y, label: label, color: color) }
                throw LangError.usage("\(what): a marker record needs a number field x (vertical line) or y (horizontal)")
            default:
                throw LangError.usage("\(what) must hold numbers or records {x:, label:}, got \(describeType(item))")
            }
        }
    }

    /// Where the legend goes: "best", "top left", "top right", "bottom left", "bottom right",
    /// "outside", "below" or "none".
    static func key(_ text: String) throws -> Key {
        let names: [String: Key] = ["best": .best, "top left": .topLeft, "top right": .topRight,
                                    "bottom left": .bottomLeft, "bottom right": .bottomRight,
                                    "outside": .outside, "below": .below, "none": .none]
        guard let k = names[text.lowercased()] else {
            throw LangError.usage("legend must be one of \"best\", \"top left\", \"top right\", \"bottom left\", \"bottom right\", \"outside\", \"below\", \"none\"; got \(quoteString(text))")
        }
        return k
    }
}

extension LangError {
    /// A plot layer failure as a language error: gnuplot's own message (with the script line it
    /// refers to as a note), or what was wrong with the data, prefixed by the builtin's name.
    static func plot(_ e: PlotError, builtin: String) -> LangError {
        var err: LangError
        switch e.kind {
        case .gnuplot:
            // The raw builtin is called gnuplot already.
            let head = builtin == "gnuplot" ? "gnuplot: " : "\(builtin): gnuplot: "
            err = .runtime(head + (e.line.map { "line \($0): " } ?? "") + e.message)
            if let source = e.source, !source.isEmpty { err.notes.append("gnuplot script line: \(source)") }
        case .gnuplotMissing, .output, .timeout:
            err = .runtime("\(builtin): \(e.message)")
        case .invalidData:
            err = .runtime("\(builtin): \(e.message)")
        }
        return err
    }
}
