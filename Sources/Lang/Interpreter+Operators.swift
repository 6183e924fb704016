import Foundation
import Tensor

extension Interpreter {
    /// The number ⊕ number fast path (nil for operators numbers do not have: `@`).
    @inline(__always)
    func numberOp(_ op: BinaryOp, _ x: Double, _ y: Double) -> Value? {
        switch op {
        case .add: .number(x + y)
        case .sub: .number(x - y)
        case .mul: .number(x * y)
        case .div: .number(x / y)
        case .mod: .number(floorMod(x, y))
        case .pow: .number(Foundation.pow(x, y))
        case .eq: .bool(x == y)
        case .ne: .bool(x != y)
        case .lt: .bool(x < y)
        case .le: .bool(x <= y)
        case .gt: .bool(x > y)
        case .ge: .bool(x >= y)
        case .matmul: nil
        }
    }

    /// Every binary operator on every pair of values (after the number fast path).
    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
        if case .number(let x) = a, case .number(let y) = b, let v = numberOp(op, x, y) { return v }
        // Tensors (with numbers on either side) broadcast elementwise, comparisons included.
        if case .tensor = a, b.isNumeric { return try tensorOp(op, a, b, loc) }
        if case .tensor = b, a.isNumeric { return try tensorOp(op, a, b, loc) }
        switch op {
        case .eq: return .bool(try valuesEqual(a, b, depth: 0, loc))
        case .ne: return .bool(!(try valuesEqual(a, b, depth: 0, loc)))
        case .lt, .le, .gt, .ge:
            if case .string(let x) = a, case .string(let y) = b {
                switch op {
                case .lt: return .bool(x < y)
                case .le: return .bool(x <= y)
                case .gt: return .bool(x > y)
                default: return .bool(x >= y)
                }
            }
        case .add:
            if case .string(let x) = a, case .string(let y) = b {
                try checkSize(x.utf8.count + y.utf8.count, what: "string", at: loc)
                return .string(x + y)
            }
            if case .list(let x) = a, case .list(let y) = b {
                try checkSize(x.items.count + y.items.count, what: "list", at: loc)
                return .list(ListValue(x.items + y.items))
            }
        default:
            break
        }
        let hint: String
        switch (op, a, b) {
        case (.add, .string, _), (.add, _, .string): hint = " (use str(x) or format(\"{}\", x) to build text)"
        case (_, .list, .number), (_, .number, .list): hint = " (use tensor(list) for elementwise arithmetic)"
        case (.matmul, _, _): hint = " (@ multiplies tensors)"
        default: hint = ""
        }
        if op == .lt || op == .le || op == .gt || op == .ge {
            throw LangError.runtime("cannot compare \(a.typeName) and \(b.typeName) with \(op.symbol)\(hint)", at: loc)
        }
        throw LangError.runtime("cannot \(op.verb) \(a.typeName) and \(b.typeName)\(hint)", at: loc)
    }

    private func tensorOp(_ op: BinaryOp, _ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
        try located({
            switch (a, b) {
            case (.tensor(let x), .tensor(let y)):
                if op == .matmul {
                    try checkMatmul(x, y)
                    return try unwrapScalar(matmulPromoting(x, y))
                }
                try checkSize(broadcastCount(x.shape, y.shape), what: "tensor", at: loc)
                return try .tensor(tensorTensor(op, x, y))
            case (.tensor(let x), .number(let d)):
                return try .tensor(tensorNumber(op, x, Float(d), loc))
            case (.number(let d), .tensor(let y)):
                return try .tensor(numberTensor(op, Float(d), y, loc))
            default:
                throw LangError.runtime("cannot \(op.verb) \(a.typeName) and \(b.typeName)", at: loc)
            }
        }, loc)
    }

    private func tensorTensor(_ op: BinaryOp, _ x: Tensor, _ y: Tensor) throws -> Tensor {
        switch op {
        case .add: return try x + y
        case .sub: return try x - y
        case .mul: return try x * y
        case .div: return try x / y
        case .pow: return try x.pow(y)
        case .mod: return try elementwise(x, y, "%", floorMod)
        case .eq: return try x.eq(y)
        case .ne: return try x.ne(y)
        case .lt: return try x.lt(y)
        case .le: return try x.le(y)
        case .gt: return try x.gt(y)
        case .ge: return try x.ge(y)
        case .matmul: return try x.matmul(y)
        }
    }

    private func tensorNumber(_ op: BinaryOp, _ x: Tensor, _ s: Float, _ loc: SourceLocation) throws -> Tensor {
        switch op {
        case .add: return x + s
        case .sub: return x - s
        case .mul: return x * s
        case .div: return x / s
        case .pow: return try x.pow(s)
        case .mod: return try elementwise(x, Tensor(scalar: s), "%", floorMod)
        case .matmul: throw LangError.runtime("cannot matrix-multiply (@) tensor and number (use *)", at: loc)
        default: return try tensorTensor(op, x, Tensor(scalar: s))
        }
    }

    private func numberTensor(_ op: BinaryOp, _ s: Float, _ y: Tensor, _ loc: SourceLocation) throws -> Tensor {
        switch op {
        case .add: return s + y
        case .sub: return s - y
        case .mul: return s * y
        case .div: return try s / y
        case .matmul: throw LangError.runtime("cannot matrix-multiply (@) number and tensor (use *)", at: loc)
        default: return try tensorTensor(op, Tensor(scalar: s), y)
        }
    }

    /// An elementwise op the engine does not have (`%`), on the broadcast shapes; no gradient.
    private func elementwise(_ x: Tensor, _ y: Tensor, _ name: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        guard let shape = broadcastShape(x.shape, y.shape) else {
            throw TensorError(name, "shapes \(x.shape) and \(y.shape) do not broadcast")
        }
        let a = try x.broadcast(to: shape).scalars, b = try y.broadcast(to: shape).scalars
        return try Tensor.from(zip(a, b).map(f), shape: shape)
    }

    /// Structural equality of lists and records; identity for functions and objects.
    func valuesEqual(_ a: Value, _ b: Value, depth: Int, _ loc: SourceLocation) throws -> Bool {
        guard depth < 100 else { throw LangError.runtime("values nested too deeply to compare", at: loc) }
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.range(let x), .range(let y)): return x == y
        case (.list(let x), .list(let y)):
            if x === y { return true }
            guard x.items.count == y.items.count else { return false }
            for (u, v) in zip(x.items, y.items) where !(try valuesEqual(u, v, depth: depth + 1, loc)) { return false }
            return true
        case (.record(let x), .record(let y)):
            if x === y { return true }
            guard x.count == y.count else { return false }
            for (k, u) in x.pairs {
                guard let v = y[k], try valuesEqual(u, v, depth: depth + 1, loc) else { return false }
            }
            return true
        case (.tensor(let x), .tensor(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x === y
        case (.object(let x), .object(let y)): return x === y
        default: return false
        }
    }

    /// `@` as NumPy's matmul: a vector on the left is a row, on the right a column, and the
    /// added axis is dropped from the result.
    private func matmulPromoting(_ x: Tensor, _ y: Tensor) throws -> Tensor {
        guard x.rank == 1 || y.rank == 1 else { return try x.matmul(y) }
        let a = x.rank == 1 ? try x.reshaped([1, x.count]) : x
        let b = y.rank == 1 ? try y.reshaped([y.count, 1]) : y
        var out = try a.matmul(b)
        var shape = out.shape
        if y.rank == 1 { shape.removeLast() }
        if x.rank == 1 { shape.remove(at: shape.count - (y.rank == 1 ? 1 : 2)) }
        out = try out.reshaped(shape)
        return out
    }

    /// Refuses matrix products whose result would exceed the element limit.
    private func checkMatmul(_ x: Tensor, _ y: Tensor) throws {
        guard x.rank >= 1, y.rank >= 1 else { return }
        let rows = x.rank >= 2 ? x.shape[x.rank - 2] : 1
        let batch = max(x.shape.dropLast(2).reduce(1, *), y.shape.dropLast(2).reduce(1, *))
        let (p1, o1) = rows.multipliedReportingOverflow(by: y.shape[y.rank - 1])
        let (p2, o2) = p1.multipliedReportingOverflow(by: max(batch, 1))
        try checkSize(o1 || o2 ? Int.max : p2, what: "tensor")
    }
}

extension Value {
    var isNumeric: Bool {
        switch self {
        case .number, .tensor: true
        default: false
        }
    }
}

/// Lua's and Python's modulo: the result has the sign of the divisor.
@inline(__always)
func floorMod<T: FloatingPoint>(_ x: T, _ y: T) -> T {
    let r = x.truncatingRemainder(dividingBy: y)
    return (r != 0 && (r < 0) != (y < 0)) ? r + y : r
}

/// NumPy broadcasting of two shapes; nil when they do not broadcast.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

/// Elements of the broadcast result (0 when the shapes do not broadcast: the engine reports that).
func broadcastCount(_ a: [Int], _ b: [Int]) -> Int {
    guard let s = broadcastShape(a, b) else { return 0 }
    var n = 1
    for d in s {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return Int.max }
        n = p
    }
    return n
}
