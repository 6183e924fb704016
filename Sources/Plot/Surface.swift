/// How a surface is drawn.
///
///     .surface(x: a, y: b, z: loss, style: .mesh)
public enum SurfaceStyle: String, Sendable {
    /// Faces colored by height (gnuplot's pm3d), with a thin mesh.
    case colored
    /// A wire mesh with hidden lines removed.
    case mesh
}

extension Series {
    /// A 3-D surface of `z[i][j]` over `(x[j], y[i])`; `Figure.view` sets the viewing angles.
    /// A contour series of the same grid in the figure is drawn on the base plane.
    ///
    ///     var f = Figure([.surface(x: alphas, y: betas, z: losses)]); f.view = View(rotX: 55, rotZ: 35)
    public static func surface(x: [Double]? = nil, y: [Double]? = nil, z: [[Double]], style: SurfaceStyle = .colored,
                               label: String? = nil, color: String? = nil) -> Series {
        Series(.surface(Grid(x: x ?? indices(z.first?.count ?? 0), y: y ?? indices(z.count), z: z), style: style),
               label: label, color: color)
    }
}

extension Figure {
    func surfaceElement(_ grid: Grid, _ style: SurfaceStyle, _ s: Series, _ c: inout PlotContext) throws -> [String] {
        try grid.validate("surface \(s.name)")
        guard grid.x.count >= 2, grid.y.count >= 2 else {
            throw PlotError(.invalidData, "surface \(s.name): needs at least a 2×2 grid")
        }
        let block = c.writer.datablock(grid.rows)
        switch style {
        case .colored:
            c.settings.append("set pm3d depthorder border lc rgb \"#40000000\" lw 0.5")
            return ["\(block) nonuniform matrix using 1:2:3 with pm3d nocontours \(c.title(s))"]
        case .mesh:
            c.settings.append("set hidden3d")
            return ["\(block) nonuniform matrix using 1:2:3 with lines nocontours \(c.color(s)) lw 1 \(c.title(s))"]
        }
    }
}
