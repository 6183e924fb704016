import Foundation
import Tensor

/// A notebook: an `.lsc` file split into cells by lines starting `#%%` (the "percent" format
/// editors know; `# %%` works too). The text after the marker is the cell's title; a `#%% md`
/// (or `# %% [markdown]`) cell holds Markdown in `#` comment lines. Code before the first marker
/// is a cell of its own.
///
///     #%% md
///     # # Quickstart
///     # Trains a small MLP and looks at its Hessian.
///     #%% Train
///     log = fit(net, data.train, opt, epochs: 2)
public struct NotebookCell: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case code, markdown
    }

    public var kind: Kind
    /// The text after the marker (`#%% Train the model` → "Train the model"); nil when none.
    public var title: String?
    /// The cell's lines without the marker, blank lines at both ends trimmed; for a Markdown cell,
    /// the Markdown (the `# ` of each comment line removed).
    public var source: String
    /// The 1-based line of the notebook file where `source` starts (errors point into the file).
    public var firstLine: Int

    public init(kind: Kind, title: String?, source: String, firstLine: Int) {
        self.kind = kind
        self.title = title
        self.source = source
        self.firstLine = firstLine
    }
}

public enum Notebook {
    /// Whether a line is a cell marker: `#%%` or `# %%` at the start of the line.
    public static func isMarker(_ line: Substring) -> Bool {
        guard line.hasPrefix("#") else { return false }
        return line.dropFirst().drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("%%")
    }

    /// Whether the text has at least one cell marker (so `scripts/run` runs it as a notebook).
    public static func isNotebook(_ text: String) -> Bool {
        text.split(separator: "\n", omittingEmptySubsequences: false).contains { isMarker($0) }
    }

    /// The cells of a notebook, in order; empty code cells (no code, no title) are dropped.
    public static func cells(in text: String) -> [NotebookCell] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        var cells: [NotebookCell] = []
        var kind = NotebookCell.Kind.code
        var title: String?
        var body: [Substring] = []
        var bodyStart = 1
        var sawMarker = false

        func flush() {
            var start = 0, end = body.count
            while start < end, body[start].allSatisfy(\.isWhitespace) { start += 1 }
            while end > start, body[end - 1].allSatisfy(\.isWhitespace) { end -= 1 }
            let kept = body[start ..< end]
            if kind == .markdown {
                let md = kept.map(markdownLine).joined(separator: "\n")
                if !md.isEmpty || title != nil {
                    cells.append(NotebookCell(kind: .markdown, title: title, source: md, firstLine: bodyStart + start))
                }
            } else if !kept.isEmpty || (sawMarker && title != nil) {
                cells.append(NotebookCell(kind: .code, title: title, source: kept.joined(separator: "\n"),
                                          firstLine: bodyStart + start))
            }
            body = []
        }

        for (i, line) in lines.enumerated() {
            if isMarker(line) {
                flush()
                sawMarker = true
                (kind, title) = parseMarker(line)
                bodyStart = i + 2
            } else {
                body.append(line)
            }
        }
        flush()
        return cells
    }

    /// `#%% md Intro` → (.markdown, "Intro"); `# %% [markdown]` → (.markdown, nil);
    /// `#%% Train` → (.code, "Train").
    static func parseMarker(_ line: Substring) -> (NotebookCell.Kind, String?) {
        var rest = line.dropFirst().drop(while: { $0 == " " || $0 == "\t" }).dropFirst(2)
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        var kind = NotebookCell.Kind.code
        for tag in ["[markdown]", "[md]", "markdown", "md"] {
            guard rest.lowercased().hasPrefix(tag) else { continue }
            let after = rest.dropFirst(tag.count)
            if after.isEmpty || after.first == " " || after.first == "\t" {
                kind = .markdown
                rest = after
                break
            }
        }
        let title = rest.trimmingCharacters(in: .whitespaces)
        return (kind, title.isEmpty ? nil : title)
    }

    /// A Markdown cell's line: `# text` → `text`, `#` → blank; other lines stay as they are.
    static func markdownLine(_ line: Substring) -> String {
        guard line.hasPrefix("#") else { return String(line) }
        let rest = line.dropFirst()
        return String(rest.hasPrefix(" ") ? rest.dropFirst() : rest)
    }
}

/// Runs a notebook in one interpreter (so `args`, and variables such as `scale`, carry from cell
/// to cell) and writes a Markdown report: each cell's title, code, printed output, the value of
/// its last bare expression, the images it drew, the final lines of its progress output and its
/// wall time. Plots without `out:` (and relative `out:` paths) go beside the report. An error
/// stops the run; the report then ends with it. The report is rewritten after every cell, so an
/// interrupted run leaves what it did.
///
///     let runner = NotebookRunner(path: "notebooks/quickstart.lsc", arguments: ["tiny"])
///     let result = runner.run()
///     print(result.reportPath)   // notebooks/quickstart-report/quickstart.md
public final class NotebookRunner {
    /// One cell's outcome.
    public struct CellResult {
        public var cell: NotebookCell
        /// What `print` printed.
        public var output = ""
        /// The final lines of what went to stderr while the cell ran (progress bars collapsed to
        /// their last state, intermediate progress lines dropped).
        public var log = ""
        /// The value of the last bare expression, as the REPL echoes it; nil when there is none
        /// (or it is nil, or the path of an image the cell drew).
        public var value: String?
        /// The PNGs the cell wrote, relative to the report's folder, in order.
        public var images: [String] = []
        public var seconds = 0.0
        /// The rendered error that stopped the run here.
        public var error: String?
        /// Whether the cell ran (Markdown cells and cells after an error do not).
        public var ran = false
    }

    public struct Result {
        /// The Markdown file written.
        public var reportPath: String
        public var cells: [CellResult]
        /// The error that stopped the run, if any.
        public var error: LangError?
        public var seconds: Double
    }

    public let path: String
    public let arguments: [String]
    /// The report's folder: `-o DIR`, else `NAME-report/` beside the notebook.
    public let directory: String
    /// Copy what cells write to stderr into the report (the final lines of progress); the
    /// terminal still sees everything as it happens.
    public var capturesStderr = true
    /// Echo printed output to stdout as cells run (the report gets it either way).
    public var echoesOutput = true
    /// A line on stderr as each cell starts ("[2/6] Train"), and the error that stops the run.
    public var announcesCells = true
    /// The gnuplot executable for the plot builtins (nil: found on PATH).
    public var gnuplotExecutable: String?
    /// Images drawn outside the report's folder → the name of their copy beside the report.
    private var copies: [String: String] = [:]

    /// - Parameters:
    ///   - path: the `.lsc` notebook.
    ///   - directory: where the report and its images go; nil: `NAME-report/` beside the notebook.
    ///   - arguments: bound to `args`.
    public init(path: String, directory: String? = nil, arguments: [String] = []) {
        self.path = path
        self.arguments = arguments
        self.directory = directory ?? NotebookRunner.defaultDirectory(for: path)
    }

    /// `dir/NAME.lsc` → `dir/NAME-report`.
    public static func defaultDirectory(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = url.deletingPathExtension().lastPathComponent
        let dir = (path as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "" : dir + "/") + name + "-report"
    }

    /// The report file: `DIR/NAME.md`.
    public var reportPath: String {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return (directory.hasSuffix("/") ? directory : directory + "/") + name + ".md"
    }

    /// Runs every cell in order and writes the report. Throws only when the notebook cannot be
    /// read or the report cannot be written; errors of the code are in the result.
    public func run() throws -> Result {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LangError.runtime("cannot read notebook '\(path)'")
        }
        let cells = Notebook.cells(in: text)
        copies = [:]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        removePreviousImages()

        let interp = Interpreter(arguments: arguments)
        interp.plots.directory = directory
        interp.plots.gnuplotExecutable = gnuplotExecutable
        var current = CellResult(cell: cells.first ?? NotebookCell(kind: .code, title: nil, source: "", firstLine: 1))
        let echo = echoesOutput
        var capture: StderrCapture?
        interp.output = { text in
            current.output += text
            if echo {
                capture?.sync()   // progress written before this line shows before it
                Driver.writeOutput(text)
            }
        }
        var drawn: [String] = []
        interp.plots.onWrite = { drawn.append($0) }

        var results: [CellResult] = []
        var stopError: LangError?
        let started = Date()
        let codeCount = cells.filter { $0.kind == .code }.count
        var codeIndex = 0
        let report = NotebookReport(notebookPath: path, arguments: arguments, started: started)

        for cell in cells {
            current = CellResult(cell: cell)
            guard cell.kind == .code, stopError == nil else {
                results.append(current)
                continue
            }
            codeIndex += 1
            if announcesCells {
                Driver.writeError("[\(codeIndex)/\(codeCount)]" + (cell.title.map { " \($0)" } ?? "") + "\n")
            }
            drawn = []
            capture = capturesStderr ? StderrCapture.start() : nil
            let t0 = DispatchTime.now().uptimeNanoseconds
            var value: Value?
            var error: LangError?
            do {
                value = try interp.run(cell.source, file: path, firstLine: cell.firstLine)
            } catch let thrown {
                error = LangError.from(thrown)
            }
            current.seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            current.ran = true
            if let c = capture { current.log = StderrCapture.finalLines(c.finish()) }
            capture = nil
            current.images = drawn.map(reportLink)
            var seen = Set<String>()
            current.images = current.images.filter { seen.insert($0).inserted }
            if let value, !value.isNil {
                if case .string(let s) = value, drawn.contains(s) {
                    // The image itself shows below, as Jupyter shows a figure.
                } else {
                    current.value = value.repr
                }
            }
            if let error {
                current.error = error.rendered()
                if announcesCells { Driver.writeError(error.rendered() + "\n") }
                stopError = error
            }
            results.append(current)
            try report.write(results, to: reportPath, total: Date().timeIntervalSince(started), stopped: stopError != nil)
        }
        let total = Date().timeIntervalSince(started)
        try report.write(results, to: reportPath, total: total, stopped: stopError != nil)
        return Result(reportPath: reportPath, cells: results, error: stopError, seconds: total)
    }

    /// The link to an image from the report: relative when it is inside the report's folder;
    /// otherwise the image is copied there under its own name (numbered when another image of
    /// this run took the name), so the report and its images move together.
    private func reportLink(_ image: String) -> String {
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        let file = URL(fileURLWithPath: image).standardizedFileURL.resolvingSymlinksInPath().path
        let prefix = dir.hasSuffix("/") ? dir : dir + "/"
        if file.hasPrefix(prefix) { return String(file.dropFirst(prefix.count)) }
        if let name = copies[file] { return refreshCopy(file, name, prefix) }
        let url = URL(fileURLWithPath: file)
        let base = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
        var name = url.lastPathComponent
        var n = 2
        while copies.values.contains(name) {
            name = "\(base)-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
            n += 1
        }
        copies[file] = name
        return refreshCopy(file, name, prefix)
    }

    /// Copies `file` over `prefix + name`; on failure links the original.
    private func refreshCopy(_ file: String, _ name: String, _ prefix: String) -> String {
        let fm = FileManager.default
        try? fm.removeItem(atPath: prefix + name)
        do {
            try fm.copyItem(atPath: file, toPath: prefix + name)
            return name
        } catch {
            return file
        }
    }

    /// A rerun starts the numbering afresh: the numbered plots the previous report linked are
    /// removed (plots named with `out:` stay).
    private func removePreviousImages() {
        guard let old = try? String(contentsOfFile: reportPath, encoding: .utf8) else { return }
        let dir = directory.hasSuffix("/") ? directory : directory + "/"
        for line in old.split(separator: "\n") where line.hasPrefix("![") {
            guard let open = line.range(of: "]("), line.hasSuffix(")") else { continue }
            let target = line[open.upperBound ..< line.index(before: line.endIndex)]
            guard target.hasPrefix("plot-"), target.hasSuffix(".png") else { continue }
            let digits = target.dropFirst("plot-".count).dropLast(".png".count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
            try? FileManager.default.removeItem(atPath: dir + target)
        }
    }
}
