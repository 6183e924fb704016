import Foundation

/// The next numbered file name in `folder`: one past the highest number among files named
/// `prefix` + digits + `.ext` there (so numbering continues after a deleted file rather than
/// refilling it), zero-padded to `digits`. The caller decides when to number.
///
///     nextNumberedPath(in: ".")   // "./plot-001.png", then "./plot-002.png", …
public func nextNumberedPath(in folder: String, prefix: String = "plot-", extension ext: String = "png",
                             digits: Int = 3) -> String {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let suffix = "." + ext
    let highest = names.compactMap { name -> Int? in
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
        let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard middle.allSatisfy(\.isASCII), middle.allSatisfy(\.isNumber) else { return nil }
        return Int(middle)
    }.max() ?? 0
    let number = String(highest + 1)
    let padded = String(repeating: "0", count: max(0, digits - number.count)) + number
    return (folder.hasSuffix("/") ? folder : folder + "/") + prefix + padded + suffix
}

/// The width and height a PNG file declares in its IHDR chunk, or nil when the file is not a PNG
/// (wrong 8-byte signature, no IHDR first).
///
///     if let (w, h) = pngSize(atPath: "loss.png") { print(w, h) }   // 800 500
public func pngSize(atPath path: String) -> (width: Int, height: Int)? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let head = try? handle.read(upToCount: 24), head.count == 24 else { return nil }
    let bytes = [UInt8](head)
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard Array(bytes[0 ..< 8]) == signature, Array(bytes[12 ..< 16]) == Array("IHDR".utf8) else { return nil }
    func u32(_ at: Int) -> Int { bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (u32(16), u32(20))
}
