import Dispatch
import Tensor

/// A seeded, composable image augmentation on a batch tensor N×C×H×W with pixels in [0, 1].
///
/// An augmentation is a list of steps applied to each image in turn, as torchvision's `Compose`
/// applies its transforms to each sample; each image draws its own random parameters, so a batch is
/// a batch of independent samples. The generator passed `inout` advances by exactly N draws (one
/// 64-bit seed per image); image n then draws every parameter, step by step, from
/// `RandomGenerator(seed: seed_n)`. The same generator state therefore reproduces the batch exactly,
/// on any machine and whatever the number of threads the images are spread over.
///
/// Steps follow torchvision's definitions (`transforms.v2` on float tensors): random crop with zero
/// padding, flips, random resized crop with bilinear (antialiased when shrinking) resampling, colour
/// jitter (brightness, contrast, saturation, hue in a random order), random grayscale, Gaussian
/// blur with reflect padding, and normalization. Colour steps clamp to [0, 1], so augment the
/// pixels before standardizing them (`normalize` as the last step does that).
///
///     let aug = Augmentation.cifar()                       // random crop 32, padding 4, flip
///     var rng = RandomGenerator(seed: 0)
///     let xb = try aug(batch.x, rng: &rng)
///     let (v1, v2) = try Augmentation.simclr().twoViews(batch.x, rng: &rng)
public struct Augmentation: Sendable, CustomStringConvertible {
    /// The steps, in the order each image goes through them.
    let steps: [AugmentStep]

    init(steps: [AugmentStep]) { self.steps = steps }

    /// Leaves the batch as it is (a copy).
    public static let identity = Augmentation(steps: [])

    /// The parts applied one after another (torchvision's `Compose`).
    ///
    ///     let aug = Augmentation.compose([.randomCrop(padding: 4), .horizontalFlip()])
    public static func compose(_ parts: [Augmentation]) -> Augmentation {
        Augmentation(steps: parts.flatMap(\.steps))
    }

    /// This augmentation followed by `next`.
    public func then(_ next: Augmentation) -> Augmentation { Augmentation(steps: steps + next.steps) }

    /// Applies `inner` to an image with probability `p` (one draw per image, applied when u < p),
    /// else leaves it alone (torchvision's `RandomApply`). `inner` must keep the image's shape.
    ///
    ///     .randomApply(.colorJitter(brightness: 0.4, contrast: 0.4), p: 0.8)
    public static func randomApply(_ inner: Augmentation, p: Double) -> Augmentation {
        Augmentation(steps: [.randomApply(inner.steps, p: p)])
    }

    /// `Compose(step, step, …)`, torchvision style.
    public var description: String {
        steps.count == 1 ? steps[0].description : "Compose(" + steps.map(\.description).joined(separator: ", ") + ")"
    }

    /// The shape `[N, C, H, W]` this augmentation turns a batch of `shape` into; throws a
    /// `DataError` naming the step when the batch does not suit it (wrong rank, a crop larger than
    /// the padded image, colour steps on images that have neither 1 nor 3 channels, …).
    public func outputShape(for shape: [Int]) throws -> [Int] {
        guard shape.count == 4, shape.allSatisfy({ $0 >= 0 }) else {
            throw DataError("augment", "needs an N×C×H×W batch of images, got shape \(shapeText(shape))")
        }
        guard shape[1] > 0, shape[2] > 0, shape[3] > 0 else {
            throw DataError("augment", "images of shape \(shapeText(Array(shape.dropFirst()))) have no pixels")
        }
        var s = ImageShape(c: shape[1], h: shape[2], w: shape[3])
        for step in steps { s = try step.outputShape(s) }
        return [shape[0], s.c, s.h, s.w]
    }

    /// The augmented batch; advances `rng` by one draw per image.
    ///
    ///     var rng = RandomGenerator(seed: 1); let y = try aug(x, rng: &rng)
    public func callAsFunction(_ x: Tensor, rng: inout RandomGenerator) throws -> Tensor {
        let outShape = try outputShape(for: x.shape)
        let out = Tensor.zeros(outShape)
        run(x, rng: &rng, into: out, firstRow: 0)
        return out
    }

    /// The augmented batch, from a fresh generator seeded with `seed`.
    public func callAsFunction(_ x: Tensor, seed: UInt64) throws -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return try self(x, rng: &rng)
    }

    /// Two independently augmented views of every image (the first view of all images is drawn
    /// before the second): what a contrastive learner such as SimCLR trains on.
    ///
    ///     let (a, b) = try Augmentation.simclr().twoViews(b.x, rng: &rng)
    public func twoViews(_ x: Tensor, rng: inout RandomGenerator) throws -> (Tensor, Tensor) {
        (try self(x, rng: &rng), try self(x, rng: &rng))
    }

    /// Both views stacked into one 2N-image batch: rows i and i + N are the two views of image i,
    /// the layout `nt_xent` expects. The same draws as `twoViews` (so the same images).
    ///
    ///     let z = try encoder(Augmentation.simclr().pairedViews(b.x, rng: &rng))
    public func pairedViews(_ x: Tensor, rng: inout RandomGenerator) throws -> Tensor {
        var outShape = try outputShape(for: x.shape)
        let n = outShape[0]
        outShape[0] = 2 * n
        let out = Tensor.zeros(outShape)
        run(x, rng: &rng, into: out, firstRow: 0)
        run(x, rng: &rng, into: out, firstRow: n)
        return out
    }

    /// Images per parallel chunk below which the batch stays on one thread.
    static let imagesPerChunk = 64

    /// Augments every image of `x` (shape already checked) into rows `firstRow…` of `out`.
    func run(_ x: Tensor, rng: inout RandomGenerator, into out: Tensor, firstRow: Int) {
        let n = x.shape[0]
        guard n > 0 else { return }
        let inShape = ImageShape(c: x.shape[1], h: x.shape[2], w: x.shape[3])
        let outSize = out.shape.dropFirst().reduce(1, *)
        var seeds = [UInt64](repeating: 0, count: n)
        for i in 0 ..< n { seeds[i] = rng.next() }
        let steps = self.steps
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                nonisolated(unsafe) let s = src.baseAddress!, d = dst.baseAddress! + firstRow * outSize
                let chunks = Swift.min(Parallelism.workers, n / Augmentation.imagesPerChunk)
                let work = { (lo: Int, hi: Int) in
                    let ws = AugmentWorkspace()
                    for i in lo ..< hi {
                        var gen = RandomGenerator(seed: seeds[i])
                        ws.load(s + i * inShape.count, inShape)
                        let shape = runSteps(steps, inShape, ws, &gen)
                        precondition(shape.count == outSize)
                        (d + i * outSize).update(from: ws.cur.p, count: outSize)
                    }
                }
                if chunks <= 1 {
                    work(0, n)
                } else {
                    let per = (n + chunks - 1) / chunks
                    nonisolated(unsafe) let body = work
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        body(c * per, Swift.min(n, (c + 1) * per))
                    }
                }
            }
        }
    }
}

extension Dataset {
    /// A data set of the augmented images (same labels), one random draw per image from `rng`.
    ///
    ///     var rng = RandomGenerator(seed: 0); let aug = try d.augmented(.cifar(), rng: &rng)
    public func augmented(_ augmentation: Augmentation, rng: inout RandomGenerator) throws -> Dataset {
        do {
            let ax = try augmentation(x, rng: &rng)
            return Dataset(x: ax, labels: labels, name: name, classNames: classNames, normalization: normalization)
        } catch let e as DataError {
            throw DataError(name, "augment: " + e.message)
        }
    }
}

// MARK: - Presets

extension Augmentation {
    /// The standard CIFAR training augmentation: a random crop of the input size (32 for CIFAR)
    /// from the image zero-padded by `padding` (4) on every side, then a horizontal flip with
    /// probability 0.5 (`RandomCrop(32, padding=4)` + `RandomHorizontalFlip()` in torchvision, as in
    /// kuangliu/pytorch-cifar and the paper's supervised runs). `size: nil` keeps the input size, so
    /// the same preset suits 28×28 Fashion-MNIST.
    public static func cifar(size: Int? = nil, padding: Int = 4) -> Augmentation {
        .compose([.randomCrop(size: size, padding: padding), .horizontalFlip(p: 0.5)])
    }

    /// The SimCLR augmentation for small images, after Chen et al. 2020 (“A Simple Framework for
    /// Contrastive Learning of Visual Representations”, appendix A, and B.9 for CIFAR-10):
    ///
    /// 1. random resized crop to the input size (or `size`), scale 0.08–1, aspect ratio 3/4–4/3,
    ///    bilinear;
    /// 2. horizontal flip, p = 0.5;
    /// 3. colour jitter with probability `jitterProbability` (0.8): brightness 0.8s, contrast 0.8s,
    ///    saturation 0.8s, hue 0.2s for strength s (`strength` 0.5, the paper's CIFAR-10 value:
    ///    brightness 0.4, contrast 0.4, saturation 0.4, hue 0.1), applied in a random order;
    /// 4. random grayscale with probability `grayscaleProbability` (0.2);
    /// 5. only when `blur` is true (the paper leaves it out for CIFAR-10): Gaussian blur with
    ///    probability 0.5, σ ∈ [0.1, 2], kernel ≈ 10 % of the image side, made odd (at least 3).
    ///
    /// One-channel images (Fashion-MNIST, MNIST): saturation and hue have no meaning without colour,
    /// and grayscale changes nothing, so the same preset reduces to brightness and contrast jitter
    /// (each 0.8s, with probability 0.8, in a random order); this is also what torchvision does to a
    /// one-channel tensor, where `adjust_saturation`/`adjust_hue` return the image unchanged. Contrast
    /// on one channel blends with the image's mean.
    ///
    ///     let views = try Augmentation.simclr().pairedViews(b.x, rng: &rng)   // 2N×C×H×W
    public static func simclr(size: Int? = nil, strength s: Double = 0.5, jitterProbability: Double = 0.8,
                              grayscaleProbability: Double = 0.2, blur: Bool = false) -> Augmentation {
        var parts: [Augmentation] = [
            .randomResizedCrop(size: size, scale: 0.08 ... 1, ratio: 3.0 / 4.0 ... 4.0 / 3.0),
            .horizontalFlip(p: 0.5),
            .randomApply(.colorJitter(brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue: 0.2 * s),
                         p: jitterProbability),
            .randomGrayscale(p: grayscaleProbability),
        ]
        if blur { parts.append(Augmentation(steps: [.randomApply([.blurForImageSize(sigma: 0.1 ... 2)], p: 0.5)])) }
        return .compose(parts)
    }

    /// Kernel size of SimCLR's blur for an image of side `side`: ⌊0.1 · side⌋, made odd, at least 3.
    static func simclrBlurKernel(side: Int) -> Int {
        let k = Swift.max(3, side / 10)
        return k % 2 == 0 ? k + 1 : k
    }

    /// Per-channel standardization (x − mean) / std as the last step (a channel with std 0 is only
    /// centred, as `Dataset.normalized`).
    ///
    ///     .compose([.cifar(), .normalize(trainStats)])
    public static func normalize(_ stats: ChannelStats) -> Augmentation {
        Augmentation(steps: [.normalize(mean: stats.mean, std: stats.std)])
    }
}

// MARK: - Steps

/// C×H×W of one image.
struct ImageShape: Equatable {
    var c: Int, h: Int, w: Int
    var count: Int { c * h * w }
    var plane: Int { h * w }
}

/// One step of an augmentation, applied to one image at a time.
indirect enum AugmentStep: Sendable, CustomStringConvertible {
    /// Crop of height×width (nil: the input's) at a random offset in the image zero-padded by `padding`.
    case randomCrop(height: Int?, width: Int?, padding: Int)
    /// Mirror left–right (or top–bottom) with probability p.
    case flip(horizontal: Bool, p: Double)
    /// torchvision's RandomResizedCrop to height×width (nil: the input's).
    case randomResizedCrop(height: Int?, width: Int?, scale: ClosedRange<Double>, ratio: ClosedRange<Double>)
    /// Colour jitter with factor ranges (nil: that adjustment is off).
    case colorJitter(ColorJitter)
    /// Grayscale (kept as C channels) with probability p.
    case grayscale(p: Double)
    /// Gaussian blur, odd kernel size, σ drawn uniformly from the range.
    case gaussianBlur(kernel: Int, sigma: ClosedRange<Double>)
    /// Gaussian blur whose kernel is SimCLR's 10 % of the image side.
    case blurForImageSize(sigma: ClosedRange<Double>)
    /// The inner steps with probability p.
    case randomApply([AugmentStep], p: Double)
    /// (x − mean[c]) / std[c].
    case normalize(mean: [Float], std: [Float])

    var description: String {
        func r(_ v: ClosedRange<Double>) -> String { "\(shortNumber(v.lowerBound))…\(shortNumber(v.upperBound))" }
        func size(_ h: Int?, _ w: Int?) -> String {
            h == nil && w == nil ? "input size" : "\(h.map(String.init) ?? "H")×\(w.map(String.init) ?? "W")"
        }
        switch self {
        case let .randomCrop(h, w, p): return "RandomCrop(\(size(h, w)), padding \(p))"
        case let .flip(horizontal, p): return "Random\(horizontal ? "Horizontal" : "Vertical")Flip(p \(shortNumber(p)))"
        case let .randomResizedCrop(h, w, scale, ratio):
            return "RandomResizedCrop(\(size(h, w)), scale \(r(scale)), ratio \(r(ratio)), bilinear)"
        case let .colorJitter(j): return j.description
        case let .grayscale(p): return "RandomGrayscale(p \(shortNumber(p)))"
        case let .gaussianBlur(k, sigma): return "GaussianBlur(kernel \(k), sigma \(r(sigma)))"
        case let .blurForImageSize(sigma): return "GaussianBlur(kernel 10% of side, sigma \(r(sigma)))"
        case let .randomApply(inner, p):
            return "RandomApply(p \(shortNumber(p)), " + inner.map(\.description).joined(separator: ", ") + ")"
        case let .normalize(mean, std): return "Normalize(mean \(mean), std \(std))"
        }
    }

    /// Checks that the step suits images of shape `s` and returns the shape it produces.
    func outputShape(_ s: ImageShape) throws -> ImageShape {
        func fail(_ why: String) -> DataError { DataError("augment", "\(description): \(why)") }
        func probability(_ p: Double) throws {
            guard p >= 0, p <= 1 else { throw fail("probability \(shortNumber(p)) is not in [0, 1]") }
        }
        func colourChannels() throws {
            guard s.c == 1 || s.c == 3 else { throw fail("needs 1 or 3 channels, the images have \(s.c)") }
        }
        switch self {
        case let .randomCrop(h, w, padding):
            let oh = h ?? s.h, ow = w ?? s.w
            guard padding >= 0 else { throw fail("padding must be ≥ 0") }
            guard oh >= 1, ow >= 1 else { throw fail("crop size must be at least 1×1") }
            guard oh <= s.h + 2 * padding, ow <= s.w + 2 * padding else {
                throw fail("a \(oh)×\(ow) crop does not fit \(s.h)×\(s.w) images padded by \(padding)")
            }
            return ImageShape(c: s.c, h: oh, w: ow)
        case let .flip(_, p):
            try probability(p)
            return s
        case let .randomResizedCrop(h, w, scale, ratio):
            let oh = h ?? s.h, ow = w ?? s.w
            guard oh >= 1, ow >= 1 else { throw fail("output size must be at least 1×1") }
            guard scale.lowerBound >= 0, scale.upperBound.isFinite else { throw fail("scale must lie in [0, ∞)") }
            guard ratio.lowerBound > 0, ratio.upperBound.isFinite else { throw fail("ratio must be positive") }
            return ImageShape(c: s.c, h: oh, w: ow)
        case let .colorJitter(j):
            try colourChannels()
            if let why = j.validate() { throw fail(why) }
            return s
        case let .grayscale(p):
            try probability(p)
            try colourChannels()
            return s
        case let .gaussianBlur(k, sigma):
            guard k >= 1, k % 2 == 1 else { throw fail("kernel size must be odd and positive") }
            guard sigma.lowerBound > 0, sigma.upperBound.isFinite else { throw fail("sigma must be positive") }
            return s
        case let .blurForImageSize(sigma):
            return try AugmentStep.gaussianBlur(kernel: Augmentation.simclrBlurKernel(side: Swift.min(s.h, s.w)),
                                                sigma: sigma).outputShape(s)
        case let .randomApply(inner, p):
            try probability(p)
            var t = s
            for step in inner { t = try step.outputShape(t) }
            guard t == s else {
                throw fail("the applied steps turn \(s.c)×\(s.h)×\(s.w) images into \(t.c)×\(t.h)×\(t.w); they must keep the shape")
            }
            return s
        case let .normalize(mean, std):
            guard mean.count == s.c, std.count == s.c else {
                throw fail("has \(mean.count) means and \(std.count) stds for \(s.c) channels")
            }
            return s
        }
    }
}

/// Runs `steps` on the image in `ws.cur` (shape `shape`), drawing from `rng`; returns the new shape.
func runSteps(_ steps: [AugmentStep], _ shape: ImageShape, _ ws: AugmentWorkspace,
              _ rng: inout RandomGenerator) -> ImageShape {
    var s = shape
    for step in steps {
        switch step {
        case let .randomCrop(h, w, padding):
            let oh = h ?? s.h, ow = w ?? s.w
            let top = rng.int(below: s.h + 2 * padding - oh + 1)
            let left = rng.int(below: s.w + 2 * padding - ow + 1)
            let o = ImageShape(c: s.c, h: oh, w: ow)
            cropPadded(ws.cur.p, s, top: top, left: left, padding: padding, into: ws.next.reserve(o.count), o)
            ws.swap()
            s = o
        case let .flip(horizontal, p):
            if rng.uniformDouble() < p {
                if horizontal { flipHorizontal(ws.cur.p, s) } else { flipVertical(ws.cur.p, s) }
            }
        case let .randomResizedCrop(h, w, scale, ratio):
            let box = resizedCropBox(height: s.h, width: s.w, scale: scale, ratio: ratio, rng: &rng)
            let o = ImageShape(c: s.c, h: h ?? s.h, w: w ?? s.w)
            resizeCrop(ws.cur.p, s, box: box, into: ws.next.reserve(o.count), o, ws)
            ws.swap()
            s = o
        case let .colorJitter(j):
            j.apply(ws.cur.p, s, rng: &rng)
        case let .grayscale(p):
            if rng.uniformDouble() < p, s.c == 3 { toGrayscale(ws.cur.p, s) }
        case let .gaussianBlur(k, sigma):
            let sd = sigma.lowerBound + (sigma.upperBound - sigma.lowerBound) * rng.uniformDouble()
            gaussianBlur(ws.cur.p, s, kernel: k, sigma: sd, ws)
        case let .blurForImageSize(sigma):
            let k = Augmentation.simclrBlurKernel(side: Swift.min(s.h, s.w))
            let sd = sigma.lowerBound + (sigma.upperBound - sigma.lowerBound) * rng.uniformDouble()
            gaussianBlur(ws.cur.p, s, kernel: k, sigma: sd, ws)
        case let .randomApply(inner, p):
            if rng.uniformDouble() < p { s = runSteps(inner, s, ws, &rng) }
        case let .normalize(mean, std):
            for c in 0 ..< s.c {
                let m = mean[c], inv = std[c] > 0 ? 1 / std[c] : 1
                let p = ws.cur.p + c * s.plane
                for k in 0 ..< s.plane { p[k] = (p[k] - m) * inv }
            }
        }
    }
    return s
}

/// A growable scratch buffer (reallocated only when a larger size is asked for; contents are not kept).
final class ScratchBuffer<T> {
    private(set) var p: UnsafeMutablePointer<T>
    private var capacity: Int

    init(_ initial: Int = 16) {
        capacity = initial
        p = .allocate(capacity: initial)
    }

    deinit { p.deallocate() }

    /// A buffer of at least n elements.
    func reserve(_ n: Int) -> UnsafeMutablePointer<T> {
        if n > capacity {
            p.deallocate()
            capacity = Swift.max(n, 2 * capacity)
            p = .allocate(capacity: capacity)
        }
        return p
    }
}

/// The buffers one thread needs to augment images one after another, allocated once per batch.
final class AugmentWorkspace {
    /// The image being augmented.
    private(set) var cur = ScratchBuffer<Float>()
    /// Where a step that changes the geometry writes (then `swap`).
    private(set) var next = ScratchBuffer<Float>()
    /// Intermediate results (separable passes).
    let tmp = ScratchBuffer<Float>()
    /// Resampling weights and index tables.
    let weightsX = ScratchBuffer<Float>(), weightsY = ScratchBuffer<Float>()
    let indexX = ScratchBuffer<Int>(), indexY = ScratchBuffer<Int>()

    /// Copies an image into `cur`.
    func load(_ src: UnsafePointer<Float>, _ s: ImageShape) {
        cur.reserve(s.count).update(from: src, count: s.count)
    }

    func swap() { Swift.swap(&cur, &next) }
}

func shortNumber(_ v: Double) -> String {
    v == v.rounded() && Swift.abs(v) < 1e9 ? String(Int(v)) : String(Float(v))
}
