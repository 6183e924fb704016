extension Module: CustomStringConvertible {
    /// Torch-style: a layer prints its one-line summary (`Linear(784 -> 256)`); a module with
    /// children prints its tree, one `(name): summary` per line, and the parameter count.
    ///
    ///     print(try MLP([784, 256, 10]))
    ///     // MLP(784 -> 256 -> 10) {
    ///     //   (fc1): Linear(784 -> 256)
    ///     //   (relu1): ReLU
    ///     //   (fc2): Linear(256 -> 10)
    ///     // }
    ///     // 203,530 parameters
    public var description: String {
        guard !children.isEmpty else { return summary }
        let total = parameterCount(), trainable = parameterCount(trainableOnly: true)
        var count = "\(groupedDigits(total)) parameter\(total == 1 ? "" : "s")"
        if trainable != total { count += " (\(groupedDigits(trainable)) trainable)" }
        return tree(indent: "") + "\n" + count
    }

    /// This module and its descendants, indented by two spaces a level.
    func tree(indent: String) -> String {
        guard !children.isEmpty else { return summary }
        var lines = [summary + " {"]
        for c in children { lines.append(indent + "  (\(c.name)): " + c.module.tree(indent: indent + "  ")) }
        lines.append(indent + "}")
        return lines.joined(separator: "\n")
    }
}

/// 11173962 → "11,173,962".
func groupedDigits(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}
