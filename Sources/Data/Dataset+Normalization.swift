import Tensor

/// Per-channel mean and standard deviation (population, over items and positions). The channel is
/// axis 1 of `x` (C of N×C×H×W, each feature of N×D); a 1-D `x` is one channel.
///
///     let s = d.channelStats(); print(s.mean, s.std)
public struct ChannelStats: Sendable, Equatable, CustomStringConvertible {
    /// Per-channel means.
    public let mean: [Float]
    /// Per-channel population standard deviations.
    public let std: [Float]

    /// `ChannelStats(mean: [0.2860], std: [0.3530])`.
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// `mean [m…], std [s…]`.
    public var description: String { "mean \(mean), std \(std)" }

    /// Statistics from per-channel histograms of byte values scaled by 1/255 (exact, one pass over
    /// the raw pixels: how loaders get the full training set's statistics cheaply).
    init(byteHistograms h: [[Int]]) {
        var mean: [Float] = [], std: [Float] = []
        for counts in h {
            let n = Double(counts.reduce(0, +))
            var s = 0.0, s2 = 0.0
            for (v, c) in counts.enumerated() {
                let x = Double(v) / 255
                s += Double(c) * x
                s2 += Double(c) * x * x
            }
            let m = n > 0 ? s / n : 0
            mean.append(Float(m))
            std.append(Float(n > 0 ? max(s2 / n - m * m, 0).squareRoot() : 0))
        }
        self.init(mean: mean, std: std)
    }
}

extension Dataset {
    /// Mean and population standard deviation of each channel of `x`, accumulated in Double.
    ///
    ///     let stats = data.train.channelStats()
    public func channelStats() -> ChannelStats {
        let (channels, inner) = channelLayout
        var mean = [Double](repeating: 0, count: channels), m2 = [Double](repeating: 0, count: channels)
        let perChannel = Double(count * inner)
        guard perChannel > 0 else { return ChannelStats(mean: mean.map(Float.init), std: m2.map(Float.init)) }
        x.withUnsafeBufferPointer { v in
            // Two passes (mean, then squared deviations): no cancellation for data far from zero.
            for n in 0 ..< count { for c in 0 ..< channels {
                let base = (n * channels + c) * inner
                var s = 0.0
                for k in 0 ..< inner { s += Double(v[base + k]) }
                mean[c] += s
            } }
            for c in 0 ..< channels { mean[c] /= perChannel }
            for n in 0 ..< count { for c in 0 ..< channels {
                let base = (n * channels + c) * inner, m = mean[c]
                var s = 0.0
                for k in 0 ..< inner { let d = Double(v[base + k]) - m; s += d * d }
                m2[c] += s
            } }
        }
        return ChannelStats(mean: mean.map { Float($0) }, std: m2.map { Float(($0 / perChannel).squareRoot()) })
    }

    /// `x` standardized per channel: (x − mean) / std. A channel whose std is 0 is only centred.
    /// The stats are recorded in `normalization` (apply a training set's stats to its test sets).
    ///
    ///     let test = try data.test.normalized(with: data.train.channelStats())
    public func normalized(with stats: ChannelStats) throws -> Dataset {
        let (channels, inner) = channelLayout
        guard stats.mean.count == channels, stats.std.count == channels else {
            throw DataError(name, "normalization has \(stats.mean.count) means and \(stats.std.count) stds but x has \(channels) channels (shape \(shapeText(x.shape)))")
        }
        let out = x.copy()
        out.withUnsafeMutableBufferPointer { v in
            for n in 0 ..< count { for c in 0 ..< channels {
                let base = (n * channels + c) * inner, m = stats.mean[c]
                let s = stats.std[c] > 0 ? 1 / stats.std[c] : 1
                for k in 0 ..< inner { v[base + k] = (v[base + k] - m) * s }
            } }
        }
        return Dataset(x: out, labels: labels, name: name, classNames: classNames, normalization: stats)
    }

    /// `x` standardized with its own per-channel statistics.
    ///
    ///     let z = try d.normalized()
    public func normalized() throws -> Dataset { try normalized(with: channelStats()) }

    /// (channels, elements per channel per item).
    var channelLayout: (Int, Int) {
        x.rank <= 1 ? (1, 1) : (x.shape[1], x.shape.dropFirst(2).reduce(1, *))
    }
}

extension Dataset {
    /// The pixels before `normalized(with:)`: x·std + mean per channel (a channel with std 0 was
    /// only centred), and no normalization recorded; the data set itself when it records none.
    /// Augmentations that clamp to [0, 1] (colour jitter) need these.
    ///
    ///     let pixels = try fashion.normalized().denormalized()   // back in [0, 1]
    public func denormalized() -> Dataset {
        guard let stats = normalization else { return self }
        let (channels, inner) = channelLayout
        let out = x.copy()
        out.withUnsafeMutableBufferPointer { v in
            for n in 0 ..< count { for c in 0 ..< channels {
                let base = (n * channels + c) * inner, m = stats.mean[c]
                let s = stats.std[c] > 0 ? stats.std[c] : 1
                for k in 0 ..< inner { v[base + k] = v[base + k] * s + m }
            } }
        }
        return Dataset(x: out, labels: labels, name: name, classNames: classNames, normalization: nil)
    }
}
