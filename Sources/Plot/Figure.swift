/// One figure: the series it draws, its axes and its options. A value type; build it, then
/// `render(to:)` it to a PNG through gnuplot.
///
/// Every kind of plot is a `Series` (lines, bands, bars, histograms, heatmaps, contours, surfaces),
/// so kinds mix where that makes sense: a density over a histogram, a trajectory over a contour map.
///
///     try Figure([.line(x: epochs, y: rag, label: "RAG")], title: "RAG during training").render(to: "rag.png")
public struct Figure: Sendable {
    /// What the figure draws, in drawing order (later series on top).
    public var series: [Series]
    /// The title above the plot: `figure.title = "RAG, lr 0.1"`.
    public var title: String?
    /// The horizontal axis.
    public var x = Axis()
    /// The left vertical axis.
    public var y = Axis()
    /// The right vertical axis, used by series with `axis: .right`.
    public var y2 = Axis()
    /// The vertical axis of a surface.
    public var z = Axis()
    /// The color scale of heatmaps, contours coloured by level and surfaces.
    public var colorbar = Axis()
    /// Vertical or horizontal reference lines (learning-rate decays, a baseline accuracy).
    public var markers: [Marker] = []
    /// Where the legend goes; `.best` picks a corner the data leaves free.
    public var key: Key = .best
    /// Light grid lines at the major tics.
    public var grid = true
    /// Image width in pixels: `figure.width = 1200`.
    public var width = 800
    /// Image height in pixels: `figure.height = 400`.
    public var height = 500
    /// Text size in points (titles are a little larger, contour labels smaller).
    public var fontSize = 11.0
    /// Viewing angles of a surface, in degrees (gnuplot's `set view rotX, rotZ`).
    public var view = View()
    /// Whether text uses gnuplot's enhanced syntax (`x^2`, `λ_{max}`). Off by default so that labels
    /// like `train_loss` print as written.
    public var enhancedText = false

    /// `Figure([.line(y: losses)], title: "loss", xlabel: "step", ylabel: "loss")`.
    public init(_ series: [Series] = [], title: String? = nil, xlabel: String? = nil, ylabel: String? = nil,
                y2label: String? = nil, width: Int = 800, height: Int = 500) {
        self.series = series
        self.title = title
        self.x.label = xlabel
        self.y.label = ylabel
        self.y2.label = y2label
        self.width = width
        self.height = height
    }
}

/// One axis: label, range (either end may stay automatic) and scale.
///
///     var f = Figure(series); f.y = Axis(label: "eigenvalue", log: true)
public struct Axis: Sendable, Equatable {
    /// The axis title: `figure.x.label = "epoch"`.
    public var label: String?
    /// Lower end of the range; nil lets gnuplot choose.
    public var min: Double?
    /// Upper end of the range; nil lets gnuplot choose.
    public var max: Double?
    /// Logarithmic (base 10) scale.
    public var log = false

    /// `Axis(label: "learning rate", log: true)`.
    public init(label: String? = nil, min: Double? = nil, max: Double? = nil, log: Bool = false) {
        self.label = label
        self.min = min
        self.max = max
        self.log = log
    }
}

/// A dashed reference line across the plot, with an optional label.
///
///     figure.markers = [60, 120, 160].map { Marker(x: $0, label: "lr ÷5") }
public struct Marker: Sendable, Equatable {
    /// A vertical line at this x.
    public var x: Double?
    /// A horizontal line at this y (on the left axis).
    public var y: Double?
    /// Text beside the line (along it, for a vertical one).
    public var label: String?
    /// A gnuplot color name or `#rrggbb`; gray by default (light gray over a heatmap).
    public var color: String?
    /// Dashed unless told otherwise.
    public var dash: Dash = .dashed

    /// A vertical marker: `Marker(x: 60, label: "lr ÷5")`.
    public init(x: Double, label: String? = nil, color: String? = nil, dash: Dash = .dashed) {
        self.x = x
        self.label = label
        self.color = color
        self.dash = dash
    }

    /// A horizontal marker: `Marker(y: 0.9, label: "baseline")`.
    public init(y: Double, label: String? = nil, color: String? = nil, dash: Dash = .dashed) {
        self.y = y
        self.label = label
        self.color = color
        self.dash = dash
    }
}

/// Where the legend goes.
///
///     figure.key = .bottomRight
public enum Key: String, Sendable, CaseIterable {
    /// The inside corner the data leaves free; below the plot when every corner is taken (and for
    /// heatmaps, contours and surfaces, which fill the plot).
    case best
    /// Inside the plot, in that corner.
    case topLeft, topRight, bottomLeft, bottomRight
    /// Outside the plot, on the right.
    case outside
    /// Below the plot, entries side by side.
    case below
    /// No legend.
    case none
}

/// Line dash patterns.
///
///     .line(y: test, label: "test", dash: .dashed)
public enum Dash: String, Sendable, CaseIterable {
    /// Unbroken, dashes, dots, alternating dash and dot.
    case solid, dashed, dotted, dashDot
}

/// How a series of points is drawn.
///
///     .line(x: x, y: y, style: .linesPoints)
public enum LineStyle: String, Sendable, CaseIterable {
    /// A line through the points, the points alone (filled circles), or both.
    case lines, points, linesPoints
}

/// Which vertical axis a series is measured on.
///
///     .line(x: epochs, y: acc, label: "test acc", axis: .right)
public enum YAxis: String, Sendable {
    /// The left axis (`Figure.y`) or the right one (`Figure.y2`).
    case left, right
}

/// Viewing angles of a 3-D surface, in degrees: `rotX` tilts from straight above (0) towards the
/// side, `rotZ` turns about the vertical axis.
///
///     figure.view = View(rotX: 50, rotZ: 120)
public struct View: Sendable, Equatable {
    /// Degrees of tilt from straight above.
    public var rotX: Double
    /// Degrees of turn about the vertical axis.
    public var rotZ: Double

    /// `View(rotX: 60, rotZ: 30)`, gnuplot's default.
    public init(rotX: Double = 60, rotZ: Double = 30) {
        self.rotX = rotX
        self.rotZ = rotZ
    }
}

/// One thing a figure draws. Build it with the kind's constructor (`.line`, `.band`, `.bars`,
/// `.histogram`, `.density`, `.heatmap`, `.contour`, `.surface`), then adjust the shared style fields.
///
///     var s = Series.line(x: epochs, y: acc, label: "test acc"); s.dash = .dashed
public struct Series: Sendable {
    /// The legend entry; nil leaves the series out of the legend.
    public var label: String?
    /// The vertical axis of a 2-D series.
    public var axis: YAxis = .left
    /// A gnuplot color name or `#rrggbb`; nil takes the next color of the palette.
    public var color: String?
    /// The dash pattern of the series' line.
    public var dash: Dash = .solid
    /// Line width, in multiples of gnuplot's thinnest line (contours draw 2 as 1.5).
    public var lineWidth = 2.0

    /// The data and how to draw it.
    let kind: Kind

    enum Kind: Sendable {
        case xy(x: [Double], y: [Double], style: LineStyle)
        case errorBars(x: [Double], mean: [Double], std: [Double], connect: Bool)
        case band(x: [Double], mean: [Double], std: [Double])
        case bars(labels: [String], values: [Double])
        case histogram(Histogram)
        case density(x: [Double], density: [Double], filled: Bool)
        case heatmap(Grid)
        case contour(Grid, levels: ContourLevels, labels: Bool)
        case surface(Grid, style: SurfaceStyle)
    }

    init(_ kind: Kind, label: String?, axis: YAxis = .left, color: String? = nil, dash: Dash = .solid) {
        self.kind = kind
        self.label = label
        self.axis = axis
        self.color = color
        self.dash = dash
    }
}

/// Doubles that print as the given Floats' shortest forms: `Float(0.1)` becomes the Double 0.1, not
/// 0.10000000149011612, and reading it back as a Float gives the same Float. Use it to hand tensor
/// values (Float) to a figure.
///
///     .line(y: plotValues(tensor.scalars))
public func plotValues(_ values: [Float]) -> [Double] {
    values.map { $0.isFinite ? Double($0.description) ?? Double($0) : Double($0) }
}
