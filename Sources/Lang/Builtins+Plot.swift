import Foundation
import Plot

/// plot, bars, hist, density, heatmap, contour, surface, panels, gnuplot: PNG plots through the
/// Plot layer. Each returns the PNG's path; without `out:` the file is numbered (plot-001.png, …)
/// in the current directory, or beside the report in a notebook. With `draw: false` a builtin
/// returns a figure instead, for `panels`.
@Sendable func registerPlots(_ r: BuiltinRegistry) {
    let topic = "plots"
    let numbering = "Returns the PNG's path; without out: the file is numbered (plot-001.png, …) in the current directory, or beside the report in a notebook (where a relative out: also lands). draw: false returns the figure instead, for panels([...])."

    let values: ArgType = .tensorLike

    r.register("plot", topic: topic, params: [
        .required("x", values, "x values (list, range or 1-D tensor); alone, the y values over 0, 1, 2, …"),
        .optional("y", values, "y values, or a list of series [y1, y2, …] (rows of a 2-D tensor are series)"),
        .optional("labels", .oneOf([.string, .list]), "legend entries: a string or one per series"),
        .optional("err", values, "std of each y value (one list per series): error bars, or a band with band: true"),
        .optional("band", .bool, default: false, "draw err as a shaded band instead of error bars"),
        .optional("y2", values, "series on the right-hand y axis (same x, or x2:)"),
        .optional("x2", values, "x values of the y2 series when they differ from x"),
        .optional("y2labels", .oneOf([.string, .list]), "legend entries of the y2 series"),
        .optional("y2label", .string, "right axis label"),
        .optional("logy2", .bool, default: false, "log scale on the right axis"),
        .optional("style", .string, default: "lines", "\"lines\", \"points\" or \"linespoints\""),
    ] + axisParams(log: true) + figureParams(markers: true, legend: true), returns: "string (the PNG path)",
       doc: "Lines (or points) of y over x; several series with a legend; a second y axis for series of another scale (RAG and test accuracy over epochs); mean ± std as error bars or a band; dashed vertical markers (learning-rate decays). " + numbering,
       example: "plot([1, 2, 3, 4], [0.9, 0.5, 0.35, 0.3], labels: \"loss\", y2: [0.6, 0.8, 0.85, 0.87], y2labels: \"acc\",\n     xlabel: \"epoch\", markers: [3], out: \"/tmp/losscape-plot.png\")") { a in
        try plotting(a) {
            let xValue = a["x"], yValue = a["y"]
            var ys: [[Double]], xs: [[Double]]?
            if yValue.isNil {
                ys = try PlotData.seriesList(xValue, "plot: x")
                xs = nil
            } else {
                ys = try PlotData.seriesList(yValue, "plot: y")
                // x may be one list for all series, or one list per series.
                if PlotData.isSeriesList(xValue) {
                    let xl = try PlotData.seriesList(xValue, "plot: x")
                    guard xl.count == ys.count else {
                        throw LangError.usage("plot: x holds \(xl.count) series but y holds \(ys.count)")
                    }
                    xs = xl
                } else {
                    xs = [try PlotData.series(xValue, "plot: x")]
                }
            }
            func xFor(_ i: Int, _ n: Int) -> [Double] {
                guard let xs else { return (0 ..< n).map(Double.init) }
                return xs.count == 1 ? xs[0] : xs[i]
            }
            let style: LineStyle
            switch try a.string("style") {
            case "lines": style = .lines
            case "points": style = .points
            case "linespoints": style = .linesPoints
            case let s: throw LangError.usage("plot: style must be \"lines\", \"points\" or \"linespoints\", got \(quoteString(s))")
            }
            let labels = try PlotData.strings(a["labels"], "plot: labels")
            if labels.count > 1, labels.count != ys.count {
                throw LangError.usage("plot: \(labels.count) labels for \(ys.count) series")
            }
            var errs: [[Double]] = []
            if !a.isNil("err") {
                errs = try PlotData.seriesList(a["err"], "plot: err")
                guard errs.count == ys.count else {
                    throw LangError.usage("plot: err holds \(errs.count) series but y holds \(ys.count)")
                }
            }
            let band = try a.bool("band")
            var series: [Series] = []
            for (i, y) in ys.enumerated() {
                let label = labels.count == 1 ? labels[0] : (i < labels.count ? labels[i] : nil)
                let x = xFor(i, y.count)
                if errs.isEmpty {
                    series.append(.line(x: x, y: y, label: label, style: style))
                } else if band {
                    series.append(.band(x: x, mean: y, std: errs[i], label: label))
                } else {
                    series.append(.errorBars(x: x, mean: y, std: errs[i], label: label, connect: style != .points))
                }
            }
            if !a.isNil("y2") {
                let y2s = try PlotData.seriesList(a["y2"], "plot: y2")
                let x2: [Double]? = a.isNil("x2") ? nil : try PlotData.series(a["x2"], "plot: x2")
                let labels2 = try PlotData.strings(a["y2labels"], "plot: y2labels")
                for (i, y) in y2s.enumerated() {
                    let label = labels2.count == 1 && y2s.count == 1 ? labels2[0] : (i < labels2.count ? labels2[i] : nil)
                    let x = x2 ?? (xs.map { $0.count == 1 ? $0[0] : (i < $0.count ? $0[i] : $0[0]) } ?? (0 ..< y.count).map(Double.init))
                    series.append(.line(x: x, y: y, label: label, style: style, axis: .right))
                }
            }
            var f = Figure(series)
            f.y2.label = try a.optionalString("y2label")
            f.y2.log = try a.bool("logy2")
            try applyAxes(&f, a, log: true)
            try applyFigure(&f, a, markers: true, legend: true)
            return try finish(f, kind: "plot", a)
        }
    }

    r.register("bars", topic: topic, params: [
        .required("values", values, "bar heights (list or 1-D tensor), or a list of such for grouped bars"),
        .optional("labels", .oneOf([.string, .list]), "the bars' names on the x axis (default 0, 1, 2, …)"),
        .optional("names", .oneOf([.string, .list]), "legend entries, one per group of bars"),
    ] + axisParams(log: true, logx: false) + figureParams(markers: false, legend: true), returns: "string (the PNG path)",
       doc: "A bar chart, one bar per value; several value lists stand side by side in each slot. With logy: true the bars rise from the decade below the smallest (the top-10 Hessian eigenvalues). " + numbering,
       example: "bars([48.1, 20.3, 9.7, 4.2, 1.1], labels: [\"λ1\", \"λ2\", \"λ3\", \"λ4\", \"λ5\"], logy: true,\n     title: \"top eigenvalues\", out: \"/tmp/losscape-bars.png\")") { a in
        try plotting(a) {
            let groups = try PlotData.seriesList(a["values"], "bars: values")
            let labels = try PlotData.strings(a["labels"], "bars: labels")
            let names = try PlotData.strings(a["names"], "bars: names")
            if names.count > 1, names.count != groups.count {
                throw LangError.usage("bars: \(names.count) names for \(groups.count) groups of bars")
            }
            var series: [Series] = []
            for (i, v) in groups.enumerated() {
                let slotLabels: [String]? = labels.isEmpty ? nil : labels.enumerated().map { $1 ?? String($0) }
                if let slotLabels, slotLabels.count != v.count {
                    throw LangError.usage("bars: \(v.count) values but \(slotLabels.count) labels")
                }
                series.append(.bars(v, labels: slotLabels, label: i < names.count ? names[i] : nil))
            }
            var f = Figure(series)
            try applyAxes(&f, a, log: true)
            try applyFigure(&f, a, markers: false, legend: true)
            return try finish(f, kind: "bars", a)
        }
    }

    r.register("hist", topic: topic, params: [
        .required("values", values, "the values to count (list or tensor, any shape), or a list of such"),
        .optional("bins", .int, "number of equal bins (default: 2·∛n)"),
        .optional("binwidth", .number, "bins of this width instead, aligned to its multiples"),
        .optional("scale", .string, default: "count", "\"count\", \"probability\" or \"density\" (area 1)"),
        .optional("names", .oneOf([.string, .list]), "legend entries, one per list of values"),
    ] + axisParams(log: true) + figureParams(markers: true, legend: true), returns: "string (the PNG path)",
       doc: "A histogram of the values (NaN and ±inf are left out); several lists overlap, semi-transparent. " + numbering,
       example: "hist(randn([1000], seed: 1), bins: 30, scale: \"density\", title: \"N(0, 1)\", out: \"/tmp/losscape-hist.png\")") { a in
        try plotting(a) {
            let v = a["values"]
            var lists: [[Double]]
            if case .tensor(let t) = v {
                lists = [plotValues(t.scalars)]   // any shape: every element counts
            } else {
                lists = try PlotData.seriesList(v, "hist: values")
            }
            if lists.count == 1, lists[0].isEmpty { throw LangError.runtime("hist: no values to count") }
            let scale: Histogram.Scale
            switch try a.string("scale") {
            case "count": scale = .count
            case "probability": scale = .probability
            case "density": scale = .density
            case let s: throw LangError.usage("hist: scale must be \"count\", \"probability\" or \"density\", got \(quoteString(s))")
            }
            let names = try PlotData.strings(a["names"], "hist: names")
            let bins = try a.optionalInt("bins"), width = try a.optionalNumber("binwidth")
            var series: [Series] = []
            for (i, values) in lists.enumerated() {
                series.append(try .histogram(values, bins: bins, binWidth: width, scale: scale,
                                             label: i < names.count ? names[i] : nil))
            }
            var f = Figure(series)
            try applyAxes(&f, a, log: true)
            try applyFigure(&f, a, markers: true, legend: true)
            return try finish(f, kind: "hist", a)
        }
    }

    r.register("density", topic: topic, params: [
        .required("x", .oneOf([.tensorLike, .record]), "where the density is evaluated, or a record {x, density} (hessian_density's result)"),
        .optional("d", values, "the density at each x (or a list of such, one per curve)"),
        .optional("labels", .oneOf([.string, .list]), "legend entries"),
        .optional("filled", .bool, default: true, "shade the area under the curve"),
    ] + axisParams(log: true) + figureParams(markers: true, legend: true), returns: "string (the PNG path)",
       doc: "A density curve, shaded down to zero (the Hessian's spectral density; on a log y axis down to its smallest value). " + numbering,
       example: "x = arange(-3, 3.01, 0.1)\ndensity(x, exp(-x * x / 2) / 2.5066, labels: \"N(0, 1)\", out: \"/tmp/losscape-density.png\")") { a in
        try plotting(a) {
            var xValue = a["x"], dValue = a["d"]
            if case .record(let rec) = xValue, dValue.isNil {
                guard let x = rec["x"], let d = rec["density"] ?? rec["d"] ?? rec["y"] else {
                    throw LangError.usage("density: a record argument needs fields x and density")
                }
                xValue = x
                dValue = d
            }
            guard !dValue.isNil else { throw LangError.usage("density: missing argument 'd'") }
            let x = try PlotData.series(xValue, "density: x")
            let ds = try PlotData.seriesList(dValue, "density: d")
            let labels = try PlotData.strings(a["labels"], "density: labels")
            let filled = try a.bool("filled")
            let series = ds.enumerated().map { i, d in
                Series.density(x: x, density: d, filled: filled, label: i < labels.count ? labels[i] : nil)
            }
            var f = Figure(series)
            try applyAxes(&f, a, log: true)
            try applyFigure(&f, a, markers: true, legend: true)
            return try finish(f, kind: "density", a)
        }
    }

    let gridDoc = "z[i][j] is the value at (x[j], y[i]): rows follow y, as slice2d gives them. Also takes (x, y, z) positionally, as matplotlib does, or a slice2d result {x, y, loss} alone."

    r.register("heatmap", topic: topic, params: gridParams() + [
        .optional("levels", .oneOf([.number, .list, .tensor]), "also draw contour lines: a number of levels or a list of level values"),
        .optional("cblabel", .string, "color bar label"),
    ] + axisParams(log: false) + figureParams(markers: true, legend: false), returns: "string (the PNG path)",
       doc: "A matrix as colored cells (viridis), with a color bar; levels: adds labelled contour lines on top. " + gridDoc + " " + numbering,
       example: "z = map(range(21), fn(i) { return map(range(21), fn(j) { return ((i - 10) / 10) ^ 2 + 2 * ((j - 10) / 10) ^ 2 }) })\nheatmap(z, x: arange(-1, 1.01, 0.1), y: arange(-1, 1.01, 0.1), levels: 6, out: \"/tmp/losscape-heatmap.png\")") { a in
        try plotting(a) {
            let g = try gridArgs(a, "heatmap")
            var series: [Series] = [.heatmap(x: g.x, y: g.y, z: g.z)]
            if !a.isNil("levels") {
                series.append(.contour(x: g.x, y: g.y, z: g.z, levels: try levels(a["levels"], "heatmap")))
            }
            var f = Figure(series)
            f.colorbar.label = try a.optionalString("cblabel")
            try applyAxes(&f, a, log: false)
            try applyFigure(&f, a, markers: true, legend: false)
            return try finish(f, kind: "heatmap", a)
        }
    }

    r.register("contour", topic: topic, params: gridParams() + [
        .optional("levels", .oneOf([.number, .list, .tensor]), default: 10, "about this many levels, or a list of level values"),
        .optional("labels", .bool, default: true, "write each level's value along its line"),
        .optional("fill", .bool, default: false, "a heatmap underneath"),
        .optional("cblabel", .string, "color bar label"),
    ] + axisParams(log: false) + figureParams(markers: true, legend: false), returns: "string (the PNG path)",
       doc: "Contour lines of a matrix, colored by level and labelled with their values (fill: true puts a heatmap underneath). " + gridDoc + " " + numbering,
       example: "z = map(range(21), fn(i) { return map(range(21), fn(j) { return ((i - 10) / 10) ^ 2 + 2 * ((j - 10) / 10) ^ 2 }) })\ncontour(z, x: arange(-1, 1.01, 0.1), y: arange(-1, 1.01, 0.1), levels: [0.1, 0.5, 1, 2], out: \"/tmp/losscape-contour.png\")") { a in
        try plotting(a) {
            let g = try gridArgs(a, "contour")
            var series: [Series] = []
            if try a.bool("fill") { series.append(.heatmap(x: g.x, y: g.y, z: g.z)) }
            series.append(.contour(x: g.x, y: g.y, z: g.z, levels: try levels(a["levels"], "contour"),
                                   labels: try a.bool("labels")))
            var f = Figure(series)
            f.colorbar.label = try a.optionalString("cblabel")
            try applyAxes(&f, a, log: false)
            try applyFigure(&f, a, markers: true, legend: false)
            return try finish(f, kind: "contour", a)
        }
    }

    r.register("surface", topic: topic, params: gridParams() + [
        .optional("zlabel", .string, "vertical axis label"),
        .optional("style", .string, default: "colored", "\"colored\" (faces colored by height) or \"mesh\""),
        .optional("levels", .oneOf([.number, .list, .tensor]), "also draw contour lines on the base plane: a number of levels or a list"),
        .optional("view", .list, "[tilt, turn] in degrees (gnuplot's set view; default [60, 30])"),
        .optional("logz", .bool, default: false, "log scale on the vertical axis"),
    ] + axisParams(log: false) + figureParams(markers: false, legend: false), returns: "string (the PNG path)",
       doc: "A 3-D surface of a matrix (a 2-D loss-landscape slice), optionally with contours on the base plane. " + gridDoc + " " + numbering,
       example: "z = map(range(21), fn(i) { return map(range(21), fn(j) { return ((i - 10) / 10) ^ 2 + 2 * ((j - 10) / 10) ^ 2 }) })\nsurface(z, x: arange(-1, 1.01, 0.1), y: arange(-1, 1.01, 0.1), zlabel: \"loss\", levels: 5, out: \"/tmp/losscape-surface.png\")") { a in
        try plotting(a) {
            let g = try gridArgs(a, "surface")
            let style: SurfaceStyle
            switch try a.string("style") {
            case "colored": style = .colored
            case "mesh": style = .mesh
            case let s: throw LangError.usage("surface: style must be \"colored\" or \"mesh\", got \(quoteString(s))")
            }
            var series: [Series] = [.surface(x: g.x, y: g.y, z: g.z, style: style)]
            if !a.isNil("levels") {
                series.append(.contour(x: g.x, y: g.y, z: g.z, levels: try levels(a["levels"], "surface"), labels: false))
            }
            var f = Figure(series)
            f.z.label = try a.optionalString("zlabel")
            f.z.log = try a.bool("logz")
            if !a.isNil("view") {
                let v = try PlotData.series(a["view"], "surface: view")
                guard v.count == 2 else { throw LangError.usage("surface: view must be [tilt, turn], two numbers") }
                f.view = View(rotX: v[0], rotZ: v[1])
            }
            try applyAxes(&f, a, log: false)
            try applyFigure(&f, a, markers: false, legend: false)
            return try finish(f, kind: "surface", a)
        }
    }

    r.register("panels", topic: topic, params: [
        .required("figures", .list, "figures made with draw: false (plot(..., draw: false), bars(..., draw: false), …)"),
        .optional("rows", .int, "rows of panels (default: as square as possible)"),
        .optional("cols", .int, "panels a row"),
        .optional("title", .string, "a title above all panels"),
        .optional("out", .string, "the PNG path (default: numbered)"),
        .optional("width", .int, "image width in pixels (default about 480 a column, at least 800)"),
        .optional("height", .int, "image height in pixels (default about 360 a row, at least 500)"),
    ], returns: "string (the PNG path)",
       doc: "Several figures in one PNG, in a grid filled row by row. Make each panel with any plot builtin and draw: false (it then returns a figure instead of drawing); their own sizes are ignored. Returns the PNG's path; without out: it is numbered like every plot.",
       example: "a = plot([1, 2, 3], [3, 1, 2], title: \"loss\", draw: false)\nb = bars([5, 2, 1], title: \"eigenvalues\", logy: true, draw: false)\npanels([a, b], cols: 2, title: \"run 1\", out: \"/tmp/losscape-panels.png\")") { a in
        try plotting(a) {
            let figures = try a.list("figures").items.enumerated().map { i, v -> Figure in
                guard case .object(let o) = v, let fv = o as? FigureValue else {
                    throw LangError.usage("panels: figures[\(i)] must be a figure (made with draw: false), got \(describeType(v))")
                }
                return fv.figure
            }
            guard !figures.isEmpty else { throw LangError.usage("panels: figures is empty") }
            let rows = try a.optionalInt("rows"), cols = try a.optionalInt("cols")
            if let rows, rows < 1 { throw LangError.usage("panels: rows must be at least 1") }
            if let cols, cols < 1 { throw LangError.usage("panels: cols must be at least 1") }
            let layout = Layout(figures, rows: rows, columns: cols, title: try a.optionalString("title"),
                                width: try a.optionalInt("width"), height: try a.optionalInt("height"))
            let settings = a.interpreter.plots
            let path = settings.outputPath(try a.optionalString("out"))
            try layout.render(to: path, gnuplot: settings.gnuplot)
            if let onScript = settings.onScript { onScript(try layout.script(output: path)) }
            settings.onWrite?(path)
            return .string(path)
        }
    }

    r.register("gnuplot", topic: topic, params: [
        .required("script", .string, "gnuplot commands (\\n between lines)"),
        .optional("out", .string, "the PNG path (default: numbered)"),
        .optional("width", .int, default: 800, "image width in pixels"),
        .optional("height", .int, default: 500, "image height in pixels"),
    ], returns: "string (the PNG path)",
       doc: "The escape hatch: runs raw gnuplot commands with the PNG terminal and the output already set (gnuplot's defaults otherwise). A gnuplot error becomes a Losscape error with gnuplot's message and the line of your script it refers to. Returns the PNG's path.",
       example: "gnuplot(\"set xrange [0:10]\\nplot besj0(x) title 'J0'\", out: \"/tmp/losscape-raw.png\")") { a in
        try plotting(a) {
            let settings = a.interpreter.plots
            let path = settings.outputPath(try a.optionalString("out"))
            let width = try a.int("width"), height = try a.int("height")
            try checkSize(width, height, "gnuplot")
            try settings.gnuplot.render(script: try a.string("script"), to: path, width: width, height: height)
            settings.onScript?(try a.string("script"))
            settings.onWrite?(path)
            return .string(path)
        }
    }
}

// MARK: - Shared parameters and helpers

/// title, axis labels, ranges and (for kinds with a meaningful one) log scales.
private func axisParams(log: Bool, logx: Bool = true) -> [Param] {
    var p: [Param] = [
        .optional("title", .string, "the title above the plot"),
        .optional("xlabel", .string, "x axis label"),
        .optional("ylabel", .string, "y axis label"),
        .optional("xrange", .list, "[min, max]; nil for an automatic end"),
        .optional("yrange", .list, "[min, max]; nil for an automatic end"),
    ]
    if log {
        if logx { p.append(.optional("logx", .bool, default: false, "log scale on x")) }
        p.append(.optional("logy", .bool, default: false, "log scale on y"))
    }
    return p
}

/// markers, legend, out, width, height, draw.
private func figureParams(markers: Bool, legend: Bool) -> [Param] {
    var p: [Param] = []
    if markers {
        p.append(.optional("markers", .oneOf([.number, .list]), "dashed vertical lines at these x (numbers), or records {x:, label:} / {y:, label:}"))
    }
    if legend {
        p.append(.optional("legend", .string, default: "best", "\"best\", \"top left\", \"top right\", \"bottom left\", \"bottom right\", \"outside\", \"below\" or \"none\""))
    }
    return p + [
        .optional("out", .string, "the PNG path (default: numbered plot-NNN.png)"),
        .optional("width", .int, default: 800, "image width in pixels"),
        .optional("height", .int, default: 500, "image height in pixels"),
        .optional("draw", .bool, default: true, "false: return the figure (for panels) instead of drawing it"),
    ]
}

/// z, then x and y coordinates.
private func gridParams() -> [Param] {
    [.required("z", .oneOf([.list, .tensor, .record]), "the matrix: a 2-D tensor or a list of rows (rows follow y)"),
     .optional("x", .tensorLike, "the columns' x values (default 0, 1, 2, …)"),
     .optional("y", .tensorLike, "the rows' y values (default 0, 1, 2, …)")]
}

private func applyAxes(_ f: inout Figure, _ a: BuiltinArgs, log: Bool) throws {
    f.title = try a.optionalString("title")
    f.x.label = try a.optionalString("xlabel")
    f.y.label = try a.optionalString("ylabel")
    if !a.isNil("xrange") { (f.x.min, f.x.max) = try PlotData.range(a["xrange"], "\(a.name): xrange") }
    if !a.isNil("yrange") { (f.y.min, f.y.max) = try PlotData.range(a["yrange"], "\(a.name): yrange") }
    if log {
        if case .bool(let b) = a["logx"] { f.x.log = b }
        f.y.log = try a.bool("logy")
    }
}

private func applyFigure(_ f: inout Figure, _ a: BuiltinArgs, markers: Bool, legend: Bool) throws {
    if markers, !a.isNil("markers") { f.markers = try PlotData.markers(a["markers"], "\(a.name): markers") }
    if legend { f.key = try PlotData.key(try a.string("legend")) }
    f.width = try a.int("width")
    f.height = try a.int("height")
    try checkSize(f.width, f.height, a.name)
}

private func checkSize(_ width: Int, _ height: Int, _ name: String) throws {
    guard (16 ... 20_000).contains(width), (16 ... 20_000).contains(height) else {
        throw LangError.usage("\(name): width and height must be between 16 and 20000 pixels, got \(width)×\(height)")
    }
}

/// The grid of a heatmap, contour or surface: `f(z, x:, y:)`, `f(x, y, z)` (matplotlib's order),
/// or `f(s)` with a record holding x, y and loss (or z).
private func gridArgs(_ a: BuiltinArgs, _ name: String) throws -> (x: [Double]?, y: [Double]?, z: [[Double]]) {
    var zv = a["z"], xv = a["x"], yv = a["y"]
    if case .record(let rec) = zv, xv.isNil, yv.isNil {
        guard let z = rec["z"] ?? rec["loss"] else {
            throw LangError.usage("\(name): a record argument needs a field z (or loss), with x and y")
        }
        (zv, xv, yv) = (z, rec["x"] ?? .null, rec["y"] ?? .null)
    } else if !PlotData.isMatrix(zv), PlotData.isMatrix(yv) {
        (xv, yv, zv) = (zv, xv, yv)   // contour(x, y, z)
    }
    let z = try PlotData.matrix(zv, "\(name): z")
    let x: [Double]? = xv.isNil ? nil : try PlotData.series(xv, "\(name): x")
    let y: [Double]? = yv.isNil ? nil : try PlotData.series(yv, "\(name): y")
    return (x, y, z)
}

/// `levels:`: a whole number (about that many levels) or a list of level values.
private func levels(_ v: Value, _ name: String) throws -> ContourLevels {
    if case .number(let d) = v {
        guard let n = wholeNumber(d), n >= 1 else { throw LangError.usage("\(name): levels must be a whole number ≥ 1 or a list of values") }
        return .auto(n)
    }
    return .values(try PlotData.series(v, "\(name): levels"))
}

/// Draws the figure (or hands it back with `draw: false`) and reports the PNG.
private func finish(_ f: Figure, kind: String, _ a: BuiltinArgs) throws -> Value {
    guard try a.bool("draw") else {
        _ = try f.script(output: "figure.png")   // the data's errors now, not at panels()
        return .object(FigureValue(f, kind: kind))
    }
    let settings = a.interpreter.plots
    let path = settings.outputPath(try a.optionalString("out"))
    try f.render(to: path, gnuplot: settings.gnuplot)
    if let onScript = settings.onScript { onScript(try f.script(output: path)) }
    settings.onWrite?(path)
    return .string(path)
}

/// Runs a plot builtin's body, turning the plot layer's errors into language errors.
private func plotting(_ a: BuiltinArgs, _ body: () throws -> Value) throws -> Value {
    do {
        return try body()
    } catch let e as PlotError {
        throw LangError.plot(e, builtin: a.name)
    }
}

extension BuiltinArgs {
    /// The builtin's name, for messages.
    var name: String { builtin.name }
}
