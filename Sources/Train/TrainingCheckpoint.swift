import Data
import NN
import Tensor

/// A training checkpoint: one safetensors file (written atomically by the Data layer) that holds
/// everything a resumed `fit` needs to continue exactly as if never stopped.
///
/// Tensors: the model's state dict under `model.` (PyTorch names: `model.conv1.weight`, …) and
/// the optimizer's state under `optimizer.` (`optimizer.fc1.weight.momentum_buffer`, …).
/// Metadata (strings): `losscape` = `training-checkpoint`, `version`, `loop` (fit/simclr),
/// `epoch` (completed epochs — the schedule's position), `epochs`, `batch`, `shuffle`,
/// `drop_last`, `items`, `seed`, `schedule`, `lr`, `model` (the model's summary), the optimizer's
/// metadata under `optimizer.` (kind, initial_lr, steps, hyperparameters), every generator in
/// play — `rng.shuffle`, `rng.augment`, `rng.global` (`GlobalRandom`) and `rng.module.NAME` per
/// `StochasticModule` (Dropout) — as six hex words, the best metric so far (`best.metric`,
/// `best.value` as a hex bit pattern, `best.epoch`), and `history` as JSON (`History.json()`).
///
///     let c = try TrainingCheckpoint(path: "runs/a/epoch-0010.safetensors"); print(c.epoch, c.history)
public struct TrainingCheckpoint {
    /// The file.
    public let path: String
    /// Completed epochs when it was written.
    public let epoch: Int
    /// The history up to and including `epoch`.
    public let history: History
    /// Every metadata entry.
    public let metadata: [String: String]
    private let bundle: TensorBundle

    static let marker = "training-checkpoint"
    static let version = "1"

    /// Reads and checks a training checkpoint. A file that is missing, truncated or not a
    /// training checkpoint is an error naming the file and what is wrong.
    ///
    ///     let c = try TrainingCheckpoint(path: "runs/a/best.safetensors")
    public init(path: String) throws {
        let bundle: TensorBundle
        do {
            bundle = try Safetensors.read(path)
        } catch let e as DataError {
            throw TrainError(path, "cannot be read as a training checkpoint: \(e.message)")
        }
        let meta = bundle.metadata
        guard meta["losscape"] == TrainingCheckpoint.marker else {
            throw TrainError(path, "is not a training checkpoint (no 'losscape: \(TrainingCheckpoint.marker)' in its metadata); a model-only file loads with Checkpoint.load")
        }
        guard meta["version"] == TrainingCheckpoint.version else {
            throw TrainError(path, "is a training checkpoint of version \(meta["version"] ?? "?"), this build reads version \(TrainingCheckpoint.version)")
        }
        guard let text = meta["epoch"], let epoch = Int(text), epoch >= 0 else {
            throw TrainError(path, "has no valid 'epoch' in its metadata (got \(meta["epoch"].map { "'\($0)'" } ?? "none"))")
        }
        guard let json = meta["history"] else { throw TrainError(path, "has no 'history' in its metadata") }
        let history = try History(json: json, source: path)
        guard history.epochCount == epoch else {
            throw TrainError(path, "is at epoch \(epoch) but its history has \(history.epochCount) epochs")
        }
        self.path = path
        self.epoch = epoch
        self.history = history
        self.metadata = meta
        self.bundle = bundle
    }

    /// The model's state dict (the `model.` tensors, prefix removed).
    public var modelState: TensorBundle { bundle.unprefixed("model.") }

    /// The optimizer's state (the `optimizer.` tensors and metadata, prefix removed).
    public var optimizerState: TensorBundle { bundle.unprefixed("optimizer.") }

    /// Loads the model's weights (and buffers) from the checkpoint, as `Checkpoint.load` loads a
    /// model file: strict by default, errors naming the file and each tensor.
    ///
    ///     try TrainingCheckpoint(path: "runs/a/best.safetensors").loadModel(into: net)
    @discardableResult
    public func loadModel(into model: Module, strict: Bool = true) throws -> StateDictMismatch {
        try model.loadStateDict(modelState, strict: strict, source: path)
    }

    // MARK: Writing

    static func write(to path: String, loop: TrainingLoop, state: LoopState, history: History) throws {
        var bundle = loop.model.stateDict().prefixed("model.")
        bundle.merge(loop.optimizer.stateDict().prefixed("optimizer."))
        var meta = bundle.metadata
        meta["format"] = "pt"
        meta["losscape"] = marker
        meta["version"] = version
        meta["loop"] = loop.label
        meta["epoch"] = "\(state.epoch)"
        meta["epochs"] = "\(loop.epochs)"
        meta["batch"] = "\(loop.batchSize)"
        meta["shuffle"] = "\(loop.shuffle)"
        meta["drop_last"] = "\(loop.dropLast)"
        meta["items"] = "\(loop.data.count)"
        meta["seed"] = "\(state.seed)"
        meta["schedule"] = loop.schedule.description
        meta["lr"] = "\(loop.optimizer.lr)"
        meta["model"] = loop.model.summary
        meta["rng.shuffle"] = RandomStateText.encode(state.shuffleRNG)
        meta["rng.augment"] = RandomStateText.encode(state.augmentRNG)
        meta["rng.global"] = RandomStateText.encode(GlobalRandom.generator)
        for (name, m) in loop.model.stochasticModules() { meta[moduleKey(name)] = RandomStateText.encode(m.rng) }
        if let metric = state.bestMetric, let value = state.bestValue, let epoch = state.bestEpoch {
            meta["best.metric"] = metric
            meta["best.value"] = String(value.bitPattern, radix: 16)
            meta["best.epoch"] = "\(epoch)"
        }
        meta["history"] = try history.json()
        bundle.metadata = meta
        try Safetensors.write(bundle, to: path)
    }

    static func moduleKey(_ name: String) -> String { "rng.module." + (name.isEmpty ? "(root)" : name) }

    // MARK: Resuming

    /// Checks that the checkpoint fits the loop, then restores the model, the optimizer and every
    /// generator (GlobalRandom included). Nothing changes unless all of it fits.
    static func restore(from path: String, into loop: TrainingLoop) throws -> (LoopState, History) {
        let c = try TrainingCheckpoint(path: path)
        let meta = c.metadata
        func fail(_ message: String) -> TrainError { TrainError(path, message) }
        func field(_ key: String) throws -> String {
            guard let v = meta[key] else { throw fail("has no '\(key)' in its metadata") }
            return v
        }
        func same(_ key: String, _ what: String, _ here: String) throws {
            let there = try field(key)
            guard there == here else { throw fail("\(what) is \(here) here but \(there) in the checkpoint") }
        }
        try same("loop", "the training loop", loop.label)
        try same("batch", "the batch size", "\(loop.batchSize)")
        try same("shuffle", "shuffle", "\(loop.shuffle)")
        try same("drop_last", "dropLast", "\(loop.dropLast)")
        try same("items", "the number of training items", "\(loop.data.count)")
        guard c.epoch <= loop.epochs else {
            throw fail("is at epoch \(c.epoch), past the \(loop.epochs) epochs this run trains; ask for at least \(c.epoch) epochs")
        }
        guard c.history.columnNames == loop.columns else {
            throw fail("records the columns [\(c.history.columnNames.joined(separator: ", "))] but this run records [\(loop.columns.joined(separator: ", "))]; give the same test, eval sets and trackers")
        }

        // Optimizer: same kind and hyperparameters (the learning rate aside: schedules set it).
        let kind = type(of: loop.optimizer).kindName
        try same("optimizer.optimizer", "the optimizer", kind)
        try same("optimizer.initial_lr", "the initial learning rate", "\(loop.optimizer.initialLR)")
        for (key, value) in loop.optimizer.hyperparameters where key != "lr" {
            try same("optimizer." + key, "\(kind)'s \(key)", value)
        }

        // Generators.
        func generator(_ key: String) throws -> RandomGenerator {
            guard let g = RandomStateText.decode(try field(key)) else {
                throw fail("metadata '\(key)' is not a generator state (six hex words)")
            }
            return g
        }
        guard let seed = UInt64(try field("seed")) else { throw fail("metadata 'seed' is not a whole number") }
        var state = LoopState(seed: seed)
        state.epoch = c.epoch
        state.shuffleRNG = try generator("rng.shuffle")
        state.augmentRNG = try generator("rng.augment")
        let global = try generator("rng.global")
        let stochastic = loop.model.stochasticModules()
        var moduleRNGs: [(StochasticModule, RandomGenerator)] = []
        for (name, m) in stochastic { moduleRNGs.append((m, try generator(moduleKey(name)))) }
        let expected = Set(stochastic.map { moduleKey($0.name) })
        let extra = meta.keys.filter { $0.hasPrefix("rng.module.") && !expected.contains($0) }.sorted()
        guard extra.isEmpty else {
            throw fail("holds generators of modules this model lacks: \(extra.map { String($0.dropFirst(11)) }.joined(separator: ", "))")
        }
        if let metric = meta["best.metric"] {
            guard let bits = meta["best.value"].flatMap({ UInt64($0, radix: 16) }),
                  let epoch = meta["best.epoch"].flatMap(Int.init) else {
                throw fail("has a best metric '\(metric)' without a valid best.value and best.epoch")
            }
            state.bestMetric = metric
            state.bestValue = Double(bitPattern: bits)
            state.bestEpoch = epoch
        }

        // Model, then optimizer; the model is put back if the optimizer's state does not fit.
        let before = loop.model.stateDict()
        try c.loadModel(into: loop.model)
        do {
            try loop.optimizer.loadStateDict(c.optimizerState, source: path)
        } catch {
            _ = try? loop.model.loadStateDict(before)
            throw error
        }
        GlobalRandom.generator = global
        for (m, g) in moduleRNGs { m.rng = g }
        return (state, c.history)
    }
}
