import Tensor

/// CIFAR-10, binary version: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a
/// run of 3073-byte records (1 label byte, then 1024 red, 1024 green and 1024 blue bytes of a 32×32
/// image, row-major).
///
///     let data = try CIFAR10.load(directory: "/data/cifar-10-batches-bin", train: 5000)
public enum CIFAR10 {
    /// Class names by label.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                    "ship", "truck"]
    /// The training files, in the order their images are numbered.
    public static let trainFiles = (1 ... 5).map { "data_batch_\($0).bin" }
    /// The test file.
    public static let testFile = "test_batch.bin"
    static let recordSize = 3073

    /// Loads the training set (the five `data_batch_*.bin` in order) and the test set: x is
    /// N×3×32×32 with channels R, G, B scaled to [0, 1]. `train`/`test` take the first n/m images
    /// (all when nil) unless `seed` picks a random subset of each (train drawn first, then test, from
    /// one generator), kept in file order. `normalize: true` standardizes both sets with the
    /// per-channel mean and std of the whole training set (≈ mean 0.4914 0.4822 0.4465, std 0.2470
    /// 0.2435 0.2616 for the real data; exact values in `normalization`). All six files must exist
    /// and hold whole records; only the files holding chosen images are read. A directory that
    /// contains `cifar-10-batches-bin/` is looked into.
    ///
    ///     let data = try CIFAR10.load(directory: dir, normalize: true)
    public static func load(directory: String, train: Int? = nil, test: Int? = nil, seed: UInt64? = nil,
                            normalize: Bool = false) throws -> (train: Dataset, test: Dataset) {
        var dir = directory
        if !fileExists(dir + "/" + testFile), fileExists(dir + "/cifar-10-batches-bin/" + testFile) {
            dir += "/cifar-10-batches-bin"
        }
        func check(_ file: String) throws -> (path: String, records: Int) {
            let path = dir + "/" + file
            guard fileExists(path) else {
                throw DataError(path, "file not found (CIFAR-10 binary version: data_batch_1.bin … data_batch_5.bin and test_batch.bin)")
            }
            let size = try fileSize(path)
            guard size > 0, size % recordSize == 0 else {
                throw DataError(path, size == 0 ? "empty file" : "truncated: \(size) bytes is not a multiple of the \(recordSize)-byte record (1 label + 3072 pixels)")
            }
            return (path, size / recordSize)
        }
        let trainParts = try trainFiles.map(check)
        let testPart = try check(testFile)
        var rng = seed.map { RandomGenerator(seed: $0) }
        var sets: [Dataset] = []
        for (split, parts, requested) in [("train", trainParts, train), ("test", [testPart], test)] {
            let total = parts.reduce(0) { $0 + $1.records }
            let indices = try splitIndices(requested, of: total, split: split, path: dir, holds: "the files hold", rng: &rng)
            let (x, labels) = try readRecords(parts, indices: indices)
            sets.append(Dataset(x: x, labels: labels, name: "cifar10/\(split)", classNames: classNames, normalization: nil))
        }
        guard sets.count == 2 else { throw DataError(dir, "internal: expected a training and a test set") }
        if normalize {
            var histograms = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 3)
            for part in trainParts {
                let bytes = try readFileBytes(part.path)
                guard bytes.count == part.records * recordSize else { throw DataError(part.path, "file changed while reading") }
                bytes.withUnsafeBufferPointer { b in
                    for r in 0 ..< part.records { for c in 0 ..< 3 {
                        let s = r * recordSize + 1 + c * 1024
                        for p in 0 ..< 1024 { histograms[c][Int(b[s + p])] += 1 }
                    } }
                }
            }
            let stats = ChannelStats(byteHistograms: histograms)
            return (try sets[0].normalized(with: stats), try sets[1].normalized(with: stats))
        }
        return (sets[0], sets[1])
    }

    /// Reads the records at ascending global `indices` across `parts` (files in order).
    static func readRecords(_ parts: [(path: String, records: Int)], indices: [Int]) throws -> (Tensor, [Int]) {
        let x = Tensor.zeros([indices.count, 3, 32, 32])
        var labels: [Int] = []
        labels.reserveCapacity(indices.count)
        var k = 0, first = 0
        for part in parts {
            let end = first + part.records
            defer { first = end }
            guard k < indices.count, indices[k] < end else { continue }
            let bytes = try readFileBytes(part.path)
            guard bytes.count == part.records * recordSize else {
                throw DataError(part.path, "file changed while reading (\(bytes.count) bytes)")
            }
            try bytes.withUnsafeBufferPointer { b in
                try x.withUnsafeMutableBufferPointer { dst in
                    while k < indices.count, indices[k] < end {
                        let r = indices[k] - first, s = r * recordSize
                        let label = Int(b[s])
                        guard label < 10 else {
                            throw DataError(part.path, "record \(r) has label \(label); CIFAR-10 labels are 0…9 (is this CIFAR-100's format?)")
                        }
                        labels.append(label)
                        let d = k * 3072
                        for p in 0 ..< 3072 { dst[d + p] = byteToUnit[Int(b[s + 1 + p])] }
                        k += 1
                    }
                }
            }
        }
        return (x, labels)
    }
}

/// CIFAR-10.1 (Recht et al. 2018), a fresh CIFAR-10 test set: `cifar10.1_v6_data.npy` (uint8
/// N×32×32×3) and `cifar10.1_v6_labels.npy` (integer labels).
///
///     let shifted = try CIFAR10_1.load(directory: "/data/cifar10.1", normalization: data.train.normalization)
public enum CIFAR10_1 {
    /// Loads `cifar10.1_<version>_data.npy` and `…_labels.npy` from `directory` as a data set with x
    /// N×3×32×32 (channels R, G, B) in [0, 1], standardized with `normalization` when given (pass the
    /// CIFAR-10 training set's).
    ///
    ///     let d = try CIFAR10_1.load(directory: dir)   // 2000 images for v6
    public static func load(directory: String, version: String = "v6", normalization: ChannelStats? = nil) throws -> Dataset {
        let dataPath = "\(directory)/cifar10.1_\(version)_data.npy"
        let labelsPath = "\(directory)/cifar10.1_\(version)_labels.npy"
        let bytes = try readFileBytes(dataPath)
        let raw = try NPY.parse(bytes, path: dataPath)
        guard raw.dtype == .uint8 else {
            throw DataError(dataPath, "expected uint8 pixels, found \(raw.dtype.numpyDescr ?? raw.dtype.rawValue)")
        }
        guard raw.shape.count == 4, raw.shape[1] == 32, raw.shape[2] == 32, raw.shape[3] == 3 else {
            throw DataError(dataPath, "expected shape (N, 32, 32, 3), found \(shapeText(raw.shape))")
        }
        let labelArray = try NPY.read(labelsPath)
        let n = raw.shape[0]
        guard labelArray.shape == [n] else {
            throw DataError(labelsPath, "expected \(n) labels (shape [\(n)]) to match \(dataPath), found shape \(shapeText(labelArray.shape))")
        }
        var labels: [Int] = []
        for (i, v) in labelArray.tensor.scalars.enumerated() {
            guard let l = Int(exactly: v), (0 ..< 10).contains(l) else {
                throw DataError(labelsPath, "label \(v) at index \(i) is not a CIFAR-10 class 0…9")
            }
            labels.append(l)
        }
        // Stored HWC per image; channels become planes (NCHW).
        let x = Tensor.zeros([n, 3, 32, 32])
        bytes.withUnsafeBufferPointer { b in
            x.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< n {
                    let s = raw.dataOffset + i * 3072, d = i * 3072
                    for p in 0 ..< 1024 { for c in 0 ..< 3 { dst[d + c * 1024 + p] = byteToUnit[Int(b[s + p * 3 + c])] } }
                }
            }
        }
        let d = Dataset(x: x, labels: labels, name: "cifar10.1", classNames: CIFAR10.classNames, normalization: nil)
        return try normalization.map { try d.normalized(with: $0) } ?? d
    }
}
