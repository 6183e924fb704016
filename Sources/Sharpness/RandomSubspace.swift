import CBLAS
import Dispatch
import Foundation
import Tensor

/// The random n×p matrix A of Keskar's subspace sharpness, with i.i.d. N(0, 1) entries.
///
/// Column j is the first n draws of `RandomGenerator(seed: mixSeed(seed, j)).normal()` — one
/// generator per column, so a column can be regenerated alone and all columns can be generated
/// side by side in row blocks. When n·p ≤ `storeLimit` (2²⁶ values, 256 MiB) the columns are
/// stored; above that (ResNet-18's 11 M parameters × p = 100 would be 4.4 GB) they are
/// regenerated on the fly, block of rows by block of rows, for every product — the same values,
/// traded for time (n·p normal draws per product, spread over the cores).
///
///     let a = RandomSubspace(rows: w.count, columns: 100, seed: 1); let z = try a.pseudoInverseTimes(w)
final class RandomSubspace {
    let rows: Int
    let columns: Int
    let seed: UInt64
    /// The columns, when small enough to keep.
    let stored: [[Float]]?
    /// Above this many values the columns are regenerated instead of stored.
    nonisolated(unsafe) static var storeLimit = 1 << 26
    /// Rows per block when regenerating.
    static let blockRows = 16384

    init(rows: Int, columns: Int, seed: UInt64, store: Bool? = nil) {
        self.rows = rows
        self.columns = columns
        self.seed = seed
        let keep = store ?? (rows * columns <= RandomSubspace.storeLimit)
        stored = keep ? (0..<columns).map { RandomSubspace.column($0, rows: rows, seed: seed) } : nil
    }

    /// Column j, generated.
    static func column(_ j: Int, rows: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: mixSeed(seed, j))
        return (0..<rows).map { _ in Float(g.normal()) }
    }

    func column(_ j: Int) -> [Float] { stored?[j] ?? RandomSubspace.column(j, rows: rows, seed: seed) }

    /// Calls `body(rowRange, block)` for consecutive row blocks, `block[j]` holding column j's
    /// entries on those rows (generated in parallel over the columns).
    private func forEachBlock(_ body: (Range<Int>, [[Float]]) throws -> Void) rethrows {
        var generators = (0..<columns).map { RandomGenerator(seed: mixSeed(seed, $0)) }
        var start = 0
        while start < rows {
            let count = min(RandomSubspace.blockRows, rows - start)
            var block = [[Float]](repeating: [], count: columns)
            generators.withUnsafeMutableBufferPointer { gp in
                block.withUnsafeMutableBufferPointer { bp in
                    nonisolated(unsafe) let (g, b) = (gp.baseAddress!, bp.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: columns) { j in
                        b[j] = (0..<count).map { _ in Float(g[j].normal()) }
                    }
                }
            }
            try body(start ..< start + count, block)
            start += count
        }
    }

    /// w + Ay, accumulated column by column in Float32 (the same operations stored or not).
    func combine(_ w: [Float], _ y: [Double]) -> [Float] {
        var out = w
        if let stored {
            for (j, a) in stored.enumerated() { axpy(Float(y[j]), a, &out) }
            return out
        }
        forEachBlock { range, block in
            out.withUnsafeMutableBufferPointer { o in
                for j in 0..<columns {
                    block[j].withUnsafeBufferPointer { a in
                        cblas_saxpy(Int32(range.count), Float(y[j]), a.baseAddress, 1, o.baseAddress! + range.lowerBound, 1)
                    }
                }
            }
        }
        return out
    }

    /// Aᵀg, accumulated in Double.
    func transposeTimes(_ g: [Float]) -> [Double] {
        if let stored { return stored.map { dot($0, g) } }
        var out = [Double](repeating: 0, count: columns)
        forEachBlock { range, block in
            g.withUnsafeBufferPointer { gp in
                for j in 0..<columns {
                    out[j] += block[j].withUnsafeBufferPointer { a in
                        cblas_dsdot(Int32(range.count), a.baseAddress, 1, gp.baseAddress! + range.lowerBound, 1)
                    }
                }
            }
        }
        return out
    }

    /// A⁺w = (AᵀA)⁻¹Aᵀw by Cholesky in Double (A has full column rank with probability 1).
    func pseudoInverseTimes(_ w: [Float]) throws -> [Double] {
        if let stored { return try KeskarSharpness.leastSquaresCoordinates(stored, w) }
        let p = columns
        var gram = [Double](repeating: 0, count: p * p)
        var rhs = [Double](repeating: 0, count: p)
        forEachBlock { range, block in
            let b = range.count
            var d = [Double](repeating: 0, count: p * b)
            for j in 0..<p { for i in 0..<b { d[j * b + i] = Double(block[j][i]) } }
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(p), Int32(b), 1, d, Int32(b), 1, &gram, Int32(p))
            w.withUnsafeBufferPointer { wp in
                for j in 0..<p {
                    rhs[j] += block[j].withUnsafeBufferPointer { a in
                        cblas_dsdot(Int32(b), a.baseAddress, 1, wp.baseAddress! + range.lowerBound, 1)
                    }
                }
            }
        }
        let g = (0..<p).map { i in (0..<p).map { j in i <= j ? gram[i * p + j] : gram[j * p + i] } }
        guard let u = choleskyUpper(g), let t = solveUpperTransposed(u, rhs), let z = solveUpper(u, t) else {
            throw SharpnessError("keskar", "the subspace matrix A is rank-deficient")
        }
        return z
    }
}
