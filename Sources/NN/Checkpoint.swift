import Data
import Tensor

/// Model checkpoints as safetensors files under PyTorch's state-dict names, so a file moves to
/// and from PyTorch unchanged (`safetensors.torch.load_file` → `model.load_state_dict`).
/// Parameters and running statistics are F32, `num_batches_tracked` I64; the file is written
/// atomically (temporary file, then rename) with metadata `format: pt`.
///
///     try Checkpoint.save(net, to: "net.safetensors"); try Checkpoint.load(net, from: "net.safetensors")
public enum Checkpoint {
    /// Writes the model's state dict (plus `metadata`) to `path`.
    ///
    ///     try Checkpoint.save(net, to: "resnet18.safetensors", metadata: ["epoch": "10"])
    public static func save(_ model: Module, to path: String, metadata: [String: String] = [:]) throws {
        var bundle = model.stateDict()
        bundle.metadata = ["format": "pt"].merging(metadata) { _, new in new }
        try Safetensors.write(bundle, to: path)
    }

    /// Loads `path` into the model in place. Strict by default: a file with missing, extra
    /// (unexpected) or mis-shaped tensors is an error naming the file and each tensor, and the
    /// model is left unchanged. `strict: false` loads the tensors that match and returns what was
    /// missing or unexpected (mis-shaped ones still throw) — e.g. an encoder into a classifier.
    ///
    /// With a `prefix`, only the tensors whose names start with it are read, the prefix removed:
    /// the encoder of a training checkpoint that holds `model.encoder.*`, `model.head.*` and the
    /// optimizer's state.
    ///
    ///     let r = try Checkpoint.load(net, from: "encoder.safetensors", strict: false); print(r.missing)
    ///     try Checkpoint.load(encoder, from: "epoch-0005.safetensors", prefix: "model.encoder.")
    @discardableResult
    public static func load(_ model: Module, from path: String, strict: Bool = true, prefix: String = "") throws -> StateDictMismatch {
        var bundle = try Safetensors.read(path)
        if !prefix.isEmpty {
            bundle = bundle.unprefixed(prefix)
            guard !bundle.names.isEmpty else {
                throw NNError("checkpoint", "\(path): no tensor's name starts with '\(prefix)'")
            }
        }
        return try model.loadStateDict(bundle, strict: strict, source: prefix.isEmpty ? path : "\(path) (the tensors under '\(prefix)')")
    }
}

extension TensorBundle {
    /// The same tensors and metadata with every name and metadata key prefixed (`"model."`): how
    /// one file holds several state dicts (a training checkpoint's model and optimizer).
    ///
    ///     var all = net.stateDict().prefixed("model."); all.merge(opt.stateDict().prefixed("optimizer."))
    public func prefixed(_ prefix: String) -> TensorBundle {
        var out = TensorBundle(metadata: Dictionary(uniqueKeysWithValues: metadata.map { (prefix + $0.key, $0.value) }))
        for name in names { if let t = tensors[name] { out.set(prefix + name, t, dtype: dtypes[name]) } }
        return out
    }

    /// The tensors and metadata whose names start with `prefix`, the prefix removed.
    ///
    ///     let modelState = checkpoint.unprefixed("model.")
    public func unprefixed(_ prefix: String) -> TensorBundle {
        var out = TensorBundle(metadata: Dictionary(uniqueKeysWithValues: metadata.compactMap {
            $0.key.hasPrefix(prefix) ? (String($0.key.dropFirst(prefix.count)), $0.value) : nil
        }))
        for name in names where name.hasPrefix(prefix) {
            if let t = tensors[name] { out.set(String(name.dropFirst(prefix.count)), t, dtype: dtypes[name]) }
        }
        return out
    }

    /// Adds `other`'s tensors (and metadata) to this bundle; a name present in both takes `other`'s.
    ///
    ///     all.merge(opt.stateDict().prefixed("optimizer."))
    public mutating func merge(_ other: TensorBundle) {
        for name in other.names { if let t = other.tensors[name] { set(name, t, dtype: other.dtypes[name]) } }
        metadata.merge(other.metadata) { _, new in new }
    }
}
