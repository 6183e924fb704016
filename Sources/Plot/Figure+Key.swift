import Foundation

extension Figure {
    /// The inside corner whose legend box would cover no data, or `.below` when every corner
    /// would (or a heatmap or contour fills the plot): the data of each series, scaled to the unit square its axes span, is tested against
    /// the box the legend's entries are estimated to need.
    func bestKeyPlace() -> Key {
        let titled = series.compactMap(\.label)
        guard !titled.isEmpty else { return .topRight }
        var left: [(Double, Double)] = [], right: [(Double, Double)] = []
        for s in series {
            let samples = keySamples(s)
            if samples == nil { return .below }  // a grid fills the plot, and its color bar the right
            if s.axis == .right { right += samples! } else { left += samples! }
        }
        let tx: (Double) -> Double? = axisTransform(x.log)
        let xs = (left + right).compactMap { tx($0.0) }
        guard let xr = span(xs, x, tx) else { return .topRight }
        var points: [(Double, Double)] = []
        for (samples, axis) in [(left, y), (right, y2)] where !samples.isEmpty {
            let ty = axisTransform(axis.log)
            guard let yr = span(samples.compactMap { ty($0.1) }, axis, ty) else { continue }
            for (a, b) in samples {
                guard let u = tx(a), let v = ty(b) else { continue }
                points.append(((u - xr.0) / (xr.1 - xr.0), (v - yr.0) / (yr.1 - yr.0)))
            }
        }

        // The legend box in fractions of the plot area (margins take about 130 × 110 pixels).
        let charWidth = fontSize * 0.62, lineHeight = fontSize * 1.55
        let longest = Double(titled.map(\.count).max() ?? 0)
        let boxWidth = ((longest + 7) * charWidth + 12) / Double(Swift.max(width - 130, 50))
        let boxHeight = (Double(titled.count) * lineHeight + 12) / Double(Swift.max(height - 110, 50))
        let pad = 0.02
        func covered(_ right: Bool, _ top: Bool) -> Int {
            let x0 = right ? 1 - boxWidth - pad : -pad, x1 = right ? 1 + pad : boxWidth + pad
            let y0 = top ? 1 - boxHeight - pad : -pad, y1 = top ? 1 + pad : boxHeight + pad
            return points.count { $0.0 >= x0 && $0.0 <= x1 && $0.1 >= y0 && $0.1 <= y1 }
        }
        let corners: [(Key, Int)] = [(.topRight, covered(true, true)), (.topLeft, covered(false, true)),
                                     (.bottomRight, covered(true, false)), (.bottomLeft, covered(false, false))]
        let best = corners.min { $0.1 < $1.1 }!  // min keeps the first of equals: top right first
        return best.1 == 0 ? best.0 : .below
    }

    /// Points a series covers, in data coordinates: its points, with lines sampled between them
    /// and bars filled from their base; nil for a grid, which covers the plot.
    private func keySamples(_ s: Series) -> [(Double, Double)]? {
        func line(_ x: [Double], _ y: [Double]) -> [(Double, Double)] {
            let n = Swift.min(x.count, y.count)
            let stride = Swift.max(1, n / 2000)
            let idx = Array(Swift.stride(from: 0, to: n, by: stride))
            var out: [(Double, Double)] = []
            for (k, i) in idx.enumerated() {
                out.append((x[i], y[i]))
                if k + 1 < idx.count {
                    let j = idx[k + 1]
                    // Sample between neighbours in the axes' own scales, where the line is straight.
                    for t in 1 ..< 8 {
                        let f = Double(t) / 8
                        out.append((mix(x[i], x[j], f, self.x.log), mix(y[i], y[j], f, s.axis == .right ? y2.log : self.y.log)))
                    }
                }
            }
            return out
        }
        func filled(_ x: [Double], _ top: [Double], from base: Double) -> [(Double, Double)] {
            zip(x, top).flatMap { a, b in (0 ... 8).map { (a, base + (b - base) * Double($0) / 8) } }
        }
        switch s.kind {
        case let .xy(x, y, _): return line(x, y)
        case let .errorBars(x, m, sd, _), let .band(x, m, sd):
            return line(x, zip(m, sd).map { $0 - $1 }) + line(x, m) + line(x, zip(m, sd).map { $0 + $1 })
        case let .density(x, d, filled: f):
            return f && !y.log ? filled(x, d, from: 0) + line(x, d) : line(x, d)
        case let .bars(_, v):
            let base = y.log ? (v.filter { $0 > 0 }.min() ?? 1) / 10 : 0
            return filled(v.indices.map(Double.init), v, from: base)
        case let .histogram(h):
            return filled(h.centers, h.counts, from: y.log ? (h.counts.filter { $0 > 0 }.min() ?? 1) / 10 : 0)
        case .heatmap, .contour, .surface: return nil
        }
    }

    /// The range a set of transformed values spans, as the axis shows it (its own limits win).
    private func span(_ v: [Double], _ axis: Axis, _ t: (Double) -> Double?) -> (Double, Double)? {
        guard var lo = axis.min.flatMap(t) ?? v.min(), var hi = axis.max.flatMap(t) ?? v.max() else { return nil }
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        return (lo, hi)
    }
}

/// log10 on a log axis (nil where undefined), identity on a linear one; nil for non-finite values.
private func axisTransform(_ log: Bool) -> (Double) -> Double? {
    { v in
        guard v.isFinite else { return nil }
        if log { return v > 0 ? Foundation.log10(v) : nil }
        return v
    }
}

/// The point a fraction f of the way from a to b, geometrically on a log axis.
private func mix(_ a: Double, _ b: Double, _ f: Double, _ log: Bool) -> Double {
    if log, a > 0, b > 0 { return Foundation.exp(Foundation.log(a) + (Foundation.log(b) - Foundation.log(a)) * f) }
    return a + (b - a) * f
}
