import CBLAS
import Foundation

/// An orthonormal basis of Float32 vectors stored as the rows of one contiguous array, so that
/// projections are BLAS calls over the whole basis. Its memory is rows × dimension × 4 bytes:
/// 100 vectors of 10⁵ entries take 40 MB.
final class KrylovBasis {
    let dimension: Int
    private(set) var storage: [Float] = []

    init(dimension: Int, capacity: Int) {
        self.dimension = dimension
        storage.reserveCapacity(dimension * capacity)
    }

    var count: Int { storage.count / dimension }

    func append(_ v: [Float]) {
        precondition(v.count == dimension)
        storage.append(contentsOf: v)
    }

    func row(_ i: Int) -> [Float] { Array(storage[(i * dimension)..<((i + 1) * dimension)]) }

    /// Removes w's components along every row by classical Gram–Schmidt, twice ("twice is
    /// enough": Giraud, Langou & Rozložník 2005), and returns the summed coefficients Vᵀw of the
    /// two passes. Coefficients are Double-accumulated dot products; the updates are `sgemv`.
    @discardableResult
    func orthogonalize(_ w: inout [Float]) -> [Double] {
        let rows = count
        var total = [Double](repeating: 0, count: rows)
        guard rows > 0 else { return total }
        let n = dimension
        storage.withUnsafeBufferPointer { vp in
            let base = vp.baseAddress!
            for _ in 0..<2 {
                var h = [Float](repeating: 0, count: rows)
                w.withUnsafeMutableBufferPointer { wp in
                    for i in 0..<rows {
                        let c = cblas_dsdot(Int32(n), base + i * n, 1, wp.baseAddress, 1)
                        total[i] += c
                        h[i] = Float(c)
                    }
                    // w ← w − Vᵀh
                    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(n), -1, base, Int32(n),
                                h, 1, 1, wp.baseAddress, 1)
                }
            }
        }
        return total
    }

    /// Σᵢ cᵢ·rowᵢ (rows 0 ..< c.count).
    func combination(_ c: [Double]) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        let coefficients = c.map(Float.init)
        storage.withUnsafeBufferPointer { vp in
            out.withUnsafeMutableBufferPointer { op in
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(c.count), Int32(dimension), 1, vp.baseAddress,
                            Int32(dimension), coefficients, 1, 0, op.baseAddress, 1)
            }
        }
        return out
    }

    /// Replaces the basis by the p combinations `columns[j]` (each of length `count`): row j
    /// becomes Σᵢ columns[j][i]·rowᵢ. Done in place, one block of coordinates at a time, so the
    /// restart needs no second basis-sized buffer.
    func replaceWithCombinations(_ columns: [[Double]]) {
        let rows = count, p = columns.count, n = dimension
        precondition(p <= rows && columns.allSatisfy { $0.count == rows })
        var st = [Float](repeating: 0, count: p * rows)   // Sᵀ, p × rows, row-major
        for j in 0..<p { for i in 0..<rows { st[j * rows + i] = Float(columns[j][i]) } }
        let block = 4096
        var temp = [Float](repeating: 0, count: p * block)
        storage.withUnsafeMutableBufferPointer { vp in
            let base = vp.baseAddress!
            var c0 = 0
            while c0 < n {
                let width = min(block, n - c0)
                temp.withUnsafeMutableBufferPointer { tp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(p), Int32(width), Int32(rows),
                                1, st, Int32(rows), base + c0, Int32(n), 0, tp.baseAddress, Int32(width))
                    for j in 0..<p {
                        (base + j * n + c0).update(from: tp.baseAddress! + j * width, count: width)
                    }
                }
                c0 += width
            }
        }
        storage.removeLast((rows - p) * n)
    }
}
