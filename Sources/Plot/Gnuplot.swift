import Foundation

/// Where gnuplot is and how long it may take. Each render starts one gnuplot process, sends the
/// script on its standard input, reads its standard error and checks its exit status, so that any
/// gnuplot error reaches the caller as a `PlotError` in gnuplot's own words.
///
///     try Gnuplot(executable: "/opt/gnuplot/bin/gnuplot").render(script: "plot sin(x)", to: "sin.png")
public struct Gnuplot: Sendable {
    /// The gnuplot executable; nil looks for `gnuplot` on `PATH` (then in the usual places).
    public var executable: String?
    /// Seconds gnuplot may run before it is stopped.
    public var timeout: Double

    /// `Gnuplot()` finds gnuplot on `PATH`.
    public init(executable: String? = nil, timeout: Double = 60) {
        self.executable = executable
        self.timeout = timeout
    }

    /// The executable that will run, or a `.gnuplotMissing` error naming the package to install.
    ///
    ///     print(try Gnuplot().locate())   // "/usr/bin/gnuplot"
    public func locate() throws -> String {
        let install = "install the gnuplot-nox package (apt install gnuplot-nox; brew install gnuplot on macOS)"
        let fm = FileManager.default
        if let executable {
            guard fm.isExecutableFile(atPath: executable) else {
                throw PlotError(.gnuplotMissing, "gnuplot not found at \(executable): \(install), or point the gnuplot setting at it")
            }
            return executable
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/gnuplot"
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw PlotError(.gnuplotMissing, "gnuplot is not installed (no gnuplot on PATH): \(install)")
    }

    /// Runs a user's gnuplot script with the PNG terminal and the output file set first (gnuplot's
    /// defaults otherwise, enhanced text included), and returns the PNG's path. The escape hatch
    /// for what the figure kinds do not cover; the script should not change the output.
    /// Errors carry the line of *this* script they refer to.
    ///
    ///     try Gnuplot().render(script: "set xrange [0:10]\nplot besj0(x)", to: "bessel.png")
    @discardableResult
    public func render(script: String, to path: String, width: Int = 800, height: Int = 500) throws -> String {
        guard width >= 16, height >= 16 else { throw PlotError(.invalidData, "size \(width)×\(height) is too small") }
        return try renderPNG(to: path, lineOffset: 2, strict: true) { output in
            "set terminal pngcairo size \(width),\(height) font \"Sans,11\"\nset output \(quotedPath(output))\n"
                + script + (script.hasSuffix("\n") ? "" : "\n") + "unset output\n"
        }
    }

    /// Checks the output folder, finds gnuplot, runs the script built for a temporary file beside
    /// `path`, and moves the image into place only when gnuplot succeeded: a failed render never
    /// leaves a truncated PNG behind or destroys the previous one. `strict` makes the warnings that
    /// mean nothing was drawn errors (for raw scripts; a figure's data is checked beforehand, and
    /// there such a warning means a harmless empty extra, like a contour too short to label).
    func renderPNG(to path: String, lineOffset: Int = 0, strict: Bool = false,
                   script: (String) throws -> String) throws -> String {
        try checkOutput(path)
        let exe = try locate()
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max)).tmp").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        _ = try run(try script(temp), executable: exe, lineOffset: lineOffset, strict: strict)
        let size = (try? FileManager.default.attributesOfItem(atPath: temp)[.size] as? Int) ?? nil
        guard let size, size > 0 else {
            throw PlotError(.gnuplot, "gnuplot finished without drawing an image (did the script change or unset the output?)")
        }
        guard Foundation.rename(temp, path) == 0 else {
            throw PlotError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// Throws unless `path` names a file that can be created: its folder exists and is writable,
    /// and the path is not itself a folder.
    func checkOutput(_ path: String) throws {
        guard !path.isEmpty else { throw PlotError(.output, "the output path is empty") }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw PlotError(.output, "cannot write \(path): it is a folder; give a file name like \(path)/plot.png")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fm.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw PlotError(.output, "cannot write \(path): the folder \(dir) does not exist")
        }
        guard isDir.boolValue else { throw PlotError(.output, "cannot write \(path): \(dir) is not a folder") }
        guard fm.isWritableFile(atPath: dir) else {
            throw PlotError(.output, "cannot write \(path): the folder \(dir) is not writable")
        }
    }

    /// Runs one script to completion and returns gnuplot's warnings that do not mean failure (an
    /// empty range widened, say); a warning that nothing was drawn (a data file not found) is an
    /// error. Lines in errors are counted from `lineOffset + 1`.
    ///
    ///     let warnings = try Gnuplot().run("set terminal pngcairo\nset output 'a.png'\nplot x")
    @discardableResult
    public func run(_ script: String, lineOffset: Int = 0) throws -> [String] {
        try run(script, executable: try locate(), lineOffset: lineOffset, strict: true)
    }

    private func run(_ script: String, executable: String, lineOffset: Int, strict: Bool) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // Reading the script as a file (not as piped interactive input) makes gnuplot stop at the
        // first error and name the line; -d skips the user's ~/.gnuplot, so figures look the same
        // everywhere.
        process.arguments = ["-d", "/dev/stdin"]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw PlotError(.gnuplotMissing, "cannot start gnuplot at \(executable): \(error.localizedDescription); install the gnuplot-nox package")
        }

        // gnuplot may stop reading early (an error); the write must then fail with EPIPE rather
        // than kill this process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let writer = DispatchGroup()
        let sink = input.fileHandleForWriting, data = Data(script.utf8)
        DispatchQueue.global().async(group: writer) {
            try? sink.write(contentsOf: data)
            try? sink.close()
        }
        let watchdog = Watchdog(pid: process.processIdentifier)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { watchdog.fire() }

        let stderrData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.disarm()
        writer.wait()

        let stderr = String(decoding: stderrData, as: UTF8.self)
        if watchdog.fired {
            throw PlotError(.timeout, "gnuplot ran longer than \(gp(timeout)) s and was stopped")
        }
        let report = GnuplotReport(stderr: stderr, script: script, lineOffset: lineOffset)
        if let error = report.error(status: process.terminationStatus, strict: strict) { throw error }
        return report.warnings
    }
}

/// Kills gnuplot once its time is up, unless it finished first.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private let pid: Int32
    private var done = false
    private(set) var fired = false

    init(pid: Int32) { self.pid = pid }

    func fire() {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        fired = true
        kill(pid, SIGKILL)
    }

    func disarm() {
        lock.lock()
        done = true
        lock.unlock()
    }
}

/// gnuplot's standard error, read: errors and warnings with the script line they refer to.
/// gnuplot writes `"/dev/stdin" line 8: undefined function: foo` for an error and
/// `"/dev/stdin" line 8: warning: …` for a warning; other lines are `print` output or the
/// continuation of a message (`system error: No such file or directory`).
struct GnuplotReport {
    struct Message {
        var line: Int?
        var text: String
        var isWarning: Bool
    }

    var messages: [Message] = []
    let scriptLines: [Substring]
    let lineOffset: Int

    /// Warnings that mean nothing (or not what was asked) was drawn, so the render failed.
    static let fatalWarnings = ["Skipping data file with no valid points", "Cannot find or open file",
                                "Cannot contour non grid data", "No data in plot"]

    init(stderr: String, script: String, lineOffset: Int) {
        scriptLines = script.split(separator: "\n", omittingEmptySubsequences: false)
        self.lineOffset = lineOffset
        for raw in stderr.split(separator: "\n") {
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text == "^" { continue }
            if let (line, rest) = GnuplotReport.located(text) {
                let warning = rest.lowercased().hasPrefix("warning:")
                let body = warning ? rest.dropFirst("warning:".count).trimmingCharacters(in: .whitespaces) : rest
                messages.append(Message(line: line, text: body, isWarning: warning))
            } else if text.lowercased().hasPrefix("warning:") {
                messages.append(Message(line: nil, text: text.dropFirst("warning:".count).trimmingCharacters(in: .whitespaces), isWarning: true))
            } else if let last = messages.last, !last.isWarning, text.hasPrefix("system error:") {
                messages[messages.count - 1].text += " (\(text))"
            } else {
                messages.append(Message(line: nil, text: text, isWarning: false))
            }
        }
    }

    /// `"/dev/stdin" line 8: rest` → (8, rest).
    private static func located(_ text: String) -> (Int, String)? {
        guard let r = text.range(of: "\" line ") else { return nil }
        let after = text[r.upperBound...]
        guard let colon = after.firstIndex(of: ":"), let n = Int(after[..<colon]) else { return nil }
        return (n, after[after.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// The failure, if gnuplot exited with an error or (when `strict`) warned that nothing was drawn.
    func error(status: Int32, strict: Bool = true) -> PlotError? {
        if status != 0 {
            if let i = messages.firstIndex(where: { $0.line != nil && !$0.isWarning }) {
                // Warnings about the same line explain the error ("Cannot find or open file" before
                // "No data in plot"): keep them in front of it.
                var m = messages[i]
                let why = messages[..<i].filter { $0.isWarning && $0.line == m.line }.map(\.text)
                m.text = (why + [m.text]).joined(separator: "; ")
                return plotError(m)
            }
            guard let last = messages.last(where: { !$0.isWarning }) ?? messages.last else {
                return PlotError(.gnuplot, "gnuplot failed (exit status \(status)) without a message")
            }
            return plotError(last)
        }
        if strict, let fatal = messages.first(where: { m in m.isWarning && GnuplotReport.fatalWarnings.contains { m.text.contains($0) } }) {
            return plotError(fatal)
        }
        return nil
    }

    /// Non-fatal warnings, as `line N: text` where a line is known.
    var warnings: [String] {
        messages.filter(\.isWarning).map { m in m.line.map { "line \($0 - lineOffset): \(m.text)" } ?? m.text }
    }

    private func plotError(_ m: Message) -> PlotError {
        guard let line = m.line, line >= 1, line <= scriptLines.count else { return PlotError(.gnuplot, m.text) }
        let source = String(scriptLines[line - 1]).trimmingCharacters(in: .whitespaces)
        // A line of the prepended terminal setup has no number in the user's script.
        let userLine = line - lineOffset
        return PlotError(.gnuplot, m.text, line: userLine >= 1 ? userLine : nil, source: source)
    }
}
