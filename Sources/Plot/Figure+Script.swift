import Foundation

extension Figure {
    /// The gnuplot script that draws this figure into the PNG `output`: terminal and output lines,
    /// the data as inline datablocks (`$d1 << EOD … EOD`), the settings, one `plot` (or `splot`)
    /// command. What `render(to:)` sends to gnuplot; useful to inspect or to edit and run raw.
    ///
    ///     print(try figure.script(output: "loss.png"))
    public func script(output: String) throws -> String {
        var w = ScriptWriter(blockPrefix: "d")
        w.preamble(width: width, height: height, fontSize: fontSize, enhanced: enhancedText, output: output)
        try emit(into: &w)
        w.add("unset output")
        return w.text
    }

    /// Renders the figure to a PNG at `path` and returns the path. The folder must exist; an
    /// existing file is replaced only when gnuplot succeeds.
    ///
    ///     let png = try Figure([.line(y: losses, label: "train")]).render(to: "loss.png")
    @discardableResult
    public func render(to path: String, gnuplot: Gnuplot = Gnuplot()) throws -> String {
        try validate()
        return try gnuplot.renderPNG(to: path) { try script(output: $0) }
    }

    /// Checks the series without producing a script (mismatched lengths, nothing to draw, kinds
    /// that cannot share a figure).
    func validate() throws {
        var w = ScriptWriter(blockPrefix: "d")
        try emit(into: &w)
    }

    /// Appends this figure's datablocks, settings and plot command. In a multiplot, `w`'s block
    /// prefix keeps the panels' datablocks apart.
    func emit(into w: inout ScriptWriter) throws {
        guard !series.isEmpty else { throw PlotError(.invalidData, "the figure has no series to draw") }
        guard width >= 16, height >= 16 else { throw PlotError(.invalidData, "size \(width)×\(height) is too small") }
        let mode = try plotMode()
        let barSeries = series.filter { if case .bars = $0.kind { true } else { false } }.count
        var c = PlotContext(writer: w, mode: mode, figure: self, barCount: barSeries)
        var elements: [String] = []
        // On a surface, the contours on the base plane go first, so the surface hides the parts
        // behind it.
        let ordered = mode == .surface ? series.filter(\.isContour) + series.filter { !$0.isContour } : series
        for s in ordered {
            elements += try element(for: s, &c)
        }
        w = c.writer
        // Commands that compute data (contour lines) run before any setting can change them.
        for line in c.prelude { w.add(line) }

        w.add("set border lc rgb \"#404040\"")
        w.add("set tics textcolor rgb \"#202020\"")
        if grid && mode == .plot { w.add("set grid back lt 1 lc rgb \"#dedede\" lw 1") }
        if let title { w.add("set title \(quoted(title)) font \",\(gp(fontSize + 2))\"") }
        axisSettings(&w, mode: mode, usesRight: c.usesRight)
        if mode == .surface || hasGrid { w.add("set palette defined \(viridis)") }
        if mode == .surface {
            w.add("set view \(gp(view.rotX)), \(gp(view.rotZ))")
            w.add("set ticslevel 0")
        }
        for line in c.settings { w.add(line) }
        markerSettings(&w)
        keySettings(&w, mode: mode, hasTitles: c.hasTitles)
        w.add((mode == .plot ? "plot " : "splot ") + elements.joined(separator: ", "))
    }

    /// Whether the figure holds a heatmap (whose colors then belong to it).
    var hasHeatmap: Bool { series.contains { if case .heatmap = $0.kind { true } else { false } } }

    /// Whether the figure holds a heatmap, contour or surface.
    var hasGrid: Bool {
        series.contains {
            switch $0.kind {
            case .heatmap, .contour, .surface: true
            default: false
            }
        }
    }

    /// How a figure is drawn: a 2-D `plot` (every kind but surfaces), or a 3-D `splot` for
    /// surfaces, which can share it with contours only (drawn on the base plane).
    func plotMode() throws -> PlotMode {
        guard series.contains(where: { if case .surface = $0.kind { true } else { false } }) else { return .plot }
        for s in series {
            switch s.kind {
            case .surface, .contour: break
            default: throw PlotError(.invalidData, "series \(s.name): a surface figure can hold surfaces and contours only")
            }
        }
        if !markers.isEmpty { throw PlotError(.invalidData, "markers belong to 2-D plots, not to surfaces") }
        return .surface
    }

    private func element(for s: Series, _ c: inout PlotContext) throws -> [String] {
        switch s.kind {
        case let .xy(x, y, style): return try xyElement(x, y, style, s, &c)
        case let .errorBars(x, mean, std, connect): return try errorBarsElement(x, mean, std, connect, s, &c)
        case let .band(x, mean, std): return try bandElement(x, mean, std, s, &c)
        case let .bars(labels, values): return try barsElement(labels, values, s, &c)
        case let .histogram(h): return try histogramElement(h, s, &c)
        case let .density(x, d, filled): return try densityElement(x, d, filled, s, &c)
        case let .heatmap(g): return try heatmapElement(g, s, &c)
        case let .contour(g, levels, labels): return try contourElement(g, levels, labels, s, &c)
        case let .surface(g, style): return try surfaceElement(g, style, s, &c)
        }
    }

    private func axisSettings(_ w: inout ScriptWriter, mode: PlotMode, usesRight: Bool) {
        var axes: [(String, Axis)] = [("x", x), ("y", y)]
        if usesRight { axes.append(("y2", y2)) }
        if mode == .surface { axes.append(("z", z)) }
        if hasGrid { axes.append(("cb", colorbar)) }
        for (name, a) in axes {
            if let label = a.label {
                w.add("set \(name)label \(quoted(label))" + (name == "y2" ? " rotate by -90" : ""))
            }
            if a.log {
                w.add("set logscale \(name) 10")
                w.add("set format \(name) \"%g\"")  // 0.001, 1e-06: not gnuplot's fixed decimals
            }
            if a.min != nil || a.max != nil {
                w.add("set \(name)range [\(a.min.map(gp) ?? "*"):\(a.max.map(gp) ?? "*")]")
            }
        }
        // A grid's picture ends where its data ends, not at the next tic, and its colors span
        // the values exactly.
        if mode == .plot && hasGrid {
            if x.min == nil, x.max == nil { w.add("set autoscale xfix") }
            if y.min == nil, y.max == nil { w.add("set autoscale yfix") }
        }
        if hasGrid, colorbar.min == nil, colorbar.max == nil { w.add("set autoscale cbfix") }
        if usesRight {
            w.add("set ytics nomirror")
            w.add("set y2tics")
            if grid { w.add("set grid y2tics") }
        }
    }

    private func markerSettings(_ w: inout ScriptWriter) {
        // Over a heatmap the markers go in front, or the picture would hide them.
        let layer = hasGrid ? "front" : "back"
        for m in markers {
            let color = quoted(m.color ?? (hasHeatmap ? "#f0f0f0" : "#555555"))
            let style = "nohead \(layer) lw 1.5 dt \(m.dash.gnuplot) lc rgb \(color)"
            let font = "font \",\(gp(fontSize - 1))\""
            if let x = m.x {
                w.add("set arrow from first \(gp(x)), graph 0 to first \(gp(x)), graph 1 \(style)")
                if let label = m.label {
                    // Reads upwards along the line, hanging from the top, where curves that fall
                    // (losses) or rise and level off (accuracies) leave room.
                    w.add("set label \(quoted(label)) at first \(gp(x)), graph 0.98 rotate by 90 right "
                        + "offset character -1.2, 0 textcolor rgb \(color) \(font) front")
                }
            } else if let y = m.y {
                w.add("set arrow from graph 0, first \(gp(y)) to graph 1, first \(gp(y)) \(style)")
                if let label = m.label {
                    w.add("set label \(quoted(label)) at graph 0.01, first \(gp(y)) left offset character 0, 0.6 "
                        + "textcolor rgb \(color) \(font) front")
                }
            }
        }
    }

    private func keySettings(_ w: inout ScriptWriter, mode: PlotMode, hasTitles: Bool) {
        guard hasTitles, key != .none else { w.add("unset key"); return }
        var place = key
        if place == .best { place = mode == .plot ? bestKeyPlace() : .below }
        let position: String
        switch place {
        case .topLeft: position = "top left"
        case .topRight, .best: position = "top right"
        case .bottomLeft: position = "bottom left"
        case .bottomRight: position = "bottom right"
        case .outside: position = "outside right top"
        case .below: position = "below center horizontal"
        case .none: position = ""
        }
        // Below the plot an opaque box would cover the x label's lower half (gnuplot 5.4 puts the
        // key right under it); there the legend needs no box.
        let box = place == .below ? "noopaque nobox" : "opaque box lc rgb \"#c8c8c8\""
        w.add("set key \(position) \(box) samplen 2.5 spacing 1.15 width 1")
    }
}

/// How a figure is drawn (see `Figure.plotMode`).
enum PlotMode {
    case plot, surface
}

/// What a series needs while it becomes plot elements: the writer that holds the datablocks, the
/// next palette color, settings it adds (bar labels, contour levels), and flags for the figure.
struct PlotContext {
    var writer: ScriptWriter
    let mode: PlotMode
    let figure: Figure
    /// Bar series side by side share each slot: how many there are, and which one comes next.
    let barCount: Int
    var barIndex = 0
    var nextColor = 1
    var settings: [String] = []
    /// Commands to run before the settings (computing contour lines into datablocks).
    var prelude: [String] = []
    /// Contour datablocks made so far.
    var contours = 0
    var usesRight = false
    var hasTitles = false

    init(writer: ScriptWriter, mode: PlotMode, figure: Figure, barCount: Int) {
        self.writer = writer
        self.mode = mode
        self.figure = figure
        self.barCount = barCount
    }

    /// `lc N` for the next palette color, or the series' own color.
    mutating func color(_ s: Series) -> String {
        if let c = s.color { return "lc rgb \(quoted(c))" }
        defer { nextColor += 1 }
        return "lc \((nextColor - 1) % palette.count + 1)"
    }

    /// `title "…"` (and a note that the key is needed) or `notitle`.
    mutating func title(_ s: Series) -> String {
        guard let label = s.label else { return "notitle" }
        hasTitles = true
        return "title \(quoted(label))"
    }

    /// `axes x1y2` for a right-axis series, else nothing.
    mutating func axes(_ s: Series) -> String {
        guard s.axis == .right else { return "" }
        usesRight = true
        return " axes x1y2"
    }

    /// Whether the series' vertical axis is logarithmic.
    func logY(_ s: Series) -> Bool { s.axis == .right ? figure.y2.log : figure.y.log }
}

/// Accumulates a script's lines and names its datablocks.
struct ScriptWriter {
    let blockPrefix: String
    private(set) var lines: [String] = []
    private var blocks = 0

    init(blockPrefix: String) { self.blockPrefix = blockPrefix }

    mutating func add(_ line: String) { lines.append(line) }

    /// Adds `$NAME << EOD`, the rows, `EOD`, and returns `$NAME`.
    mutating func datablock(_ rows: [String]) -> String {
        blocks += 1
        let name = "$\(blockPrefix)\(blocks)"
        lines.append("\(name) << EOD")
        lines.append(contentsOf: rows)
        lines.append("EOD")
        return name
    }

    /// The terminal (PNG through cairo, never a window), the output file, and the look shared by
    /// every figure: a colorblind-friendly palette of ten colors, filled circles for points.
    mutating func preamble(width: Int, height: Int, fontSize: Double, enhanced: Bool, output: String) {
        add("set terminal pngcairo size \(width),\(height) \(enhanced ? "enhanced" : "noenhanced") "
            + "font \"Sans,\(gp(fontSize))\" linewidth 1")
        add("set output \(quotedPath(output))")
        add("set encoding utf8")
        for (i, color) in palette.enumerated() {
            add("set linetype \(i + 1) lc rgb \"\(color)\" lw 2 pt 7 ps 0.8")
        }
        add("set linetype cycle \(palette.count)")
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Matplotlib's "tab10" colors: distinct, and readable on white.
let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

/// Viridis in nine stops, for heatmaps, contour levels and surfaces: perceptually even, and still
/// ordered in gray.
let viridis = "(0 '#440154', 1 '#472c7a', 2 '#3b518b', 3 '#2c718e', 4 '#21908d', "
    + "5 '#27ad81', 6 '#5cc863', 7 '#aadc32', 8 '#fde725')"

extension Series {
    /// The label in quotes, or the kind, for messages.
    var name: String { label.map { "'\($0)'" } ?? "(\(kindName))" }

    var kindName: String {
        switch kind {
        case .xy: "line"
        case .errorBars: "error bars"
        case .band: "band"
        case .bars: "bars"
        case .histogram: "histogram"
        case .density: "density"
        case .heatmap: "heatmap"
        case .contour: "contour"
        case .surface: "surface"
        }
    }

    var isContour: Bool { if case .contour = kind { true } else { false } }

    /// `lw W dt D`, the line style fields every line-drawing kind shares.
    var lineStyle: String { "lw \(gp(lineWidth)) dt \(dash.gnuplot)" }
}

extension Dash {
    /// gnuplot's dash type: custom patterns, a little longer than the numbered ones so they stay
    /// visible on thick lines.
    var gnuplot: String {
        switch self {
        case .solid: "solid"
        case .dashed: "(8,5)"
        case .dotted: "(1,4)"
        case .dashDot: "(8,4,1,4)"
        }
    }
}

/// A number as gnuplot should read it: whole numbers without a fraction, others in the shortest
/// form that reads back to the same Double; NaN and ±∞ become `NaN`, which gnuplot treats as
/// undefined (a gap in a line, an empty cell).
func gp(_ v: Double) -> String {
    guard v.isFinite else { return "NaN" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return v.description
}

/// A gnuplot double-quoted string: backslashes and quotes escaped, newlines as `\n`.
func quoted(_ s: String) -> String {
    var out = "\""
    for ch in s {
        switch ch {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r", "\t": out += " "
        default: out.append(ch)
        }
    }
    return out + "\""
}

/// A path as a gnuplot single-quoted string, where only `'` needs escaping (doubled), so
/// backslashes and `$` in paths pass unchanged.
func quotedPath(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
}

/// Rows of a datablock, one per index: the columns' values at that index.
func columns(_ cols: [Double]...) -> [String] {
    guard let n = cols.first?.count else { return [] }
    return (0 ..< n).map { i in cols.map { gp($0[i]) }.joined(separator: " ") }
}

/// Throws unless all arrays have the first one's length (and it is not zero).
func checkLengths(_ what: String, _ named: [(String, [Double])]) throws {
    guard let (firstName, first) = named.first else { return }
    guard !first.isEmpty else { throw PlotError(.invalidData, "\(what): \(firstName) is empty") }
    for (name, v) in named.dropFirst() where v.count != first.count {
        throw PlotError(.invalidData, "\(what): \(firstName) has \(first.count) values but \(name) has \(v.count)")
    }
}

/// Throws unless some point has finite coordinates (positive ones on log axes): gnuplot would skip
/// the series with only a warning, and the user would see an empty plot.
func checkDrawable(_ what: String, x: [Double], y: [Double], logX: Bool, logY: Bool) throws {
    let ok = zip(x, y).contains { a, b in
        a.isFinite && b.isFinite && (!logX || a > 0) && (!logY || b > 0)
    }
    guard ok else {
        let scale = logX || logY ? " (a log axis needs positive values)" : ""
        throw PlotError(.invalidData, "\(what): no finite points to draw\(scale)")
    }
}
