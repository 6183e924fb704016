import Foundation

/// Mean and sample standard deviation (n − 1) of one quantity over trials.
///
///     let m = MeanStd([2.0, 4.0]); (m.mean, m.std)   // (3, 1.414…)
public struct MeanStd: Sendable, Equatable {
    public var mean: Double
    /// NaN for a single value.
    public var std: Double

    public init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }

    public init(_ values: [Double]) {
        let n = Double(values.count)
        mean = values.reduce(0, +) / n
        let m = mean
        std = values.count < 2 ? .nan : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
    }
}

/// The `trials: n` part of `hessian_eigs`: eigenpairs from several random batches, summarized as
/// the paper's Table 2 reports them.
///
///     let s = try EigenpairTrials(runs); print(s.max.mean, "±", s.max.std, s.ratio5?.mean ?? .nan)
public struct EigenpairTrials: Sendable {
    public var trials: [Eigenpairs]
    /// Per eigenvalue index: mean and std (n − 1) over trials.
    public var mean: [Double]
    public var std: [Double]
    /// |λ₁| per trial, summarized.
    public var max: MeanStd
    /// |λ₁/λ₅| taken per trial, summarized; nil when fewer than 5 eigenvalues were computed.
    public var ratio5: MeanStd?
    /// Operator applications over all trials.
    public var hvps: Int

    /// Throws when there are no trials or they disagree on k.
    ///
    ///     let s = try EigenpairTrials(batches.map { try Lanczos.eigenpairs(of: hessian(on: $0), k: 10) })
    public init(_ trials: [Eigenpairs]) throws {
        guard let k = trials.first?.values.count, k > 0 else { throw SharpnessError("eigen trials", "no trials") }
        guard trials.allSatisfy({ $0.values.count == k }) else {
            throw SharpnessError("eigen trials", "trials computed different numbers of eigenvalues")
        }
        self.trials = trials
        let columns = (0..<k).map { i in MeanStd(trials.map { $0.values[i] }) }
        mean = columns.map(\.mean)
        std = columns.map(\.std)
        max = MeanStd(trials.map { abs($0.values[0]) })
        ratio5 = k >= 5 ? MeanStd(trials.map { abs($0.values[0] / $0.values[4]) }) : nil
        hvps = trials.reduce(0) { $0 + $1.hvps }
    }
}
