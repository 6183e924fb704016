import CBLAS

/// C = op(A)·op(B) (+ beta·C) on row-major buffers. OpenBLAS threads the product itself; splitting
/// it ourselves measured slower (each block repacks the shared operand).
/// Floating-point operations done by matrix products so far (2·m·n·k each), for benchmarks that
/// report a step's FLOP count and its fraction of the sgemm rate.
public enum GemmCounter {
    nonisolated(unsafe) public static var flops: Double = 0
}

@inline(__always)
func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
           m: Int, n: Int, k: Int, transA: Bool, transB: Bool, beta: Float = 0,
           lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, counted: Bool = true) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda ?? (transA ? m : k)),
                b, Int32(ldb ?? (transB ? k : n)), beta, c, Int32(ldc ?? n))
    // Products run on worker threads are counted by their caller (`counted: false`).
    if counted { GemmCounter.flops += 2 * Double(m) * Double(n) * Double(k) }
}

extension Tensor {
    /// Matrix product of 2-D tensors, or batched over a leading axis ([B, M, K]·[B, K, N] or
    /// [B, M, K]·[K, N]). `transposeA`/`transposeB` use the transposed operand without copying it.
    ///
    ///     let y = try x.matmul(w, transposeB: true)   // x·wᵀ, as a Linear layer
    public func matmul(_ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
        let a = self
        func fail() -> TensorError {
            TensorError("matmul", "shapes \(shapeText(a.shape))\(transposeA ? "ᵀ" : "") and \(shapeText(b.shape))\(transposeB ? "ᵀ" : "") do not match")
        }
        guard (a.rank == 2 || a.rank == 3), (b.rank == 2 || b.rank == 3), !(a.rank == 2 && b.rank == 3) else { throw fail() }
        let batch = a.rank == 3 ? a.shape[0] : 1
        if b.rank == 3 && b.shape[0] != batch { throw fail() }
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
        let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        guard k == k2 else { throw fail() }
        let out = Tensor(uninitializedShape: a.rank == 3 ? [batch, m, n] : [m, n])
        if out.count > 0 {
            if k == 0 { out.ptr.initialize(repeating: 0, count: out.count) }
            for i in 0..<batch {
                sgemm(a.ptr + i * m * k, b.ptr + (b.rank == 3 ? i * k * n : 0), out.ptr + i * m * n,
                      m: m, n: n, k: k, transA: transposeA, transB: transposeB)
            }
        }
        let batchedB = b.rank == 3
        return Tensor.result(out, op: "matmul", inputs: [a, b]) { g, needs in
            // d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G, each mapped back through its transpose flag.
            var ga: Tensor? = nil, gb: Tensor? = nil
            if needs[0] {
                let bb = transposeA && !batchedB && a.rank == 3 ? try b.broadcast(to: [batch] + b.shape) : b
                ga = transposeA ? try bb.matmul(g, transposeA: transposeB, transposeB: true)
                                : try g.matmul(b, transposeB: !transposeB)
            }
            if needs[1] {
                if batchedB || a.rank == 2 {
                    gb = transposeB ? try g.matmul(a, transposeA: true, transposeB: transposeA)
                                    : try a.matmul(g, transposeA: !transposeA)
                } else {
                    // B is shared by every batch item: fold the batch into the rows and sum.
                    let a2 = try a.reshaped([batch * ar, ac]), g2 = try g.reshaped([batch * m, n])
                    if transposeA {
                        // op(A) differs per item; sum the per-item products.
                        let per = transposeB ? try g.matmul(a, transposeA: true, transposeB: true)
                                             : try a.matmul(g)
                        gb = try per.sum(axes: [0])
                    } else {
                        gb = transposeB ? try g2.matmul(a2, transposeA: true) : try a2.matmul(g2, transposeA: true)
                    }
                }
            }
            return [ga, gb]
        }
    }
}

