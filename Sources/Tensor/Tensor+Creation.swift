extension Tensor {
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(storage: Storage(zeros: shape.reduce(1, *)), shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { full(1, shape: shape) }

    public static func full(_ value: Float, shape: [Int]) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.ptr.initialize(repeating: value, count: t.count)
        return t
    }

    /// start, start + step, … below end (as NumPy's arange).
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError("arange", "step must be finite and nonzero, got \(step)")
        }
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Float($0) * step }, shape: [n])
    }

    /// Standard normal entries from `rng` (see `RandomGenerator` for the exact stream).
    public static func randn(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.ptr[i] = Float(rng.normal()) }
        return t
    }

    /// Uniform entries in [lo, hi) from `rng`.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.ptr[i] = low + (high - low) * rng.uniform() }
        return t
    }

    /// Seeded convenience forms.
    public static func randn(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return randn(shape, using: &rng)
    }

    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return rand(shape, low: low, high: high, using: &rng)
    }

    /// A copy with its own storage (not part of any graph).
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.ptr.update(from: ptr, count: count)
        return t
    }
}
