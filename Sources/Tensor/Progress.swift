import CSupport
import Dispatch
import Foundation

/// The one progress reporter that training, the measures and data loading share.
///
/// On a terminal (stderr is a tty) it redraws a single bar line with `\r`, at most ten times a
/// second; otherwise (logs, pipes, notebooks) it prints a plain line at every tenth of the total
/// or every 5 s, whichever comes first, plus the final line. `ProgressReporter.isEnabled = false`
/// (quiet mode) silences every reporter. Output goes to stderr unless a `sink` is given.
///
///     let progress = ProgressReporter("epoch 1", total: batches.count, unit: "batch")
///     for (i, b) in batches.enumerated() { try step(b); progress.update(step: i + 1, info: "loss 0.31") }
///     progress.finish(summary: "loss 0.29  acc 0.91")
public final class ProgressReporter {
    /// Quiet mode switch for all reporters; set it before work starts (it is read, not locked).
    ///
    ///     ProgressReporter.isEnabled = false
    nonisolated(unsafe) public static var isEnabled = true

    public let label: String
    /// Number of steps when known; `nil` shows a counter and the elapsed time instead of an ETA.
    public let total: Int?
    /// What one step is, for the rate: "it/s", "batch/s", "hvp/s".
    public let unit: String

    private let sink: (String) -> Void
    private let clock: () -> Double
    private let isTerminal: Bool
    private let columns: Int
    private let start: Double

    private var step = 0
    private var info = ""
    private var lastDraw = -Double.infinity   // terminal: time of the last redraw
    private var lastLine: Double              // plain lines: time of the last printed line
    private var lastDecile = 0                // plain lines: last tenth of the total printed
    private var barOnScreen = false           // terminal: a line without its newline is showing
    private var finished = false

    static let redrawInterval = 0.1
    static let lineInterval = 5.0

    /// Starts the clock. `isTerminal`, `sink` and `clock` default to isatty(2), stderr and a
    /// monotonic clock in seconds; tests inject their own.
    ///
    ///     let p = ProgressReporter("hessian_eigs", total: 10, unit: "trial")
    public init(_ label: String, total: Int? = nil, unit: String = "it",
                isTerminal: Bool? = nil, sink: ((String) -> Void)? = nil,
                clock: (() -> Double)? = nil) {
        self.label = label
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.unit = unit
        self.isTerminal = isTerminal ?? (losscape_isatty(2) != 0)
        self.sink = sink ?? ProgressReporter.writeToStderr
        self.clock = clock ?? { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        self.columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
        self.start = self.clock()
        self.lastLine = self.start
    }

    /// A bar left on screen (the loop threw before `finish`) gets its newline, so the next
    /// message does not land on the same line.
    deinit {
        if barOnScreen && !finished { sink("\n") }
    }

    /// Records that `step` steps are done (1 after the first) and shows it if it is time to.
    /// `info` is a preformatted suffix such as "loss 0.31  1234 img/s".
    ///
    ///     progress.update(step: i + 1, info: "loss \(loss)")
    public func update(step: Int, info: String = "") {
        guard !finished else { return }
        self.step = step
        self.info = info
        guard ProgressReporter.isEnabled else { return }
        let now = clock()
        if isTerminal {
            guard now - lastDraw >= ProgressReporter.redrawInterval else { return }
            lastDraw = now
            sink("\r" + fitted(statusLine(now: now), bar: true) + "\u{1B}[K")
            barOnScreen = true
        } else {
            var due = now - lastLine >= ProgressReporter.lineInterval
            if let total {
                let decile = min(10, max(0, step * 10 / total))
                if decile > lastDecile { due = true }
                lastDecile = max(lastDecile, decile)
                if step >= total { due = false }   // the line at the end is finish()'s
            }
            guard due else { return }
            lastLine = now
            sink(statusLine(now: now) + "\n")
        }
    }

    /// Prints the final line: steps done, elapsed time, mean rate, and `summary`. Only the first
    /// call counts.
    ///
    ///     progress.finish(summary: "acc 0.91")
    public func finish(summary: String = "") {
        guard !finished else { return }
        finished = true
        guard ProgressReporter.isEnabled else { return }
        let now = clock()
        let elapsed = now - start
        var parts = [label]
        if let total {
            parts.append(step >= total ? "done \(step)/\(total)" : "stopped at \(step)/\(total)")
        } else {
            parts.append("done \(step)")
        }
        parts[parts.count - 1] += " in " + ProgressReporter.formatDuration(elapsed)
        if step > 0 && elapsed > 0 {
            parts.append(ProgressReporter.formatRate(Double(step) / elapsed) + " \(unit)/s")
        }
        if !summary.isEmpty { parts.append(summary) }
        let line = parts.joined(separator: "  ")
        if isTerminal {
            sink("\r" + fitted(line, bar: false) + "\u{1B}[K\n")
            barOnScreen = false
        } else {
            sink(line + "\n")
        }
    }

    /// "label  42/100 (42%)  12.3 it/s  ETA 0:05  info"; without a total, "label  42  …  0:12".
    private func statusLine(now: Double) -> String {
        let elapsed = now - start
        let rate = elapsed > 0 && step > 0 ? Double(step) / elapsed : nil
        var parts = [label]
        if let total {
            let percent = min(100, max(0, step * 100 / total))
            parts.append("\(step)/\(total) (\(percent)%)")
        } else {
            parts.append("\(step)")
        }
        if let rate { parts.append(ProgressReporter.formatRate(rate) + " \(unit)/s") }
        if let total, let rate {
            parts.append("ETA " + ProgressReporter.formatDuration(Double(max(0, total - step)) / rate))
        } else if total == nil {
            parts.append(ProgressReporter.formatDuration(elapsed))
        }
        if !info.isEmpty { parts.append(info) }
        return parts.joined(separator: "  ")
    }

    /// Fits a terminal line into the width (a wrapped line breaks `\r` redraws), adding a bar
    /// after the label when there is room for a useful one.
    private func fitted(_ line: String, bar: Bool) -> String {
        let width = columns - 1
        if bar, let total {
            let barWidth = min(30, width - line.count - 3)
            if barWidth >= 10 {
                let filled = min(barWidth, max(0, step * barWidth / total))
                let drawn = "[" + String(repeating: "#", count: filled)
                    + String(repeating: ".", count: barWidth - filled) + "]"
                let head = line.prefix(label.count)
                return head + " " + drawn + line.dropFirst(label.count)
            }
        }
        return line.count <= width ? line : String(line.prefix(max(0, width)))
    }

    /// "0:05", "12:34", "1:02:03"; "--:--" when the rate makes no sense yet.
    static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 100 * 3600 else { return "--:--" }
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// Short and readable: "1234", "56.7", "8.91".
    static func formatRate(_ rate: Double) -> String {
        if rate >= 100 { return String(Int(rate.rounded())) }
        return String(format: rate >= 10 ? "%.1f" : "%.2f", rate)
    }

    /// Unbuffered write to fd 2; retries after EINTR (the SIGINT handler has no SA_RESTART).
    static func writeToStderr(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard var p = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let n = write(2, p, left)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                p += n
                left -= n
            }
        }
    }
}
