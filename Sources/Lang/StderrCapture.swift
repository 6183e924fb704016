import CSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Tees file descriptor 2 while a notebook cell runs: everything still reaches the terminal as it
/// is written (progress bars included), and a copy is kept for the report. When stderr is a
/// terminal the copy comes through a pseudo-terminal, so progress reporters still see a terminal
/// and draw their bars; otherwise through a pipe.
///
///     let capture = StderrCapture.start()
///     try interp.run(cell)
///     let log = StderrCapture.finalLines(capture?.finish() ?? "")
final class StderrCapture: @unchecked Sendable {
    private let saved: Int32
    private let readEnd: Int32
    private let writeEnd: Int32
    private let done = DispatchSemaphore(value: 0)
    private let synced = DispatchSemaphore(value: 0)
    private var bytes: [UInt8] = []
    /// Written to stderr by `sync()`; the pump takes it out of the stream when it arrives. An
    /// OSC sequence, so a stray one would be invisible on a terminal.
    private static let marker: [UInt8] = Array("\u{1B}]losscape-sync\u{07}".utf8)

    private init(saved: Int32, readEnd: Int32, writeEnd: Int32) {
        self.saved = saved
        self.readEnd = readEnd
        self.writeEnd = writeEnd
    }

    /// Starts the tee; nil when the descriptors cannot be set up (the cell then runs uncaptured).
    static func start() -> StderrCapture? {
        fflush(nil)
        let saved = dup(2)
        guard saved >= 0 else { return nil }
        var ends: (Int32, Int32)?
        if isatty(2) == 1 { ends = openPseudoTerminal(like: saved) }
        if ends == nil {
            var fds: [Int32] = [-1, -1]
            if pipe(&fds) == 0 { ends = (fds[0], fds[1]) }
        }
        guard let (r, w) = ends, dup2(w, 2) >= 0 else {
            if let (r, w) = ends { close(r); close(w) }
            close(saved)
            return nil
        }
        let capture = StderrCapture(saved: saved, readEnd: r, writeEnd: w)
        let thread = Thread { capture.pump() }
        thread.stackSize = 1 << 18
        thread.start()
        return capture
    }

    /// Restores stderr and returns everything written to it since `start`.
    func finish() -> String {
        fflush(nil)
        dup2(saved, 2)
        close(writeEnd)   // the last writer: the reader sees the end
        done.wait()
        close(readEnd)
        close(saved)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Returns once everything written to stderr before the call has reached the terminal, so
    /// that text about to go to stdout appears after it (the tee would otherwise lag behind).
    func sync() {
        fflush(nil)
        let m = StderrCapture.marker
        let n = m.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        guard n == m.count else { return }
        _ = synced.wait(timeout: .now() + 2)
    }

    /// Copies what arrives to the real stderr and keeps it, until no writer is left; takes the
    /// sync markers out and answers them.
    private func pump() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var pending: [UInt8] = []
        let marker = StderrCapture.marker
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n > 0 {
                pending.append(contentsOf: buffer[0 ..< n])
                while let at = StderrCapture.find(marker, in: pending) {
                    forward(pending[0 ..< at])
                    pending.removeFirst(at + marker.count)
                    synced.signal()
                }
                // A marker cut by the read boundary waits for its rest.
                let keep = StderrCapture.partialSuffix(of: pending, prefixOf: marker)
                forward(pending[0 ..< pending.count - keep])
                pending.removeFirst(pending.count - keep)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break   // end of file (pipe) or EIO (pseudo-terminal whose slave closed)
            }
        }
        forward(pending[...])
        done.signal()
    }

    private func forward(_ chunk: ArraySlice<UInt8>) {
        guard !chunk.isEmpty else { return }
        bytes.append(contentsOf: chunk)
        chunk.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let m = write(saved, p, left)
                if m < 0 && errno == EINTR { continue }
                if m <= 0 { return }
                p += m
                left -= m
            }
        }
    }

    /// The first index of `needle` in `hay`.
    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count, let first = needle.first else { return nil }
        var i = 0
        while i <= hay.count - needle.count {
            if hay[i] == first, hay[i ..< i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// How many bytes at the end of `hay` are a proper prefix of `marker`.
    static func partialSuffix(of hay: [UInt8], prefixOf marker: [UInt8]) -> Int {
        for k in stride(from: min(marker.count - 1, hay.count), to: 0, by: -1)
        where hay[(hay.count - k)...].elementsEqual(marker[0 ..< k]) {
            return k
        }
        return 0
    }

    /// A raw pseudo-terminal (master, slave) with the window size of `fd`'s terminal.
    private static func openPseudoTerminal(like fd: Int32) -> (Int32, Int32)? {
        var master: Int32 = -1
        var name = [CChar](repeating: 0, count: 256)
        guard losscape_open_pty(&master, &name, name.count) == 0 else { return nil }
        let slave = open(String(cString: name), O_RDWR | O_NOCTTY)
        guard slave >= 0 else {
            close(master)
            return nil
        }
        var t = termios()
        if tcgetattr(slave, &t) == 0 {
            cfmakeraw(&t)
            tcsetattr(slave, TCSANOW, &t)
        }
        var size = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(slave, UInt(TIOCSWINSZ), &size) }
        return (master, slave)
    }

    /// What the report keeps of a cell's stderr: what a terminal finally shows of each line
    /// (text after its last carriage return, escape sequences removed), without the intermediate
    /// progress lines that non-terminal output prints at every tenth (`label  12/47 (25%)  …`).
    static func finalLines(_ text: String) -> String {
        var lines: [String] = []
        for raw in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let clean = stripEscapes(String(raw))
            let segments = clean.split(separator: "\r", omittingEmptySubsequences: true)
            guard let last = segments.last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
                if !lines.isEmpty { lines.append("") }
                continue
            }
            let line = String(last).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            if line.range(of: #"  \d+/\d+ \(\d{1,3}%\)"#, options: .regularExpression) != nil { continue }
            lines.append(line)
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Removes ANSI escape sequences (`ESC [ … letter`, and two-character ones).
    static func stripEscapes(_ s: String) -> String {
        guard s.contains("\u{1B}") else { return s }
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\u{1B}" else {
                out.unicodeScalars.append(u)
                continue
            }
            guard let next = it.next() else { break }
            if next == "[" {
                while let c = it.next(), !(("@"..."~").contains(c)) {}
            }
        }
        return out
    }
}
