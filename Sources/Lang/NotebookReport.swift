import Foundation

/// The Markdown report of a notebook run: a header (notebook, arguments, date, total time), then
/// for each cell its title, its code (fenced as `lsc`), the final lines of its progress output,
/// what it printed, the value of its last bare expression (as Jupyter shows it), the images it
/// drew (relative links), its wall time, and — where an error stopped the run — the error.
///
///     ## [2] Train
///     ```lsc
///     log = fit(net, data.train, opt, epochs: 3)
///     ```
///     ```text
///     epoch 3  done 24/24 in 0:01  …
///     ```
///     Out: `{loss: 0.41, acc: 0.85}`
///
///     ![plot-001.png](plot-001.png)
///
///     *wall time 1.84 s*
struct NotebookReport {
    let notebookPath: String
    let arguments: [String]
    let started: Date

    /// Writes the report (atomically: a reader never sees half a report).
    func write(_ cells: [NotebookRunner.CellResult], to path: String, total: Double, stopped: Bool) throws {
        try render(cells, total: total, stopped: stopped).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func render(_ cells: [NotebookRunner.CellResult], total: Double, stopped: Bool) -> String {
        let name = URL(fileURLWithPath: notebookPath).lastPathComponent
        var md = "# \(name)\n\n"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let ran = cells.filter(\.ran).count
        let code = cells.filter { $0.cell.kind == .code }.count
        var meta = "`losscape notebook \(notebookPath)"
        if !arguments.isEmpty { meta += " " + arguments.map(shellWord).joined(separator: " ") }
        meta += "` · \(formatter.string(from: started)) · \(ran) of \(code) code cell\(code == 1 ? "" : "s") ran in \(duration(total))"
        if stopped { meta += " · **stopped by an error**" }
        md += "> " + meta + "\n"

        var number = 0
        for r in cells {
            md += "\n"
            if r.cell.kind == .markdown {
                if let title = r.cell.title { md += "## \(title)\n\n" }
                md += r.cell.source + "\n"
                continue
            }
            number += 1
            md += "## [\(number)]" + (r.cell.title.map { " \($0)" } ?? "") + "\n\n"
            md += fenced(r.cell.source, info: "lsc")
            guard r.ran else {
                md += "\n*not run: the run stopped at an earlier cell*\n"
                continue
            }
            if !r.log.isEmpty { md += "\n" + fenced(r.log, info: "text") }
            if !r.output.isEmpty {
                let out = r.output.hasSuffix("\n") ? String(r.output.dropLast()) : r.output
                md += "\n" + fenced(out, info: "text")
            }
            if let value = r.value {
                if value.contains("\n") || value.count > 100 || value.contains("`") {
                    md += "\nOut:\n\n" + fenced(value, info: "text")
                } else {
                    md += "\nOut: `\(value)`\n"
                }
            }
            for image in r.images {
                md += "\n![\(image)](\(linkTarget(image)))\n"
            }
            if let error = r.error {
                md += "\n**Error** — the run stopped here.\n\n" + fenced(error, info: "text")
            }
            md += "\n*wall time \(duration(r.seconds))*\n"
        }
        return md
    }

    /// A fenced block whose fence is longer than any backtick run inside.
    private func fenced(_ text: String, info: String) -> String {
        var longest = 0, run = 0
        for ch in text {
            run = ch == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + info + "\n" + text + "\n" + fence + "\n"
    }

    /// Spaces in a link target are percent-encoded (Markdown ends a link at a space).
    private func linkTarget(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: " ", with: "%20")
            .replacingOccurrences(of: "(", with: "%28").replacingOccurrences(of: ")", with: "%29")
    }

    private func shellWord(_ s: String) -> String {
        s.isEmpty || s.contains(where: { " \t'\"$`\\".contains($0) }) ? "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" : s
    }
}

/// "0.42 s", "12.3 s", "2 min 05 s".
func duration(_ seconds: Double) -> String {
    if seconds < 10 { return String(format: "%.2f s", seconds) }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let s = Int(seconds.rounded())
    return String(format: "%d min %02d s", s / 60, s % 60)
}
