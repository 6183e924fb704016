import Dispatch
import Foundation

/// Splits `0..<n` into contiguous chunks run on all cores when the work is large enough to pay for
/// the hand-off; small work runs inline. Never call BLAS from inside (OpenBLAS has its own threads).
@inline(__always)
func parallelFor(_ n: Int, grain: Int = Parallelism.grain, _ body: (Range<Int>) -> Void) {
    let workers = Parallelism.workers
    if n < 2 * grain || workers == 1 {
        body(0..<n)
        return
    }
    let chunks = min(workers, (n + grain - 1) / grain)
    let per = (n + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(n, lo + per)
            if lo < hi { work(lo..<hi) }
        }
    }
}

/// The cores a batch of n images is split over: one contiguous share each (`forEachBatchShare`).
func batchShareWorkers(_ n: Int) -> Int { max(1, min(Parallelism.workers, n)) }

/// The images in each core's share of a batch of n (the last share may be smaller).
func batchShare(_ n: Int) -> Int { (n + batchShareWorkers(n) - 1) / batchShareWorkers(n) }

/// Runs body(worker, images) over contiguous shares of 0..<n, one per core (inline on one core).
/// Each worker index runs once at most, so per-worker buffers need no locks.
func forEachBatchShare(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
    let workers = batchShareWorkers(n), share = batchShare(n)
    if workers == 1 { return body(0, 0..<n) }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = w * share, hi = min(n, lo + share)
            if lo < hi { work(w, lo..<hi) }
        }
    }
}

/// How many threads elementwise loops use (the cores, unless set lower, e.g. by `--threads`).
public enum Parallelism {
    nonisolated(unsafe) public static var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Elements per chunk; loops under two chunks stay on one thread. At 2¹⁹ the BatchNorm and
    /// elementwise passes of ResNet-18 w16's 14×14, 7×7 and 4×4 layers ran on one core (a fifth of
    /// a training step serial); at 2¹⁶ the step took 10 % less, and the MLP's HVP and step, where
    /// OpenBLAS's spinning workers compete with ours, did not change measurably.
    nonisolated(unsafe) public static var grain = 1 << 16
}
