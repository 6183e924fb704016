import CSupport
import Foundation
import XCTest

/// Drives the real `losscape` binary through a pseudo-terminal, as a user at a terminal would:
/// prompts, continuation, Ctrl-C during a long loop, completion, history across sessions, Ctrl-D.
final class REPLTerminalTests: XCTestCase {
    /// One REPL process on a pty. Ctrl-C is delivered as SIGINT to the process (the pty is not its
    /// controlling terminal, so the line discipline cannot send it).
    final class Terminal {
        let process = Process()
        private let master: Int32
        private(set) var screen = ""

        init(binary: URL, environment: [String: String]) throws {
            var fd: Int32 = -1
            var name = [CChar](repeating: 0, count: 128)
            guard losscape_open_pty(&fd, &name, name.count) == 0 else { throw NSError(domain: "pty", code: 1) }
            master = fd
            let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let slave = open(path, O_RDWR | O_NOCTTY)
            guard slave >= 0 else { throw NSError(domain: "pty", code: 2) }
            let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
            process.executableURL = binary
            process.arguments = []
            var env = ProcessInfo.processInfo.environment
            env["TERM"] = "xterm"
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardInput = handle
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate() }
            close(master)
        }

        /// Ctrl-D: after a short pause, since libedit prints the prompt before it puts the terminal
        /// in raw mode, and a Ctrl-D typed in cooked mode is swallowed by the line discipline.
        func sendEOF() {
            Thread.sleep(forTimeInterval: 0.3)
            send("\u{4}")
        }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
        }

        /// Output up to here was matched by an earlier `expect`.
        private var cursor = 0

        /// Reads until `text` shows up after the last match (or the timeout passes); on success the
        /// mark moves past it.
        @discardableResult
        func expect(_ text: String, timeout: TimeInterval = 20) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            func found() -> Bool {
                let tail = screen.utf8.dropFirst(cursor)
                guard let r = String(decoding: tail, as: UTF8.self).range(of: text) else { return false }
                cursor += String(decoding: tail, as: UTF8.self)[..<r.upperBound].utf8.count
                return true
            }
            while Date() < deadline {
                if found() { return true }
                var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                if poll(&fds, 1, 50) > 0 {
                    var buf = [UInt8](repeating: 0, count: 4096)
                    let n = read(master, &buf, buf.count)
                    if n <= 0 { break }
                    screen += String(decoding: buf[0..<n], as: UTF8.self)
                }
            }
            return found()
        }

        /// Reads whatever arrives for a while (to notice the process ending).
        func drain(for seconds: TimeInterval) {
            var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, Int32(seconds * 1000)) > 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buf, buf.count)
                if n > 0 { screen += String(decoding: buf[0..<n], as: UTF8.self) }
            }
        }

        func interrupt() { kill(process.processIdentifier, SIGINT) }

        func waitForExit(timeout: TimeInterval = 20) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline {
                drain(for: 0.1)
            }
            return process.isRunning ? nil : process.terminationStatus
        }
    }

    private var history: URL!

    override func setUp() {
        history = FileManager.default.temporaryDirectory.appendingPathComponent("lsc-history-\(getpid())-\(UUID().uuidString)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: history)
    }

    private func terminal() throws -> Terminal {
        let bin = try XCTUnwrap(CommandLineTests.binary, "the losscape binary is not beside the test bundle")
        let t = try Terminal(binary: bin, environment: ["LOSSCAPE_HISTORY": history.path])
        XCTAssertTrue(t.expect("> "), "no prompt:\n\(t.screen)")
        return t
    }

    func testPromptsContinuationAndEcho() throws {
        let t = try terminal()
        t.send("x = 41\r")
        XCTAssertTrue(t.expect("> "))
        t.send("x + 1\r")
        XCTAssertTrue(t.expect("42\r\n> "), t.screen)
        t.send("fn f(a) {\r")
        XCTAssertTrue(t.expect(".. "), t.screen)
        t.send("return a * 2 }\r")
        XCTAssertTrue(t.expect("> "))
        t.send("f(x)\r")
        XCTAssertTrue(t.expect("82\r\n> "), t.screen)
        // A blank line cancels unfinished input.
        t.send("y = (1 +\r")
        XCTAssertTrue(t.expect(".. "))
        t.send("\r")
        XCTAssertTrue(t.expect("> "))
        t.send("nope\r")
        XCTAssertTrue(t.expect("undefined variable 'nope'"), t.screen)
        XCTAssertTrue(t.expect("> "))
        t.sendEOF()
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testCtrlCStopsALongLoopAndKeepsVariables() throws {
        let t = try terminal()
        t.send("kept = 7\r")
        XCTAssertTrue(t.expect("> "))
        t.send("i = 0\r")
        XCTAssertTrue(t.expect("> "))
        t.send("while true { i += 1 }\r")
        Thread.sleep(forTimeInterval: 0.5)
        t.interrupt()
        XCTAssertTrue(t.expect("interrupted"), t.screen)
        XCTAssertTrue(t.expect("> "))
        t.send("[kept, i > 0]\r")
        XCTAssertTrue(t.expect("[7, true]\r\n> "), t.screen)
        t.sendEOF()
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testCompletionAndHistoryAcrossSessions() throws {
        let first = try terminal()
        first.send("unique_name = 5\r")
        XCTAssertTrue(first.expect("> "))
        first.send("uniq\t")
        XCTAssertTrue(first.expect("ue_name"), first.screen)
        first.send(" * 2\r")
        XCTAssertTrue(first.expect("10\r\n> "), first.screen)
        first.sendEOF()
        XCTAssertEqual(first.waitForExit(), 0)

        let second = try terminal()
        second.send("unique_name = 8\r")
        XCTAssertTrue(second.expect("> "))
        second.send("\u{1b}[A\u{1b}[A\r")   // up twice: the first session's last entry
        XCTAssertTrue(second.expect("16\r\n> "), second.screen)
        second.sendEOF()
        XCTAssertEqual(second.waitForExit(), 0)
    }
}
