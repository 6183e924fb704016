// Measures (issue 4): time to the top-10 Hessian eigenvalues, and a RAG pass beside a training
// epoch. scripts/bench-torch.py's `measures` section runs PyTorch's side on the same model
// weights and images.
//   losscape-bench measures
import Data
import Foundation
import NN
import Sharpness
import Tensor
import Train

/// Weights both sides can make without sharing a file: entry k of layer l is
/// bound·(2u − 1), u = fmix32(k + 7919·l) / 2³² (MurmurHash3's 32-bit finalizer), bound =
/// 1/√fan_in (PyTorch's default range). scripts/bench-torch.py builds the same numbers.
func hashedUniform(_ count: Int, layer: Int, bound: Double) -> [Float] {
    (0..<count).map { k in
        var h = UInt32(truncatingIfNeeded: k + 7919 * layer)
        h ^= h >> 16; h &*= 0x85EB_CA6B; h ^= h >> 13; h &*= 0xC2B2_AE35; h ^= h >> 16
        return Float(bound * (2 * Double(h) / 4_294_967_296 - 1))
    }
}

/// The first n Fashion-MNIST training images, pixels in [0, 1] (not normalized).
func fashionMNISTPrefix(_ n: Int) throws -> Dataset {
    try FashionMNIST.load(train: n, test: 1).train
}

/// Top-10 eigenvalues (LM) of MLP 784-512-512-10 (hashed weights) on 512 images, tol 1e-4.
func benchTopEigenvalues() throws -> [String: Any] {
    let images = try fashionMNISTPrefix(512)
    let data = try Dataset(x: images.x.reshaped([512, 784]), y: images.y, name: "fmnist512")
    let net = try MLP([784, 512, 512, 10], seed: 0)
    for (l, p) in net.parameters().enumerated() {
        let fanIn = p.rank == 2 ? p.shape[1] : [784, 512, 512][l / 2]
        try p.assign(Tensor(hashedUniform(p.count, layer: l, bound: 1 / Double(fanIn).squareRoot()), shape: p.shape))
    }
    var result: HessianEigs!
    let t = try seconds {
        result = try hessianEigs(net, data, k: 10, batch: nil, tol: 1e-4, seed: 0, progress: .silent)
    }
    return ["model": "MLP 784-512-512-10 (hashed weights), 512 Fashion-MNIST images, k 10 LM, tol 1e-4",
            "seconds": round3(t), "hvps": result.hvps, "converged": result.converged.filter { $0 }.count,
            "values": result.values.map { ($0 * 1e6).rounded() / 1e6 },
            "max_residual": result.residuals.max() ?? .nan]
}

/// One RAG pass over 10,000 images with ResNet-18 width 16, beside one training epoch (SGD,
/// batch 128) over the same images; interleaved twice, the faster of each kept.
func benchRAGPass() throws -> [String: Any] {
    let data = try fashionMNISTPrefix(10_000)
    let net = try ResNet.resnet18(inChannels: 1, classes: 10, width: 16, seed: 0)
    let opt = try SGD(net, lr: 0.01, momentum: 0.9, weightDecay: 5e-4)
    var epochs: [Double] = [], passes: [Double] = []
    var last: RAGResult!
    var options = FitOptions()
    options.seed = 0
    options.progress = { label, total in ProgressReporter(label, total: total, unit: "batch", sink: { _ in }) }
    for _ in 0..<2 {
        var h = History()
        epochs.append(try seconds { try fit(net, data, opt, epochs: 1, batch: 128, options: options, into: &h) })
        passes.append(try seconds { last = try rag(net, data, batch: 128, step: 0.1, seed: 0, progress: .silent) })
    }
    let epoch = epochs.min()!, pass = passes.min()!
    return ["model": "ResNet-18 width 16, 10000 Fashion-MNIST images, batch 128",
            "rag_seconds": round3(pass), "epoch_seconds": round3(epoch), "rag_over_epoch": round3(pass / epoch),
            "rag_seconds_all": passes.map(round3), "epoch_seconds_all": epochs.map(round3),
            "rag": round3(last.rag), "loss_adv": round3(last.lossAdv), "loss": round3(last.loss)]
}

func benchMeasures() throws -> [String: Any] {
    ["top10_eigenvalues": try benchTopEigenvalues(), "rag_pass": try benchRAGPass()]
}
