import Foundation
import Tensor

extension Driver {
    /// `notebook [-o DIR] FILE.lsc [-o DIR] [args…]`: the output folder may come before or right
    /// after the file; everything else after the file belongs to the notebook (`args`).
    static func parseNotebook(_ argv: [String], into o: inout Options) throws {
        var i = 0
        func output() throws {
            guard i + 1 < argv.count else { throw UsageError("\(argv[i]) needs a folder") }
            o.notebookOutput = argv[i + 1]
            i += 2
        }
        while i < argv.count, argv[i] == "-o" || argv[i] == "--out" { try output() }
        guard i < argv.count else { throw UsageError("notebook needs a FILE.lsc") }
        o.script = argv[i]
        i += 1
        if i < argv.count, argv[i] == "-o" || argv[i] == "--out" { try output() }
        o.arguments = Array(argv[i...])
    }

    /// Runs a notebook and writes its report; says where on stdout. Exit status as for scripts:
    /// 1 when a cell's runtime error stopped the run (2 for a syntax error, 130 for Ctrl-C).
    static func runNotebook(_ options: Options) -> Int32 {
        guard let path = options.script else {
            writeError("losscape: notebook needs a FILE.lsc\n\(usage)\n")
            return usageError
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            writeError("losscape: cannot read '\(path)'\n")
            return usageError
        }
        let runner = NotebookRunner(path: path, directory: options.notebookOutput, arguments: options.arguments)
        Cancellation.installHandler()
        defer { Cancellation.uninstallHandler() }
        do {
            let result = try runner.run()
            writeOutput("report: \(result.reportPath)\n")
            if let e = result.error {
                writeError("losscape: the notebook stopped at an error; the report holds the cells up to it\n")
                return exitCode(for: e)
            }
            return success
        } catch {
            writeError("losscape: \(LangError.from(error).message)\n")
            return runtimeError
        }
    }

    /// Unbuffered write to stdout (after flushing Swift's and C's buffers), so printed output and
    /// progress on stderr appear in the order they happen.
    static func writeOutput(_ text: String) {
        fflush(nil)
        FileHandle.standardOutput.write(text.data(using: .utf8) ?? .init())
    }
}
