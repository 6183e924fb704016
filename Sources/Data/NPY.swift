import Tensor

/// NumPy `.npy` files: versions 1.0, 2.0 and 3.0 read; 1.0 written (2.0 when the header needs it).
/// Reads every numeric and boolean dtype (`<f4 <f8 <f2 |u1 <i8 <i4 |b1` and the other integer
/// sizes, big-endian too) into Float32; C order only (`fortran_order: True` is an error).
///
///     try NPY.write(t, to: "w.npy"); let back = try NPY.read("w.npy").tensor
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]   // "\x93NUMPY"

    /// Reads an `.npy` file.
    ///
    ///     let labels = try NPY.read("/data/cifar10.1_v6_labels.npy")
    public static func read(_ path: String) throws -> NumpyArray {
        try decode(try readFileBytes(path), path: path)
    }

    /// Parses `.npy` bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> NumpyArray {
        let raw = try parse(bytes, path: path)
        let t = Tensor.zeros(raw.shape)
        bytes.withUnsafeBytes { src in
            t.withUnsafeMutableBufferPointer { dst in
                guard let base = src.baseAddress, let out = dst.baseAddress, dst.count > 0 else { return }
                decodeElements(base + raw.dataOffset, dtype: raw.dtype, count: dst.count,
                               bigEndian: raw.bigEndian, into: out)
            }
        }
        return NumpyArray(tensor: t, dtype: raw.dtype)
    }

    /// Writes `tensor` as an `.npy` file of `dtype` (float32 unless told; integer dtypes need whole
    /// numbers), atomically.
    ///
    ///     try NPY.write(labels, to: "y.npy", dtype: .int64)
    public static func write(_ tensor: Tensor, to path: String, dtype: DType = .float32) throws {
        try writeFileAtomically(try encode(tensor, dtype: dtype, path: path), to: path)
    }

    /// The bytes of an `.npy` file holding `tensor` as `dtype`.
    public static func encode(_ tensor: Tensor, dtype: DType = .float32, path: String = "npy") throws -> [UInt8] {
        guard let descr = dtype.numpyDescr else {
            throw DataError(path, "NumPy has no \(dtype.safetensorsName) dtype; store it as float32")
        }
        let dims = tensor.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Pad with spaces and end in '\n' so the data starts at a multiple of 64 (NumPy's alignment).
        func padded(_ prefix: Int) -> Int { (prefix + header.count + 1 + 63) / 64 * 64 }
        let prefix = padded(10) - 10 <= 65535 ? 10 : 12   // version 1.0 holds a u16 header length
        let total = padded(prefix)
        header += Array(repeating: 0x20, count: total - prefix - header.count - 1) + [0x0a]
        var out = magic
        if prefix == 10 {
            out += [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)]
        } else {
            out += [2, 0] + (0 ..< 4).map { UInt8((header.count >> (8 * $0)) & 0xff) }
        }
        out += header
        try tensor.withUnsafeBufferPointer { try encodeElements($0, as: dtype, into: &out, path: path, what: "array") }
        return out
    }

    /// What an `.npy` header says, checked against the bytes present.
    struct Raw {
        let dtype: DType
        let bigEndian: Bool
        let shape: [Int]
        let dataOffset: Int
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Raw {
        guard Array(bytes.prefix(6)) == Array(magic.prefix(bytes.count)) else {
            throw DataError(path, "bad magic: not an .npy file (expected \\x93NUMPY)")
        }
        guard bytes.count >= 10 else { throw DataError(path, "truncated: \(bytes.count) bytes is too short for an .npy file") }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10; headerLength = bytes.u16LE(8)
        case 2, 3:
            guard bytes.count >= 12 else { throw DataError(path, "truncated: the .npy header length is cut off") }
            headerStart = 12; headerLength = bytes.u32LE(8)
        default:
            throw DataError(path, "unsupported .npy version \(major).\(bytes[7]) (1.0, 2.0 and 3.0 are read)")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw DataError(path, "truncated: the header claims \(headerLength) bytes but the file has \(bytes.count - headerStart) after the prefix")
        }
        let text = String(decoding: bytes[headerStart ..< headerStart + headerLength], as: UTF8.self)
        let dict: [String: PyValue]
        do {
            var parser = PyLiteralParser(text)
            dict = try parser.dict()
        } catch let e as PyLiteralParser.Failure {
            throw DataError(path, "bad header: \(e.message) in \(text.trimmingTrailingSpace)")
        }
        guard case .string(let descr)? = dict["descr"] else {
            throw DataError(path, "bad header: no 'descr' string (structured dtypes are not supported) in \(text.trimmingTrailingSpace)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw DataError(path, "bad header: no 'fortran_order' in \(text.trimmingTrailingSpace)")
        }
        guard !fortran else {
            throw DataError(path, "fortran_order is True; only C-order arrays are read (save np.ascontiguousarray(a))")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw DataError(path, "bad header: no 'shape' tuple in \(text.trimmingTrailingSpace)")
        }
        let chars = Array(descr)
        guard chars.count >= 3, "<>=|".contains(chars[0]), let size = Int(String(chars[2...])),
              let dtype = DType(numpyKind: chars[1] == "?" ? "b" : chars[1], size: size) else {
            throw DataError(path, "unsupported dtype '\(descr)' (numbers and booleans only: <f4 <f8 <f2 |u1 <i8 <i4 |b1 …)")
        }
        guard let count = checkedProduct(shape) else { throw DataError(path, "bad header: shape \(shapeText(shape)) is not a valid shape") }
        let dataOffset = headerStart + headerLength
        let need = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !need.overflow, need.partialValue <= bytes.count - dataOffset else {
            throw DataError(path, "truncated: shape \(shapeText(shape)) of '\(descr)' needs \(count) × \(dtype.byteSize) bytes but only \(bytes.count - dataOffset) bytes of data follow the header")
        }
        return Raw(dtype: dtype, bigEndian: chars[0] == ">", shape: shape, dataOffset: dataOffset)
    }
}

extension String {
    fileprivate var trimmingTrailingSpace: String {
        var s = self
        while let c = s.last, c == " " || c == "\n" || c == "\0" { s.removeLast() }
        return s
    }
}

// MARK: - The Python literal in an .npy header

enum PyValue {
    case string(String)
    case bool(Bool)
    case tuple([Int])
    case none
}

/// Parses the header's Python dict literal: string keys; values a string, True/False/None, or a
/// tuple of integers (old Python 2 files write `3L`).
struct PyLiteralParser {
    struct Failure: Error { let message: String }
    private let c: [Character]
    private var i = 0

    init(_ text: String) { c = Array(text) }

    private mutating func space() { while i < c.count, c[i] == " " || c[i] == "\n" || c[i] == "\t" || c[i] == "\r" { i += 1 } }

    private mutating func expect(_ ch: Character) throws {
        space()
        guard i < c.count, c[i] == ch else { throw Failure(message: "expected '\(ch)'") }
        i += 1
    }

    private mutating func peek(_ ch: Character) -> Bool {
        space()
        return i < c.count && c[i] == ch
    }

    mutating func dict() throws -> [String: PyValue] {
        try expect("{")
        var out: [String: PyValue] = [:]
        while !peek("}") {
            guard case .string(let key) = try value() else { throw Failure(message: "dict keys must be strings") }
            try expect(":")
            out[key] = try value()
            if peek(",") { i += 1 } else { break }
        }
        try expect("}")
        return out
    }

    private mutating func value() throws -> PyValue {
        space()
        guard i < c.count else { throw Failure(message: "unexpected end") }
        let ch = c[i]
        if ch == "'" || ch == "\"" {
            i += 1
            var s = ""
            while i < c.count, c[i] != ch { s.append(c[i]); i += 1 }
            guard i < c.count else { throw Failure(message: "unterminated string") }
            i += 1
            return .string(s)
        }
        if ch == "(" {
            i += 1
            var dims: [Int] = []
            while !peek(")") {
                space()
                var digits = ""
                while i < c.count, c[i].isASCII, c[i].isNumber || (digits.isEmpty && c[i] == "-") { digits.append(c[i]); i += 1 }
                if i < c.count, c[i] == "L" { i += 1 }
                guard let d = Int(digits) else { throw Failure(message: "shape entries must be integers") }
                guard d >= 0 else { throw Failure(message: "negative dimension \(d)") }
                dims.append(d)
                if peek(",") { i += 1 } else { break }
            }
            try expect(")")
            return .tuple(dims)
        }
        if ch == "[" { throw Failure(message: "structured dtypes (a list descr) are not supported") }
        for (word, v) in [("True", PyValue.bool(true)), ("False", .bool(false)), ("None", .none)] {
            let w = Array(word)
            if i + w.count <= c.count, Array(c[i ..< i + w.count]) == w { i += w.count; return v }
        }
        throw Failure(message: "unexpected '\(ch)'")
    }
}
