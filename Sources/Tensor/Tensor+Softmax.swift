import Foundation

extension Tensor {
    /// log Σ exp(x) along `axis`, computed stably (max subtracted first).
    public func logsumexp(axis: Int = -1, keepDims: Bool = false) throws -> Tensor {
        let ax = try normalizeAxis(axis, op: "logsumexp")
        guard rank > 0, shape[ax] > 0 else { throw TensorError("logsumexp", "empty axis in \(shapeText(shape))") }
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var keptShape = shape
        keptShape[ax] = 1
        let out = Tensor(uninitializedShape: keptShape)
        let x = ptr, o = out.ptr
        parallelFor(outer * inner, grain: Swift.max(1, 4096 / n)) { r in
            for k in r {
                let base = (k / inner) * n * inner + k % inner
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, x[base + j * inner]) }
                if m == -.infinity { o[k] = -.infinity; continue }
                var s = 0.0
                for j in 0..<n { s += Foundation.exp(Double(x[base + j * inner] - m)) }
                o[k] = m + Float(Foundation.log(s))
            }
        }
        let res = keepDims ? out : Tensor(storage: out.storage, shape: shape.enumerated().filter { $0.offset != ax }.map(\.element))
        let src = shape
        // `res` unowned: it owns this node, so a strong capture would be a retain cycle (a leak).
        return Tensor.result(res, op: "logsumexp", inputs: [self]) { [unowned res] g, _ in
            // d/dx = softmax(x) = exp(x − lse), written with differentiable ops (so d² works).
            let lse = try res.reshaped(keptShape)
            return [try g.reshaped(keptShape).broadcast(to: src) * (try (self - lse).exp())]
        }
    }

    /// log softmax along `axis`.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        try self - logsumexp(axis: axis, keepDims: true)
    }

    /// softmax along `axis`.
    public func softmax(axis: Int = -1) throws -> Tensor {
        try logSoftmax(axis: axis).exp()
    }
}

/// One-hot rows for integer labels; throws when a label is out of range or not a whole number.
public func oneHot(_ labels: [Int], classes: Int, op: String = "one_hot") throws -> Tensor {
    let out = Tensor(storage: Storage(zeros: labels.count * classes), shape: [labels.count, classes])
    for (i, y) in labels.enumerated() {
        guard y >= 0 && y < classes else {
            throw TensorError(op, "label \(y) at row \(i) is out of range for \(classes) classes")
        }
        out.ptr[i * classes + y] = 1
    }
    return out
}

/// Mean cross-entropy of logits [N, C] against integer labels, as PyTorch's
/// `F.cross_entropy(logits, y, label_smoothing: s)`: the target is (1 − s)·onehot + s/C.
///
///     let loss = try crossEntropy(logits, labels: [3, 0, 1])
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) throws -> Tensor {
    guard logits.rank == 2 else {
        throw TensorError("cross_entropy", "logits must be [N, C], got \(shapeText(logits.shape))")
    }
    guard labels.count == logits.shape[0] else {
        throw TensorError("cross_entropy", "\(labels.count) labels for logits of shape \(shapeText(logits.shape))")
    }
    guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
        throw TensorError("cross_entropy", "label smoothing \(labelSmoothing) is outside [0, 1]")
    }
    let c = logits.shape[1]
    var target = try oneHot(labels, classes: c, op: "cross_entropy")
    if labelSmoothing > 0 { target = withNoGrad { target * (1 - labelSmoothing) + labelSmoothing / Float(c) } }
    let n = Float(Swift.max(labels.count, 1))
    return try -((logits.logSoftmax(axis: 1) * target).sum()) / n
}

/// Labels stored as whole-number floats (as data sets hold them) → Ints, checked.
public func integerLabels(_ y: Tensor, op: String = "labels") throws -> [Int] {
    try y.scalars.enumerated().map { (i: Int, v: Float) throws -> Int in
        guard v == v.rounded(), Swift.abs(v) < 16_777_216 else {
            throw TensorError(op, "label \(v) at row \(i) is not a whole number")
        }
        return Int(v)
    }
}
