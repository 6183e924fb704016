import Tensor

/// Where an algorithm's progress goes. A measure shows one `ProgressReporter`; when a measure runs
/// an algorithm many times (trials, probes of an outer loop) it passes `.report` so the inner runs
/// feed its reporter instead of drawing their own.
///
///     let eig = try Lanczos.eigenpairs(of: h, k: 10, progress: .silent)
public enum MeasureProgress {
    /// The algorithm draws its own `ProgressReporter` (label = the algorithm's name).
    case automatic
    /// Nothing is shown.
    case silent
    /// Called after each step with the steps done and a short preformatted status ("hvps 42").
    case report((Int, String) -> Void)
}

/// The reporter an algorithm holds for one run, whatever `MeasureProgress` asked for.
final class ProgressHook {
    private let reporter: ProgressReporter?
    private let callback: ((Int, String) -> Void)?

    init(_ progress: MeasureProgress, label: String, total: Int?, unit: String) {
        switch progress {
        case .automatic:
            reporter = ProgressReporter(label, total: total, unit: unit)
            callback = nil
        case .silent:
            reporter = nil
            callback = nil
        case .report(let f):
            reporter = nil
            callback = f
        }
    }

    func update(_ step: Int, _ info: String = "") {
        reporter?.update(step: step, info: info)
        callback?(step, info)
    }

    func finish(_ summary: String = "") { reporter?.finish(summary: summary) }
}
