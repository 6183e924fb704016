import Foundation

/// Counts of values in equal-width bins. Non-finite values are left out (and counted in `skipped`).
///
///     let h = try Histogram(values, bins: 20); print(h.edges, h.counts)
public struct Histogram: Sendable, Equatable {
    /// How bar heights are scaled.
    public enum Scale: String, Sendable {
        /// Values per bin.
        case count
        /// Fraction of the values per bin (heights sum to 1).
        case probability
        /// Fraction per unit of x (areas sum to 1), comparable with a density curve.
        case density
    }

    /// Bin edges, one more than the bins; bins are [edges[i], edges[i+1]), the last one closed.
    public let edges: [Double]
    /// Bar heights, scaled as asked.
    public let counts: [Double]
    /// How many values were NaN or infinite.
    public let skipped: Int

    /// Bins `values` into `bins` equal bins over their range, or bins of `binWidth` aligned to
    /// multiples of it; with neither, 2·∛n bins (the Rice rule).
    ///
    ///     try Histogram(losses, binWidth: 0.1, scale: .density)
    public init(_ values: [Double], bins: Int? = nil, binWidth: Double? = nil, scale: Scale = .count) throws {
        let finite = values.filter(\.isFinite)
        skipped = values.count - finite.count
        guard let lo = finite.min(), let hi = finite.max() else {
            throw PlotError(.invalidData, "histogram: no finite values to count")
        }
        if let bins, bins < 1 { throw PlotError(.invalidData, "histogram: bins must be at least 1, got \(bins)") }
        if let binWidth, !(binWidth > 0 && binWidth.isFinite) {
            throw PlotError(.invalidData, "histogram: binWidth must be positive, got \(binWidth)")
        }
        if bins != nil, binWidth != nil { throw PlotError(.invalidData, "histogram: give bins or binWidth, not both") }

        var edges: [Double]
        if let w = binWidth {
            let first = (lo / w).rounded(.down), last = Swift.max((hi / w).rounded(.down) + 1, first + 1)
            guard last - first <= 1_000_000 else {
                throw PlotError(.invalidData, "histogram: binWidth \(w) makes \(last - first) bins over [\(lo), \(hi)], more than 1,000,000")
            }
            edges = stride(from: first, through: last, by: 1).map { $0 * w }
        } else {
            let n = bins ?? Swift.max(1, Int((2 * Foundation.cbrt(Double(finite.count)) - 1e-9).rounded(.up)))
            guard (hi - lo).isFinite else {
                throw PlotError(.invalidData, "histogram: the range [\(lo), \(hi)] is too wide to split into bins")
            }
            // All values equal: a bin around them (unit-wide, or wider where 0.5 is lost in the
            // value's rounding), rather than a zero-width one.
            let pad = Swift.max(0.5, lo.magnitude.ulp * 4)
            let (a, b) = hi > lo ? (lo, hi) : (lo - pad, hi + pad)
            edges = (0 ... n).map { a + (b - a) * Double($0) / Double(n) }
            edges[n] = b
        }
        let n = edges.count - 1
        var counts = [Double](repeating: 0, count: n)
        let a = edges[0], span = edges[n] - edges[0]
        for v in finite {
            let t = ((v - a) / span * Double(n)).rounded(.down)
            // Rounding can put a value one bin off its edge: settle it against the edges themselves.
            var i = t.isFinite ? Int(Swift.min(Swift.max(t, 0), Double(n - 1))) : 0
            while i > 0, v < edges[i] { i -= 1 }
            while i < n - 1, v >= edges[i + 1] { i += 1 }
            counts[i] += 1
        }
        switch scale {
        case .count: break
        case .probability: counts = counts.map { $0 / Double(finite.count) }
        case .density: counts = counts.indices.map { counts[$0] / Double(finite.count) / (edges[$0 + 1] - edges[$0]) }
        }
        self.edges = edges
        self.counts = counts
    }

    /// Bin centers.
    public var centers: [Double] { counts.indices.map { (edges[$0] + edges[$0 + 1]) / 2 } }
}

extension Series {
    /// A histogram of `values` (see `Histogram` for the binning); bars are semi-transparent, so
    /// two histograms can overlap.
    ///
    ///     .histogram(weights, bins: 50, scale: .density, label: "layer1")
    public static func histogram(_ values: [Double], bins: Int? = nil, binWidth: Double? = nil,
                                 scale: Histogram.Scale = .count, label: String? = nil, color: String? = nil) throws -> Series {
        Series(.histogram(try Histogram(values, bins: bins, binWidth: binWidth, scale: scale)), label: label, color: color)
    }

    /// A histogram already binned.
    ///
    ///     .histogram(try Histogram(values, bins: 30))
    public static func histogram(_ histogram: Histogram, label: String? = nil, color: String? = nil) -> Series {
        Series(.histogram(histogram), label: label, color: color)
    }

    /// A density curve through `(x[i], density[i])`, filled down to zero unless `filled` is false
    /// (the spectral density of a Hessian, a kernel density estimate).
    ///
    ///     .density(x: esd.x, density: esd.density, label: "ESD")
    public static func density(x: [Double], density: [Double], filled: Bool = true, label: String? = nil,
                               color: String? = nil) -> Series {
        Series(.density(x: x, density: density, filled: filled), label: label, color: color)
    }
}

extension Figure {
    func histogramElement(_ h: Histogram, _ s: Series, _ c: inout PlotContext) throws -> [String] {
        let widths = h.counts.indices.map { h.edges[$0 + 1] - h.edges[$0] }
        let block = c.writer.datablock(columns(h.centers, h.counts, widths))
        return ["\(block) using 1:2:3\(c.axes(s)) with boxes \(c.color(s)) lw 1 fs transparent solid 0.55 border \(c.title(s))"]
    }

    func densityElement(_ x: [Double], _ d: [Double], _ filled: Bool, _ s: Series,
                        _ c: inout PlotContext) throws -> [String] {
        try checkLengths("density \(s.name)", [("x", x), ("density", d)])
        let logY = c.logY(s)
        try checkDrawable("density \(s.name)", x: x, y: d, logX: self.x.log, logY: logY)
        let block = c.writer.datablock(columns(x, d))
        let color = c.color(s)
        let axes = c.axes(s)
        let line = "\(block) using 1:2\(axes) with lines \(color) \(s.lineStyle) \(c.title(s))"
        guard filled else { return [line] }
        // On a log axis there is no zero to fill down to: fill to the smallest positive value.
        let base = logY ? (d.filter { $0 > 0 && $0.isFinite }.min() ?? 1) : 0
        return ["\(block) using 1:2\(axes) with filledcurves y1=\(gp(base)) \(color) fs transparent solid 0.25 noborder notitle", line]
    }
}
