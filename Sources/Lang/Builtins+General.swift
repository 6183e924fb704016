import Foundation
import NN
import Tensor

/// print, format, table, len, range, map, keys, copy, type, str, num, append/push, seed, time, help…
@Sendable func registerGeneral(_ r: BuiltinRegistry) {
    let topic = "general"

    r.register("print", topic: topic, params: [
        .variadic("values", .any), .optional("sep", .string, default: " ", "between values"),
        .optional("end", .string, default: "\n", "after the last value"),
    ], doc: "Prints the values separated by spaces: strings as they are, numbers in their shortest form, lists, records and tensors readably.",
       example: "print(\"loss\", 0.25, [1, 2], {a: 1})") { a in
        let text = a.rest("values").map(\.description).joined(separator: try a.string("sep")) + (try a.string("end"))
        a.interpreter.output(text)
        return .null
    }

    r.register("format", topic: topic, params: [.required("template", .string), .variadic("values", .any)],
               returns: "string",
               doc: "Fills {} placeholders with the values. {:spec} formats one as Python does: {:.3f} fixed, {:.2e} exponent, {:.4g} significant digits, {:.1%} percent, {:d} whole, {:>8} / {:<8} / {:^8} aligned in a width, {:,d} thousands; {1} picks an argument; {{ and }} are braces.",
               example: "format(\"{} ± {:.3f}\", 0.91, 0.01234)") { a in
        .string(try TextFormat.format(try a.string("template"), a.rest("values")))
    }

    r.register("table", topic: topic, params: [
        .required("rows", .rows),
        .optional("digits", .int, "significant digits for numbers (default: shortest form)"),
    ], doc: "Prints rows as an aligned text table with a header: numbers right-aligned, text left-aligned.",
       example: "table([{name: \"sgd\", acc: 0.91}, {name: \"adam\", acc: 0.895}])") { a in
        let rows = try Rows(a["rows"], what: "table")
        a.interpreter.output(rows.table(digits: try a.optionalInt("digits")) + "\n")
        return .null
    }

    r.register("len", topic: topic, params: [.required("x", .any)], returns: "number",
               doc: "The number of elements: of a list, string (characters), record (fields), range, tensor (its first axis) or data set.",
               example: "len([1, 2, 3]) + len(\"ab\") + len(0..9)") { a in
        let v = a["x"]
        switch v {
        case .list(let l): return .number(Double(l.items.count))
        case .string(let s): return .number(Double(s.count))
        case .record(let rec): return .number(Double(rec.count))
        case .range(let rg): return .number(Double(rg.count))
        case .tensor(let t):
            guard t.rank > 0 else { throw LangError.runtime("len: a scalar tensor has no length") }
            return .number(Double(t.shape[0]))
        case .object(let o):
            guard let n = o.length else { throw LangError.runtime("len: a \(o.typeName) has no length") }
            return .number(Double(n))
        default:
            throw LangError.usage("len: expected a list, string, record, range or tensor, got \(describeType(v))")
        }
    }

    r.register("range", topic: topic, params: [
        .required("start", .int, "the end when given alone"), .optional("stop", .int, "excluded"),
        .optional("step", .int, default: 1),
    ], returns: "list",
       doc: "Whole numbers from start up to stop (excluded) by step, as a list: range(n) is [0, …, n−1], range(2, 5) is [2, 3, 4]. (a..b is the inclusive range.)",
       example: "range(5)") { a in
        var start = try a.int("start")
        let stop: Int
        if let s = try a.optionalInt("stop") { stop = s } else { stop = start; start = 0 }
        let step = try a.int("step")
        guard step != 0 else { throw LangError.usage("range: step must not be 0") }
        let n = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
        try a.interpreter.checkSize(n, what: "range")
        return .list(ListValue((0..<n).map { .number(Double(start + $0 * step)) }))
    }

    r.register("map", topic: topic, params: [.required("xs", .sequence), .required("f", .function)], returns: "list",
               doc: "A new list of f(x) for each element x.",
               example: "map([1, 2, 3], fn(x) { return x * x })") { a in
        let f = a["f"]
        return .list(ListValue(try elements(of: a["xs"], a.interpreter).map { try a.interpreter.call(f, [$0]) }))
    }

    r.register("filter", topic: topic, params: [.required("xs", .sequence), .required("f", .function)], returns: "list",
               doc: "A new list of the elements x for which f(x) is truthy.",
               example: "filter(0..9, fn(x) { return x % 3 == 0 })") { a in
        let f = a["f"]
        return .list(ListValue(try elements(of: a["xs"], a.interpreter).filter { try a.interpreter.call(f, [$0]).isTruthy }))
    }

    r.register("keys", topic: topic, params: [.required("r", .any)], returns: "list",
               doc: "The field names of a record (or object), in order.",
               example: "keys({loss: 0.3, acc: 0.9})") { a in
        switch a["r"] {
        case .record(let rec): return .strings(rec.keys)
        case .object(let o): return .strings(o.fieldNames)
        case let v: throw LangError.usage("keys: expected a record, got \(describeType(v))")
        }
    }

    r.register("values", topic: topic, params: [.required("r", .record)], returns: "list",
               doc: "The field values of a record, in order.",
               example: "values({loss: 0.3, acc: 0.9})") { a in
        .list(ListValue(try a.record("r").values))
    }

    r.register("copy", topic: topic, params: [
        .required("x", .any), .optional("deep", .bool, default: true, "also copy the lists, records and models inside"),
    ], doc: "A copy of a list, record or model, so that changing one leaves the other alone (assignment shares). Deep by default; tensors are immutable and shared. A model's copy has its own parameters and buffers with the same values, frozen flags and mode.",
       example: "a = [1, [2]]\nb = copy(a)\nb[1][0] = 5\nprint(a, b)\nnet = mlp([2, 3, 1], seed: 0)\nsnap = copy(net)   # train net; snap keeps the start") { a in
        var memo: [ObjectIdentifier: Value] = [:]
        return try copyValue(a["x"], deep: try a.bool("deep"), memo: &memo, depth: 0)
    }

    r.register("type", topic: topic, params: [.required("x", .any)], returns: "string",
               doc: "The type name: nil, bool, number, string, list, record, range, tensor, function (or model, dataset… for objects).",
               example: "type(1) + \" \" + type([1]) + \" \" + type(nil)") { a in .string(a["x"].typeName) }

    r.register("str", topic: topic, params: [.required("x", .any)], returns: "string",
               doc: "The text print shows for x.",
               example: "str(0.1 + 0.2) + \" \" + str([1, \"a\"])") { a in .string(a["x"].description) }

    r.register("num", topic: topic, params: [.required("x", .any)], returns: "number",
               doc: "A number from a numeric string, a one-element tensor, a bool (1/0) or a number.",
               example: "num(\"2.5e-3\") + num(true)") { a in
        switch a["x"] {
        case .number(let d): return .number(d)
        case .bool(let b): return .number(b ? 1 : 0)
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces)
            if let d = Double(t) { return .number(d) }
            switch t {
            case "inf", "+inf": return .number(.infinity)
            case "-inf": return .number(-.infinity)
            case "nan": return .number(.nan)
            default: throw LangError.runtime("num: \(quoteString(s)) is not a number")
            }
        case .tensor(let t):
            guard t.count == 1 else { throw LangError.runtime("num: a tensor of shape \(t.shape) has \(t.count) elements, not 1") }
            return .number(Double(try t.item()))
        case let v: throw LangError.usage("num: cannot make a number from \(describeType(v))")
        }
    }

    for name in ["append", "push"] {
        r.register(name, topic: topic, params: [.required("list", .list), .variadic("values", .any)],
                   doc: "Adds the values to the end of the list, in place (every name for the list sees them).",
                   example: "xs = [1]\n\(name)(xs, 2, 3)\nprint(xs)") { a in
            let l = try a.list("list")
            let more = a.rest("values")
            try a.interpreter.checkSize(l.items.count + more.count, what: "list")
            l.items.append(contentsOf: more)
            return .null
        }
    }

    r.register("pop", topic: topic, params: [.required("list", .list)],
               doc: "Removes the last element of the list and returns it.",
               example: "xs = [1, 2]\nprint(pop(xs), xs)") { a in
        let l = try a.list("list")
        guard let v = l.items.popLast() else { throw LangError.runtime("pop: the list is empty") }
        return v
    }

    r.register("join", topic: topic, params: [.required("xs", .sequence), .optional("sep", .string, default: "")],
               returns: "string", doc: "The elements as text, joined by sep.",
               example: "join([\"a\", 1, \"b\"], \", \")") { a in
        .string(try elements(of: a["xs"], a.interpreter).map(\.description).joined(separator: try a.string("sep")))
    }

    r.register("split", topic: topic, params: [.required("s", .string), .optional("sep", .string, "default: runs of whitespace")],
               returns: "list", doc: "The parts of s between separators.",
               example: "split(\"a,b,,c\", \",\")") { a in
        let s = try a.string("s")
        if let sep = try a.optionalString("sep") {
            guard !sep.isEmpty else { throw LangError.usage("split: the separator is empty") }
            return .strings(s.components(separatedBy: sep))
        }
        return .strings(s.split(whereSeparator: { $0.isWhitespace }).map(String.init))
    }

    r.register("contains", topic: topic, params: [.required("xs", .any), .required("x", .any)], returns: "bool",
               doc: "Whether a list or range holds x, a string holds the substring x, or a record has the field x.",
               example: "contains([1, 2], 2) and contains(\"loss\", \"os\") and contains({a: 1}, \"a\")") { a in
        switch (a["xs"], a["x"]) {
        case (.string(let s), .string(let sub)): return .bool(s.contains(sub))
        case (.record(let rec), .string(let k)): return .bool(rec[k] != nil)
        case (.range(let rg), .number(let d)): return .bool(wholeNumber(d).map { $0 >= rg.lo && $0 <= rg.hi } ?? false)
        case (.list(let l), let x):
            let loc = a.interpreter.currentCallSite ?? SourceLocation(fileID: -1, line: 0, column: 0)
            return .bool(try l.items.contains { try a.interpreter.valuesEqual($0, x, depth: 0, loc) })
        case (let v, _): throw LangError.usage("contains: expected a list, range, string or record, got \(describeType(v))")
        }
    }

    r.register("sort", topic: topic, params: [
        .required("xs", .sequence), .optional("key", .function, "sort by key(x)"),
        .optional("reverse", .bool, default: false),
    ], returns: "list", doc: "A sorted copy of the numbers or strings (or of any elements, by a key function).",
       example: "sort([3, 1, 2], reverse: true)") { a in
        let items = try elements(of: a["xs"], a.interpreter)
        let key = a["key"]
        let keys = try key.isNil ? items : items.map { try a.interpreter.call(key, [$0]) }
        func less(_ x: Value, _ y: Value) throws -> Bool {
            switch (x, y) {
            case (.number(let p), .number(let q)): return p < q
            case (.string(let p), .string(let q)): return p < q
            default: throw LangError.runtime("sort: can only order numbers or strings, got \(x.typeName) and \(y.typeName)")
            }
        }
        var order = Array(items.indices)
        var failure: Error?
        order.sort { i, j in
            do { return try less(keys[i], keys[j]) } catch { failure = error; return false }
        }
        if let failure { throw failure }
        if try a.bool("reverse") { order.reverse() }
        return .list(ListValue(order.map { items[$0] }))
    }

    r.register("seed", topic: topic, params: [.required("n", .int, "a whole number ≥ 0")],
               doc: "Resets the global random stream (randn, rand and everything drawing without its own seed) so runs repeat exactly.",
               example: "seed(42)\nprint(rand([2]))") { a in
        let n = try a.int("n")
        guard n >= 0 else { throw LangError.usage("seed: n must be ≥ 0, got \(n)") }
        GlobalRandom.seed(UInt64(n))
        return .null
    }

    r.register("time", topic: topic, params: [], returns: "number",
               doc: "Seconds on a monotonic clock: subtract two readings to time something.",
               example: "t0 = time()\nprint(format(\"{:.3f} s\", time() - t0))") { _ in
        .number(Double(DispatchTime.now().uptimeNanoseconds) / 1e9)
    }

    r.register("error", topic: topic, params: [.required("message", .any)],
               doc: "Stops the program with a runtime error carrying the message (located at this call).",
               example: "x = 1\nif x < 0 { error(\"x must be ≥ 0\") }") { a in
        throw LangError.runtime(a["message"].description)
    }

    r.register("assert", topic: topic, params: [.required("condition", .any), .optional("message", .string, default: "assertion failed")],
               doc: "Stops with a runtime error when the condition is false or nil.",
               example: "assert(1 + 1 == 2, \"arithmetic\")") { a in
        if !a["condition"].isTruthy { throw LangError.runtime(try a.string("message")) }
        return .null
    }

    r.register("help", topic: topic, params: [.optional("name", .any, "a builtin, a function or a name in quotes")],
               doc: "help() lists the builtins by topic; help(name) shows one: its signature, what it does, its parameters and an example.",
               example: "help(\"len\")") { a in
        let reg = a.interpreter.builtins
        let text: String
        switch a["name"] {
        case .null: text = reg.index()
        case .builtin(let b): text = b.helpText
        case .function(let c): text = c.decl.signature + "\n  (a function defined at \(c.decl.location))"
        case .string(let s):
            if let b = reg[s] {
                text = b.helpText
            } else if case .function(let c)? = a.interpreter.global(s) {
                text = c.decl.signature + "\n  (a function defined at \(c.decl.location))"
            } else {
                let hint = closestName(to: s, in: reg.all.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw LangError.runtime("help: no builtin named '\(s)'\(hint)")
            }
        case let v: text = "\(v.typeName): \(v.repr)"
        }
        a.interpreter.output(text + "\n")
        return .null
    }
}

/// The elements `for` would walk, as an array (tensor rows become numbers or tensors).
func elements(of v: Value, _ interp: Interpreter) throws -> [Value] {
    switch v {
    case .list(let l): return l.items
    case .range(let r):
        try interp.checkSize(r.count, what: "list")
        return (0..<r.count).map { .number(Double(r.lo + $0)) }
    case .string(let s): return s.map { .string(String($0)) }
    case .record(let r): return r.keys.map { .string($0) }
    case .tensor(let t):
        guard t.rank > 0 else { throw LangError.runtime("cannot walk a scalar tensor") }
        return try (0..<t.shape[0]).map { try interp.tensorRow(t, $0) }
    default: throw LangError.usage("expected a list, range, string, record or tensor, got \(describeType(v))")
    }
}

/// Copies lists, records and models (deep: the contents of lists and records too, keeping shared
/// and cyclic structure; a model is always copied whole).
private func copyValue(_ v: Value, deep: Bool, memo: inout [ObjectIdentifier: Value], depth: Int) throws -> Value {
    guard depth < 1000 else { throw LangError.runtime("copy: values nested too deeply") }
    switch v {
    case .list(let l):
        if let done = memo[ObjectIdentifier(l)] { return done }
        let out = ListValue()
        memo[ObjectIdentifier(l)] = .list(out)
        out.items = deep ? try l.items.map { try copyValue($0, deep: true, memo: &memo, depth: depth + 1) } : l.items
        return .list(out)
    case .record(let r):
        if let done = memo[ObjectIdentifier(r)] { return done }
        let out = RecordValue()
        memo[ObjectIdentifier(r)] = .record(out)
        for (k, x) in r.pairs { out[k] = deep ? try copyValue(x, deep: true, memo: &memo, depth: depth + 1) : x }
        return .record(out)
    case .object(let m as ModelValue):
        if let done = memo[ObjectIdentifier(m)] { return done }
        let out = Value.object(ModelValue(try m.module.copy(), name: m.name))
        memo[ObjectIdentifier(m)] = out
        return out
    default:
        return v
    }
}
