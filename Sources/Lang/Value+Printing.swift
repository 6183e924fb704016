import Tensor

/// Shortest text that reads back to the same Double; whole numbers without `.0`.
///
///     formatNumber(3) == "3"; formatNumber(0.1) == "0.1"; formatNumber(1e-5) == "1e-05"
public func formatNumber(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    var s = d.description
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// The Float32 counterpart, for tensor elements.
func formatFloat(_ f: Float) -> String {
    if f.isNaN { return "nan" }
    if f.isInfinite { return f < 0 ? "-inf" : "inf" }
    var s = f.description
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// A string as a literal that reads back: quotes and escapes.
public func quoteString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\0": out += "\\0"
        default:
            if u.value < 0x20 || u.value == 0x7F {
                out += "\\u{\(String(u.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

func isIdentifier(_ s: String) -> Bool {
    guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
}

extension Value: CustomStringConvertible {
    /// How `print` shows the value: strings bare, everything else as `repr`.
    public var description: String {
        if case .string(let s) = self { return s }
        return repr
    }

    /// How the REPL echoes the value: strings quoted, lists and records with their contents.
    public var repr: String {
        var out = ""
        var path: [ObjectIdentifier] = []
        write(to: &out, path: &path)
        return out
    }

    /// Containers already being printed (a list holding itself) print as `[…]` / `{…}`.
    private func write(to out: inout String, path: inout [ObjectIdentifier]) {
        switch self {
        case .null: out += "nil"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += formatNumber(d)
        case .string(let s): out += quoteString(s)
        case .range(let r): out += "\(r.lo)..\(r.hi)"
        case .tensor(let t): out += formatTensor(t)
        case .function(let c): out += "<fn \(c.name)>"
        case .builtin(let b): out += "<builtin \(b.name)>"
        case .object(let o): out += o.description
        case .list(let l):
            let id = ObjectIdentifier(l)
            if path.contains(id) || path.count > 32 { out += "[…]"; return }
            path.append(id)
            out += "["
            for (i, v) in l.items.enumerated() {
                if i > 0 { out += ", " }
                v.write(to: &out, path: &path)
            }
            out += "]"
            path.removeLast()
        case .record(let r):
            let id = ObjectIdentifier(r)
            if path.contains(id) || path.count > 32 { out += "{…}"; return }
            path.append(id)
            out += "{"
            for (i, (k, v)) in zip(r.keys, r.values).enumerated() {
                if i > 0 { out += ", " }
                out += isIdentifier(k) ? k : quoteString(k)
                out += ": "
                v.write(to: &out, path: &path)
            }
            out += "}"
            path.removeLast()
        }
    }
}

/// `tensor([2, 3]) [[1, 2, 3], [4, 5, 6]]`. Beyond 100 elements, axes longer than 6 show their
/// first and last 3 entries around `…`; a huge tensor of rank ≥ 3 shows a summary instead.
public func formatTensor(_ t: Tensor) -> String {
    let head = "tensor([" + t.shape.map(String.init).joined(separator: ", ") + "])"
    let vals = t.scalars
    if t.rank == 0 { return head + " " + formatFloat(vals.first ?? 0) }
    if t.count == 0 { return head + " []" }
    if t.rank >= 3 && t.count > 1000 {
        var lo = Float.infinity, hi = -Float.infinity, sum = 0.0
        for v in vals {
            lo = min(lo, v)
            hi = max(hi, v)
            sum += Double(v)
        }
        return head + " min \(formatFloat(lo)), max \(formatFloat(hi)), mean \(formatNumber(Double(Float(sum / Double(vals.count)))))"
    }
    let elide = t.count > 100
    var strides = [Int](repeating: 1, count: t.rank)
    for i in stride(from: t.rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * t.shape[i + 1] }
    func render(_ axis: Int, _ offset: Int) -> String {
        let n = t.shape[axis]
        var picks: [Int?] = Array(0..<n)
        if elide && n > 6 { picks = [0, 1, 2, nil, n - 3, n - 2, n - 1] }
        let parts = picks.map { i -> String in
            guard let i else { return "…" }
            let o = offset + i * strides[axis]
            return axis == t.rank - 1 ? formatFloat(vals[o]) : render(axis + 1, o)
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
    return head + " " + render(0, 0)
}
