extension Tensor {
    /// Batch normalization over the channel axis 1 of [N, C] or [N, C, H, W], as PyTorch's
    /// `F.batch_norm`. Training uses the batch's statistics (biased variance) and, when running
    /// buffers are given, updates them in place with `momentum`, the variance unbiased (n/(n − 1)).
    /// Evaluation uses the running buffers. With `residual` and/or `relu` the result is
    /// relu(batchNorm(x) + residual), a residual block's epilogue, fused into the same passes.
    ///
    ///     let y = try x.batchNorm(weight: g, bias: b, runningMean: rm, runningVar: rv, training: true)
    public func batchNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                          training: Bool, momentum: Float = 0.1, eps: Float = 1e-5,
                          residual: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        guard rank == 2 || rank == 4 else {
            throw TensorError("batch_norm", "input must be [N, C] or [N, C, H, W], got \(shapeText(shape))")
        }
        let c = shape[1]
        for (name, t) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
            if let t, t.shape != [c] {
                throw TensorError("batch_norm", "\(name) of shape \(shapeText(t.shape)) for \(c) channels (input \(shapeText(shape)))")
            }
        }
        if let residual, residual.shape != shape {
            throw TensorError("batch_norm", "residual of shape \(shapeText(residual.shape)) for input \(shapeText(shape))")
        }
        let axes = rank == 2 ? [0] : [0, 2, 3]
        let n = axes.reduce(1) { $0 * shape[$1] }
        if training {
            guard n > 1 else {
                throw TensorError("batch_norm", "expected more than 1 value per channel when training, got input \(shapeText(shape))")
            }
            let (y, mean, variance) = batchNormTraining(weight: weight, bias: bias, eps: eps, residual: residual, relu: relu)
            if let runningMean, let runningVar {
                // PyTorch: running = (1 − momentum)·running + momentum·batch, variance unbiased.
                let m = Double(momentum), unbias = Double(n) / Double(n - 1)
                for ch in 0..<c {
                    runningMean.ptr[ch] = Float((1 - m) * Double(runningMean.ptr[ch]) + m * mean[ch])
                    runningVar.ptr[ch] = Float((1 - m) * Double(runningVar.ptr[ch]) + m * variance[ch] * unbias)
                }
            }
            return y
        }
        guard let runningMean, let runningVar else {
            throw TensorError("batch_norm", "evaluation needs running_mean and running_var")
        }
        // Evaluation is an affine map per channel: scale = w/√(var + eps), shift = b − mean·scale.
        let invStd = try (runningVar.detached() + eps).pow(-0.5)
        let scale = try weight.map { try invStd * $0 } ?? invStd
        let shiftFromMean = try -(runningMean.detached() * scale)
        let shift = try bias.map { try $0 + shiftFromMean } ?? shiftFromMean
        var y = try channelAffine(scale: scale, shift: shift)
        if let residual { y = try y + residual }
        return relu ? try y.relu() : y
    }

    /// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p).
    public func dropout(_ p: Float, training: Bool = true, using rng: inout RandomGenerator) throws -> Tensor {
        guard p >= 0 && p < 1 else { throw TensorError("dropout", "probability \(p) is outside [0, 1)") }
        guard training && p > 0 else { return self }
        let mask = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count { mask.ptr[i] = rng.uniform() < p ? 0 : keep }
        return try self * mask
    }

    /// Overwrites the values in place with `other`'s (same shape), outside any graph.
    public func assign(_ other: Tensor) throws {
        guard other.shape == shape else {
            throw TensorError("assign", "cannot assign \(shapeText(other.shape)) to \(shapeText(shape))")
        }
        if other.storage !== storage { ptr.update(from: other.ptr, count: count) }
    }
}
