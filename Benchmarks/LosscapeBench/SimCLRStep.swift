import Data
import NN
import Tensor
import Train

/// One SimCLR pre-training step as issue 7 measures it: 2 × 256 views of 1×28×28 images through
/// ResNet-18 width 16 (headless) and the 128 → 128 → 128 projection head, NT-Xent (τ 0.5),
/// backward, Adam. `ms` is the model step on views made beforehand (what PyTorch's side times,
/// its augmentation running in data-loader workers); `augment_ms` is making the 512 views here.
func benchSimCLRStep() throws -> [String: Any] {
    let encoder = try ResNet.resnet18(inChannels: 1, width: 16, headless: true, seed: 1)
    var rng = RandomGenerator(seed: 2)
    let model = SimCLRModel(encoder: encoder, head: try projectionHead(features: encoder.featureCount, rng: &rng))
    let adam = try Adam(model, lr: 1e-3)
    let images = Tensor.rand([256, 1, 28, 28], seed: 3)
    let augmentation = Augmentation.simclr()
    var views = try augmentation.pairedViews(images, rng: &rng)
    let augment = try median(reps: 5) { views = try augmentation.pairedViews(images, rng: &rng) }
    model.train()
    func step() throws {
        let loss = try ntXent(try model(views), temperature: 0.5)
        try adam.step(gradients: try gradients(of: loss, wrt: model.parameters(trainableOnly: true)))
    }
    try step()
    GemmCounter.flops = 0
    try step()
    var out = try SgemmProbe().report(reps: 7, flops: GemmCounter.flops, step)
    out["views"] = "2 x 256, 1x28x28"
    out["augment_ms"] = round3(augment * 1000)
    return out
}
