import CBLAS
import Tensor

/// A symmetric linear map on flat Float32 vectors: the only way the spectral algorithms of this
/// module touch a Hessian. Every algorithm counts its `apply` calls (the `hvps` of its result),
/// polls `Cancellation.check()` before each one, and never looks inside the operator.
///
/// The model-level Hessian conforms by flattening the parameter filter's tensors into one vector
/// (registration order) and returning Hv from one exact HVP that has passed through the reduction
/// seam (the later all-reduce slots in there, not here).
///
///     let h = DiagonalOperator([3, 1, -2]); let hv = try h.apply([1, 0, 0])   // [3, 0, 0]
public protocol SymmetricOperator {
    /// Length of the vectors the operator acts on (the number of parameters for a Hessian).
    var dimension: Int { get }
    /// H·v. `v.count == dimension`; the result must have the same length.
    func apply(_ v: [Float]) throws -> [Float]
}

/// An operator given by a closure: the quickest way to plug in an HVP.
///
///     let h = ClosureOperator(dimension: n) { v in try model.hvp(v) }
public struct ClosureOperator: SymmetricOperator {
    public let dimension: Int
    private let body: ([Float]) throws -> [Float]

    public init(dimension: Int, _ body: @escaping ([Float]) throws -> [Float]) {
        self.dimension = dimension
        self.body = body
    }

    public func apply(_ v: [Float]) throws -> [Float] { try body(v) }
}

/// diag(d)·v.
///
///     let h = DiagonalOperator([4, 2, 1])
public struct DiagonalOperator: SymmetricOperator {
    public let diagonal: [Float]
    public var dimension: Int { diagonal.count }

    public init(_ diagonal: [Float]) { self.diagonal = diagonal }

    public func apply(_ v: [Float]) throws -> [Float] {
        try checkLength(v, dimension, op: "DiagonalOperator")
        var out = v
        for i in 0..<out.count { out[i] *= diagonal[i] }
        return out
    }
}

/// A dense symmetric n×n matrix (row-major Float32) applied with BLAS `sgemv`. Symmetry is the
/// caller's promise; only the shape is checked. For tests and for Hessians small enough to assemble.
///
///     let h = try DenseSymmetricOperator(matrix: [2, 1, 1, 3], dimension: 2)
public struct DenseSymmetricOperator: SymmetricOperator {
    public let matrix: [Float]
    public let dimension: Int

    public init(matrix: [Float], dimension: Int) throws {
        guard dimension > 0, matrix.count == dimension * dimension else {
            throw SharpnessError("DenseSymmetricOperator", "\(matrix.count) entries do not make a \(dimension)×\(dimension) matrix")
        }
        self.matrix = matrix
        self.dimension = dimension
    }

    public func apply(_ v: [Float]) throws -> [Float] {
        try checkLength(v, dimension, op: "DenseSymmetricOperator")
        var out = [Float](repeating: 0, count: dimension)
        let n = Int32(dimension)
        matrix.withUnsafeBufferPointer { a in
            v.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, n, 1, a.baseAddress, n,
                                x.baseAddress, 1, 0, y.baseAddress, 1)
                }
            }
        }
        return out
    }
}

/// Every bad input or numerical failure in the Sharpness layer throws this: the algorithm and
/// what went wrong.
///
///     throw SharpnessError("lanczos", "k = 12 exceeds the dimension 10")
public struct SharpnessError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let message: String

    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

func checkLength(_ v: [Float], _ n: Int, op: String) throws {
    guard v.count == n else { throw SharpnessError(op, "vector of length \(v.count), operator dimension \(n)") }
}

/// The one place where algorithms apply H: polls Ctrl-C first, checks the result's length and
/// counts the products.
struct CountingOperator {
    let base: any SymmetricOperator
    let op: String
    private(set) var count = 0

    init(_ base: any SymmetricOperator, op: String) {
        self.base = base
        self.op = op
    }

    var dimension: Int { base.dimension }

    mutating func apply(_ v: [Float]) throws -> [Float] {
        try Cancellation.check()
        let out = try base.apply(v)
        count += 1
        guard out.count == base.dimension else {
            throw SharpnessError(op, "operator returned \(out.count) values for dimension \(base.dimension)")
        }
        return out
    }
}
