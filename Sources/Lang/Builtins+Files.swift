import Data
import Foundation
import Tensor

/// load/save of tensors (.npy, .npz, safetensors), write_csv / write_json, and exists / mkdir (for
/// notebooks that cache results, a pre-trained encoder, in a folder of their own).
@Sendable func registerFiles(_ r: BuiltinRegistry) {
    let topic = "files"

    r.register("load", topic: topic, params: [.required("path", .string, ".npy, .npz or .safetensors")],
               returns: "tensor or record",
               doc: "Reads tensors: a .npy file gives a tensor; .npz and .safetensors give a record of tensors by name (file order).",
               example: "save(\"w.npy\", ones([2, 2]))\nload(\"w.npy\")") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        switch fileExtension(path) {
        case "npy": return .tensor(try NPY.read(path).tensor)
        case "npz": return bundleRecord(try NPZ.read(path))
        case "safetensors": return bundleRecord(try Safetensors.read(path))
        default: throw LangError.usage("load: unknown file type '\(path)' (expected .npy, .npz or .safetensors)")
        }
    }

    r.register("save", topic: topic, params: [
        .required("path", .string, ".npy for a tensor; .npz or .safetensors for a record of tensors"),
        .required("value", .any),
    ], returns: "string", doc: "Writes tensors (Float32) that NumPy and PyTorch read; returns the path.",
       example: "save(\"weights.safetensors\", {w: randn([2, 2], seed: 0), b: zeros(2)})") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        let value = a["value"]
        switch fileExtension(path) {
        case "npy":
            try NPY.write(try a.interpreter.toTensor(value, what: "save: value"), to: path)
        case "npz", "safetensors":
            guard case .record(let rec) = value else {
                throw LangError.usage("save: a .\(fileExtension(path)) file holds a record of tensors, got \(describeType(value))")
            }
            var bundle = TensorBundle()
            for (k, v) in rec.pairs { bundle.set(k, try a.interpreter.toTensor(v, what: "save: field '\(k)'")) }
            if fileExtension(path) == "npz" { try NPZ.write(bundle, to: path) } else { try Safetensors.write(bundle, to: path) }
        default:
            throw LangError.usage("save: unknown file type '\(path)' (expected .npy, .npz or .safetensors)")
        }
        return .string(path)
    }

    r.register("write_csv", topic: topic, params: [
        .required("path", .string), .required("rows", .rows),
    ], returns: "string", doc: "Writes rows as CSV with a header line (a training history record works as is); returns the path.",
       example: "write_csv(\"runs.csv\", [{lr: 0.1, acc: 0.9}, {lr: 0.01, acc: 0.85}])") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        try writeText(try Rows(a["rows"], what: "write_csv").csv(), to: path)
        return .string(path)
    }

    r.register("write_json", topic: topic, params: [.required("path", .string), .required("value", .any)],
               returns: "string", doc: "Writes a value as JSON (records → objects, lists and tensors → arrays, nil and non-finite numbers → null); returns the path.",
               example: "write_json(\"result.json\", {acc: 0.9, curve: [1, 0.5]})") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        var out = ""
        try writeJSON(a["value"], into: &out, depth: 0)
        try writeText(out + "\n", to: path)
        return .string(path)
    }

    r.register("exists", topic: topic, params: [.required("path", .string, "a file or directory")],
               returns: "bool",
               doc: "Whether a file or directory exists at path (relative paths: from the current directory): a notebook reuses a cached result when it does.",
               example: "if not exists(\"encoder.safetensors\") { print(\"pre-training\") }") { a in
        try requireFileAccess(a)
        return .bool(FileManager.default.fileExists(atPath: try a.string("path")))
    }

    r.register("mkdir", topic: topic, params: [.required("path", .string, "a directory")],
               returns: "string",
               doc: "Creates the directory and any missing parents (nothing happens when it exists); returns the path.",
               example: "mkdir(\"/tmp/losscape-cache/encoders\")") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LangError.runtime("mkdir: cannot create '\(path)': \(error.localizedDescription)")
        }
        return .string(path)
    }
}

/// Refuses when the interpreter runs without file access.
func requireFileAccess(_ a: BuiltinArgs) throws {
    guard a.interpreter.limits.allowFiles else { throw LangError.runtime("\(a.builtin.name) is disabled here (no file access)") }
}

private func fileExtension(_ path: String) -> String {
    guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "" }
    return path[path.index(after: dot)...].lowercased()
}

private func bundleRecord(_ b: TensorBundle) -> Value {
    let rec = RecordValue()
    for n in b.names { if let t = b[n] { rec[n] = .tensor(t) } }
    return .record(rec)
}

private func writeText(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw LangError.runtime("cannot write '\(path)': \(error.localizedDescription)")
    }
}

private func writeJSON(_ v: Value, into out: inout String, depth: Int) throws {
    guard depth < 100 else { throw LangError.runtime("write_json: value nested too deeply (or it contains itself)") }
    switch v {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let d): out += d.isFinite ? formatNumber(d) : "null"
    case .string(let s): out += jsonQuoted(s)
    case .range(let r): out += "[" + (0..<r.count).map { String(r.lo + $0) }.joined(separator: ", ") + "]"
    case .list(let l):
        out += "["
        for (i, x) in l.items.enumerated() {
            if i > 0 { out += ", " }
            try writeJSON(x, into: &out, depth: depth + 1)
        }
        out += "]"
    case .record(let r):
        out += "{"
        for (i, (k, x)) in r.pairs.enumerated() {
            if i > 0 { out += ", " }
            out += jsonQuoted(k) + ": "
            try writeJSON(x, into: &out, depth: depth + 1)
        }
        out += "}"
    case .tensor(let t):
        let vals = t.scalars
        func write(_ axis: Int, _ offset: Int, _ stride: Int, _ out: inout String) {
            if t.rank == 0 { out += vals[0].isFinite ? formatFloat(vals[0]) : "null"; return }
            let n = t.shape[axis], inner = stride / max(n, 1)
            out += "["
            for i in 0..<n {
                if i > 0 { out += ", " }
                if axis == t.rank - 1 {
                    let x = vals[offset + i]
                    out += x.isFinite ? formatFloat(x) : "null"
                } else {
                    write(axis + 1, offset + i * inner, inner, &out)
                }
            }
            out += "]"
        }
        write(0, 0, t.count, &out)
    case .function, .builtin, .object:
        throw LangError.runtime("write_json: cannot write \(describeType(v)) as JSON")
    }
}
