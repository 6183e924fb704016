import Tensor

/// NumPy `.npz` archives (what `np.savez` and `np.savez_compressed` write): a zip of `.npy`
/// members, stored or deflated. Array names are the member names without `.npy`.
///
///     try NPZ.write(TensorBundle(["x": x, "y": y], dtypes: ["y": .int64]), to: "d.npz")
public enum NPZ {
    /// Reads every array of an `.npz` file, in archive order, with each array's dtype.
    ///
    ///     let arrays = try NPZ.read("weights.npz"); let w = arrays["w"]
    public static func read(_ path: String) throws -> TensorBundle {
        let zip = try ZipArchive(bytes: try readFileBytes(path), path: path)
        var bundle = TensorBundle()
        for m in zip.members where !m.name.hasSuffix("/") {
            let name = m.name.hasSuffix(".npy") ? String(m.name.dropLast(4)) : m.name
            guard bundle.tensors[name] == nil else { throw DataError(path, "member '\(m.name)' appears twice") }
            let a = try NPY.decode(try zip.extract(m), path: "\(path): member '\(m.name)'")
            bundle.set(name, a.tensor, dtype: a.dtype)
        }
        return bundle
    }

    /// Writes the bundle's tensors (in `names` order) as `NAME.npy` members, each in its recorded
    /// dtype (float32 by default), stored or, with `compressed: true`, deflated; atomically.
    ///
    ///     try NPZ.write(TensorBundle(["a": a]), to: "a.npz", compressed: true)
    public static func write(_ bundle: TensorBundle, to path: String, compressed: Bool = false) throws {
        var files: [(name: String, data: [UInt8])] = []
        for name in bundle.names {
            guard let t = bundle.tensors[name] else { throw DataError(path, "bundle lists '\(name)' but holds no such tensor") }
            files.append((name + ".npy", try NPY.encode(t, dtype: bundle.dtype(of: name), path: "\(path): array '\(name)'")))
        }
        try writeFileAtomically(try ZipArchive.build(files, deflate: compressed, path: path), to: path)
    }

    /// Writes named tensors as float32 arrays, names sorted.
    ///
    ///     try NPZ.write(["w": w, "b": b], to: "wb.npz")
    public static func write(_ tensors: [String: Tensor], to path: String, compressed: Bool = false) throws {
        try write(TensorBundle(tensors), to: path, compressed: compressed)
    }
}
