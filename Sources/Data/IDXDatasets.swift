import Tensor

/// Fashion-MNIST (Zalando): 28×28 grey clothing images in 10 classes, 60000 train / 10000 test, as
/// IDX files. Debian ships it in `dataset-fashion-mnist` under `/usr/share/datasets/fashion-mnist/`.
///
///     let data = try FashionMNIST.load(train: 10000, test: 2000)   // data.train.x: 10000×1×28×28 in [0, 1]
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// Class names by label (9 is "Ankle boot").
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                    "Sneaker", "Bag", "Ankle boot"]

    /// Loads the training and test sets: x is N×1×28×28 with pixels scaled to [0, 1], y the labels.
    /// `train`/`test` take the first n/m images (all when nil) unless `seed` is given, which picks
    /// a random subset of each (train drawn first, then test, from one generator seeded `seed`),
    /// kept in file order. `normalize: true` standardizes both sets with the mean and std of all
    /// 60000 training images — for Fashion-MNIST mean 0.2860, std 0.3530 (exact values in
    /// `normalization`); only the images needed are decompressed otherwise.
    ///
    ///     let data = try FashionMNIST.load(train: 1000, test: 500, seed: 7, normalize: true)
    public static func load(directory: String = defaultDirectory, train: Int? = nil, test: Int? = nil,
                            seed: UInt64? = nil, normalize: Bool = false) throws -> (train: Dataset, test: Dataset) {
        try IDXImageSets.load(directory: directory, name: "fashion-mnist", classNames: classNames,
                              missingHint: "install Debian's dataset-fashion-mnist, or pass the directory holding the four IDX files",
                              train: train, test: test, seed: seed, normalize: normalize)
    }
}

/// MNIST handwritten digits, from a directory holding the four IDX files (same names as
/// Fashion-MNIST's, gzipped or not).
///
///     let digits = try MNIST.load(directory: "/data/mnist", train: 5000)
public enum MNIST {
    /// As `FashionMNIST.load`, from `directory`; classes are the digits "0" … "9".
    ///
    ///     let d = try MNIST.load(directory: "/data/mnist", train: 1000, test: 500, seed: 0)
    public static func load(directory: String, train: Int? = nil, test: Int? = nil, seed: UInt64? = nil,
                            normalize: Bool = false) throws -> (train: Dataset, test: Dataset) {
        try IDXImageSets.load(directory: directory, name: "mnist", classNames: (0 ..< 10).map(String.init),
                              missingHint: "the directory must hold train-images-idx3-ubyte[.gz] and the other IDX files",
                              train: train, test: test, seed: seed, normalize: normalize)
    }
}

/// The shared loader for MNIST-style directories.
enum IDXImageSets {
    static func load(directory: String, name: String, classNames: [String], missingHint: String,
                     train: Int?, test: Int?, seed: UInt64?, normalize: Bool) throws -> (train: Dataset, test: Dataset) {
        var rng = seed.map { RandomGenerator(seed: $0) }
        func locate(_ base: String) throws -> String {
            let gz = directory + "/" + base + ".gz", plain = directory + "/" + base
            if fileExists(gz) { return gz }
            if fileExists(plain) { return plain }
            throw DataError(gz, "file not found (\(missingHint))")
        }
        let paths = try ["train", "t10k"].map { ($0, try locate("\($0)-images-idx3-ubyte"), try locate("\($0)-labels-idx1-ubyte")) }

        var sets: [Dataset] = []
        var trainImagesAll: IDX.Raw?
        for (split, imagesPath, labelsPath) in paths {
            let labelRaw = try IDX.readRaw(labelsPath, expectRank: 1)
            let total = labelRaw.fileShape[0]
            let requested = split == "train" ? train : test
            let indices = try splitIndices(requested, of: total, split: split, path: labelsPath, holds: "the file holds", rng: &rng)
            let needed = (indices.last ?? -1) + 1
            let imageHeader = try IDX.readRaw(imagesPath, items: 0 ..< 0, expectRank: 3)
            guard imageHeader.fileShape[0] == total else {
                throw DataError(imagesPath, "holds \(imageHeader.fileShape[0]) images but \(labelsPath) holds \(total) labels")
            }
            let imageRaw = try IDX.readRaw(imagesPath, items: 0 ..< needed, expectRank: 3)
            guard imageRaw.dtype == .uint8, labelRaw.dtype == .uint8 else {
                throw DataError(imageRaw.dtype == .uint8 ? labelsPath : imagesPath, "expected unsigned-byte (type 0x08) data")
            }
            if split == "train" && needed == total { trainImagesAll = imageRaw }
            let rows = imageRaw.fileShape[1], cols = imageRaw.fileShape[2], pixels = rows * cols
            let x = Tensor.zeros([indices.count, 1, rows, cols])
            imageRaw.bytes.withUnsafeBufferPointer { src in
                x.withUnsafeMutableBufferPointer { dst in
                    for (k, i) in indices.enumerated() {
                        let s = imageRaw.dataOffset + i * pixels, d = k * pixels
                        for p in 0 ..< pixels { dst[d + p] = byteToUnit[Int(src[s + p])] }
                    }
                }
            }
            var labels: [Int] = []
            labels.reserveCapacity(indices.count)
            for i in indices {
                let l = Int(labelRaw.bytes[labelRaw.dataOffset + i])
                guard l < classNames.count else {
                    throw DataError(labelsPath, "label \(l) at index \(i) is not one of the \(classNames.count) classes")
                }
                labels.append(l)
            }
            sets.append(Dataset(x: x, labels: labels, name: "\(name)/\(split == "train" ? "train" : "test")",
                                classNames: classNames, normalization: nil))
        }
        guard sets.count == 2 else { throw DataError(directory, "internal: expected a training and a test set") }
        if normalize {
            let all = try trainImagesAll ?? IDX.readRaw(paths[0].1, expectRank: 3)
            var histogram = [Int](repeating: 0, count: 256)
            all.bytes.withUnsafeBufferPointer { b in
                for i in all.dataOffset ..< b.count { histogram[Int(b[i])] += 1 }
            }
            let stats = ChannelStats(byteHistograms: [histogram])
            return (try sets[0].normalized(with: stats), try sets[1].normalized(with: stats))
        }
        return (sets[0], sets[1])
    }
}
