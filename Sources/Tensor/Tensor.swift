/// A dense Float32 tensor, contiguous and row-major (images are NCHW).
///
/// Tensors are immutable values for every op; only optimizers and buffers write in place, under
/// `withNoGrad`. A tensor that `requiresGrad` (a leaf such as a parameter) or that was computed from
/// one while grad mode is on carries a `node`, the step of the graph that made it.
///
///     let x = Tensor([1, 2, 3, 4], shape: [2, 2])
///     let y = try (x * x).sum()        // 30
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    /// Number of elements.
    public let count: Int
    let storage: Storage
    /// How this tensor was computed; nil for leaves and for tensors made without grad.
    var node: Node?
    var isLeafRequiringGrad: Bool

    init(storage: Storage, shape: [Int], node: Node? = nil) {
        self.storage = storage
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.node = node
        self.isLeafRequiringGrad = false
    }

    /// Uninitialized tensor of the given shape (callers fill every element).
    convenience init(uninitializedShape shape: [Int]) {
        self.init(storage: Storage(count: shape.reduce(1, *)), shape: shape)
    }

    /// From a flat array of values in row-major order. The count must match the shape.
    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "Tensor(_:shape:) count mismatch (use Tensor.from for checked input)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.ptr.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A 1-D tensor of the values.
    public convenience init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// A rank-0 tensor (a scalar).
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    /// Checked construction from a flat array: throws when the count does not match the shape.
    public static func from(_ values: [Float], shape: [Int]) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError("tensor", "negative dimension in shape \(shapeText(shape))") }
        guard values.count == shape.reduce(1, *) else {
            throw TensorError("tensor", "\(values.count) values do not fill shape \(shapeText(shape))")
        }
        return Tensor(values, shape: shape)
    }

    public var rank: Int { shape.count }

    /// Whether gradients flow to this tensor (a trainable leaf, or computed from one under grad mode).
    public var requiresGrad: Bool { isLeafRequiringGrad || node != nil }

    /// Marks a leaf as differentiable (parameters). Returns self for chaining.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        isLeafRequiringGrad = flag
        return self
    }

    /// The same values, cut from the graph.
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape) }

    /// A copy of the values in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.ptr, count: count)) }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else { throw TensorError("item", "tensor of shape \(shapeText(shape)) has \(count) elements, not 1") }
        return storage.ptr[0]
    }

    /// Read-only access to the values.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.ptr, count: count))
    }

    /// In-place write access (optimizers, running statistics). The caller keeps out of any graph.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.ptr, count: count))
    }

    var ptr: UnsafeMutablePointer<Float> { storage.ptr }
}

extension Tensor: CustomStringConvertible {
    /// Shape and values; long tensors are elided in the middle.
    public var description: String {
        let vals = scalars
        func fmt(_ v: Float) -> String {
            if v == v.rounded() && Swift.abs(v) < 1e7 { return String(Int(v)) }
            return String(v)
        }
        let shown: String
        if vals.count <= 12 {
            shown = vals.map(fmt).joined(separator: ", ")
        } else {
            shown = vals.prefix(6).map(fmt).joined(separator: ", ") + ", …, " + vals.suffix(3).map(fmt).joined(separator: ", ")
        }
        return "tensor(\(shapeText(shape))) [\(shown)]"
    }
}
