import Foundation
import Tensor

/// A stochastic trace estimate with its standard error (the `hessian_trace` record).
///
///     let t = try Hutchinson.trace(of: h, probes: 100); print(t.trace, "±", t.stderr)
public struct TraceEstimate: Sendable {
    /// Mean of the per-probe values zᵀHz.
    public var trace: Double
    /// Sample standard deviation of the per-probe values (n − 1) / √probes; NaN for one probe.
    public var stderr: Double
    /// The per-probe values zᵀHz, in probe order.
    public var samples: [Double]
    /// Operator applications (one per probe).
    public var hvps: Int
}

/// Hutchinson's trace estimator with Rademacher probes: E[zᵀHz] = tr H when the entries of z are
/// independent ±1. Each probe costs one application of H; the quadratic form accumulates in
/// Double. The variance is 2Σᵢ≠ⱼ Hᵢⱼ² per probe, so the standard error shrinks as 1/√probes.
///
///     let t = try Hutchinson.trace(of: hessian, probes: 100, seed: 7)
public enum Hutchinson {
    /// - Parameters:
    ///   - probes: number of Rademacher vectors (≥ 1; ≥ 2 for a standard error).
    ///   - seed: seeds the probes.
    ///
    ///     let t = try Hutchinson.trace(of: h, probes: 50, progress: .silent)
    public static func trace(of op: some SymmetricOperator, probes: Int = 100, seed: UInt64 = 0,
                             progress: MeasureProgress = .automatic) throws -> TraceEstimate {
        let n = op.dimension
        guard n > 0 else { throw SharpnessError("hutchinson", "operator of dimension 0") }
        guard probes >= 1 else { throw SharpnessError("hutchinson", "probes must be at least 1, got \(probes)") }
        var h = CountingOperator(op, op: "hutchinson")
        let hook = ProgressHook(progress, label: "hutchinson", total: probes, unit: "probe")
        var rng = RandomGenerator(seed: seed)
        var samples: [Double] = []
        samples.reserveCapacity(probes)
        for p in 0..<probes {
            let z = rademacher(n, &rng)
            let hz = try h.apply(z)
            samples.append(dot(z, hz))
            let (mean, se) = meanAndStandardError(samples)
            hook.update(p + 1, "trace \(String(format: "%.6g", mean))" + (se.isNaN ? "" : " ± \(String(format: "%.2g", se))"))
        }
        let (mean, se) = meanAndStandardError(samples)
        hook.finish("trace \(String(format: "%.6g", mean)) ± \(String(format: "%.2g", se))")
        return TraceEstimate(trace: mean, stderr: se, samples: samples, hvps: h.count)
    }
}

/// Mean and standard error (sample std with n − 1, over √n); NaN error for fewer than 2 values.
func meanAndStandardError(_ x: [Double]) -> (mean: Double, stderr: Double) {
    let n = Double(x.count)
    let mean = x.reduce(0, +) / n
    guard x.count >= 2 else { return (mean, .nan) }
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    return (mean, (variance / n).squareRoot())
}
