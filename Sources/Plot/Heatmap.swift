/// Values on a rectangular grid. `z[i][j]` is the value at `(x[j], y[i])`: rows follow y and
/// columns follow x, as NumPy's `meshgrid` and matplotlib's `contour(X, Y, Z)` lay them out.
struct Grid: Sendable {
    var x: [Double]
    var y: [Double]
    var z: [[Double]]

    /// Checks the shape; `what` names the kind in messages.
    func validate(_ what: String) throws {
        guard !z.isEmpty, !z[0].isEmpty else { throw PlotError(.invalidData, "\(what): the matrix is empty") }
        guard z.count == y.count else {
            throw PlotError(.invalidData, "\(what): z has \(z.count) rows but y has \(y.count) values (rows follow y)")
        }
        for (i, row) in z.enumerated() where row.count != x.count {
            throw PlotError(.invalidData, "\(what): row \(i) of z has \(row.count) values but x has \(x.count) (columns follow x)")
        }
        guard z.contains(where: { $0.contains(where: \.isFinite) }) else {
            throw PlotError(.invalidData, "\(what): no finite values to draw")
        }
    }

    /// Whether both coordinate lists are evenly spaced, as gnuplot's `image` style needs (a 1-point
    /// axis counts as even).
    var isEvenlySpaced: Bool { Grid.even(x) && Grid.even(y) }

    private static func even(_ v: [Double]) -> Bool {
        guard v.count > 2 else { return true }
        let step = (v[v.count - 1] - v[0]) / Double(v.count - 1)
        return v.indices.allSatisfy { abs(v[$0] - (v[0] + Double($0) * step)) <= 1e-6 * Swift.max(abs(step), 1e-300) }
    }

    /// The smallest and largest finite values.
    var range: (Double, Double) {
        let finite = z.joined().filter(\.isFinite)
        return (finite.min() ?? 0, finite.max() ?? 0)
    }

    /// gnuplot's `nonuniform matrix` layout: a header row (column count, then the x values), then
    /// one row per y: the y value, then that row's z values.
    var rows: [String] {
        [([Double(x.count)] + x).map(gp).joined(separator: " ")]
            + zip(y, z).map { yi, row in ([yi] + row).map(gp).joined(separator: " ") }
    }
}

extension Series {
    /// A heatmap: `z[i][j]` colors the cell at `(x[j], y[i])`; x and y default to 0, 1, 2, …
    /// (a matrix shown as an image).
    ///
    ///     .heatmap(x: alphas, y: betas, z: losses)
    public static func heatmap(x: [Double]? = nil, y: [Double]? = nil, z: [[Double]], label: String? = nil) -> Series {
        Series(.heatmap(Grid(x: x ?? indices(z.first?.count ?? 0), y: y ?? indices(z.count), z: z)), label: label)
    }
}

/// 0, 1, …, n − 1 as Doubles (the default x of a series).
func indices(_ n: Int) -> [Double] { (0 ..< n).map(Double.init) }

extension Figure {
    /// The heatmap's plot element: an evenly spaced grid is an image (one cell per value, centered
    /// on its point); an uneven one is drawn as boxes reaching halfway to the neighbouring points.
    func heatmapElement(_ grid: Grid, _ s: Series, _ c: inout PlotContext) throws -> [String] {
        try grid.validate("heatmap \(s.name)")
        if grid.isEvenlySpaced {
            let block = c.writer.datablock(grid.rows)
            return ["\(block) nonuniform matrix using 1:2:3 with image \(c.title(s))"]
        }
        let xe = cellEdges(grid.x), ye = cellEdges(grid.y)
        var rows: [String] = []
        for (i, row) in grid.z.enumerated() {
            for (j, v) in row.enumerated() {
                rows.append([grid.x[j], grid.y[i], xe[j], xe[j + 1], ye[i], ye[i + 1], v].map(gp).joined(separator: " "))
            }
        }
        let block = c.writer.datablock(rows)
        return ["\(block) using 1:2:3:4:5:6:7 with boxxyerror fs solid 1 noborder lc palette \(c.title(s))"]
    }
}

/// Edges of the cells around sorted or unsorted points: halfway between neighbours, and as far
/// beyond the end points as the nearest neighbour is (a single point gets a unit cell).
func cellEdges(_ v: [Double]) -> [Double] {
    guard v.count > 1 else { return [(v.first ?? 0) - 0.5, (v.first ?? 0) + 0.5] }
    let mids = (0 ..< v.count - 1).map { (v[$0] + v[$0 + 1]) / 2 }
    return [v[0] - (mids[0] - v[0])] + mids + [v[v.count - 1] + (v[v.count - 1] - mids[mids.count - 1])]
}
