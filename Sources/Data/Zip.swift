/// The zip container behind `.npz`: members stored or deflated, zip64 sizes and offsets read;
/// written stored or deflated without zip64 (members under 4 GiB).
struct ZipArchive {
    struct Member {
        let name: String
        let method: Int
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    let path: String
    let bytes: [UInt8]
    let members: [Member]

    /// Reads the central directory (the authoritative list; local headers are only used to find
    /// where each member's data starts).
    init(bytes: [UInt8], path: String) throws {
        self.path = path
        self.bytes = bytes
        let n = bytes.count
        guard n >= 22 else { throw DataError(path, "truncated: \(n) bytes is too short for a zip archive") }
        // The end-of-central-directory record is within the last 22 + 65535 (comment) bytes.
        var eocd = -1
        var at = n - 22
        while at >= max(0, n - 22 - 65535) {
            if bytes.u32LE(at) == 0x0605_4b50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0 else {
            let looksZip = n >= 4 && bytes.u32LE(0) == 0x0403_4b50
            throw DataError(path, looksZip ? "truncated zip archive: no end-of-central-directory record"
                                           : "bad magic: not a zip/npz archive")
        }
        var count = bytes.u16LE(eocd + 10)
        var cdSize = bytes.u32LE(eocd + 12)
        var cdOffset = bytes.u32LE(eocd + 16)
        if (count == 0xffff || cdSize == 0xffff_ffff || cdOffset == 0xffff_ffff) && eocd >= 20
            && bytes.u32LE(eocd - 20) == 0x0706_4b50 {
            let z = Int(clamping: bytes.u64LE(eocd - 20 + 8))
            guard z >= 0, z <= n - 56, bytes.u32LE(z) == 0x0606_4b50 else {
                throw DataError(path, "bad zip64 end-of-central-directory record")
            }
            count = Int(clamping: bytes.u64LE(z + 32))
            cdSize = Int(clamping: bytes.u64LE(z + 40))
            cdOffset = Int(clamping: bytes.u64LE(z + 48))
        }
        guard cdOffset <= n, cdSize <= n - cdOffset else {
            throw DataError(path, "truncated zip archive: the central directory (\(cdSize) bytes at \(cdOffset)) lies beyond the file's \(n) bytes")
        }
        var members: [Member] = []
        var p = cdOffset
        for k in 0 ..< count {
            guard p + 46 <= n, bytes.u32LE(p) == 0x0201_4b50 else {
                throw DataError(path, "bad zip central directory: entry \(k) of \(count) is missing or corrupt")
            }
            let flags = bytes.u16LE(p + 8), method = bytes.u16LE(p + 10)
            let crc = UInt32(bytes.u32LE(p + 16))
            var csize = bytes.u32LE(p + 20), usize = bytes.u32LE(p + 24)
            let nameLen = bytes.u16LE(p + 28), extraLen = bytes.u16LE(p + 30), commentLen = bytes.u16LE(p + 32)
            var offset = bytes.u32LE(p + 42)
            guard p + 46 + nameLen + extraLen + commentLen <= n else {
                throw DataError(path, "bad zip central directory: entry \(k) runs past the end of the file")
            }
            let name = String(decoding: bytes[p + 46 ..< p + 46 + nameLen], as: UTF8.self)
            // zip64 extra field: the 64-bit values, in order, for whichever fields are saturated.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd {
                let id = bytes.u16LE(e), len = bytes.u16LE(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    let qEnd = min(e + 4 + len, extraEnd)
                    if usize == 0xffff_ffff, q + 8 <= qEnd { usize = Int(clamping: bytes.u64LE(q)); q += 8 }
                    if csize == 0xffff_ffff, q + 8 <= qEnd { csize = Int(clamping: bytes.u64LE(q)); q += 8 }
                    if offset == 0xffff_ffff, q + 8 <= qEnd { offset = Int(clamping: bytes.u64LE(q)); q += 8 }
                }
                e += 4 + len
            }
            guard flags & 1 == 0 else { throw DataError(path, "member '\(name)' is encrypted") }
            guard method == 0 || method == 8 else {
                throw DataError(path, "member '\(name)' uses compression method \(method); only stored (0) and deflated (8) are read")
            }
            members.append(Member(name: name, method: method, crc: crc, compressedSize: csize, size: usize,
                                  localHeaderOffset: offset))
            p += 46 + nameLen + extraLen + commentLen
        }
        self.members = members
    }

    /// The member's decompressed bytes, CRC-checked.
    func extract(_ m: Member) throws -> [UInt8] {
        let where_ = "\(path): member '\(m.name)'"
        let h = m.localHeaderOffset
        guard h >= 0, h + 30 <= bytes.count, bytes.u32LE(h) == 0x0403_4b50 else {
            throw DataError(where_, "bad local header at offset \(h)")
        }
        let start = h + 30 + bytes.u16LE(h + 26) + bytes.u16LE(h + 28)
        guard start <= bytes.count, m.compressedSize <= bytes.count - start else {
            throw DataError(where_, "truncated: \(m.compressedSize) bytes of data at offset \(start) run past the end of the file (\(bytes.count) bytes)")
        }
        let out: [UInt8]
        if m.method == 0 {
            guard m.compressedSize == m.size else {
                throw DataError(where_, "stored member has compressed size \(m.compressedSize) but size \(m.size)")
            }
            out = Array(bytes[start ..< start + m.size])
        } else {
            out = try bytes.withUnsafeBytes { raw in
                try Zlib.inflateRaw(UnsafeRawBufferPointer(rebasing: raw[start ..< start + m.compressedSize]),
                                    expectedSize: m.size, path: where_)
            }
        }
        let crc = Zlib.crc32(out)
        guard crc == m.crc else {
            throw DataError(where_, "CRC-32 mismatch (stored \(hex(m.crc)), computed \(hex(crc))): the data is corrupt")
        }
        return out
    }

    /// A zip archive of `files` in the given order, each stored or raw-deflated (whichever `deflate`
    /// says), with fixed timestamps so equal inputs give equal bytes.
    static func build(_ files: [(name: String, data: [UInt8])], deflate: Bool, path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, _ into: inout [UInt8]) { into += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func u32(_ v: Int, _ into: inout [UInt8]) { for k in 0 ..< 4 { into.append(UInt8((v >> (8 * k)) & 0xff)) } }
        for (name, data) in files {
            let nameBytes = Array(name.utf8)
            let payload = deflate ? try Zlib.deflateRaw(data) : data
            guard out.count < 0xffff_ffff, payload.count < 0xffff_ffff, data.count < 0xffff_ffff, files.count < 0xffff else {
                throw DataError(path, "archive too large for a zip without zip64 (member '\(name)')")
            }
            let crc = Int(Zlib.crc32(data)), method = deflate ? 8 : 0
            let offset = out.count
            // Local header: version 2.0, flags 0x800 (UTF-8 names), 1980-01-01 00:00.
            u32(0x0403_4b50, &out); u16(20, &out); u16(0x800, &out); u16(method, &out)
            u16(0, &out); u16(0x21, &out); u32(crc, &out); u32(payload.count, &out); u32(data.count, &out)
            u16(nameBytes.count, &out); u16(0, &out); out += nameBytes; out += payload
            u32(0x0201_4b50, &central); u16(20, &central); u16(20, &central); u16(0x800, &central); u16(method, &central)
            u16(0, &central); u16(0x21, &central); u32(crc, &central); u32(payload.count, &central); u32(data.count, &central)
            u16(nameBytes.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0o100644 << 16, &central); u32(offset, &central); central += nameBytes
        }
        let cdOffset = out.count
        out += central
        u32(0x0605_4b50, &out); u16(0, &out); u16(0, &out); u16(files.count, &out); u16(files.count, &out)
        u32(central.count, &out); u32(cdOffset, &out); u16(0, &out)
        return out
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
