import Tensor

/// Mean cross-entropy of logits [N, C] against integer labels, as PyTorch's
/// `F.cross_entropy(logits, y, label_smoothing: s)` (reduction mean): with smoothing the target
/// is (1 − s)·onehot(y) + s/C.
///
///     let loss = try crossEntropyLoss(net(x), labels: [3, 1, 0])
public func crossEntropyLoss(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) throws -> Tensor {
    try crossEntropy(logits, labels: labels, labelSmoothing: labelSmoothing)
}

/// The same with labels held in a tensor of whole numbers (as data sets hold them).
///
///     let loss = try crossEntropyLoss(net(batch.x), labels: batch.y)
public func crossEntropyLoss(_ logits: Tensor, labels: Tensor, labelSmoothing: Float = 0) throws -> Tensor {
    guard labels.rank == 1 else {
        throw TensorError("cross_entropy", "labels must be a 1-D tensor, got shape \(shapeText(labels.shape))")
    }
    return try crossEntropy(logits, labels: integerLabels(labels, op: "cross_entropy"), labelSmoothing: labelSmoothing)
}

/// Mean squared error, mean over every element (PyTorch's `F.mse_loss`, reduction mean). The
/// shapes must be equal (PyTorch would broadcast with a warning; here it is an error).
///
///     let loss = try mseLoss(net(x), y)
public func mseLoss(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
    guard prediction.shape == target.shape else {
        throw TensorError("mse_loss", "prediction \(shapeText(prediction.shape)) and target \(shapeText(target.shape)) differ in shape")
    }
    let d = try prediction - target
    return try (d * d).mean()
}
