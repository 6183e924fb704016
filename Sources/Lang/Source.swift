import Foundation

/// One piece of program text the interpreter has seen: a script, an imported file, a REPL entry or
/// a notebook cell. Errors quote its lines under a caret.
///
/// `firstLine` lets a chunk cut from a larger file (a notebook cell) report the file's own line
/// numbers: the chunk's first line is line `firstLine`.
public final class SourceFile: @unchecked Sendable {
    public let name: String
    public let text: String
    public let firstLine: Int
    /// The lines of `text`, split on "\n" ("\r" dropped), computed on first use.
    public private(set) lazy var lines: [String] = text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }

    init(name: String, text: String, firstLine: Int) {
        self.name = name
        self.text = text
        self.firstLine = firstLine
    }

    /// The text of line `line` (numbered as errors number it), or nil when outside this source.
    public func line(_ line: Int) -> String? {
        let i = line - firstLine
        return i >= 0 && i < lines.count ? lines[i] : nil
    }
}

/// Every source gets a small id so that a location is three plain integers: AST nodes copy
/// locations freely and a class reference there would cost a retain on every copy.
enum SourceRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var files: [SourceFile] = []

    static func add(name: String, text: String, firstLine: Int) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        files.append(SourceFile(name: name, text: text, firstLine: firstLine))
        return Int32(files.count - 1)
    }

    static func file(_ id: Int32) -> SourceFile? {
        lock.lock()
        defer { lock.unlock() }
        return id >= 0 && Int(id) < files.count ? files[Int(id)] : nil
    }
}

/// Where something is in the program: file, line and column (both 1-based; the column counts
/// Unicode scalars, so a caret lines up under non-ASCII text).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    let fileID: Int32
    public let line: Int
    public let column: Int

    init(fileID: Int32, line: Int, column: Int) {
        self.fileID = fileID
        self.line = line
        self.column = column
    }

    public var source: SourceFile? { SourceRegistry.file(fileID) }
    public var fileName: String { source?.name ?? "?" }

    /// `file:line:col`
    public var description: String { "\(fileName):\(line):\(column)" }
}
