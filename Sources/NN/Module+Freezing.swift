import Tensor

/// Parameter name patterns, as `freeze`, `unfreeze` and `wrt:` take them.
///
/// A pattern is matched against a parameter's dotted name (`layer1.0.conv1.weight`) and against
/// each of its dotted prefixes (`layer1`, `layer1.0`, `layer1.0.conv1`); it selects the parameter
/// when any of them matches. Within a pattern `*` matches any run of characters (dots included)
/// and `?` any one character; everything else matches itself. So:
///
/// - `"*"` selects every parameter;
/// - `"layer1"` selects everything under `layer1` (but not `layer10`), `"linear.bias"` one tensor;
/// - `"*.bias"` every bias, `"*bn*"` every BatchNorm parameter (`bn1`, `bn2`, `layer1.0.bn1`, …),
///   `"layer*.*.shortcut"` every projection shortcut, `"layer[1-2]"` nothing (no brackets).
///
///     ParameterPattern.matches("layer1", "layer1.0.conv1.weight")   // true
public enum ParameterPattern {
    /// Whether `pattern` selects the parameter `name` (whole name or a dotted prefix of it).
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let n = Array(name.unicodeScalars)
        if glob(p, n[...]) { return true }
        for (i, c) in n.enumerated() where c == "." {
            if glob(p, n[..<i]) { return true }
        }
        return false
    }

    /// Iterative glob with `*` and `?` (backtracks to the last star only: linear in practice).
    static func glob(_ p: [Unicode.Scalar], _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        let s = Array(s)
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

extension Module {
    /// Marks the parameters selected by `pattern` (see `ParameterPattern`) as not trainable: they
    /// stop requiring grad, so they get no gradient and optimizers leave them alone. Returns how
    /// many parameter tensors were selected; a pattern that selects none is an error (a typo
    /// would otherwise train the whole model silently).
    ///
    ///     try net.freeze("*"); try net.unfreeze("linear")   // linear probe on a frozen encoder
    @discardableResult
    public func freeze(_ pattern: String) throws -> Int { try setTrainable(false, pattern, op: "freeze") }

    /// Marks the parameters selected by `pattern` as trainable again. Returns how many.
    ///
    ///     try net.unfreeze("layer4")
    @discardableResult
    public func unfreeze(_ pattern: String) throws -> Int { try setTrainable(true, pattern, op: "unfreeze") }

    /// Whether the parameter named `name` is trainable; nil when there is no such parameter.
    ///
    ///     net.isTrainable("linear.weight")   // true
    public func isTrainable(_ name: String) -> Bool? {
        namedParameters().first { $0.name == name }?.tensor.requiresGrad
    }

    /// Runs `body` with every parameter requiring grad, then restores each one's trainable flag
    /// (even when `body` throws). A frozen parameter is outside the graph, so a measure asked for
    /// `wrt: "all"` differentiates inside this.
    ///
    ///     let g = try net.withAllParametersTracked { try gradients(of: loss(), wrt: net.parameters()) }
    public func withAllParametersTracked<T>(_ body: () throws -> T) rethrows -> T {
        let saved = parameters().map { ($0, $0.requiresGrad) }
        for (t, _) in saved { t.requiringGrad(true) }
        defer { for (t, flag) in saved { t.requiringGrad(flag) } }
        return try body()
    }

    private func setTrainable(_ on: Bool, _ pattern: String, op: String) throws -> Int {
        let all = namedParameters()
        let hits = all.filter { ParameterPattern.matches(pattern, $0.name) }
        guard !hits.isEmpty else {
            let sample = all.prefix(4).map(\.name).joined(separator: ", ")
            throw NNError(op, all.isEmpty ? "\(summary) has no parameters"
                : "pattern '\(pattern)' selects no parameter of \(summary) (names look like \(sample)\(all.count > 4 ? ", …" : ""))")
        }
        for h in hits { h.tensor.requiringGrad(on) }
        return hits.count
    }
}
