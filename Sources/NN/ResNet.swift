import Tensor

/// The residual block of ResNet-18/34 exactly as kuangliu/pytorch-cifar's `BasicBlock`:
/// out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), conv1 3×3 with the block's stride,
/// conv2 3×3, both without bias; `shortcut` is `Sequential(conv 1×1 stride, BatchNorm2d)`
/// (`shortcut.0`, `shortcut.1`) when the stride is not 1 or the channels change, else an empty
/// Sequential (the identity, no parameters).
///
///     let block = try BasicBlock(64, 128, stride: 2, rng: &rng)   // BasicBlock(64 -> 128, stride 2)
public final class BasicBlock: Module {
    public let inPlanes: Int
    public let planes: Int
    public let stride: Int
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let shortcut: Sequential

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1, rng: inout RandomGenerator) throws {
        self.inPlanes = inPlanes
        self.planes = planes
        self.stride = stride
        // Construction order = kuangliu's __init__ order = parameter order (and the draw order).
        conv1 = try Conv2d(inPlanes, planes, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = try BatchNorm2d(planes)
        conv2 = try Conv2d(planes, planes, kernel: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn2 = try BatchNorm2d(planes)
        if stride != 1 || inPlanes != planes {
            shortcut = Sequential(try Conv2d(inPlanes, planes, kernel: 1, stride: stride, bias: false, rng: &rng),
                                  try BatchNorm2d(planes))
        } else {
            shortcut = Sequential([])
        }
        super.init()
        registerChild("conv1", conv1)
        registerChild("bn1", bn1)
        registerChild("conv2", conv2)
        registerChild("bn2", bn2)
        registerChild("shortcut", shortcut)
    }

    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        let out = try bn1(conv1(x), relu: true)
        return try bn2(conv2(out), adding: shortcut(x), relu: true)
    }

    public override func makeBlankCopy() throws -> Module {
        var rng = RandomGenerator(seed: 0)
        return try BasicBlock(inPlanes, planes, stride: stride, rng: &rng)
    }

    public override var summary: String {
        "BasicBlock(\(inPlanes) -> \(planes)\(stride != 1 ? ", stride \(stride)" : ""))"
    }
}

/// The CIFAR ResNet exactly as kuangliu/pytorch-cifar's `ResNet(BasicBlock, blocks)`: a 3×3
/// stride-1 stem `conv1` (no bias) + `bn1` + relu, no max-pool; `layer1` … `layer4` of BasicBlocks
/// with strides 1, 2, 2, 2 and planes width·(1, 2, 4, 8); a global average pool; the head
/// `linear`. Names and shapes are kuangliu's, so state dicts move to and from PyTorch unchanged.
///
/// `width` is the base number of planes (64 in the paper; 16 for CPU work); `headless: true`
/// builds the encoder alone (no `linear`), whose output is the pooled features
/// [N, 8·width]. Any input size works (28×28 and 32×32 give 4×4 maps before the pool).
///
///     let net = try ResNet.resnet18(inChannels: 1, classes: 10, width: 16, seed: 0)
public final class ResNet: Module {
    public let blocks: [Int]
    public let inChannels: Int
    public let classes: Int
    public let width: Int
    public let headless: Bool
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let layers: [Sequential]
    public let pool = GlobalAvgPool()
    /// The classification head; nil when headless.
    public let linear: Linear?

    /// Number of pooled features (the encoder's output size): 8·width.
    public var featureCount: Int { width * 8 }

    public init(blocks: [Int], inChannels: Int = 3, classes: Int = 10, width: Int = 64, headless: Bool = false,
                rng: inout RandomGenerator) throws {
        guard blocks.count == 4, blocks.allSatisfy({ $0 >= 1 }) else {
            throw NNError("ResNet", "blocks must be four positive counts (ResNet-18: [2, 2, 2, 2]), got \(blocks)")
        }
        guard inChannels > 0, width > 0, headless || classes > 0 else {
            throw NNError("ResNet", "input channels, width and classes must be positive, got in \(inChannels), width \(width), classes \(classes)")
        }
        self.blocks = blocks
        self.inChannels = inChannels
        self.classes = classes
        self.width = width
        self.headless = headless
        conv1 = try Conv2d(inChannels, width, kernel: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn1 = try BatchNorm2d(width)
        var inPlanes = width
        var stages: [Sequential] = []
        for (i, n) in blocks.enumerated() {
            let planes = width << i
            var stage: [Module] = []
            for j in 0..<n {
                stage.append(try BasicBlock(inPlanes, planes, stride: j == 0 && i > 0 ? 2 : 1, rng: &rng))
                inPlanes = planes
            }
            stages.append(Sequential(stage))
        }
        layers = stages
        linear = headless ? nil : try Linear(width * 8, classes, rng: &rng)
        super.init()
        registerChild("conv1", conv1)
        registerChild("bn1", bn1)
        for (i, s) in layers.enumerated() { registerChild("layer\(i + 1)", s) }
        if let linear { registerChild("linear", linear) }
    }

    /// ResNet-18: blocks [2, 2, 2, 2]. 11,173,962 parameters at width 64, 3 channels, 10 classes.
    ///
    ///     let encoder = try ResNet.resnet18(width: 16, headless: true, seed: 0)
    public static func resnet18(inChannels: Int = 3, classes: Int = 10, width: Int = 64, headless: Bool = false,
                                seed: UInt64? = nil) throws -> ResNet {
        if let seed {
            var rng = RandomGenerator(seed: seed)
            return try ResNet(blocks: [2, 2, 2, 2], inChannels: inChannels, classes: classes, width: width,
                              headless: headless, rng: &rng)
        }
        return try ResNet(blocks: [2, 2, 2, 2], inChannels: inChannels, classes: classes, width: width,
                          headless: headless, rng: &GlobalRandom.generator)
    }

    /// The encoder's output: pooled features [N, 8·width] (the head is not applied).
    ///
    ///     let z = try net.features(x)
    public func features(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw NNError(summary, "expected images [N, \(inChannels), H, W], got \(shapeText(x.shape))")
        }
        var out = try bn1(conv1(x), relu: true)
        for layer in layers { out = try layer(out) }
        return try pool(out)
    }

    /// Logits [N, classes], or the features when headless.
    public override func callAsFunction(_ x: Tensor) throws -> Tensor {
        let f = try features(x)
        guard let linear else { return f }
        return try linear(f)
    }

    public override func makeBlankCopy() throws -> Module {
        var rng = RandomGenerator(seed: 0)
        return try ResNet(blocks: blocks, inChannels: inChannels, classes: classes, width: width, headless: headless,
                          rng: &rng)
    }

    public override var summary: String {
        let name = blocks == [2, 2, 2, 2] ? "ResNet18" : "ResNet(blocks: \(blocks))"
        return "\(name)(in: \(inChannels), " + (headless ? "headless" : "classes: \(classes)") + ", width: \(width))"
    }
}
