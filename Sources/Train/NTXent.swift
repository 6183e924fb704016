import Tensor

/// SimCLR's NT-Xent loss (normalized temperature-scaled cross-entropy; Chen et al. 2020, eq. 1)
/// on a 2N×d batch of embeddings whose rows i and i + N are the two views of image i.
///
/// Each row is L2-normalized (as PyTorch's `F.normalize`, dividing by max(‖z‖, 1e-12)); the
/// similarities s_ij = u_i·u_j / τ of a row with the 2N − 1 other rows are the logits of a
/// softmax whose target is the row's twin, so its 2N − 2 other rows are negatives; the loss is
/// the mean over all 2N rows of −log softmax(s_i)[twin(i)]. The row's similarity with itself is
/// left out exactly (a logit of −1e9, whose softmax weight is 0 in Float32 — −∞ would make the
/// one-hot product 0·∞ = NaN); every step is differentiable twice, so the Hessian of a
/// contrastive objective is available too.
///
///     let loss = try ntXent(encoderAndHead(views), temperature: 0.5)
public func ntXent(_ z: Tensor, temperature: Double = 0.5) throws -> Tensor {
    guard z.rank == 2, z.shape[0] >= 2, z.shape[0] % 2 == 0, z.shape[1] >= 1 else {
        throw TrainError("nt_xent", "needs a 2N×d tensor with N ≥ 1 (rows i and i + N the two views of image i), got shape \(shapeText(z.shape))")
    }
    guard temperature > 0, temperature.isFinite else {
        throw TrainError("nt_xent", "temperature must be positive, got \(temperature)")
    }
    let rows = z.shape[0], n = rows / 2
    let norms = try (z * z).sum(axes: [1], keepDims: true).sqrt().clamp(min: 1e-12)
    let u = try z / norms
    let similarity = try u.matmul(u, transposeB: true) * Float(1 / temperature)
    let diagonal = Tensor.zeros([rows, rows])
    diagonal.withUnsafeMutableBufferPointer { p in for i in 0 ..< rows { p[i * rows + i] = 1 } }
    let logits = try Tensor.where(diagonal, Tensor.full(-1e9, shape: [1]), similarity)
    let twins = (0 ..< rows).map { $0 < n ? $0 + n : $0 - n }
    return try crossEntropy(logits, labels: twins)
}
