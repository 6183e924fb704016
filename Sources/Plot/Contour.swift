/// Which levels a contour plot draws.
///
///     .contour(x: a, y: b, z: loss, levels: .values([0.5, 1, 2, 4]))
public enum ContourLevels: Sendable, Equatable {
    /// About this many levels, at round numbers (gnuplot picks them).
    case auto(Int)
    /// Exactly these levels.
    case values([Double])
    /// `from`, `from + by`, … up to `to` (or the largest value).
    case step(from: Double, by: Double, to: Double?)
}

extension Series {
    /// Contour lines of `z[i][j]` at `(x[j], y[i])` seen from above, each level labelled with its
    /// value along the line. With a heatmap of the same grid in the figure the lines are dark and
    /// the colors belong to the heatmap; alone they take the level's color from the color scale.
    ///
    ///     .contour(x: alphas, y: betas, z: losses, levels: .auto(12))
    public static func contour(x: [Double]? = nil, y: [Double]? = nil, z: [[Double]], levels: ContourLevels = .auto(10),
                               labels: Bool = true, label: String? = nil, color: String? = nil) -> Series {
        Series(.contour(Grid(x: x ?? indices(z.first?.count ?? 0), y: y ?? indices(z.count), z: z), levels: levels, labels: labels),
               label: label, color: color)
    }
}

extension Figure {
    /// Contour lines, computed by gnuplot (`set contour`, `set cntrparam levels`) into a datablock
    /// of their own and then drawn in the 2-D plot with everything else, so they share its margins,
    /// axes, markers and legend; each level is labelled along its line. On a surface figure they
    /// are drawn on the base plane instead.
    func contourElement(_ grid: Grid, _ levels: ContourLevels, _ labels: Bool, _ s: Series,
                        _ c: inout PlotContext) throws -> [String] {
        try grid.validate("contour \(s.name)")
        guard grid.x.count >= 2, grid.y.count >= 2 else {
            throw PlotError(.invalidData, "contour \(s.name): needs at least a 2×2 grid")
        }
        let (lo, hi) = grid.range
        let levelSetting: String
        var chosen: [Double] = []
        switch levels {
        case .auto(let n):
            guard n >= 1 else { throw PlotError(.invalidData, "contour \(s.name): levels .auto(n) needs n ≥ 1") }
            levelSetting = "auto \(n)"
        case .values(let v):
            guard !v.isEmpty, v.allSatisfy(\.isFinite) else {
                throw PlotError(.invalidData, "contour \(s.name): levels must be finite numbers, at least one")
            }
            chosen = v.sorted()
            levelSetting = "discrete " + chosen.map(gp).joined(separator: ",")
        case let .step(from, by, to):
            guard from.isFinite, by > 0, by.isFinite, to.map({ $0.isFinite && $0 >= from }) ?? true else {
                throw PlotError(.invalidData, "contour \(s.name): levels .step needs finite from ≤ to and by > 0")
            }
            guard (hi - from) / by < 10_000 else {
                throw PlotError(.invalidData, "contour \(s.name): levels .step(by: \(by)) makes over 10000 levels")
            }
            chosen = Array(stride(from: from, through: Swift.min(to ?? hi, hi), by: by))
            levelSetting = "incremental \(gp(from)),\(gp(by))" + (to.map { ",\(gp($0))" } ?? "")
        }
        if case .auto = levels {} else if !chosen.contains(where: { $0 >= lo && $0 <= hi }) {
            throw PlotError(.invalidData, "contour \(s.name): no level lies within the values' range [\(gp(lo)), \(gp(hi))]")
        }
        let block = c.writer.datablock(grid.rows)
        let width = s.lineWidth == 2 ? 1.5 : s.lineWidth
        let style = "lw \(gp(width)) dt \(s.dash.gnuplot)"
        // Over a heatmap the lines are dark and its colors speak; alone, each level takes its
        // color from the color scale.
        let color = s.color.map { "lc rgb \(quoted($0))" } ?? (hasHeatmap ? "lc rgb \"#1a1a1a\"" : "lc palette")

        if c.mode == .surface {
            c.settings.append("set contour base")
            c.settings.append("set cntrparam linear levels \(levelSetting)")
            if s.color != nil { c.settings.append("set cntrlabel onecolor") }
            return ["\(block) nonuniform matrix using 1:2:3 with lines nosurface \(color) \(style) \(c.title(s))"]
        }
        let lines = "$\(c.writer.blockPrefix)c\(c.contours + 1)"
        c.contours += 1
        c.prelude += ["set contour base", "set cntrparam linear levels \(levelSetting)", "unset surface",
                      "set table \(lines)", "splot \(block) nonuniform matrix using 1:2:3", "unset table",
                      "unset contour", "set surface"]
        let using = s.color == nil && !hasHeatmap ? "1:2:3" : "1:2"
        var out = ["\(lines) using \(using)\(c.axes(s)) with lines \(color) \(style) \(c.title(s))"]
        if labels {
            // A label every 40 points of a line, the first 8 points in, in a small white box
            // that hides the line beneath the text.
            c.settings.append("set style textbox opaque noborder margins 0.5,0.3")
            out.append("\(lines) using 1:2:(sprintf(\"%.3g\", $3)) every 40::8\(c.axes(s)) with labels boxed "
                + "font \",\(gp(fontSize - 2))\" notitle")
        }
        return out
    }
}
