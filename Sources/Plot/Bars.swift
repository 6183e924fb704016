import Foundation

extension Series {
    /// A bar chart: one bar per value, labelled on the x axis (0, 1, 2, … by default). Several bar
    /// series in one figure stand side by side in each slot; the first one's labels name the slots.
    /// On a log y axis the bars rise from the decade below the smallest value.
    ///
    ///     .bars(eigenvalues, labels: (1...10).map { "λ\($0)" }, label: "SimCLR")
    public static func bars(_ values: [Double], labels: [String]? = nil, label: String? = nil,
                            color: String? = nil) -> Series {
        Series(.bars(labels: labels ?? values.indices.map(String.init), values: values), label: label, color: color)
    }
}

extension Figure {
    func barsElement(_ labels: [String], _ values: [Double], _ s: Series, _ c: inout PlotContext) throws -> [String] {
        guard !values.isEmpty else { throw PlotError(.invalidData, "bars \(s.name): no values") }
        guard labels.count == values.count else {
            throw PlotError(.invalidData, "bars \(s.name): \(values.count) values but \(labels.count) labels")
        }
        let logY = c.logY(s)
        try checkDrawable("bars \(s.name)", x: values.map { _ in 0 }, y: values, logX: false, logY: logY)
        let slot = 0.8, barWidth = slot / Double(c.barCount)
        let shift = (Double(c.barIndex) - Double(c.barCount - 1) / 2) * barWidth
        let positions = values.indices.map { Double($0) + shift }
        let block = c.writer.datablock(columns(positions, values, positions.map { _ in barWidth }))

        if c.barIndex == 0 {
            let tics = labels.enumerated().map { "\(quoted($1)) \($0)" }.joined(separator: ", ")
            // Long or many labels slant, so neighbours do not overwrite each other.
            let crowded = Double(labels.reduce(0) { $0 + $1.count + 2 }) * fontSize * 0.62 > Double(width) * 0.75
            c.settings.append("set xtics (\(tics))" + (crowded ? " rotate by 30 right" : "") + " scale 0")
            c.settings.append("set grid noxtics")
            if x.min == nil, x.max == nil {
                c.settings.append("set xrange [-0.6:\(gp(Double(values.count) - 0.4))]")
            }
        }
        if logY, (s.axis == .right ? y2.min : y.min) == nil, c.barIndex == c.barCount - 1 {
            // gnuplot draws log-scale boxes up from the bottom edge; put it a decade below the
            // smallest bar so that bar stays visible.
            let smallest = series.compactMap { t -> Double? in
                guard case .bars(_, let v) = t.kind, t.axis == s.axis else { return nil }
                return v.filter { $0 > 0 && $0.isFinite }.min()
            }.min() ?? 1
            let floor = Foundation.pow(10, (Foundation.log10(smallest) - 1e-9).rounded(.down))
            c.settings.append("set \(s.axis == .right ? "y2" : "y")range [\(gp(floor)):*]")
        }
        c.barIndex += 1
        return ["\(block) using 1:2:3\(c.axes(s)) with boxes \(c.color(s)) fs solid 0.8 noborder \(c.title(s))"]
    }
}
