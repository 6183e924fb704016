import CZlib

/// Compression through the system zlib: gzip/zlib decompression (auto-detected), raw deflate
/// (the member format of `.zip`/`.npz`), and CRC-32.
///
///     let bytes = try Zlib.decompress(try Zlib.gzip(Array("hello".utf8)), path: "x.gz")
public enum Zlib {
    /// Decompresses gzip or zlib data (the header is auto-detected; concatenated gzip members are
    /// joined as `gunzip` does). With `limit`, stops as soon as that many bytes are out and returns
    /// exactly `limit` bytes (fewer only if the stream ends first), so a prefix costs only its share.
    ///
    ///     let header = try Zlib.decompress(fileBytes, path: path, limit: 16)
    public static func decompress(_ input: [UInt8], path: String, limit: Int? = nil) throws -> [UInt8] {
        try input.withUnsafeBytes { try inflate($0, windowBits: 15 + 32, limit: limit, expected: nil, path: path) }
    }

    /// Inflates a raw deflate stream (no header) whose decompressed size is known, as stored in a
    /// zip member. Throws when the data is corrupt or does not decompress to `expectedSize` bytes.
    ///
    ///     let member = try Zlib.inflateRaw(compressed, expectedSize: 1024, path: "w.npz: member 'a.npy'")
    public static func inflateRaw(_ input: UnsafeRawBufferPointer, expectedSize: Int, path: String) throws -> [UInt8] {
        let out = try inflate(input, windowBits: -15, limit: nil, expected: expectedSize, path: path)
        guard out.count == expectedSize else {
            throw DataError(path, "deflated data decompresses to \(out.count) bytes, but the archive says \(expectedSize)")
        }
        return out
    }

    /// Gzip-compresses `input` (as the `gzip` tool would, at `level` 0–9).
    ///
    ///     let gz = try Zlib.gzip(bytes)
    public static func gzip(_ input: [UInt8], level: Int = 6) throws -> [UInt8] {
        try deflate(input, windowBits: 15 + 16, level: level)
    }

    /// Raw deflate (no header or checksum), the zip member format.
    ///
    ///     let deflated = try Zlib.deflateRaw(bytes)
    public static func deflateRaw(_ input: [UInt8], level: Int = 6) throws -> [UInt8] {
        try deflate(input, windowBits: -15, level: level)
    }

    /// CRC-32 (the checksum of gzip and zip).
    ///
    ///     Zlib.crc32(Array("123456789".utf8))   // 0xCBF43926
    public static func crc32(_ input: [UInt8]) -> UInt32 {
        input.withUnsafeBytes { crc32($0) }
    }

    static func crc32(_ input: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CZlib.crc32(0, nil, 0)
        var offset = 0
        while offset < input.count {
            let n = min(input.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, input.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, UInt32(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    // MARK: - Streams

    private static func inflate(_ input: UnsafeRawBufferPointer, windowBits: Int32, limit: Int?, expected: Int?,
                                path: String) throws -> [UInt8] {
        let gzipMode = windowBits > 15
        guard let inBase = input.baseAddress, input.count > 0 else {
            if expected == 0 || limit == 0 { return [] }
            throw DataError(path, "no compressed data (empty input)")
        }
        if let limit, limit <= 0 { return [] }
        var stream = z_stream()
        var rc = inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw DataError(path, "zlib cannot start inflating (code \(rc))") }
        defer { inflateEnd(&stream) }

        let inPtr = UnsafeMutablePointer(mutating: inBase.assumingMemoryBound(to: UInt8.self))
        var consumed = 0          // input bytes handed to zlib so far
        // Size the output for the common cases: exactly the limit or expected size, else a guess.
        // Deflate expands at most ~1032:1, which also caps what a lying header can make us allocate.
        let ceiling = input.count.multipliedReportingOverflow(by: 1032).partialValue + (1 << 16)
        var capacity = min(limit ?? expected.map { max($0, 1) } ?? max(4 * input.count, 1 << 16), ceiling)
        var out = [UInt8](repeating: 0, count: capacity)
        var produced = 0

        while true {
            if stream.avail_in == 0 && consumed < input.count {
                let n = min(input.count - consumed, Int(UInt32.max))
                stream.next_in = inPtr + consumed
                stream.avail_in = UInt32(n)
                consumed += n
            }
            if produced == capacity {
                if let limit, produced >= limit { break }
                capacity = limit.map { min($0, capacity * 2) } ?? capacity * 2
                out.append(contentsOf: repeatElement(0, count: capacity - out.count))
            }
            let room = min(capacity - produced, Int(UInt32.max))
            rc = out.withUnsafeMutableBufferPointer { buf -> Int32 in
                stream.next_out = buf.baseAddress! + produced
                stream.avail_out = UInt32(room)
                let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced += room - Int(stream.avail_out)
                return r
            }
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is ignored,
                // as gzip ignores trailing garbage.
                let left = Int(stream.avail_in) + (input.count - consumed)
                let at = input.count - left
                if gzipMode && left >= 2 && inBase.load(fromByteOffset: at, as: UInt8.self) == 0x1f
                    && inBase.load(fromByteOffset: at + 1, as: UInt8.self) == 0x8b {
                    inflateReset(&stream)
                    continue
                }
                return Array(out[0 ..< produced])
            case Z_BUF_ERROR:
                if stream.avail_out == 0 { continue }   // out of room: grow and go on
                if let limit, produced >= limit { break }
                throw DataError(path, "truncated \(gzipMode ? "gzip" : "deflate") stream: the compressed data ends after \(produced) bytes of output")
            case Z_NEED_DICT:
                throw DataError(path, "corrupt compressed data: the stream asks for a preset dictionary")
            case Z_MEM_ERROR:
                throw DataError(path, "out of memory while decompressing")
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                throw DataError(path, "corrupt \(gzipMode ? "gzip" : "deflate") data after \(produced) bytes of output: \(why)")
            }
            if let limit, produced >= limit { break }
        }
        return Array(out[0 ..< min(produced, limit ?? produced)])
    }

    private static func deflate(_ input: [UInt8], windowBits: Int32, level: Int) throws -> [UInt8] {
        guard (0 ... 9).contains(level) else { throw DataError("deflate", "compression level \(level) is not in 0...9") }
        var stream = z_stream()
        var rc = deflateInit2_(&stream, Int32(level), Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw DataError("deflate", "zlib cannot start deflating (code \(rc))") }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: 1 << 16)
        var produced = 0
        try input.withUnsafeBytes { raw in
            var consumed = 0
            while true {
                if stream.avail_in == 0 && consumed < raw.count {
                    let n = min(raw.count - consumed, Int(UInt32.max))
                    stream.next_in = UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: UInt8.self)) + consumed
                    stream.avail_in = UInt32(n)
                    consumed += n
                }
                if produced == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
                let flush = consumed == raw.count ? Z_FINISH : Z_NO_FLUSH
                let room = min(out.count - produced, Int(UInt32.max))
                rc = out.withUnsafeMutableBufferPointer { buf -> Int32 in
                    stream.next_out = buf.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let r = CZlib.deflate(&stream, flush)
                    produced += room - Int(stream.avail_out)
                    return r
                }
                if rc == Z_STREAM_END { return }
                guard rc == Z_OK || rc == Z_BUF_ERROR else { throw DataError("deflate", "zlib failed (code \(rc))") }
            }
        }
        return Array(out[0 ..< produced])
    }
}
