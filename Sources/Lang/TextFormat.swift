import Foundation

/// `format`'s template language, a subset of Python's `str.format`:
///
/// - `{}` takes the next argument, `{1}` argument 1 (0-based); `{{` and `}}` are literal braces.
/// - `{:spec}` formats it: `[[fill]align][sign][0][width][,][.precision][type]` with align
///   `<` `>` `^`, sign `+` or space, type `f` (fixed), `e` (exponent), `g` (significant digits),
///   `%` (percent), `d` (whole number), `s` (text). `{:.3f}` → `3.142`, `{:>8}`, `{:,d}`, `{:.1%}`.
/// - Without a spec a value prints as `print` shows it (numbers in their shortest form).
enum TextFormat {
    static func format(_ template: String, _ args: [Value]) throws -> String {
        var out = ""
        var next = 0
        var chars = Array(template)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "}" {
                guard chars.first == "}" else { throw LangError.runtime("format: single '}' in the template (write '}}' for a brace)") }
                chars = chars.dropFirst()
                out.append("}")
                continue
            }
            guard c == "{" else { out.append(c); continue }
            if chars.first == "{" {
                chars = chars.dropFirst()
                out.append("{")
                continue
            }
            guard let close = chars.firstIndex(of: "}") else {
                throw LangError.runtime("format: '{' without a closing '}' (write '{{' for a brace)")
            }
            let field = String(chars[chars.startIndex..<close])
            chars = chars[(close + 1)...]
            let (indexText, spec) = field.firstIndex(of: ":").map {
                (String(field[..<$0]), String(field[field.index(after: $0)...]))
            } ?? (field, "")
            let i: Int
            if indexText.isEmpty {
                i = next
                next += 1
            } else {
                guard let n = Int(indexText) else { throw LangError.runtime("format: '{\(field)}' is not '{}', '{N}' or '{:spec}'") }
                i = n
            }
            guard i >= 0 && i < args.count else {
                throw LangError.runtime("format: the template wants argument \(i + 1) but \(args.count) \(args.count == 1 ? "was" : "were") given")
            }
            out += try apply(spec, to: args[i])
        }
        return out
    }

    /// One value under one spec.
    static func apply(_ spec: String, to value: Value) throws -> String {
        if spec.isEmpty { return value.description }
        var s = Array(spec)[...]
        var fill: Character = " ", align: Character?
        if s.count >= 2, "<>^".contains(s[s.startIndex + 1]) {
            fill = s[s.startIndex]
            align = s[s.startIndex + 1]
            s = s.dropFirst(2)
        } else if let f = s.first, "<>^".contains(f) {
            align = f
            s = s.dropFirst()
        }
        var sign = ""
        if let f = s.first, f == "+" || f == " " || f == "-" {
            sign = f == "-" ? "" : String(f)
            s = s.dropFirst()
        }
        var zeroPad = false
        if s.first == "0" {
            zeroPad = true
            s = s.dropFirst()
        }
        var widthText = ""
        while let f = s.first, f.isASCII, f.isNumber { widthText.append(f); s = s.dropFirst() }
        var grouping = false
        if s.first == "," { grouping = true; s = s.dropFirst() }
        var precision: Int?
        if s.first == "." {
            s = s.dropFirst()
            var p = ""
            while let f = s.first, f.isASCII, f.isNumber { p.append(f); s = s.dropFirst() }
            guard let n = Int(p), n <= 100 else { throw LangError.runtime("format: bad precision in '{:\(spec)}' (0 to 100)") }
            precision = n
        }
        let type = s.first
        if type != nil { s = s.dropFirst() }
        guard s.isEmpty, type.map({ "fegd%s".contains($0) }) ?? true else {
            throw LangError.runtime("format: bad spec '{:\(spec)}' (expected [[fill]align][sign][0][width][,][.precision][f|e|g|d|%|s])")
        }
        let width = widthText.isEmpty ? 0 : Int(widthText) ?? Int.max
        guard width <= 1000 else { throw LangError.runtime("format: width \(widthText) is too large (at most 1000)") }

        var text: String
        var numeric = false
        let number: Double?
        switch value {
        case .number(let d): number = d
        case .bool(let b) where type != nil && type != "s": number = b ? 1 : 0
        case .tensor(let t) where t.count == 1 && type != "s": number = Double(t.scalars[0])
        default: number = nil
        }
        if let x = number, type != "s" {
            numeric = true
            switch type {
            case "f": text = String(format: "%.*f", precision ?? 6, x)
            case "e": text = String(format: "%.*e", precision ?? 6, x)
            case "g": text = String(format: "%.*g", precision ?? 6, x)
            case "%": text = String(format: "%.*f", precision ?? 6, x * 100) + "%"
            case "d":
                guard let i = wholeNumber(x) else { throw LangError.runtime("format: {:d} needs a whole number, got \(formatNumber(x))") }
                text = String(i)
            default: text = precision.map { String(format: "%.*g", $0, x) } ?? formatNumber(x)
            }
            if !x.isFinite { text = formatNumber(x) }
            if grouping { text = groupThousands(text) }
            if !sign.isEmpty && !text.hasPrefix("-") { text = sign + text }
        } else {
            guard type == nil || type == "s" else {
                throw LangError.runtime("format: {:\(spec)} needs a number, got \(describeType(value))")
            }
            text = value.description
            if let p = precision { text = String(text.prefix(p)) }
        }
        let pad = width - text.count
        guard pad > 0 else { return text }
        if zeroPad && numeric && align == nil {
            let negative = text.hasPrefix("-") || text.hasPrefix("+") || text.hasPrefix(" ")
            let head = negative ? String(text.prefix(1)) : ""
            return head + String(repeating: "0", count: pad) + text.dropFirst(head.count)
        }
        let fillText = String(repeating: String(fill), count: pad)
        switch align ?? (numeric ? ">" : "<") {
        case ">": return fillText + text
        case "^":
            let left = pad / 2
            return String(repeating: String(fill), count: left) + text + String(repeating: String(fill), count: pad - left)
        default: return text + fillText
        }
    }

    /// 1234567.5 → 1,234,567.5 (the digits before the point).
    static func groupThousands(_ text: String) -> String {
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let intEnd = body.firstIndex { !$0.isNumber } ?? body.endIndex
        let digits = Array(body[..<intEnd])
        var grouped = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(d)
        }
        return (negative ? "-" : "") + grouped + body[intEnd...]
    }
}

/// Rows for `table` and `write_csv`: a list of records (columns in order of first appearance), or
/// a record of lists (a column per list, shorter columns padded with empty cells).
struct Rows {
    var columns: [String] = []
    var cells: [[Value?]] = []

    init(_ v: Value, what: String) throws {
        switch v {
        case .list(let l):
            for item in l.items {
                guard case .record(let r) = item else {
                    throw LangError.usage("\(what): expected a list of records, found \(describeType(item)) in it")
                }
                for k in r.keys where !columns.contains(k) { columns.append(k) }
            }
            for item in l.items {
                guard case .record(let r) = item else { continue }
                cells.append(columns.map { r[$0] })
            }
        case .record(let r):
            var lists: [(String, [Value])] = []
            for (k, value) in r.pairs {
                switch value {
                case .list(let l): lists.append((k, l.items))
                case .range(let rg): lists.append((k, (0..<rg.count).map { .number(Double(rg.lo + $0)) }))
                default: continue
                }
            }
            guard !lists.isEmpty else { throw LangError.usage("\(what): the record has no list fields to use as columns") }
            columns = lists.map(\.0)
            let n = lists.map(\.1.count).max() ?? 0
            cells = (0..<n).map { i in lists.map { i < $0.1.count ? $0.1[i] : nil } }
        default:
            throw LangError.usage("\(what): expected \(ArgType.rows.name), got \(describeType(v))")
        }
    }

    /// Aligned text: numbers right-aligned, the rest left-aligned; two spaces between columns.
    func table(digits: Int?) -> String {
        func text(_ v: Value?) -> String {
            guard let v else { return "" }
            if case .number(let d) = v, let digits { return String(format: "%.*g", digits, d) }
            return v.description
        }
        let body = cells.map { $0.map(text) }
        let numericColumn = columns.indices.map { c in
            cells.allSatisfy { row in
                switch row[c] {
                case .number?, nil: true
                default: false
                }
            }
        }
        let widths = columns.indices.map { c in max(columns[c].count, body.map { $0[c].count }.max() ?? 0) }
        func line(_ parts: [String]) -> String {
            var s = ""
            for (c, p) in parts.enumerated() {
                let pad = String(repeating: " ", count: widths[c] - p.count)
                s += (c > 0 ? "  " : "") + (numericColumn[c] ? pad + p : p + pad)
            }
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        var out = [line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        out += body.map(line)
        return out.joined(separator: "\n")
    }

    /// RFC 4180 CSV with a header line.
    func csv() -> String {
        func cell(_ v: Value?) -> String {
            guard let v else { return "" }
            let s: String
            switch v {
            case .null: return ""
            case .number(let d): return formatNumber(d)
            default: s = v.description
            }
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return s
        }
        var lines = [columns.map { cell(.string($0)) }.joined(separator: ",")]
        lines += cells.map { $0.map(cell).joined(separator: ",") }
        return lines.joined(separator: "\n") + "\n"
    }
}
