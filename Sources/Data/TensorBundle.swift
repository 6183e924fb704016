import Tensor

/// Named tensors as a file holds them (safetensors, `.npz`): Float32 tensors, each tensor's stored
/// dtype, the file's order, and safetensors' `__metadata__`.
///
///     let b = try Safetensors.read("resnet18.safetensors"); let w = b["conv1.weight"]
public struct TensorBundle: Sendable {
    /// Names in file order (safetensors: by data offset; `.npz`: archive order).
    public var names: [String]
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The dtype each tensor was stored as; writers use it unless told otherwise.
    public var dtypes: [String: DType]
    /// safetensors `__metadata__` (string to string); empty for `.npz`.
    public var metadata: [String: String]

    /// A bundle from its parts (`names` should list every key of `tensors`, in the order wanted).
    public init(names: [String] = [], tensors: [String: Tensor] = [:], dtypes: [String: DType] = [:],
                metadata: [String: String] = [:]) {
        self.names = names
        self.tensors = tensors
        self.dtypes = dtypes
        self.metadata = metadata
    }

    /// Builds a bundle from tensors, names sorted, all stored as `dtype` unless `dtypes` says otherwise.
    ///
    ///     let b = TensorBundle(["w": w, "n": n], dtypes: ["n": .int64])
    public init(_ tensors: [String: Tensor], dtypes: [String: DType] = [:], metadata: [String: String] = [:]) {
        self.names = tensors.keys.sorted()
        self.tensors = tensors
        self.dtypes = dtypes
        self.metadata = metadata
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Tensor? { tensors[name] }

    /// The stored dtype of `name` (float32 when none was recorded).
    public func dtype(of name: String) -> DType { dtypes[name] ?? .float32 }

    /// Adds or replaces a tensor (kept in `names` order; new names go last).
    public mutating func set(_ name: String, _ tensor: Tensor, dtype: DType? = nil) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = tensor
        if let dtype { dtypes[name] = dtype }
    }
}

/// One NumPy array: values as a Float32 tensor, and the dtype it was stored as.
///
///     let a = try NPY.read("labels.npy"); a.dtype   // .int64
public struct NumpyArray: Sendable {
    /// The values, as Float32.
    public let tensor: Tensor
    /// The dtype the file stored.
    public let dtype: DType
    /// The array's shape.
    public var shape: [Int] { tensor.shape }
}
