import Foundation
import Tensor
import XCTest
@testable import Lang

/// Random and mutated programs through lexer, parser and interpreter under a step limit: nothing
/// may crash or hang. `LOSSCAPE_FUZZ_COUNT` sets the number of programs (default 3000; the full
/// run uses 100,000 or more), `LOSSCAPE_FUZZ_SEED` the seed. With `LOSSCAPE_FUZZ_LAST=FILE` each
/// program is written to FILE before it runs, so after a crash FILE holds the culprit.
final class FuzzTests: XCTestCase {
    func testRandomAndMutatedPrograms() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["LOSSCAPE_FUZZ_COUNT"].flatMap(Int.init) ?? 3000
        let seed = env["LOSSCAPE_FUZZ_SEED"].flatMap(UInt64.init) ?? 12345
        let lastFile = env["LOSSCAPE_FUZZ_LAST"]
        var rng = RandomGenerator(seed: seed)
        let corpus = GoldenTests.goldenFiles().compactMap { try? String(contentsOf: $0, encoding: .utf8) }
        let builtins = Builtins.standard().all.map { ($0.name, $0.params.map(\.name)) }
        XCTAssertFalse(corpus.isEmpty)
        let start = Date()
        var outcomes = [String: Int]()
        var slowest = (0.0, "")
        for i in 0..<count {
            let program: String
            switch i % 5 {
            case 0: program = FuzzGenerator.program(&rng)
            case 1: program = FuzzGenerator.tokenSoup(&rng)
            case 2: program = FuzzGenerator.builtinCalls(builtins, &rng)
            default: program = FuzzGenerator.mutate(corpus[rng.int(below: corpus.count)], &rng)
            }
            if let lastFile { try? program.write(toFile: lastFile, atomically: false, encoding: .utf8) }
            let t0 = Date()
            let outcome = FuzzTests.runOne(program)
            outcomes[outcome, default: 0] += 1
            let dt = Date().timeIntervalSince(t0)
            if dt > slowest.0 { slowest = (dt, program) }
        }
        let elapsed = Date().timeIntervalSince(start)
        print("fuzz: \(count) programs in \(String(format: "%.1f", elapsed)) s: \(outcomes.sorted { $0.key < $1.key })")
        print("fuzz: slowest \(String(format: "%.3f", slowest.0)) s")
        XCTAssertLessThan(slowest.0, 5, "a program ran too long:\n\(slowest.1)")
    }

    /// Runs one program in a fresh, sandboxed interpreter; returns how it ended.
    static func runOne(_ program: String) -> String {
        let interp = Interpreter(arguments: ["x"])
        interp.limits = Interpreter.Limits(maxSteps: 20_000, maxCallDepth: 100, maxElements: 1 << 14, allowFiles: false)
        interp.output = { _ in }
        do {
            try interp.run(program, file: "fuzz.lsc", echo: true)
            return "ok"
        } catch let e as LangError {
            _ = e.rendered()
            switch e.kind {
            case .syntax: return e.isIncomplete ? "incomplete" : "syntax"
            case .runtime: return "runtime"
            case .interrupted: return "interrupted"
            }
        } catch {
            return "other"
        }
    }
}

/// Program generators: grammar-directed random programs, token soup, and mutations of real scripts.
enum FuzzGenerator {
    static let names = ["x", "y", "xs", "r", "f", "t", "i", "n", "print", "len", "tensor", "zeros", "sum", "map",
                        "copy", "range", "format", "push", "keys", "reshape", "randn", "help", "str", "num", "table"]
    static let tokens = ["fn", "if", "else", "while", "for", "in", "return", "break", "continue", "and", "or", "not",
                         "true", "false", "nil", "import", "+", "-", "*", "/", "%", "^", "@", "==", "!=", "<", "<=",
                         ">", ">=", "=", "+=", "..", ".", ",", ":", ";", "(", ")", "[", "]", "{", "}", "\n", "\"s\"",
                         "0", "1", "-1", "2.5", "1e300", "1e-300", "x", "y", "f", "xs", "t", "print", "#c\n", "\\", "'",
                         "\"", "!", "$", "±", "\t"]

    static func pick<T>(_ xs: [T], _ rng: inout RandomGenerator) -> T { xs[rng.int(below: xs.count)] }

    /// Odd values for builtin arguments: scalars, empty and ragged things, extremes, wrong types.
    static let oddValues = ["0", "-1", "1", "2", "3", "0.5", "-0", "1e300", "-1e300", "1/0", "0/0", "nil", "true", "\"\"",
                            "\"s\"", "\"x.npy\"", "[]", "[[]]", "[0]", "[-1]", "[2, 3]", "[0, 2]", "[1, [2]]", "{}",
                            "{a: [1, 2], b: [3]}", "[{a: 1}, {b: 2}]", "0..2", "3..1", "tensor(2)", "tensor([])",
                            "zeros([0, 2])", "ones([2, 3])", "tensor([[1, 2], [3, 4]])", "randn([2, 2, 2], seed: 1)",
                            "fn(a) { return a }", "fn() { return 1 }", "print", "[tensor(1), tensor(2)]",
                            "[ones(2), zeros(3)]", "[ones([2, 2]), ones([2, 2])]", "\"{} {:.3f} {:>9}\""]

    /// Calls of random builtins with odd positional and keyword arguments.
    static func builtinCalls(_ builtins: [(String, [String])], _ rng: inout RandomGenerator) -> String {
        (0..<(1 + rng.int(below: 6))).map { _ in
            let (name, params) = pick(builtins, &rng)
            var args = (0..<rng.int(below: 4)).map { _ in pick(oddValues, &rng) }
            if !params.isEmpty {
                for _ in 0..<rng.int(below: 3) { args.append("\(pick(params, &rng)): \(pick(oddValues, &rng))") }
            }
            return "\(name)(\(args.joined(separator: ", ")))"
        }.joined(separator: "\n")
    }

    static func tokenSoup(_ rng: inout RandomGenerator) -> String {
        (0..<rng.int(below: 60)).map { _ in pick(tokens, &rng) }.joined(separator: rng.int(below: 3) == 0 ? "" : " ")
    }

    static func mutate(_ source: String, _ rng: inout RandomGenerator) -> String {
        var chars = Array(source)
        guard !chars.isEmpty else { return source }
        for _ in 0..<(1 + rng.int(below: 4)) {
            guard !chars.isEmpty else { break }
            let at = rng.int(below: chars.count)
            switch rng.int(below: 6) {
            case 0: chars.remove(at: at)
            case 1: chars.insert(pick(tokens, &rng).first ?? " ", at: at)
            case 2:
                let len = min(chars.count - at, rng.int(below: 40))
                chars.removeSubrange(at..<(at + len))
            case 3:
                let len = min(chars.count - at, rng.int(below: 60))
                let piece = chars[at..<(at + len)]
                chars.insert(contentsOf: piece, at: rng.int(below: chars.count + 1))
            case 4:
                chars.insert(contentsOf: Array(" " + pick(tokens, &rng) + " "), at: at)
            default:
                // swap two lines
                var lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false)
                if lines.count > 1 {
                    lines.swapAt(rng.int(below: lines.count), rng.int(below: lines.count))
                }
                chars = Array(lines.joined(separator: "\n"))
            }
        }
        return String(chars)
    }

    /// Defines the names the generator uses, so that more programs get past "undefined variable".
    static let preamble = """
        x = 1; y = [1, 2]; xs = [3, 1, 2]; r = {a: 1, b: "s"}; t = tensor([[1, 2], [3, 4]]); i = 0; n = 2
        fn f(a, b: 1) { return a }

        """

    static func program(_ rng: inout RandomGenerator) -> String {
        preamble + (0..<(1 + rng.int(below: 8))).map { _ in statement(&rng, depth: 0) }.joined(separator: "\n")
    }

    static func statement(_ rng: inout RandomGenerator, depth: Int) -> String {
        let d = depth + 1
        switch rng.int(below: depth > 2 ? 3 : 9) {
        case 0: return "\(pick(names, &rng)) = \(expr(&rng, depth: d))"
        case 1: return expr(&rng, depth: d)
        case 2: return "print(\(expr(&rng, depth: d)), \(expr(&rng, depth: d)))"
        case 3: return "if \(expr(&rng, depth: d)) { \(statement(&rng, depth: d)) } else { \(statement(&rng, depth: d)) }"
        case 4: return "for \(pick(names, &rng)) in \(expr(&rng, depth: d)) {\n\(statement(&rng, depth: d))\n}"
        case 5: return "while \(expr(&rng, depth: d)) { \(statement(&rng, depth: d))\n break }"
        case 6: return "fn \(pick(names, &rng))(a, b: \(expr(&rng, depth: d))) {\n\(statement(&rng, depth: d))\nreturn \(expr(&rng, depth: d))\n}"
        case 7: return "\(pick(names, &rng))[\(expr(&rng, depth: d))] = \(expr(&rng, depth: d))"
        default: return "\(pick(names, &rng)).a = \(expr(&rng, depth: d))"
        }
    }

    static func expr(_ rng: inout RandomGenerator, depth: Int) -> String {
        let d = depth + 1
        if depth > 4 { return pick(["1", "x", "\"s\"", "nil", "[1, 2]", "-3", "0.5"], &rng) }
        switch rng.int(below: 14) {
        case 0: return String(rng.int(below: 7) - 2)
        case 1: return pick(names, &rng)
        case 2: return "\(expr(&rng, depth: d)) \(pick(["+", "-", "*", "/", "%", "^", "@", "==", "<", "and", "or", ".."], &rng)) \(expr(&rng, depth: d))"
        case 3: return "[\(expr(&rng, depth: d)), \(expr(&rng, depth: d))]"
        case 4: return "{a: \(expr(&rng, depth: d)), b: \(expr(&rng, depth: d))}"
        case 5: return "\(pick(names, &rng))(\(expr(&rng, depth: d)))"
        case 6: return "\(pick(names, &rng))(\(expr(&rng, depth: d)), \(pick(["axis", "seed", "deep", "sep", "b"], &rng)): \(expr(&rng, depth: d)))"
        case 7: return "\(expr(&rng, depth: d))[\(expr(&rng, depth: d))]"
        case 8: return "fn(a) { return \(expr(&rng, depth: d)) }"
        case 9: return "-\(expr(&rng, depth: d))"
        case 10: return "(not \(expr(&rng, depth: d)))"
        case 11: return "tensor([[1, 2], [3, \(expr(&rng, depth: d))]])"
        case 12: return "\(expr(&rng, depth: d)).a"
        default: return pick(["\"str\"", "true", "nil", "0..3", "zeros([2, 3])", "range(4)", "1e308 * 10", "-0"], &rng)
        }
    }
}
