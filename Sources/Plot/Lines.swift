extension Series {
    /// A curve (or points) through `(x[i], y[i])`; x defaults to 0, 1, 2, …
    ///
    ///     .line(x: epochs, y: testAcc, label: "test acc", axis: .right)
    public static func line(x: [Double]? = nil, y: [Double], label: String? = nil, style: LineStyle = .lines,
                            dash: Dash = .solid, axis: YAxis = .left, color: String? = nil) -> Series {
        Series(.xy(x: x ?? indices(y.count), y: y, style: style), label: label, axis: axis, color: color, dash: dash)
    }

    /// Mean ± std as vertical error bars, joined by a line unless `connect` is false.
    ///
    ///     .errorBars(x: epochs, mean: m, std: s, label: "RAG (5 seeds)")
    public static func errorBars(x: [Double]? = nil, mean: [Double], std: [Double], label: String? = nil,
                                 connect: Bool = true, axis: YAxis = .left, color: String? = nil) -> Series {
        Series(.errorBars(x: x ?? indices(mean.count), mean: mean, std: std, connect: connect),
               label: label, axis: axis, color: color)
    }

    /// Mean ± std as a semi-transparent band around the mean's line.
    ///
    ///     .band(x: epochs, mean: m, std: s, label: "test acc")
    public static func band(x: [Double]? = nil, mean: [Double], std: [Double], label: String? = nil,
                            axis: YAxis = .left, color: String? = nil) -> Series {
        Series(.band(x: x ?? indices(mean.count), mean: mean, std: std), label: label, axis: axis, color: color)
    }
}

extension Figure {
    func xyElement(_ x: [Double], _ y: [Double], _ style: LineStyle, _ s: Series,
                   _ c: inout PlotContext) throws -> [String] {
        try checkLengths("series \(s.name)", [("x", x), ("y", y)])
        try checkDrawable("series \(s.name)", x: x, y: y, logX: self.x.log, logY: c.logY(s))
        let block = c.writer.datablock(columns(x, y))
        let with: String
        switch style {
        case .lines: with = "lines"
        case .points: with = "points pt 7 ps 0.9"
        case .linesPoints: with = "linespoints pt 7 ps 0.9"
        }
        return ["\(block) using 1:2\(c.axes(s)) with \(with) \(c.color(s)) \(s.lineStyle) \(c.title(s))"]
    }

    func errorBarsElement(_ x: [Double], _ mean: [Double], _ std: [Double], _ connect: Bool, _ s: Series,
                          _ c: inout PlotContext) throws -> [String] {
        try checkLengths("series \(s.name)", [("x", x), ("mean", mean), ("std", std)])
        try checkDrawable("series \(s.name)", x: x, y: mean, logX: self.x.log, logY: c.logY(s))
        let block = c.writer.datablock(columns(x, mean, std))
        let with = connect ? "yerrorlines" : "yerrorbars"
        return ["\(block) using 1:2:3\(c.axes(s)) with \(with) \(c.color(s)) \(s.lineStyle) pt 7 ps 0.7 \(c.title(s))"]
    }

    func bandElement(_ x: [Double], _ mean: [Double], _ std: [Double], _ s: Series,
                     _ c: inout PlotContext) throws -> [String] {
        try checkLengths("series \(s.name)", [("x", x), ("mean", mean), ("std", std)])
        try checkDrawable("series \(s.name)", x: x, y: mean, logX: self.x.log, logY: c.logY(s))
        let block = c.writer.datablock(columns(x, mean, std))
        let color = c.color(s)
        let axes = c.axes(s)
        // The band first, so the mean's line is drawn over it; only the line enters the legend.
        return ["\(block) using 1:($2-$3):($2+$3)\(axes) with filledcurves \(color) fs transparent solid 0.22 noborder notitle",
                "\(block) using 1:2\(axes) with lines \(color) \(s.lineStyle) \(c.title(s))"]
    }
}
