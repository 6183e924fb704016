import Data
import Foundation
import NN
import Sharpness
import Tensor
import Train

/// Optimizers, schedules, fit, evaluate and the trackers of `every(n, m)`.
@Sendable func registerTraining(_ r: BuiltinRegistry) {
    let topic = "training"
    let model = ArgType.object("model")
    let dataset = ArgType.object("dataset")

    // MARK: Optimizers

    r.register("sgd", topic: topic, params: [
        .required("model", model), .required("lr", .number, "learning rate"),
        .optional("momentum", .number, default: 0), .optional("weight_decay", .number, default: 0, "L2 penalty added to the gradient"),
        .optional("nesterov", .bool, default: false), .optional("dampening", .number, default: 0),
    ], returns: "optimizer",
       doc: "Stochastic gradient descent with PyTorch's semantics (momentum buffer, dampening, Nesterov, weight decay added to the gradient), over the model's trainable parameters.",
       example: "net = mlp([2, 3, 2])\nopt = sgd(net, lr: 0.1, momentum: 0.9, weight_decay: 5e-4)\nprint(opt.lr, opt.momentum)") { a in
        let m = try a.model("model")
        return .object(OptimizerValue(try SGD(m.module, lr: try a.number("lr"), momentum: try a.number("momentum"),
                                              dampening: try a.number("dampening"), weightDecay: try a.number("weight_decay"),
                                              nesterov: try a.bool("nesterov")), model: m.module))
    }

    for (name, decoupled) in [("adam", false), ("adamw", true)] {
        r.register(name, topic: topic, params: [
            .required("model", model), .optional("lr", .number, default: 1e-3),
            .optional("betas", .list, default: [0.9, 0.999], "[beta1, beta2]"), .optional("eps", .number, default: 1e-8),
            .optional("weight_decay", .number, default: decoupled ? 0.01 : 0,
                      decoupled ? "decoupled weight decay (AdamW)" : "L2 penalty added to the gradient"),
            .optional("amsgrad", .bool, default: false),
        ], returns: "optimizer",
           doc: decoupled ? "AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, PyTorch's semantics."
                          : "Adam (Kingma & Ba) with PyTorch's semantics.",
           example: "opt = \(name)(mlp([2, 3, 2]), lr: 3e-4)\nprint(opt)") { a in
            let m = try a.model("model")
            let betas = try a.list("betas").items
            guard betas.count == 2, case .number(let b1) = betas[0], case .number(let b2) = betas[1] else {
                throw LangError.usage("\(name): betas must be two numbers [beta1, beta2]")
            }
            let opt: Optimizer = decoupled
                ? try AdamW(m.module, lr: try a.number("lr"), betas: (b1, b2), eps: try a.number("eps"),
                            weightDecay: try a.number("weight_decay"), amsgrad: try a.bool("amsgrad"))
                : try Adam(m.module, lr: try a.number("lr"), betas: (b1, b2), eps: try a.number("eps"),
                           weightDecay: try a.number("weight_decay"), amsgrad: try a.bool("amsgrad"))
            return .object(OptimizerValue(opt, model: m.module))
        }
    }

    // MARK: Schedules

    r.register("multistep", topic: topic, params: [
        .required("milestones", .shape, "epochs (counted from 0, as PyTorch) at which the rate is multiplied by gamma"),
        .optional("gamma", .number, default: 0.1),
    ], returns: "schedule",
       doc: "PyTorch's MultiStepLR: lr · gamma^(milestones passed), stepped once per epoch. The paper divides by 5 at epochs 60, 120, 160: multistep([60, 120, 160], 0.2).",
       example: "multistep([6, 8], 0.2)") { a in
        .object(ScheduleValue(try Schedule.multistep(milestones: try a.shape("milestones"), gamma: try a.number("gamma")).validated()))
    }

    r.register("cosine", topic: topic, params: [
        .required("t_max", .int, "epochs of the half cosine"), .optional("eta_min", .number, default: 0, "the final rate"),
    ], returns: "schedule", doc: "PyTorch's CosineAnnealingLR: eta_min + (lr − eta_min)(1 + cos(π·epoch/t_max))/2.",
       example: "cosine(10)") { a in
        .object(ScheduleValue(try Schedule.cosine(tMax: try a.int("t_max"), etaMin: try a.number("eta_min")).validated()))
    }

    r.register("steplr", topic: topic, params: [
        .required("step_size", .int, "epochs between decays"), .optional("gamma", .number, default: 0.1),
    ], returns: "schedule", doc: "PyTorch's StepLR: lr · gamma^⌊epoch / step_size⌋.",
       example: "steplr(30, 0.1)") { a in
        .object(ScheduleValue(try Schedule.step(size: try a.int("step_size"), gamma: try a.number("gamma")).validated()))
    }

    r.register("warmup", topic: topic, params: [
        .required("epochs", .int, "warm-up epochs"),
        .optional("then", .object("schedule"), "the schedule after the warm-up (its epoch 0 is the first after it); default: constant"),
        .optional("start_factor", .number, default: 1.0 / 3, "the first epoch's fraction of the rate"),
    ], returns: "schedule",
       doc: "A linear warm-up from lr·start_factor to lr over the first epochs, then another schedule (PyTorch's LinearLR followed by it in SequentialLR).",
       example: "warmup(5, cosine(95))") { a in
        var then = Schedule.constant
        if case .object(let o) = a["then"], let s = o as? ScheduleValue { then = s.schedule }
        return .object(ScheduleValue(try Schedule.warmup(epochs: try a.int("epochs"), startFactor: try a.number("start_factor"),
                                                         then: then).validated()))
    }

    // MARK: Trackers

    r.register("every", topic: topic, params: [
        .required("n", .int, "the period in epochs"),
        .required("measure", .oneOf([.string, .function]),
                  "\"rag\", \"hessian_max\", \"eigs\", \"trace\", \"keskar\", or a function fn(model, epoch) returning a number or a record of numbers"),
        .optional("options", .record, "the measure's options, e.g. {step: 0.1, batch: 128} for rag; also bn, wrt, seed, data (measure on another data set) and name (the history column)"),
        .optional("name", .string, "the history column (default: the measure's name, or the function's)"),
    ], returns: "tracker",
       doc: "A measure for fit(track: ...) to record before training (epoch 0), every n epochs, and after the last: the history gets the column m (values) and m_epoch (epochs). A record-valued measure also adds m_FIELD per field, and m lists its headline number (rag: RAG, eigs: |λ1|, trace: the trace, keskar: the value; a function's field named like the column) or, without one, the records. Named measures run on fit's training data; options by measure — rag: batch, step, shuffle; hessian_max: batch, trials; eigs: k, batch, trials; trace: probes, batch; keskar: eps, iters, subspace.",
       example: "t = every(2, \"rag\", {step: 0.1})\nprint(t)\nnorm_tracker = every(1, fn(model, epoch) { return norm(params(model)) }, name: \"w_norm\")") { a in
        let n = try a.int("n", atLeast: 1)
        let options = a.isNil("options") ? RecordValue() : try a.record("options")
        var column = try a.optionalString("name")
        if case .string(let s) = options["name"] ?? .null { column = column ?? s }
        switch a["measure"] {
        case .string(let m):
            let canonical = try canonicalMeasure(m)
            try OptionReader(record: options, what: "every(\(quoteString(m)))", interpreter: a.interpreter)
                .check(allowed: measureOptions[canonical]! + commonMeasureOptions)
            return .object(TrackerValue(every: n, measure: .named(canonical, options), name: column ?? m))
        case .function(let c):
            guard options.count == 0 || options.keys == ["name"] else {
                throw LangError.usage("every: options are for named measures; a function takes what it needs itself")
            }
            return .object(TrackerValue(every: n, measure: .function(a["measure"]), name: column ?? (c.name == "fn" ? "measure" : c.name)))
        case .builtin(let b):
            return .object(TrackerValue(every: n, measure: .function(a["measure"]), name: column ?? b.name))
        default:
            throw LangError.usage("every: measure must be a measure's name or a function")
        }
    }

    // MARK: fit / evaluate

    r.register("fit", topic: topic, params: [
        .required("model", model), .required("data", dataset, "the training set"), .required("opt", .object("optimizer")),
        .required("epochs", .int), .required("batch", .int, "batch size (a last, smaller batch is kept)"),
        .optional("schedule", .object("schedule"), "stepped once per epoch; default: constant"),
        .optional("test", dataset, "evaluated after every epoch: test_loss, test_acc"),
        .optional("eval", .record, "more evaluation sets {name: data}: NAME_loss, NAME_acc"),
        .optional("track", .oneOf([.object("tracker"), .list]), "every(n, m) trackers (one or a list)"),
        .optional("checkpoint", .record, "{dir, every: n, best: \"test_acc\", goal: \"max\"|\"min\"}: training checkpoints that resume: continues"),
        .optional("resume", .string, "a training checkpoint to continue from, up to epochs in total"),
        .optional("seed", .int, "the shuffling (and augmentation) seed; default: drawn from the global stream"),
        .optional("augment", .oneOf([.string, .list]), "augment each training batch: a preset of augment(), e.g. \"cifar\""),
        .optional("shuffle", .bool, default: true), .optional("drop_last", .bool, default: false),
        .optional("label_smoothing", .number, default: 0),
        .optional("eval_batch", .int, default: 512, "batch size of the evaluations"),
        .optional("frozen_bn", .string, default: "train", "\"eval\" keeps BatchNorm layers whose parameters are all frozen in eval mode while training (a linear probe)"),
    ], returns: "history record",
       doc: "Trains a classifier with mean cross-entropy on the trainable parameters and returns the history: lists epoch (1-based), lr, train_loss (size-weighted mean of the epoch's batch losses), train_acc, test_loss/test_acc, NAME_loss/NAME_acc per eval set, and per tracked measure m: m, m_epoch (0 = before training) and m_FIELD for record values (see every). Shows progress; Ctrl-C stops at the next batch with the model intact and the history so far in last_history.",
       example: "d = blobs(60, classes: 3, seed: 0)\nnet = mlp([2, 8, 3], seed: 0)\nlog = fit(net, d, sgd(net, lr: 0.1), epochs: 2, batch: 16, test: d, seed: 0)\nprint(keys(log), log.epoch)") { a in
        let m = try a.model("model")
        let data = try a.dataset("data")
        let opt = try a.optimizer("opt")
        guard opt.model === m.module else {
            throw LangError.usage("fit: the optimizer was made for another model (make it with sgd(model, ...) for this one)")
        }
        let epochs = try a.int("epochs", atLeast: 0), batch = try a.int("batch", atLeast: 1)
        var o = FitOptions()
        if case .object(let s as ScheduleValue) = a["schedule"] { o.schedule = s.schedule }
        o.test = try a.optionalDataset("test")
        o.eval = try evaluationSets(a)
        let (tracked, headlines) = try trackers(a["track"], model: m, data: data, interpreter: a.interpreter)
        o.track = tracked
        if !a.isNil("checkpoint") { o.checkpoint = try checkpointPolicy(try a.record("checkpoint"), a.interpreter) }
        o.seed = try a.seed()
        if !a.isNil("augment") {
            let aug = try augmentation(a["augment"], what: "fit")
            o.transform = { x, rng in try aug(x, rng: &rng) }
        }
        o.shuffle = try a.bool("shuffle")
        o.dropLast = try a.bool("drop_last")
        o.labelSmoothing = Float(try a.number("label_smoothing"))
        o.evalBatch = try a.int("eval_batch", atLeast: 1)
        switch try a.string("frozen_bn") {
        case "train": o.trainMode = .all
        case "eval": o.trainMode = .frozenBatchNormInEval
        case let s: throw LangError.usage("fit: frozen_bn must be \"train\" or \"eval\", got \(quoteString(s))")
        }
        let resume = try a.optionalString("resume")
        if resume != nil || o.checkpoint != nil { try requireFileAccess(a) }

        var history = History()
        do {
            try Train.fit(m.module, data, opt.optimizer, epochs: epochs, batch: batch, options: o, resume: resume, into: &history)
        } catch {
            throw interruptedTraining("fit", error, history: history, headlines: headlines, epochs: epochs, interpreter: a.interpreter)
        }
        return .record(historyRecord(history, headlines: headlines))
    }

    r.register("evaluate", topic: topic, params: [
        .required("model", model), .required("data", dataset), .optional("batch", .int, default: 512),
    ], returns: "{loss, acc}",
       doc: "Mean cross-entropy and accuracy (a fraction in [0, 1]) of a classifier on a data set, in eval mode, without changing the model.",
       example: "d = blobs(30, classes: 3, seed: 0)\nevaluate(mlp([2, 8, 3], seed: 0), d)") { a in
        let e = try Train.evaluate(try a.model("model").module, try a.dataset("data"), batch: try a.int("batch", atLeast: 1))
        return .record([("loss", .number(e.loss)), ("acc", .number(e.acc))])
    }
}

/// The `eval: {name: data}` argument as named evaluation sets, in order.
func evaluationSets(_ a: BuiltinArgs) throws -> [(name: String, data: Dataset)] {
    guard !a.isNil("eval") else { return [] }
    return try a.record("eval").pairs.map { name, v in
        guard case .object(let d as DatasetValue) = v else {
            throw LangError.usage("\(a.builtin.name): eval.\(name) must be a dataset, got \(describeType(v))")
        }
        return (name, d.dataset)
    }
}

// MARK: - Trackers

/// Options of each named measure (beside `commonMeasureOptions`).
let measureOptions: [String: [String]] = [
    "rag": ["batch", "step", "shuffle"],
    "hessian_max": ["batch", "trials"],
    "eigs": ["k", "batch", "trials"],
    "trace": ["probes", "batch"],
    "keskar": ["eps", "iters", "subspace"],
]
let commonMeasureOptions = ["bn", "wrt", "seed", "data", "name"]

/// The measure a name stands for (aliases as Sharpness's `TrackedMeasure(name:)`).
func canonicalMeasure(_ name: String) throws -> String {
    switch name {
    case "rag": return "rag"
    case "hessian_max", "lambda_max", "max": return "hessian_max"
    case "eigs", "hessian_eigs": return "eigs"
    case "trace", "hessian_trace": return "trace"
    case "keskar", "sharpness": return "keskar"
    default:
        let hint = closestName(to: name, in: ["rag", "hessian_max", "eigs", "trace", "keskar"]).map { " (did you mean '\($0)'?)" } ?? ""
        throw LangError.usage("every: unknown measure '\(name)'\(hint); measures that can be tracked: rag, hessian_max, eigs, trace, keskar (or pass a function fn(model, epoch))")
    }
}

/// The field of each named measure's record that is its headline value: the history's column
/// `m` lists it (so `plot(log.rag_epoch, log.rag)` plots RAG), the other fields go to `m_FIELD`.
let headlineFields = ["rag": "rag", "eigs": "max", "trace": "trace", "keskar": "value"]

/// fit's `track:` argument as Train trackers, on `data` unless an option names other data, and
/// the headline field of each record-valued column.
func trackers(_ v: Value, model: ModelValue, data: Dataset,
                      interpreter: Interpreter) throws -> ([Tracker], [String: String]) {
    let items: [Value]
    var headlines: [String: String] = [:]
    switch v {
    case .null: return ([], [:])
    case .list(let l): items = l.items
    default: items = [v]
    }
    var out: [Tracker] = []
    var names = Set<String>()
    for item in items {
        guard case .object(let t as TrackerValue) = item else {
            throw LangError.usage("track must hold trackers made by every(n, m), got \(describeType(item))")
        }
        guard names.insert(t.name).inserted else {
            throw LangError.usage("two trackers record under '\(t.name)'; give one another name (every(n, m, name: ...))")
        }
        switch t.measure {
        case .named(let name, let options):
            let o = OptionReader(record: options, what: "every(\(quoteString(name)))", interpreter: interpreter)
            var settings = MeasureSettings()
            settings.bn = try BatchNormPolicy(parsing: try o.string("bn", "eval"))
            settings.wrt = ParameterFilter(try o.string("wrt", "trainable"))
            if o.has("seed") { settings.seed = try seedValue(try o.int("seed", 0)) }
            let measure: TrackedMeasure
            switch name {
            case "rag":
                measure = .rag(batch: try o.int("batch", 128), step: try o.number("step", 0.1), shuffle: try o.bool("shuffle", true))
            case "hessian_max":
                measure = .hessianMax(batch: try o.optionalInt("batch", 512), trials: try o.int("trials", 1))
            case "eigs":
                measure = .eigs(k: try o.int("k", 10), batch: try o.optionalInt("batch", 512), trials: try o.int("trials", 1))
            case "trace":
                measure = .trace(probes: try o.int("probes", 100), batch: try o.optionalInt("batch", 512))
            default:
                measure = .keskar(eps: try o.number("eps", 1e-3), iters: try o.int("iters", 10),
                                  subspace: try o.optionalInt("subspace", nil))
            }
            out.append(Sharpness.every(t.every, measure, on: try o.dataset("data") ?? data, settings: settings, name: t.name))
            headlines[t.name] = headlineFields[name]
        case .function(let f):
            let column = t.name
            out.append(Tracker(name: column, every: t.every) { _, epoch in
                let v = try interpreter.call(f, [.object(model), .number(Double(epoch))])
                return try trackedValue(v, tracker: column)
            })
            headlines[column] = column
        }
    }
    return (out, headlines)
}

/// A tracker function's result as a history value: a number, or a record of numbers.
private func trackedValue(_ v: Value, tracker: String) throws -> TrackedValue {
    func number(_ v: Value) -> Double? {
        switch v {
        case .number(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .tensor(let t) where t.count == 1: return (try? t.item()).map(Double.init)
        default: return nil
        }
    }
    if let d = number(v) { return .number(d) }
    if case .record(let r) = v, r.count > 0 {
        var pairs: [(String, Double)] = []
        for (k, x) in r.pairs {
            guard let d = number(x) else {
                throw LangError.runtime("tracker '\(tracker)': field '\(k)' of the returned record must be a number, got \(describeType(x))")
            }
            pairs.append((k, d))
        }
        return TrackedValue(pairs)
    }
    throw LangError.runtime("tracker '\(tracker)' must return a number or a record of numbers, got \(describeType(v))")
}

func checkpointPolicy(_ r: RecordValue, _ interpreter: Interpreter, what: String = "fit") throws -> CheckpointPolicy {
    let o = OptionReader(record: r, what: "\(what): checkpoint", interpreter: interpreter)
    try o.check(allowed: ["dir", "every", "best", "goal"])
    guard o.has("dir") else { throw LangError.usage("\(what): checkpoint needs dir: the directory for the files") }
    var goal: CheckpointPolicy.Goal?
    if o.has("goal") {
        let g = try o.string("goal", "")
        guard let parsed = CheckpointPolicy.Goal(rawValue: g) else {
            throw LangError.usage("\(what): checkpoint goal must be \"max\" or \"min\", got \(quoteString(g))")
        }
        goal = parsed
    }
    return CheckpointPolicy(directory: try o.string("dir", ""), every: try o.optionalInt("every", nil),
                            best: o.has("best") ? try o.string("best", "") : nil, goal: goal)
}

// MARK: - History

/// DESIGN.md's history record: each column a list, and after a record-valued measure's `m_epoch`
/// its `m_FIELD` lists. A record column lists its headline field's numbers when it has one (the
/// field of `headlines[m]`: RAG's `rag`, Keskar's `value`, a function's field named like its
/// column), else the records themselves.
func historyRecord(_ h: History, headlines: [String: String] = [:]) -> RecordValue {
    let rec = RecordValue()
    for name in h.columnNames {
        let column = h[name] ?? []
        if let f = headlines[name], let fields = h.fields(of: name), fields.contains(f), let numbers = h.field(name, f) {
            rec[name] = numberList(numbers)
        } else {
            rec[name] = .list(ListValue(column.map(trackedValueToValue)))
        }
        if name.hasSuffix("_epoch") {
            let m = String(name.dropLast(6))
            if let fields = h.fields(of: m), rec[m] != nil {
                for f in fields where f != m && rec[m + "_" + f] == nil { rec[m + "_" + f] = numberList(h.field(m, f) ?? []) }
            }
        }
    }
    return rec
}

func trackedValueToValue(_ v: TrackedValue) -> Value {
    switch v {
    case .number(let x): return .number(x)
    case .record(let fields, let values): return .record(zip(fields, values).map { ($0, .number($1)) })
    }
}

/// A training loop (`what`: fit, simclr, linear_probe) stopped early: the partial history goes to
/// `last_history`, and the error says so.
func interruptedTraining(_ what: String, _ error: Error, history: History, headlines: [String: String], epochs: Int,
                         interpreter: Interpreter) -> Error {
    var e = LangError.from(error)
    let done = history.epochCount
    let recorded = !history.columnNames.isEmpty && (done > 0 || history.columnNames.contains { !(history[$0] ?? []).isEmpty })
    if recorded { interpreter.setGlobal("last_history", .record(historyRecord(history, headlines: headlines))) }
    let kept = recorded ? "; the history so far is in last_history" : ""
    switch error {
    case _ where e.kind == .interrupted:
        e.message = "\(what) interrupted after epoch \(done) of \(epochs) (the model keeps the weights of its last step)\(kept)"
    case is NonFiniteLoss:
        e.message += kept.isEmpty ? "" : " (history so far in last_history)"
    default:
        if recorded { e.notes.append("\(what) stopped after epoch \(done) of \(epochs)\(kept)") }
    }
    return e
}
