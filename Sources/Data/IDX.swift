import Tensor

/// IDX files (LeCun's MNIST format, also Fashion-MNIST), gzipped or plain: two zero bytes, a type
/// byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), the number of dimensions, then
/// each dimension as a big-endian u32, then the data (big-endian). Labels are `0x0801`
/// (N), images `0x0803` (N×rows×cols).
///
///     let images = try IDX.read("train-images-idx3-ubyte.gz", limit: 100)   // 100×28×28, values 0…255
public enum IDX {
    /// The values of an IDX file as a Float32 tensor of the file's shape (raw values, not scaled).
    /// With `limit`, only the first `limit` items along the first axis are read (and decompressed).
    ///
    ///     let labels = try IDX.read("t10k-labels-idx1-ubyte.gz")   // shape [10000]
    public static func read(_ path: String, limit: Int? = nil) throws -> Tensor {
        let raw = try readRaw(path, items: limit.map { 0 ..< $0 })
        let t = Tensor.zeros(raw.shape)
        raw.bytes.withUnsafeBytes { src in
            t.withUnsafeMutableBufferPointer { dst in
                guard let base = src.baseAddress, let out = dst.baseAddress, dst.count > 0 else { return }
                decodeElements(base + raw.dataOffset, dtype: raw.dtype, count: dst.count, bigEndian: true, into: out)
            }
        }
        return t
    }

    /// The parsed header and the bytes covering the requested items.
    struct Raw {
        /// Shape of what was read (first axis = items read).
        let shape: [Int]
        /// Shape the header declares.
        let fileShape: [Int]
        let dtype: DType
        let bytes: [UInt8]
        let dataOffset: Int
        var itemBytes: Int { shape.dropFirst().reduce(dtype.byteSize, *) }
    }

    /// Reads the header and the data of items `0 ..< items.upperBound` (all items when nil),
    /// decompressing only that prefix of a gzipped file.
    static func readRaw(_ path: String, items: Range<Int>? = nil, expectRank: Int? = nil) throws -> Raw {
        let file = try readFileBytes(path)
        let gzipped = file.count >= 2 && file[0] == 0x1f && file[1] == 0x8b
        func prefix(_ n: Int) throws -> [UInt8] {
            gzipped ? try Zlib.decompress(file, path: path, limit: n) : Array(file.prefix(n))
        }
        var head = try prefix(4)
        guard head.count == 4 else { throw DataError(path, "truncated: \(head.count) bytes is too short for an IDX header") }
        guard head[0] == 0, head[1] == 0 else {
            throw DataError(path, "bad magic 0x\(String(head.u32BE(0), radix: 16)): not an IDX file (expected 0x0801 labels or 0x0803 images)")
        }
        let dtype: DType
        switch head[2] {
        case 0x08: dtype = .uint8
        case 0x09: dtype = .int8
        case 0x0b: dtype = .int16
        case 0x0c: dtype = .int32
        case 0x0d: dtype = .float32
        case 0x0e: dtype = .float64
        default: throw DataError(path, "bad magic: unknown IDX element type 0x\(String(head[2], radix: 16))")
        }
        let rank = Int(head[3])
        guard rank >= 1 else { throw DataError(path, "bad header: IDX file with 0 dimensions") }
        if let expectRank, rank != expectRank {
            throw DataError(path, "bad magic 0x08\(String(format2: rank)): expected a \(expectRank)-dimensional IDX file (0x080\(expectRank))")
        }
        let dataOffset = 4 + 4 * rank
        head = try prefix(dataOffset)
        guard head.count == dataOffset else { throw DataError(path, "truncated: the IDX header (\(dataOffset) bytes) is cut off") }
        let fileShape = (0 ..< rank).map { head.u32BE(4 + 4 * $0) }
        let total = fileShape[0]
        let want = items.map { $0.upperBound } ?? total
        guard want <= total else {
            throw DataError(path, "asked for \(want) items but the file holds \(total)")
        }
        guard let inner = checkedProduct(Array(fileShape.dropFirst())),
              let need = checkedProduct([want, inner, dtype.byteSize]), need <= Int.max - dataOffset else {
            throw DataError(path, "bad header: shape \(shapeText(fileShape)) is too large")
        }
        let bytes = try prefix(dataOffset + need)
        guard bytes.count == dataOffset + need else {
            let what = rank == 3 ? "\(total) images of \(fileShape[1])×\(fileShape[2])" : rank == 1 ? "\(total) labels"
                : "\(total) items of shape \(shapeText(Array(fileShape.dropFirst())))"
            let first = want == total ? "" : " (the first \(want) alone need \(need))"
            throw DataError(path, "truncated: header says \(what) but only \(bytes.count - dataOffset) bytes of \(rank == 3 ? "pixel " : "")data\(first)")
        }
        var shape = fileShape
        shape[0] = want
        return Raw(shape: shape, fileShape: fileShape, dtype: dtype, bytes: bytes, dataOffset: dataOffset)
    }
}

private extension String {
    init(format2 v: Int) { self = v < 16 ? "0" + String(v, radix: 16) : String(v, radix: 16) }
}
