import Tensor

/// safetensors files (Hugging Face; what `safetensors.torch.save_file` writes): a u64 LE header
/// length N, N bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, …,
/// "__metadata__": {…}}`, offsets relative to the data section), then the raw little-endian data.
///
/// Reading accepts F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL, converts to
/// Float32 and records each tensor's dtype in the bundle. It checks every header claim against the
/// file: header length within the file, offsets in range and not overlapping, and each byte range
/// exactly shape × dtype size. Writing takes any of those dtypes per tensor (F32 by default).
///
///     try Safetensors.write(["linear.weight": w], to: "m.safetensors")
public enum Safetensors {
    /// Reads every tensor and the `__metadata__` of a safetensors file.
    ///
    ///     let b = try Safetensors.read("resnet18.safetensors"); b.dtypes["bn1.num_batches_tracked"]   // .int64
    public static func read(_ path: String) throws -> TensorBundle {
        try decode(try readFileBytes(path), path: path)
    }

    /// Parses safetensors bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> TensorBundle {
        guard bytes.count >= 8 else {
            throw DataError(path, "truncated: \(bytes.count) bytes is too short for a safetensors file (8-byte header length)")
        }
        let declared = bytes.u64LE(0)
        guard declared <= UInt64(bytes.count - 8) else {
            throw DataError(path, "header length \(declared) runs past the end of the file (\(bytes.count) bytes): truncated or not a safetensors file")
        }
        let headerLength = Int(declared)
        let dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart
        let root: JSONValue
        switch JSONParser.parse(Array(bytes[8 ..< dataStart])) {
        case .success(let v): root = v
        case .failure(let e): throw DataError(path, "bad header: not valid JSON (\(e.message))")
        }
        guard case .object(let members) = root else {
            throw DataError(path, "bad header: expected a JSON object, found \(root.typeName)")
        }

        struct Entry { let name: String; let dtype: DType; let shape: [Int]; let begin: Int; let end: Int }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw DataError(path, "bad header: '\(name)' appears twice") }
            if name == "__metadata__" {
                switch value {
                case .null: continue
                case .object(let kv):
                    for (k, v) in kv {
                        guard let s = v.string else {
                            throw DataError(path, "bad header: __metadata__ value for '\(k)' is \(v.typeName), not a string")
                        }
                        metadata[k] = s
                    }
                    continue
                default:
                    throw DataError(path, "bad header: __metadata__ is \(value.typeName), not an object")
                }
            }
            func bad(_ what: String) -> DataError { DataError(path, "tensor '\(name)': \(what)") }
            guard case .object(let fields) = value else { throw bad("header entry is \(value.typeName), not an object") }
            let f = Dictionary(fields, uniquingKeysWith: { a, _ in a })
            guard let dtypeName = f["dtype"]?.string else { throw bad("no dtype") }
            guard let dtype = DType(safetensors: dtypeName) else {
                throw bad("unsupported dtype '\(dtypeName)' (F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL are read)")
            }
            guard case .array(let dimValues)? = f["shape"] else { throw bad("no shape list") }
            let dims = dimValues.compactMap(\.int)
            guard dims.count == dimValues.count, dims.allSatisfy({ $0 >= 0 }) else {
                throw bad("shape must be a list of non-negative integers")
            }
            guard case .array(let offsetValues)? = f["data_offsets"], offsetValues.count == 2,
                  let begin = offsetValues[0].int, let end = offsetValues[1].int else {
                throw bad("data_offsets must be a list of two integers")
            }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw bad("data_offsets [\(begin), \(end)] out of range (the data section has \(dataSize) bytes)")
            }
            guard let count = checkedProduct(dims), case let (n, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize),
                  !overflow, n == end - begin else {
                let needs = checkedProduct(dims + [dtype.byteSize]).map(String.init) ?? "too many"
                throw bad("shape \(shapeText(dims)) of \(dtypeName) needs \(needs) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: dims, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previous: Entry?
        for e in entries where e.end > e.begin {
            if let p = previous, e.begin < p.end {
                throw DataError(path, "tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] overlap tensor '\(p.name)' [\(p.begin), \(p.end)]")
            }
            previous = e
        }

        var bundle = TensorBundle(metadata: metadata)
        bytes.withUnsafeBytes { raw in
            for e in entries {
                let t = Tensor.zeros(e.shape)
                t.withUnsafeMutableBufferPointer { dst in
                    guard let out = dst.baseAddress, dst.count > 0, let base = raw.baseAddress else { return }
                    decodeElements(base + dataStart + e.begin, dtype: e.dtype, count: dst.count, into: out)
                }
                bundle.set(e.name, t, dtype: e.dtype)
            }
        }
        return bundle
    }

    /// Writes the bundle: each tensor in its recorded dtype (F32 unless recorded), `metadata` as
    /// `__metadata__`; header keys sorted, JSON padded with spaces to a multiple of 8, data ordered
    /// by element size then name (so every tensor starts aligned); atomically (temporary file in
    /// the same directory, then rename).
    ///
    ///     var b = try Safetensors.read("a.safetensors"); b.set("w", w2); try Safetensors.write(b, to: "a.safetensors")
    public static func write(_ bundle: TensorBundle, to path: String) throws {
        try writeFileAtomically(try encode(bundle, path: path), to: path)
    }

    /// Writes named tensors, float32 unless `dtypes` says otherwise (e.g. `["bn.num_batches_tracked": .int64]`).
    ///
    ///     try Safetensors.write(["w": w], to: "w.safetensors", metadata: ["format": "pt"])
    public static func write(_ tensors: [String: Tensor], to path: String, dtypes: [String: DType] = [:],
                             metadata: [String: String] = [:]) throws {
        try write(TensorBundle(tensors, dtypes: dtypes, metadata: metadata), to: path)
    }

    /// The bytes of a safetensors file holding the bundle.
    public static func encode(_ bundle: TensorBundle, path: String = "safetensors") throws -> [UInt8] {
        for name in bundle.tensors.keys where name == "__metadata__" {
            throw DataError(path, "'__metadata__' is reserved and cannot name a tensor")
        }
        let layout = bundle.tensors.sorted {
            let a = bundle.dtype(of: $0.key).byteSize, b = bundle.dtype(of: $1.key).byteSize
            return a != b ? a > b : $0.key < $1.key
        }
        var data: [UInt8] = []
        var entries: [(String, String)] = []
        for (name, t) in layout {
            let begin = data.count, dtype = bundle.dtype(of: name)
            try t.withUnsafeBufferPointer {
                try encodeElements($0, as: dtype, into: &data, path: path, what: "tensor '\(name)'")
            }
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append((name, "{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(data.count)]}"))
        }
        if !bundle.metadata.isEmpty {
            let kv = bundle.metadata.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            entries.append(("__metadata__", "{" + kv.joined(separator: ",") + "}"))
        }
        entries.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var header = Array(("{" + entries.map { "\(jsonQuoted($0.0)):\($0.1)" }.joined(separator: ",") + "}").utf8)
        header += Array(repeating: 0x20, count: (8 - header.count % 8) % 8)
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out += header
        out += data
        return out
    }
}
