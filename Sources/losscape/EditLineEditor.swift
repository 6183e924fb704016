import CEditLine
import Foundation
import Lang
import Tensor

/// The REPL's line editor: libedit through its readline-compatible API, with persistent history
/// in `$LOSSCAPE_HISTORY` or `~/.losscape_history` and tab completion.
///
/// Ctrl-C at the prompt: our SIGINT handler (no `SA_RESTART`) sets the cancellation flag and the
/// read returns NULL; flag set means "cancel the line", no flag means end of input (Ctrl-D).
final class EditLineEditor: LineEditor {
    private let historyPath: String

    init() {
        if let p = ProcessInfo.processInfo.environment["LOSSCAPE_HISTORY"], !p.isEmpty {
            historyPath = p
        } else {
            historyPath = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.losscape_history"
        }
        _ = rl_initialize()
        using_history()
        stifle_history(2000)
        _ = read_history(historyPath)
    }

    func readLine(prompt: String) -> LineInput {
        Cancellation.clear()
        guard let raw = readline(prompt) else {
            if Cancellation.isRequested {
                Cancellation.clear()
                return .interrupt
            }
            return .eof
        }
        defer { free(raw) }
        if Cancellation.isRequested {
            Cancellation.clear()
            return .interrupt
        }
        return .line(String(cString: raw))
    }

    func addHistory(_ entry: String) {
        _ = add_history(entry)
        _ = write_history(historyPath)
    }

    func saveHistory() { _ = write_history(historyPath) }

    func setCompletions(_ source: @escaping (String) -> [String]) {
        Completion.install(source)
    }
}

/// Tab completion through libedit's readline globals. Swift 6 refuses to touch C global variables,
/// so their addresses come from `dlsym` (the same objects the library reads).
enum Completion {
    nonisolated(unsafe) static var source: ((String) -> [String])?
    nonisolated(unsafe) static var matches: [String] = []

    typealias Attempted = @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

    static func install(_ source: @escaping (String) -> [String]) {
        self.source = source
        if let slot = symbol("rl_attempted_completion_function") {
            let f: Attempted = attemptCompletion
            slot.assumingMemoryBound(to: Optional<Attempted>.self).pointee = f
        }
        // No space after a completed name: `pri` → `print`, then usually `(`.
        symbol("rl_completion_append_character")?.assumingMemoryBound(to: Int32.self).pointee = 0
    }

    static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }

    static func lineBuffer() -> String {
        guard let p = symbol("rl_line_buffer"),
              let s = p.assumingMemoryBound(to: Optional<UnsafeMutablePointer<CChar>>.self).pointee else { return "" }
        return String(cString: s)
    }
}

/// libedit asks for the matches of `text` (the word before the cursor, which starts at byte
/// `start` of the line); `.` breaks words, so for `log.tr` the word is `tr` and the context
/// before it names the record.
private func attemptCompletion(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32)
    -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    let line = Completion.lineBuffer()
    let before = String(decoding: line.utf8.prefix(Int(max(start, 0))), as: UTF8.self)
    let word = text.map { String(cString: $0) } ?? ""
    Completion.matches = Completion.source?(before + word) ?? []
    if Completion.matches.isEmpty { return nil }
    return rl_completion_matches(text, completionGenerator)
}

private func completionGenerator(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    let i = Int(state)
    guard i >= 0, i < Completion.matches.count else { return nil }
    return strdup(Completion.matches[i])
}
