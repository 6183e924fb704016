// losscape-bench: speed of the engine's hot paths, printed as JSON (scripts/bench runs it in release).
//   losscape-bench [sgemm] [conv] [hvp] [train] [simclr] [measures]     (all when none named)
//   by name only: convlayers convlayers32 bnlayers lang results-mlp results-resnet train:KEY profile:KEY[:STEPS]
import Foundation
import NN
import Tensor

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Median of `reps` timed runs after `warmup` untimed ones.
func median(reps: Int, warmup: Int = 1, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var ts: [Double] = []
    for _ in 0..<reps { ts.append(try seconds(body)) }
    return ts.sorted()[ts.count / 2]
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

func benchSgemm() throws -> [String: Any] {
    var out: [String: Any] = [:]
    for n in [512, 1024, 2048] {
        let a = Tensor.randn([n, n], seed: 1), b = Tensor.randn([n, n], seed: 2)
        let t = try median(reps: n >= 2048 ? 3 : 7) { _ = try a.matmul(b) }
        out[String(n)] = round3(2 * pow(Double(n), 3) / t / 1e9)
    }
    return out
}

/// The sgemm rate (n = 1024, GFLOP/s) measured between the timed steps of a case: this machine's
/// speed drifts by ±20 % within a minute (sgemm 1024 read 121–193 GFLOP/s in one quarter hour), so
/// a step's fraction of sgemm is taken against the rate measured right after it, not minutes
/// before at the start of the run.
struct SgemmProbe {
    let a = Tensor.randn([1024, 1024], seed: 1), b = Tensor.randn([1024, 1024], seed: 2)

    /// GFLOP/s of the median of three products.
    func rate() throws -> Double {
        let t = try median(reps: 3, warmup: 0) { _ = try a.matmul(b) }
        return 2 * pow(1024, 3) / t / 1e9
    }

    /// Times `reps` runs of `step` (after `warmup`), each followed by a probe; returns the median
    /// step in seconds, the median probe rate and the median of the per-step fractions
    /// (flops / step time / probe rate).
    func timeSteps(reps: Int, flops: Double, warmup: Int = 1, _ step: () throws -> Void) throws
        -> (seconds: Double, sgemm: Double, fraction: Double) {
        for _ in 0..<warmup { try step() }
        var ts: [Double] = [], rates: [Double] = [], fractions: [Double] = []
        for _ in 0..<reps {
            let t = try seconds(step), r = try rate()
            ts.append(t); rates.append(r); fractions.append(flops / t / 1e9 / r)
        }
        func med(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        return (med(ts), med(rates), med(fractions))
    }

    /// The fields a training-step case reports.
    func report(reps: Int, flops: Double, _ step: () throws -> Void) throws -> [String: Any] {
        let (t, sgemm, fraction) = try timeSteps(reps: reps, flops: flops, step)
        return ["ms": round3(t * 1000), "gflop_per_step": round3(flops / 1e9), "gflops": round3(flops / t / 1e9),
                "sgemm_gflops_alongside": round3(sgemm), "fraction_of_sgemm": round3(fraction)]
    }
}

func benchConv(sgemmRate: Double?) throws -> [String: Any] {
    let (n, c, o, h) = (128, 64, 64, 32)
    let x = Tensor.randn([n, c, h, h], seed: 3).requiringGrad()
    let w = (Tensor.randn([o, c, 3, 3], seed: 4) * 0.05).requiringGrad()
    let gy = Tensor.randn([n, o, h, h], seed: 5)
    let flopsForward = 2.0 * Double(n * o * c * 9 * h * h)
    var tf = 0.0, tb = 0.0
    let total = try median(reps: 3) {
        var y: Tensor!
        tf = try seconds { y = try x.conv2d(w, stride: 1, padding: 1) }
        tb = try seconds { _ = try gradients(of: y, wrt: [x, w], seed: gy) }
    }
    let rate = 3 * flopsForward / total / 1e9
    var out: [String: Any] = [
        "shape": "batch \(n), \(c)->\(o) channels, \(h)x\(h), 3x3, padding 1",
        "forward_ms": round3(tf * 1000), "backward_ms": round3(tb * 1000),
        "forward_backward_ms": round3(total * 1000), "gflops": round3(rate),
    ]
    if let s = sgemmRate { out["fraction_of_sgemm"] = round3(rate / s) }
    return out
}

/// `convlayers` (`convlayers32`): forward and backward (both gradients) of each distinct
/// convolution of ResNet-18 width 16 on 1×28×28 (3×32×32) at batch 128, with its rate, to show which
/// shapes run far below sgemm.
func benchConvLayers(inChannels: Int = 1, size: Int = 28) throws -> [String: Any] {
    // (C, O, H, kernel, stride, padding, count in the network)
    let (s1, s2, s3) = (size, (size + 1) / 2, (size + 3) / 4)
    let layers: [(Int, Int, Int, Int, Int, Int, Int)] = [
        (inChannels, 16, s1, 3, 1, 1, 1), (16, 16, s1, 3, 1, 1, 4),
        (16, 32, s1, 3, 2, 1, 1), (32, 32, s2, 3, 1, 1, 3), (16, 32, s1, 1, 2, 0, 1),
        (32, 64, s2, 3, 2, 1, 1), (64, 64, s3, 3, 1, 1, 3), (32, 64, s2, 1, 2, 0, 1),
        (64, 128, s3, 3, 2, 1, 1), (128, 128, (s3 + 1) / 2, 3, 1, 1, 3), (64, 128, s3, 1, 2, 0, 1),
    ]
    var rows: [[String: Any]] = []
    for (c, o, h, k, s, p, count) in layers {
        let x = Tensor.randn([128, c, h, h], seed: 3).requiringGrad()
        let w = (Tensor.randn([o, c, k, k], seed: 4) * 0.05).requiringGrad()
        var y = try x.conv2d(w, stride: s, padding: p)
        let gy = Tensor.randn(y.shape, seed: 5)
        let flops = 2.0 * Double(y.count) * Double(c * k * k)
        let tf = try median(reps: 7) { y = try x.conv2d(w, stride: s, padding: p) }
        let tb = try median(reps: 7) { _ = try gradients(of: y, wrt: c == 1 ? [w] : [x, w], seed: gy) }
        let total = flops * (c == 1 ? 2 : 3)
        rows.append(["conv": "\(c)->\(o) \(h)x\(h) k\(k) s\(s)", "count": count,
                     "forward_ms": round3(tf * 1000), "backward_ms": round3(tb * 1000),
                     "gflops": round3(total / (tf + tb) / 1e9)])
    }
    return ["batch": 128, "layers": rows]
}

/// `bnlayers`: training-mode BatchNorm with the residual block's epilogue (+ residual, relu),
/// forward and backward, at each activation shape of ResNet-18 width 16 on 1×28×28 at batch 128,
/// with the bytes it moves per second (forward: read x twice for the statistics, x and the
/// residual once more, write y; backward: read gy, y and x, write the masked gradient; read it and
/// x, write dx — eleven passes of 4 bytes per element).
func benchBatchNormLayers() throws -> [String: Any] {
    var rows: [[String: Any]] = []
    for (c, h) in [(16, 28), (32, 14), (64, 7), (128, 4)] {
        let shape = [128, c, h, h]
        let x = Tensor.randn(shape, seed: 3).requiringGrad(), r = Tensor.randn(shape, seed: 4).requiringGrad()
        let w = Tensor.ones([c]).requiringGrad(), b = Tensor.zeros([c]).requiringGrad()
        func forward() throws -> Tensor {
            try x.batchNorm(weight: w, bias: b, runningMean: nil, runningVar: nil, training: true, residual: r, relu: true)
        }
        var y = try forward()
        let gy = Tensor.randn(shape, seed: 5)
        let tf = try median(reps: 9) { y = try forward() }
        let tb = try median(reps: 9) { _ = try gradients(of: y, wrt: [x, w, b, r], seed: gy) }
        let bytes = 11.0 * 4 * Double(y.count)
        rows.append(["shape": "\(c)x\(h)x\(h)", "forward_ms": round3(tf * 1000), "backward_ms": round3(tb * 1000),
                     "gbytes_per_s": round3(bytes / (tf + tb) / 1e9)])
    }
    return ["batch": 128, "layers": rows]
}

/// MLP 784-512-512-10 with ReLU, mean cross-entropy on a batch of 512.
func benchHVP() throws -> [String: Any] {
    let sizes = [784, 512, 512, 10]
    var params: [Tensor] = []
    for i in 0..<3 {
        let bound = Float(1 / sqrt(Double(sizes[i])))
        params.append(Tensor.rand([sizes[i + 1], sizes[i]], low: -bound, high: bound, seed: UInt64(10 + i)).requiringGrad())
        params.append(Tensor.rand([sizes[i + 1]], low: -bound, high: bound, seed: UInt64(20 + i)).requiringGrad())
    }
    let x = Tensor.rand([512, 784], seed: 7)
    var rng = RandomGenerator(seed: 8)
    let labels = (0..<512).map { _ in rng.int(below: 10) }
    func loss() throws -> Tensor {
        var h = x
        for i in 0..<3 {
            h = try h.matmul(params[2 * i], transposeB: true) + params[2 * i + 1]
            if i < 2 { h = try h.relu() }
        }
        return try crossEntropy(h, labels: labels)
    }
    let v = params.map { Tensor.randn($0.shape, seed: 99) }
    // Interleaved, so that load from elsewhere on the machine hits all three alike.
    var tg: [Double] = [], t1: [Double] = [], ta: [Double] = []
    for rep in 0..<8 {
        let g = try seconds { _ = try gradients(of: try loss(), wrt: params) }
        let o = try seconds { _ = try hvp(try loss(), params: params, v: v) }
        let a = try seconds {
            let op = try HessianVectorProduct(try loss(), params: params)
            for _ in 0..<20 { _ = try op.apply(v) }
        }
        // The first round warms caches and the buffer pool.
        if rep > 0 { tg.append(g); t1.append(o); ta.append(a / 20) }
    }
    func med(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    let tGrad = med(tg), tOneShot = med(t1), tAmortized = med(ta)
    return [
        "model": "MLP 784-512-512-10, batch 512",
        "grad_ms": round3(tGrad * 1000), "hvp_one_shot_ms": round3(tOneShot * 1000),
        "hvp_amortized_ms": round3(tAmortized * 1000),
        "hvp_over_grad_one_shot": round3(tOneShot / tGrad),
        "hvp_over_grad_amortized": round3(tAmortized / tGrad),
    ]
}

/// One SGD training step (forward in train mode, mean cross-entropy, backward, update) at batch 128.
func benchTrainStep(_ name: String, model: Module, input: [Int], reps: Int) throws -> [String: Any] {
    let x = Tensor.rand(input, seed: 11)
    var rng = RandomGenerator(seed: 12)
    let labels = (0..<input[0]).map { _ in rng.int(below: 10) }
    let opt = try SGD(model, lr: 0.01, momentum: 0.9, weightDecay: 5e-4)
    model.train()
    func step() throws {
        let loss = try crossEntropy(try model(x), labels: labels)
        try opt.step(gradients: try gradients(of: loss, wrt: model.parameters(trainableOnly: true)))
    }
    try step()
    GemmCounter.flops = 0
    try step()
    return try SgemmProbe().report(reps: reps, flops: GemmCounter.flops, step)
}

/// The training-step cases by key; `train` runs all, `train:KEY` (e.g. `train:r16_28`) only those named.
nonisolated(unsafe) let trainCases: [(key: String, name: String, reps: Int, make: () throws -> (Module, [Int]))] = [
    ("mlp", "mlp_784_512_512_10", 21, { (try MLP([784, 512, 512, 10], seed: 1), [128, 784]) }),
    ("r16_28", "resnet18_w16_1x28x28", 9, { (try ResNet.resnet18(inChannels: 1, width: 16, seed: 1), [128, 1, 28, 28]) }),
    ("r16_32", "resnet18_w16_3x32x32", 9, { (try ResNet.resnet18(inChannels: 3, width: 16, seed: 1), [128, 3, 32, 32]) }),
    ("r64_32", "resnet18_w64_3x32x32", 5, { (try ResNet.resnet18(inChannels: 3, width: 64, seed: 1), [128, 3, 32, 32]) }),
]

func benchTraining(only keys: Set<String>) throws -> [String: Any] {
    var out: [String: Any] = ["batch": 128]
    for c in trainCases where keys.isEmpty || keys.contains(c.key) {
        let (model, input) = try c.make()
        out[c.name] = try benchTrainStep(c.key, model: model, input: input, reps: c.reps)
    }
    return out
}

/// `profile:KEY[:STEPS]`: STEPS (20) steps of one training case and nothing else (for `perf
/// record`), the median step in ms. LOSSCAPE_BENCH_THREADS=1 (with OPENBLAS_NUM_THREADS=1) makes
/// it one thread.
func profileTraining(_ spec: String) throws -> [String: Any] {
    let parts = spec.split(separator: ":").map(String.init)
    let key = parts.first ?? "", steps = parts.count > 1 ? Int(parts[1]) ?? 20 : 20
    guard let c = trainCases.first(where: { $0.key == key }) else { throw NNError("bench", "no training case '\(key)'") }
    let (model, input) = try c.make()
    let x = Tensor.rand(input, seed: 11)
    var rng = RandomGenerator(seed: 12)
    let labels = (0..<input[0]).map { _ in rng.int(below: 10) }
    let opt = try SGD(model, lr: 0.01, momentum: 0.9, weightDecay: 5e-4)
    model.train()
    let t = try median(reps: steps, warmup: 2) {
        let loss = try crossEntropy(try model(x), labels: labels)
        try opt.step(gradients: try gradients(of: loss, wrt: model.parameters(trainableOnly: true)))
    }
    return [c.name: ["ms": round3(t * 1000)]]
}

func machine() -> [String: Any] {
    var cpu = "unknown"
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
       let name = line.split(separator: ":", maxSplits: 1).last {
        cpu = name.trimmingCharacters(in: .whitespaces)
    }
    return ["cpu": cpu, "cores": ProcessInfo.processInfo.activeProcessorCount,
            "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? ""]
}

let arguments = CommandLine.arguments.dropFirst()
/// `train:KEY` selects training cases (and the train section).
let trainKeys = Set(arguments.filter { $0.hasPrefix("train:") }.map { String($0.dropFirst(6)) })
let wanted = Set(arguments.map { $0.hasPrefix("train:") ? "train" : $0 }.filter { !$0.hasPrefix("profile:") })
/// Sections that run when none is named; the real-data result runs take minutes and run only by name.
func want(_ name: String) -> Bool {
    (wanted.isEmpty && !arguments.contains(where: { $0.hasPrefix("profile:") })) || wanted.contains(name)
}

var report: [String: Any] = ["machine": machine()]
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_THREADS"].flatMap(Int.init), n >= 1 { Parallelism.workers = n }
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_GRAIN"].flatMap(Int.init), n >= 1 { Parallelism.grain = n }
// LOSSCAPE_BENCH_DIRECT=0: every convolution through im2col + sgemm (to compare with the direct kernels).
if ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_DIRECT"] == "0" { DirectConv.enabled = false }
// LOSSCAPE_BENCH_WINOGRAD=0: the layers Winograd's F(2×2, 3×3) takes go through im2col + sgemm instead.
if ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_WINOGRAD"] == "0" { WinogradConv.enabled = false }
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_DIRECT_MIN_STRIDED_WIDTH"].flatMap(Int.init) { DirectConv.minStridedWidth = n }
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_DIRECT_MAX_CHANNELS"].flatMap(Int.init) { DirectConv.maxChannels = n }
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_WINOGRAD_MIN_CHANNELS"].flatMap(Int.init) { WinogradConv.minChannels = n }
if let n = ProcessInfo.processInfo.environment["LOSSCAPE_BENCH_WINOGRAD_BUDGET"].flatMap(Int.init), n >= 1 { WinogradConv.budget = n }
do {
    for a in arguments where a.hasPrefix("profile:") { report["profile"] = try profileTraining(String(a.dropFirst(8))) }
    var sgemmRate: Double? = nil
    if want("sgemm") || want("conv") || want("train") || want("simclr") {
        let s = try benchSgemm()
        report["sgemm_gflops"] = s
        sgemmRate = s["1024"] as? Double
    }
    if want("conv") { report["conv2d"] = try benchConv(sgemmRate: sgemmRate) }
    if want("hvp") { report["hvp"] = try benchHVP() }
    if wanted.contains("convlayers") { report["conv_layers"] = try benchConvLayers() }
    if wanted.contains("convlayers32") { report["conv_layers_3x32x32"] = try benchConvLayers(inChannels: 3, size: 32) }
    if wanted.contains("bnlayers") { report["bn_layers"] = try benchBatchNormLayers() }
    if wanted.contains("lang") { report["lang"] = try benchLanguage() }
    if wanted.contains("results-mlp") { report["results_mlp"] = try resultMLP() }
    if wanted.contains("results-resnet") { report["results_resnet"] = try resultResNet() }
    if want("train") { report["train_step"] = try benchTraining(only: trainKeys) }
    if want("simclr") { report["simclr_step"] = try benchSimCLRStep() }
    if want("measures") { report["measures"] = try benchMeasures() }
} catch {
    FileHandle.standardError.write("losscape-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(data: data, encoding: .utf8)!)
