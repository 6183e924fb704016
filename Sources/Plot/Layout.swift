/// Several figures in a grid of panels, drawn into one PNG (gnuplot's `set multiplot layout`).
/// Each panel is any kind of figure; its own size is ignored (the layout's size is shared out).
///
///     try Layout([lossFigure, accFigure], columns: 2, title: "ResNet-18").render(to: "panels.png")
public struct Layout: Sendable {
    /// The panels, filled row by row.
    public var panels: [Figure]
    /// Rows of panels: `layout.rows = 2`.
    public var rows: Int
    /// Panels a row: `layout.columns = 3`.
    public var columns: Int
    /// A title above all panels.
    public var title: String?
    /// Image width in pixels, all panels together.
    public var width: Int
    /// Image height in pixels, all panels together.
    public var height: Int
    /// Size of the overall title's text, in points.
    public var fontSize = 11.0

    /// A grid of `rows` × `columns` panels; give either (the other follows from the panel count)
    /// or neither (as square as possible, wider than tall). The size defaults to about 480 × 360
    /// pixels a panel, at least 800 × 500.
    ///
    ///     Layout(figures, rows: 2)
    public init(_ panels: [Figure], rows: Int? = nil, columns: Int? = nil, title: String? = nil,
                width: Int? = nil, height: Int? = nil) {
        let n = max(panels.count, 1)
        var c = columns ?? 0, r = rows ?? 0
        switch (rows, columns) {
        case (nil, nil):
            c = Int(Double(n).squareRoot().rounded(.up))
            r = (n + c - 1) / c
        case (let rr?, nil): c = rr > 0 ? (n + rr - 1) / rr : 0
        case (nil, let cc?): r = cc > 0 ? (n + cc - 1) / cc : 0
        default: break
        }
        self.panels = panels
        self.rows = r
        self.columns = c
        self.title = title
        self.width = width ?? max(800, 480 * c)
        self.height = height ?? max(500, 360 * r + (title == nil ? 0 : 30))
    }

    /// The gnuplot script drawing all panels into `output`; each panel starts from `reset`, so
    /// no setting leaks into the next one, and has datablocks of its own (`$p2d1`, …).
    ///
    ///     print(try layout.script(output: "panels.png"))
    public func script(output: String) throws -> String {
        guard !panels.isEmpty else { throw PlotError(.invalidData, "the layout has no panels") }
        guard rows >= 1, columns >= 1, rows * columns >= panels.count else {
            throw PlotError(.invalidData, "a \(rows) × \(columns) layout cannot hold \(panels.count) panels")
        }
        guard width >= 16 * columns, height >= 16 * rows else {
            throw PlotError(.invalidData, "size \(width)×\(height) is too small for \(rows) × \(columns) panels")
        }
        var w = ScriptWriter(blockPrefix: "")
        w.preamble(width: width, height: height, fontSize: fontSize,
                   enhanced: panels.contains(where: \.enhancedText), output: output)
        w.add("set multiplot layout \(rows),\(columns)"
            + (title.map { " title \(quoted($0)) font \",\(gp(fontSize + 3))\"" } ?? ""))
        for (i, panel) in panels.enumerated() {
            var p = panel
            p.width = width / columns
            p.height = height / rows
            var pw = ScriptWriter(blockPrefix: "p\(i + 1)d")
            do {
                try p.emit(into: &pw)
            } catch let e as PlotError {
                throw PlotError(e.kind, "panel \(i + 1): \(e.message)", line: e.line, source: e.source)
            }
            if i > 0 { w.add("reset") }
            for line in pw.lines { w.add(line) }
        }
        w.add("unset multiplot")
        w.add("unset output")
        return w.text
    }

    /// Renders the panels to a PNG at `path` and returns the path.
    ///
    ///     try Layout([a, b, c, d]).render(to: "grid.png")
    @discardableResult
    public func render(to path: String, gnuplot: Gnuplot = Gnuplot()) throws -> String {
        _ = try script(output: path)  // data errors before any process starts
        return try gnuplot.renderPNG(to: path) { try script(output: $0) }
    }
}
