import Data
import Foundation
import Tensor

/// Data sets: Fashion-MNIST, CIFAR-10, CIFAR-10.1, tensors as data sets, synthetic sets,
/// subsets, batches, normalization and augmentation.
@Sendable func registerData(_ r: BuiltinRegistry) {
    let topic = "data"
    let dataset = ArgType.object("dataset")

    r.register("fashion_mnist", topic: topic, params: [
        .optional("train", .int, "training images (default: all 60000)"),
        .optional("test", .int, "test images (default: all 10000)"),
        .optional("seed", .int, "pick random subsets (kept in file order); default: the first n / m"),
        .optional("normalize", .bool, default: false, "standardize with the training set's mean and std"),
        .optional("dir", .string, "a directory holding the four IDX files (default: Debian's /usr/share/datasets/fashion-mnist)"),
    ], returns: "{train, test}",
       doc: "Fashion-MNIST: 28×28 grey images of clothing in 10 classes; x is N×1×28×28 with pixels in [0, 1] (standardized with normalize: true), y the labels. Debian's dataset-fashion-mnist ships the files.",
       example: "data = fashion_mnist(train: 64, test: 32)\nprint(shape(data.train.x), len(data.test))") { a in
        try requireFileAccess(a)
        let (train, test) = try FashionMNIST.load(directory: try a.optionalString("dir") ?? FashionMNIST.defaultDirectory,
                                                  train: try nonNegative(a, "train"), test: try nonNegative(a, "test"),
                                                  seed: try a.seed(), normalize: try a.bool("normalize"))
        return .record([("train", .object(DatasetValue(train))), ("test", .object(DatasetValue(test)))])
    }

    r.register("cifar10", topic: topic, params: [
        .required("dir", .string, "the directory of the binary batches (data_batch_1.bin … test_batch.bin)"),
        .optional("train", .int, "training images (default: all 50000)"),
        .optional("test", .int, "test images (default: all 10000)"),
        .optional("seed", .int, "pick random subsets; default: the first n / m"),
        .optional("normalize", .bool, default: false, "standardize each channel with the training set's mean and std"),
    ], returns: "{train, test}",
       doc: "CIFAR-10 from its binary version: x is N×3×32×32 (channels R, G, B) in [0, 1], y the labels 0–9.",
       example: "# data = cifar10(\"/data/cifar-10-batches-bin\", train: 5000, test: 1000)\nhelp(\"cifar10\")") { a in
        try requireFileAccess(a)
        let (train, test) = try CIFAR10.load(directory: try a.string("dir"), train: try nonNegative(a, "train"),
                                             test: try nonNegative(a, "test"), seed: try a.seed(),
                                             normalize: try a.bool("normalize"))
        return .record([("train", .object(DatasetValue(train))), ("test", .object(DatasetValue(test)))])
    }

    r.register("cifar10_1", topic: topic, params: [
        .required("dir", .string, "the directory of cifar10.1_v6_data.npy and cifar10.1_v6_labels.npy"),
        .optional("like", dataset, "standardize with this data set's normalization (the CIFAR-10 training set loaded with normalize: true)"),
        .optional("version", .string, default: "v6"),
    ], returns: "dataset",
       doc: "CIFAR-10.1, a fresh CIFAR-10 test set (Recht et al. 2018), from its .npy files (stored N×32×32×3, turned into N×3×32×32 in [0, 1]).",
       example: "# shifted = cifar10_1(\"/data/cifar10.1\", like: data.train)\nhelp(\"cifar10_1\")") { a in
        try requireFileAccess(a)
        let like = try a.optionalDataset("like")
        if let like, like.normalization == nil {
            throw LangError.usage("cifar10_1: the data set given as 'like' is not normalized (load it with normalize: true)")
        }
        return .object(DatasetValue(try CIFAR10_1.load(directory: try a.string("dir"), version: try a.string("version"),
                                                       normalization: like?.normalization)))
    }

    r.register("dataset", topic: topic, params: [
        .required("x", .tensorLike, "N items: N×C×H×W images or N×D rows"),
        .required("y", .tensorLike, "N labels, whole numbers ≥ 0"),
        .optional("name", .string, default: "data"),
    ], returns: "dataset", doc: "A data set from tensors (for MLPs x may be N×D).",
       example: "d = dataset(randn([6, 2], seed: 0), [0, 1, 0, 1, 2, 2])\nprint(d, len(d))") { a in
        .object(DatasetValue(try Dataset(x: try a.tensor("x"), y: try a.tensor("y"), name: try a.string("name"))))
    }

    r.register("blobs", topic: topic, params: [
        .required("n", .int, "items"), .optional("classes", .int, default: 3), .optional("dim", .int, default: 2, "features per item"),
        .optional("spread", .number, default: 1, "std of each blob"), .optional("separation", .number, default: 5, "std of the blob centres"),
        .optional("seed", .int),
    ], returns: "dataset", doc: "A synthetic data set of Gaussian blobs, one per class (x is n×dim): for quick experiments and tests.",
       example: "d = blobs(90, classes: 3, seed: 0)\nprint(shape(d.x), d.classes)") { a in
        try a.checkElements(try a.int("n", atLeast: 0), try a.int("dim", atLeast: 1))
        return .object(DatasetValue(try Dataset.blobs(count: try a.int("n", atLeast: 0), classes: try a.int("classes", atLeast: 1),
                                                     dimensions: try a.int("dim", atLeast: 1), spread: Float(try a.number("spread")),
                                                     separation: Float(try a.number("separation")),
                                                     seed: try a.seed() ?? GlobalRandom.generator.next())))
    }

    r.register("spirals", topic: topic, params: [
        .required("n", .int, "items"), .optional("arms", .int, default: 2, "classes"),
        .optional("turns", .number, default: 0.75), .optional("noise", .number, default: 0.05), .optional("seed", .int),
    ], returns: "dataset", doc: "A synthetic 2-D data set of interleaved spirals, one arm per class.",
       example: "d = spirals(100, arms: 2, seed: 1)\nprint(shape(d.x))") { a in
        try a.checkElements(try a.int("n", atLeast: 0), 2)
        return .object(DatasetValue(try Dataset.spirals(count: try a.int("n", atLeast: 0), arms: try a.int("arms", atLeast: 1),
                                                       turns: Float(try a.number("turns")), noise: Float(try a.number("noise")),
                                                       seed: try a.seed() ?? GlobalRandom.generator.next())))
    }

    r.register("subset", topic: topic, params: [
        .required("data", dataset), .required("n", .int),
        .optional("seed", .int, "pick n at random (kept in data order); default: the first n"),
        .optional("stratified", .bool, default: false, "classes as equal as possible"),
    ], returns: "dataset", doc: "n items of a data set: the first n, n at random with a seed, or n with the classes balanced (stratified: true).",
       example: "d = blobs(60, classes: 3, seed: 0)\ns = subset(d, 9, stratified: true, seed: 1)\nprint(len(s), sum(s.y == 0))") { a in
        let d = try a.dataset("data"), n = try a.int("n")
        if try a.bool("stratified") { return .object(DatasetValue(try d.stratifiedSubset(n, seed: try a.seed()))) }
        if let s = try a.seed() { return .object(DatasetValue(try d.randomSubset(n, seed: s))) }
        return .object(DatasetValue(try d.prefix(n)))
    }

    r.register("batches", topic: topic, params: [
        .required("data", dataset), .required("size", .int, "items per batch (the last may have fewer)"),
        .optional("shuffle", .bool, default: false, "a random order (seeded by seed, else the global stream)"),
        .optional("seed", .int), .optional("drop_last", .bool, default: false, "leave out a last, smaller batch"),
    ], returns: "list of {x, y}", doc: "The mini-batches of one pass over a data set, as records {x, y}.",
       example: "d = blobs(10, seed: 0)\nbs = batches(d, 4)\nprint(len(bs), shape(bs[-1].x))") { a in
        let d = try a.dataset("data"), size = try a.int("size")
        let bs: Batches
        if try a.bool("shuffle") {
            if let s = try a.seed() {
                var rng = RandomGenerator(seed: s)
                bs = try d.batches(size: size, shuffle: &rng, dropLast: try a.bool("drop_last"))
            } else {
                bs = try d.batches(size: size, shuffle: &GlobalRandom.generator, dropLast: try a.bool("drop_last"))
            }
        } else {
            bs = try d.batches(size: size, dropLast: try a.bool("drop_last"))
        }
        var out: [Value] = []
        for b in bs {
            try Cancellation.check()
            out.append(.record([("x", .tensor(b.x)), ("y", .tensor(b.y))]))
        }
        return .list(ListValue(out))
    }

    r.register("normalize", topic: topic, params: [
        .required("data", dataset),
        .optional("like", dataset, "use this data set's statistics (its normalization, else its own mean and std)"),
    ], returns: "dataset", doc: "The data set standardized per channel, (x − mean) / std, with its own statistics or another set's (apply the training set's to the test set).",
       example: "d = blobs(20, seed: 0)\nz = normalize(d)\nprint(round(mean(z.x), 4))") { a in
        let d = try a.dataset("data")
        if let like = try a.optionalDataset("like") {
            return .object(DatasetValue(try d.normalized(with: like.normalization ?? like.channelStats())))
        }
        return .object(DatasetValue(try d.normalized()))
    }

    r.register("shift", topic: topic, params: [
        .required("data", dataset, "images N×C×H×W (pixels in [0, 1], or a normalized set)"),
        .optional("dx", .int, default: 0, "pixels to the right (negative: left); the uncovered border is black"),
        .optional("dy", .int, default: 0, "pixels down (negative: up)"),
        .optional("contrast", .number, default: 1, "contrast factor around each image's mean grey (torchvision's adjust_contrast); 1 leaves it"),
    ], returns: "dataset",
       doc: "The same images under a fixed, deterministic distribution shift: translated by (dx, dy) pixels, then their contrast scaled, clamped to [0, 1]. A normalized set is shifted on its pixels and standardized again with its own statistics. The notebooks' stand-in for CIFAR-10.1 on Fashion-MNIST: shift(data.test, dx: 2, dy: 2, contrast: 0.7).",
       example: "x = rand([2, 1, 6, 6], seed: 0)\nd = shift(dataset(x, [0, 1]), dx: 2, dy: 1, contrast: 0.7)\nprint(shape(d.x), sum(d.x[0][0][0]))") { a in
        let d = try a.dataset("data")
        guard d.x.rank == 4 else {
            throw LangError.usage("shift: needs images N×C×H×W, got x of shape \(shapeText(d.x.shape))")
        }
        return .object(DatasetValue(try d.shifted(dx: try a.int("dx"), dy: try a.int("dy"), contrast: Float(try a.number("contrast")))))
    }

    r.register("augment", topic: topic, params: [
        .required("x", .oneOf([dataset, .tensor]), "a data set or an N×C×H×W tensor"),
        .optional("preset", .oneOf([.string, .list]), default: "cifar", "a preset name, or a list of names applied in order: \(augmentationNames.joined(separator: ", "))"),
        .optional("seed", .int, "default: the global stream"),
    ], returns: "dataset or tensor",
       doc: "Randomly augmented copies of images (one draw per image): \"cifar\" = random crop with padding 4 + horizontal flip; \"simclr\" = SimCLR's crop, flip, colour jitter and grayscale; also \"flip\", \"vflip\", \"crop\", \"resized_crop\", \"jitter\", \"grayscale\", \"blur\", \"simclr_blur\", \"none\".",
       example: "x = rand([2, 1, 8, 8], seed: 0)\nprint(shape(augment(x, \"cifar\", seed: 1)))") { a in
        let aug = try augmentation(a["preset"], what: "augment")
        var rng = RandomGenerator(seed: try a.seed() ?? GlobalRandom.generator.next())
        if case .tensor(let t) = a["x"] {
            guard t.rank == 4 else { throw LangError.runtime("augment: expected images N×C×H×W, got a tensor of shape \(shapeText(t.shape))") }
            return .tensor(try aug(t, rng: &rng))
        }
        return .object(DatasetValue(try a.dataset("x").augmented(aug, rng: &rng)))
    }

}

/// The augmentation presets by name.
let augmentationNames = ["cifar", "simclr", "simclr_blur", "flip", "vflip", "crop", "resized_crop", "jitter", "grayscale", "blur", "none"]

/// An augmentation from a preset name or a list of names (composed in order).
func augmentation(_ v: Value, what: String) throws -> Augmentation {
    func one(_ name: String) throws -> Augmentation {
        switch name {
        case "cifar": return .cifar()
        case "simclr": return .simclr()
        case "simclr_blur": return .simclr(blur: true)
        case "flip": return .horizontalFlip(p: 0.5)
        case "vflip": return .verticalFlip(p: 0.5)
        case "crop": return .randomCrop(size: nil, padding: 4)
        case "resized_crop": return .randomResizedCrop(size: nil)
        case "jitter": return .colorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)
        case "grayscale": return .randomGrayscale(p: 0.2)
        case "blur": return Augmentation.randomApply(.gaussianBlur(kernelSize: 3), p: 0.5)
        case "none": return .identity
        default:
            let hint = closestName(to: name, in: augmentationNames).map { " (did you mean '\($0)'?)" } ?? ""
            throw LangError.usage("\(what): unknown augmentation '\(name)'\(hint); presets: \(augmentationNames.joined(separator: ", "))")
        }
    }
    switch v {
    case .string(let s): return try one(s)
    case .list(let l):
        return .compose(try l.items.map { item in
            guard case .string(let s) = item else { throw LangError.usage("\(what): augmentation names must be strings, got \(describeType(item))") }
            return try one(s)
        })
    default: throw LangError.usage("\(what): augmentation must be a preset name or a list of names, got \(describeType(v))")
    }
}

/// An optional count ≥ 0.
private func nonNegative(_ a: BuiltinArgs, _ name: String) throws -> Int? {
    guard let n = try a.optionalInt(name) else { return nil }
    guard n >= 0 else { throw LangError.usage("\(a.builtin.name): argument '\(name)' must be ≥ 0, got \(n)") }
    return n
}
