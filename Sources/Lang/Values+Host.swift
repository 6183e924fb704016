import Data
import Foundation
import NN
import Sharpness
import Tensor
import Train

// The lower layers' objects as language values: models (callable: `net(x)`), data sets,
// optimizers, schedules and the trackers `every(n, m)` makes. Each is a `LangObject`, so it
// prints, has `.field` access, completes in the REPL and compares by identity.

/// A model or a layer (`mlp`, `resnet18`, `sequential`, `linear`, …). `net(x)` runs it on a tensor
/// (in its current mode, without a graph); `.fc1`, `.layer1` are its children, `.weight` and
/// `.running_mean` copies of its own tensors; `num_params`, `trainable_params` and `training`
/// describe it.
final class ModelValue: CallableLangObject {
    let module: Module
    /// The name `sequential([...])` gives this layer (`linear(2, 3, name: "fc")`); nil: its index.
    let name: String?
    private var childValues: [ObjectIdentifier: ModelValue] = [:]

    init(_ module: Module, name: String? = nil) {
        self.module = module
        self.name = name
    }

    var typeName: String { "model" }

    /// Torch-style: the layer tree and the parameter count (a single layer: its summary).
    var description: String { module.description }

    var fieldNames: [String] {
        module.children.map(\.name) + module.ownParameters.map(\.name) + module.ownBuffers.map(\.name)
            + ["num_params", "trainable_params", "training", "summary"]
    }

    func field(_ name: String) -> Value? {
        if let c = module.children.first(where: { $0.name == name }) { return .object(child(c.module)) }
        if let p = module.ownParameters.first(where: { $0.name == name }) { return .tensor(p.tensor.detached().copy()) }
        if let b = module.ownBuffers.first(where: { $0.name == name }) { return .tensor(b.tensor.detached().copy()) }
        switch name {
        case "num_params": return .number(Double(module.parameterCount()))
        case "trainable_params": return .number(Double(module.parameterCount(trainableOnly: true)))
        case "training": return .bool(module.isTraining)
        case "summary": return .string(module.summary)
        default: return nil
        }
    }

    /// A `Sequential`'s number of children.
    var length: Int? { module is Sequential ? module.children.count : nil }

    /// One wrapper per child, so `net.fc1 == net.fc1`.
    private func child(_ m: Module) -> ModelValue {
        if let v = childValues[ObjectIdentifier(m)] { return v }
        let v = ModelValue(m)
        childValues[ObjectIdentifier(m)] = v
        return v
    }

    func call(_ positional: [Value], _ keywords: [(name: String, value: Value)], _ interpreter: Interpreter) throws -> Value {
        guard keywords.isEmpty, positional.count == 1 else {
            throw LangError.runtime("a model takes one argument, the input tensor: net(x)")
        }
        let x = try interpreter.toTensor(positional[0], what: "the model's input")
        return .tensor(try withNoGrad { try module(x) })
    }
}

/// A labelled data set: `.x` (N×C×H×W or N×D), `.y` (labels), `len(d)` = N.
final class DatasetValue: LangObject {
    let dataset: Dataset

    init(_ dataset: Dataset) { self.dataset = dataset }

    var typeName: String { "dataset" }

    var description: String {
        "dataset \(dataset.name): \(dataset.count) items of shape \(shapeText(dataset.itemShape)), \(dataset.classCount) classes"
            + (dataset.normalization == nil ? "" : ", normalized")
    }

    var fieldNames: [String] { ["x", "y", "name", "classes", "class_names", "shape", "normalization"] }

    func field(_ name: String) -> Value? {
        switch name {
        case "x": return .tensor(dataset.x)
        case "y": return .tensor(dataset.y)
        case "name": return .string(dataset.name)
        case "classes": return .number(Double(dataset.classCount))
        case "class_names": return dataset.classNames.map { .strings($0) } ?? .null
        case "shape": return .list(ListValue(dataset.itemShape.map { .number(Double($0)) }))
        case "normalization":
            guard let s = dataset.normalization else { return .null }
            return .record([("mean", numberList(s.mean.map(Double.init))), ("std", numberList(s.std.map(Double.init)))])
        default: return nil
        }
    }

    var length: Int? { dataset.count }
}

/// An optimizer over one model's parameters (`sgd`, `adam`, `adamw`).
final class OptimizerValue: LangObject {
    let optimizer: Optimizer
    /// The model it was made for; `fit` checks that it trains that one.
    let model: Module

    init(_ optimizer: Optimizer, model: Module) {
        self.optimizer = optimizer
        self.model = model
    }

    var typeName: String { "optimizer" }

    var description: String {
        let hp = optimizer.hyperparameters.map { k, v in "\(k): " + (Double(v).map(formatNumber) ?? v) }
        let trainable = optimizer.trainableParameters.count, all = optimizer.parameters.count
        return type(of: optimizer).kindName + "(" + hp.joined(separator: ", ") + ") over \(all) parameter tensors"
            + (trainable == all ? "" : " (\(trainable) trainable)")
    }

    var fieldNames: [String] { ["kind", "lr", "initial_lr", "steps"] + optimizer.hyperparameters.map(\.0).filter { $0 != "lr" } }

    func field(_ name: String) -> Value? {
        switch name {
        case "kind": return .string(type(of: optimizer).kindName)
        case "lr": return .number(optimizer.lr)
        case "initial_lr": return .number(optimizer.initialLR)
        case "steps": return .number(Double(optimizer.stepCount))
        default:
            guard let h = optimizer.hyperparameters.first(where: { $0.0 == name }) else { return nil }
            if let d = Double(h.1) { return .number(d) }
            if h.1 == "true" || h.1 == "false" { return .bool(h.1 == "true") }
            return .string(h.1)
        }
    }
}

/// A learning-rate schedule (`multistep`, `cosine`, `warmup`, `steplr`), stepped once per epoch.
final class ScheduleValue: LangObject {
    let schedule: Schedule

    init(_ schedule: Schedule) { self.schedule = schedule }

    var typeName: String { "schedule" }
    var description: String { "schedule " + schedule.description }
}

/// What `every(n, m)` makes: a measure to record every n epochs of `fit`. The measure runs on
/// fit's training data unless its options name another data set.
final class TrackerValue: LangObject {
    enum Measure {
        /// A measure by name, with its options record.
        case named(String, RecordValue)
        /// A user function fn(model, epoch) → number or record.
        case function(Value)
    }

    let every: Int
    let measure: Measure
    /// The history column.
    let name: String

    init(every: Int, measure: Measure, name: String) {
        self.every = every
        self.measure = measure
        self.name = name
    }

    var typeName: String { "tracker" }

    var description: String {
        switch measure {
        case .named(let m, let o): "every(\(every), \(quoteString(m))" + (o.count == 0 ? "" : ", " + Value.record(o).repr) + ")"
        case .function: "every(\(every), <fn \(name)>)"
        }
    }

    var fieldNames: [String] { ["every", "name"] }

    func field(_ name: String) -> Value? {
        switch name {
        case "every": return .number(Double(every))
        case "name": return .string(self.name)
        default: return nil
        }
    }
}

// MARK: - Conversions

func numberList(_ xs: [Double]) -> Value { .list(ListValue(xs.map { .number($0) })) }

/// A flat Float32 tensor.
func flatTensor(_ xs: [Float]) -> Value { .tensor(Tensor(xs, shape: [xs.count])) }

extension BuiltinArgs {
    func object<T>(_ name: String, as: T.Type, kind: String) throws -> T {
        if case .object(let o) = self[name], let t = o as? T { return t }
        throw LangError.usage("\(builtin.name): argument '\(name)' must be \(ArgType.object(kind).name), got \(describeType(self[name]))")
    }

    func model(_ name: String) throws -> ModelValue { try object(name, as: ModelValue.self, kind: "model") }
    func dataset(_ name: String) throws -> Dataset { try object(name, as: DatasetValue.self, kind: "dataset").dataset }
    func optionalDataset(_ name: String) throws -> Dataset? { isNil(name) ? nil : try dataset(name) }
    func optimizer(_ name: String) throws -> OptimizerValue { try object(name, as: OptimizerValue.self, kind: "optimizer") }

    /// A seed argument (nil when not given).
    func seed(_ name: String = "seed") throws -> UInt64? { try optionalInt(name).map(seedValue) }

    /// `bn: "eval" | "train"`.
    func bnPolicy(_ name: String = "bn") throws -> BatchNormPolicy { try BatchNormPolicy(parsing: try string(name)) }

    /// `wrt: "trainable" | "all" | pattern`.
    func parameterFilter(_ name: String = "wrt") throws -> ParameterFilter { ParameterFilter(try string(name)) }

    /// A whole number ≥ `min`.
    func int(_ name: String, atLeast min: Int) throws -> Int {
        let n = try int(name)
        guard n >= min else { throw LangError.usage("\(builtin.name): argument '\(name)' must be at least \(min), got \(n)") }
        return n
    }

    /// Refuses to make more than the interpreter's element limit (the product of `factors`).
    func checkElements(_ factors: Int...) throws {
        var n = 1
        for f in factors {
            let (p, overflow) = n.multipliedReportingOverflow(by: Swift.max(f, 0))
            n = overflow ? Int.max : p
        }
        try interpreter.checkSize(n, what: builtin.name)
    }

    /// A flat Float vector from a tensor, list or range.
    func floats(_ name: String) throws -> [Float] { try tensor(name).scalars }

    /// `[lo, hi]` as a closed range.
    func closedRange(_ name: String) throws -> ClosedRange<Double>? {
        if isNil(name) { return nil }
        let xs = try tensor(name).scalars.map(Double.init)
        guard xs.count == 2, xs[0].isFinite, xs[1].isFinite, xs[0] <= xs[1] else {
            throw LangError.usage("\(builtin.name): argument '\(name)' must be [low, high] with low ≤ high")
        }
        return xs[0]...xs[1]
    }
}

/// A number from a record field (numbers, one-element tensors and whole numbers where asked).
struct OptionReader {
    let record: RecordValue
    let what: String
    let interpreter: Interpreter

    func has(_ key: String) -> Bool { record[key] != nil && record[key]?.isNil == false }

    func number(_ key: String, _ fallback: Double) throws -> Double {
        guard let v = record[key], !v.isNil else { return fallback }
        switch v {
        case .number(let d): return d
        case .tensor(let t) where t.count == 1: return Double(try t.item())
        default: throw LangError.usage("\(what): option '\(key)' must be a number, got \(describeType(v))")
        }
    }

    func int(_ key: String, _ fallback: Int) throws -> Int {
        let d = try number(key, Double(fallback))
        guard let i = wholeNumber(d) else { throw LangError.usage("\(what): option '\(key)' must be a whole number, got \(formatNumber(d))") }
        return i
    }

    func optionalInt(_ key: String, _ fallback: Int?) throws -> Int? {
        guard let v = record[key] else { return fallback }
        if v.isNil { return nil }
        return try int(key, 0)
    }

    func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = record[key], !v.isNil else { return fallback }
        guard case .bool(let b) = v else { throw LangError.usage("\(what): option '\(key)' must be true or false, got \(describeType(v))") }
        return b
    }

    func string(_ key: String, _ fallback: String) throws -> String {
        guard let v = record[key], !v.isNil else { return fallback }
        guard case .string(let s) = v else { throw LangError.usage("\(what): option '\(key)' must be a string, got \(describeType(v))") }
        return s
    }

    func dataset(_ key: String) throws -> Dataset? {
        guard let v = record[key], !v.isNil else { return nil }
        guard case .object(let o) = v, let d = o as? DatasetValue else {
            throw LangError.usage("\(what): option '\(key)' must be a dataset, got \(describeType(v))")
        }
        return d.dataset
    }

    /// Every key must be one of `allowed`.
    func check(allowed: [String]) throws {
        for k in record.keys where !allowed.contains(k) {
            let hint = closestName(to: k, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            throw LangError.usage("\(what): unknown option '\(k)'\(hint); options: \(allowed.joined(separator: ", "))")
        }
    }
}
