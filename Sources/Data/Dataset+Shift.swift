import Tensor

extension Dataset {
    /// The same images under a fixed, deterministic distribution shift: each image translated by
    /// `dx` pixels to the right and `dy` down (negative: left, up; the uncovered border is 0, black),
    /// then its contrast scaled by `contrast` around its own mean grey level (torchvision's
    /// `adjust_contrast`: x ← f·x + (1 − f)·mean), clamped to [0, 1]. The shift acts on pixels: a
    /// normalized set is taken back to its pixels, shifted, and standardized again with the same
    /// statistics (it keeps its `normalization`). Labels are unchanged.
    ///
    /// This is the CPU-scale stand-in for CIFAR-10.1 (a test set drawn a little differently from
    /// the training distribution), which has no Fashion-MNIST twin.
    ///
    ///     let shifted = try data.test.shifted(dx: 2, dy: 2, contrast: 0.7)
    public func shifted(dx: Int, dy: Int, contrast: Float = 1) throws -> Dataset {
        guard x.rank == 4 else {
            throw DataError(name, "a shift needs images N×C×H×W, got x of shape \(shapeText(x.shape))")
        }
        guard contrast.isFinite, contrast >= 0 else {
            throw DataError(name, "contrast must be a finite number ≥ 0, got \(contrast)")
        }
        let s = ImageShape(c: x.shape[1], h: x.shape[2], w: x.shape[3])
        let pixels = denormalized()
        let out = Tensor.zeros(x.shape)
        pixels.x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let sp = src.baseAddress, let dp = dst.baseAddress else { return }
                for n in 0 ..< count {
                    let image = dp + n * s.count
                    translate(sp + n * s.count, into: image, s, dx: dx, dy: dy)
                    if contrast != 1 { adjustContrast(image, s, contrast) }
                }
            }
        }
        let moved = Dataset(x: out, labels: labels, name: name + "+shift", classNames: classNames, normalization: nil)
        return try normalization.map { try moved.normalized(with: $0) } ?? moved
    }
}

/// dst[c][y][x] = src[c][y − dy][x − dx] where that pixel exists, else 0 (`dst` starts zeroed).
private func translate(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ s: ImageShape,
                       dx: Int, dy: Int) {
    let x0 = max(0, dx), x1 = min(s.w, s.w + dx)
    guard x0 < x1 else { return }
    for c in 0 ..< s.c {
        for y in max(0, dy) ..< max(max(0, dy), min(s.h, s.h + dy)) {
            let from = src + c * s.plane + (y - dy) * s.w + (x0 - dx)
            (dst + c * s.plane + y * s.w + x0).update(from: from, count: x1 - x0)
        }
    }
}
