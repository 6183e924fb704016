import Foundation

/// The whole file as bytes. Errors name the path and the system's reason.
func readFileBytes(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw DataError(path, systemReason("cannot open")) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw DataError(path, systemReason("cannot stat")) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError(path, "not a regular file") }
    let size = Int(st.st_size)
    var failure: String?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
        var done = 0
        while done < size {
            let n = read(fd, buf.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemReason("read failed")
                break
            }
            if n == 0 { break }   // the file shrank under us: report what we got as truncated below
            done += n
        }
        initialized = done
    }
    if let failure { throw DataError(path, failure) }
    guard bytes.count == size else { throw DataError(path, "file shrank while reading (\(bytes.count) of \(size) bytes)") }
    return bytes
}

/// Size in bytes of a regular file, or a DataError saying why not.
func fileSize(_ path: String) throws -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { throw DataError(path, systemReason("cannot open")) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError(path, "not a regular file") }
    return Int(st.st_size)
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

/// Writes `bytes` to a temporary file in the destination's directory, flushes it, then renames it
/// over `path`, so a reader (or a crash) never sees half a file.
func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw DataError(path, systemReason("cannot create temporary file in \(dir)")) }
    var ok = false
    defer {
        if !ok { unlink(tmp) }
    }
    var failure: String?
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemReason("write failed")
                return
            }
            done += n
        }
    }
    if failure == nil && fsync(fd) != 0 { failure = systemReason("fsync failed") }
    if close(fd) != 0 && failure == nil { failure = systemReason("close failed") }
    if let failure { throw DataError(path, failure) }
    guard rename(tmp, path) == 0 else { throw DataError(path, systemReason("cannot rename temporary file into place")) }
    ok = true
}

private func systemReason(_ what: String) -> String { "\(what): \(String(cString: strerror(errno)))" }

// MARK: - Little- and big-endian reads that never trap (callers check the range first)

extension Array where Element == UInt8 {
    @inline(__always) func u16LE(_ o: Int) -> Int { Int(self[o]) | Int(self[o + 1]) << 8 }
    @inline(__always) func u32LE(_ o: Int) -> Int { u16LE(o) | u16LE(o + 2) << 16 }
    @inline(__always) func u64LE(_ o: Int) -> UInt64 { UInt64(u32LE(o)) | UInt64(u32LE(o + 4)) << 32 }
    @inline(__always) func u32BE(_ o: Int) -> Int {
        Int(self[o]) << 24 | Int(self[o + 1]) << 16 | Int(self[o + 2]) << 8 | Int(self[o + 3])
    }
}
