// Real-data results (RESULTS.md): full Fashion-MNIST, trained from Swift through the Train layer.
//   losscape-bench results-mlp | results-resnet
import Data
import Foundation
import NN
import Tensor
import Train

/// Loads all 60,000 / 10,000 images, normalized with the training set's per-channel statistics.
func fashionMNIST() throws -> (train: Dataset, test: Dataset, stats: ChannelStats) {
    let raw = try FashionMNIST.load()
    let stats = raw.train.channelStats()
    return (try raw.train.normalized(with: stats), try raw.test.normalized(with: stats), stats)
}

/// MLP 784-256-10, SGD with momentum, 15 epochs.
func resultMLP() throws -> [String: Any] {
    let (train, test, _) = try fashionMNIST()
    func flat(_ d: Dataset) throws -> Dataset { try Dataset(x: d.x.reshaped([d.count, 784]), y: d.y, name: d.name) }
    let net = try MLP([784, 256, 10], seed: 0)
    let opt = try SGD(net, lr: 0.05, momentum: 0.9, weightDecay: 5e-4)
    let epochs = 15
    let start = Date()
    let history = try fit(net, try flat(train), opt, epochs: epochs, batch: 128,
                          schedule: .cosine(tMax: epochs, etaMin: 0), test: try flat(test), seed: 0)
    return summary(history, "MLP 784-256-10, SGD lr 0.05 momentum 0.9 wd 5e-4, cosine, batch 128", epochs, start)
}

/// ResNet-18 width 16, SGD with momentum, random crop (padding 2) + flip, 10 epochs.
func resultResNet() throws -> [String: Any] {
    let (train, test, _) = try fashionMNIST()
    let net = try ResNet.resnet18(inChannels: 1, classes: 10, width: 16, seed: 0)
    let opt = try SGD(net, lr: 0.1, momentum: 0.9, weightDecay: 5e-4)
    let epochs = 10
    // Crop padding fills with zeros in normalized space, i.e. with the mean intensity: harmless.
    let augment = Augmentation.cifar(size: 28, padding: 2)
    let start = Date()
    let history = try fit(net, train, opt, epochs: epochs, batch: 128, schedule: .cosine(tMax: epochs, etaMin: 0),
                          test: test, seed: 0, transform: { x, rng in try augment(x, rng: &rng) })
    return summary(history, "ResNet-18 width 16 (kuangliu), SGD lr 0.1 momentum 0.9 wd 5e-4, cosine, batch 128, crop 2 + flip",
                   epochs, start)
}

func summary(_ h: History, _ recipe: String, _ epochs: Int, _ start: Date) -> [String: Any] {
    let acc = h.numbers("test_acc") ?? []
    return ["recipe": recipe, "epochs": epochs, "wall_seconds": round3(Date().timeIntervalSince(start)),
            "test_acc": acc.map(round3), "final_test_acc": round3(acc.last ?? .nan),
            "train_loss": (h.numbers("train_loss") ?? []).map(round3)]
}
