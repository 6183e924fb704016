import Foundation

/// The record `fit` returns (DESIGN.md's contract): named columns in a fixed order, each a list.
///
/// Per-epoch columns, one value per completed epoch: `epoch` (1-based), `lr` (the rate used in
/// that epoch), `train_loss` (size-weighted mean of the epoch's batch losses, from the training
/// forwards), `train_acc`, then `test_loss`/`test_acc` when a test set was given and
/// `NAME_loss`/`NAME_acc` for each extra evaluation set. Then, per tracked measure `m`: `m` (its
/// values, numbers or records) and `m_epoch` (the epochs they were taken at; 0 = before training).
/// A record column also reads as one list per field: `field("rag", "loss_adv")` is `rag_loss_adv`.
///
///     let log = try fit(net, train, opt, epochs: 3, batch: 64, test: test)
///     log.numbers("test_acc")   // [0.81, 0.86, 0.88]
public struct History: Sendable, Equatable, CustomStringConvertible {
    /// Column names, in order.
    public private(set) var columnNames: [String]
    private var store: [String: [TrackedValue]]

    /// An empty history with these columns (names unique).
    ///
    ///     var h = History(columns: ["epoch", "lr", "train_loss"])
    public init(columns: [String] = []) {
        var seen = Set<String>()
        columnNames = columns.filter { seen.insert($0).inserted }
        store = Dictionary(uniqueKeysWithValues: columnNames.map { ($0, []) })
    }

    /// The values of a column, or nil when there is no such column.
    ///
    ///     log["rag"]?.last   // {rag: 0.11, loss_adv: 0.93, loss: 0.82}
    public subscript(name: String) -> [TrackedValue]? { store[name] }

    /// Whether the history has a column of that name.
    public func has(_ name: String) -> Bool { store[name] != nil }

    /// A column of numbers as `[Double]`; nil when there is no such column or it holds records.
    ///
    ///     log.numbers("train_loss")
    public func numbers(_ name: String) -> [Double]? {
        guard let column = store[name] else { return nil }
        var out: [Double] = []
        out.reserveCapacity(column.count)
        for v in column {
            guard case .number(let x) = v else { return nil }
            out.append(x)
        }
        return out
    }

    /// The field names of a record column (from its first value); nil for a number column, an
    /// empty one, or no such column.
    ///
    ///     log.fields(of: "rag")   // ["rag", "loss_adv", "loss"]
    public func fields(of name: String) -> [String]? { store[name]?.first?.fields }

    /// One field of a record column as a list: the `m_FIELD` list. Nil when there is no such
    /// column or field.
    ///
    ///     log.field("rag", "loss_adv")   // the rag_loss_adv list
    public func field(_ name: String, _ field: String) -> [Double]? {
        guard let column = store[name], !column.isEmpty else { return nil }
        var out: [Double] = []
        for v in column {
            guard let x = v[field] else { return nil }
            out.append(x)
        }
        return out
    }

    /// Completed epochs (the length of the `epoch` column; 0 when it has none).
    public var epochCount: Int { store["epoch"]?.count ?? 0 }

    /// Every column as numbers, a record column `m` replaced (in its place) by `m_FIELD` per field.
    /// What a CSV export or a plot of everything wants.
    ///
    ///     for (name, values) in log.flattened { print(name, values) }
    public var flattened: [(name: String, values: [Double])] {
        var out: [(name: String, values: [Double])] = []
        for name in columnNames {
            if let numbers = numbers(name) {
                out.append((name, numbers))
            } else if let fields = fields(of: name) {
                for f in fields { out.append((name + "_" + f, field(name, f) ?? [])) }
            }
        }
        return out
    }

    /// Adds a column at the end (no-op when it exists).
    ///
    ///     h.addColumn("knn_acc")
    public mutating func addColumn(_ name: String) {
        guard store[name] == nil else { return }
        columnNames.append(name)
        store[name] = []
    }

    /// Appends a value to a column. A column holds one kind of value: numbers, or records with
    /// the same fields; anything else is an error (as is an unknown column).
    ///
    ///     try h.append(.number(0.1), to: "lr");  try h.append(1, to: "epoch")
    public mutating func append(_ value: TrackedValue, to name: String) throws {
        guard store[name] != nil else {
            throw TrainError("history", "no column '\(name)' (columns: \(columnNames.joined(separator: ", ")))")
        }
        if let problem = value.problem() { throw TrainError("history", "column '\(name)' was given \(problem)") }
        if let first = store[name]?.first, !first.sameKind(as: value) {
            throw TrainError("history", "column '\(name)' holds \(kindText(first)) but was given \(kindText(value))")
        }
        store[name]!.append(value)
    }

    private func kindText(_ v: TrackedValue) -> String {
        switch v {
        case .number: return "numbers"
        case .record(let f, _): return "records with fields (\(f.joined(separator: ", ")))"
        }
    }

    /// The value of a number column (or of `m_FIELD` of a record column) at `epoch`: for a
    /// per-epoch column, the row whose `epoch` is `epoch`; for a tracked measure, the value taken
    /// at that epoch (nil when it did not run then).
    func value(of metric: String, atEpoch epoch: Int) -> Double? {
        func at(_ column: String) -> Int? {
            let epochs = numbers(column + "_epoch") ?? numbers("epoch") ?? []
            guard let i = epochs.lastIndex(of: Double(epoch)), i < (store[column]?.count ?? 0) else { return nil }
            return i
        }
        if let column = store[metric] {
            guard let i = at(metric) else { return nil }
            return column[i].number
        }
        // m_FIELD of a record column m (the longest column name that is a prefix).
        for name in columnNames.sorted(by: { $0.count > $1.count }) where metric.hasPrefix(name + "_") {
            let f = String(metric.dropFirst(name.count + 1))
            guard let i = at(name), let column = store[name] else { continue }
            if let x = column[i][f] { return x }
        }
        return nil
    }

    // MARK: Printing

    /// A table of the per-epoch columns, then one line per tracked measure.
    public var description: String {
        let tracked = Set(columnNames.filter { store[$0 + "_epoch"] != nil })
        let perEpoch = columnNames.filter { !tracked.contains($0) && !($0.hasSuffix("_epoch") && tracked.contains(String($0.dropLast(6)))) }
        var lines: [String] = []
        let rows = epochCount
        if !perEpoch.isEmpty {
            let cells: [[String]] = perEpoch.map { name in
                (0..<rows).map { i in
                    let column = store[name]!
                    return i < column.count ? shortText(column[i]) : ""
                }
            }
            let widths = perEpoch.indices.map { j in max(perEpoch[j].count, cells[j].map(\.count).max() ?? 0) }
            func line(_ items: [String]) -> String {
                zip(items, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }
            lines.append(line(perEpoch))
            for i in 0..<rows { lines.append(line(perEpoch.indices.map { cells[$0][i] })) }
        }
        for name in columnNames where tracked.contains(name) {
            let epochs = (numbers(name + "_epoch") ?? []).map(formatNumber)
            let values = (store[name] ?? []).map(shortText)
            lines.append("\(name): " + zip(epochs, values).map { "[\($0)] \($1)" }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    private func shortText(_ v: TrackedValue) -> String {
        switch v {
        case .number(let x): return short(x)
        case .record(let f, let values):
            return "{" + zip(f, values).map { "\($0): \(short($1))" }.joined(separator: ", ") + "}"
        }
    }

    private func short(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), Swift.abs(x) < 1e9 { return formatNumber(x) }
        return String(format: "%.4g", x)
    }

    // MARK: Equality (bitwise on numbers, as TrackedValue)

    public static func == (a: History, b: History) -> Bool {
        a.columnNames == b.columnNames && a.store == b.store
    }
}
