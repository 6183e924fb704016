import Tensor

extension Interpreter {
    /// A tensor from a value: tensors as they are, numbers as scalars, ranges as vectors, nested
    /// lists of numbers (or of equally shaped tensors) stacked along a new first axis.
    func toTensor(_ v: Value, what: String) throws -> Tensor {
        switch v {
        case .tensor(let t): return t
        case .number(let d): return Tensor(scalar: Float(d))
        case .bool(let b): return Tensor(scalar: b ? 1 : 0)
        case .range(let r):
            try checkSize(r.count, what: "tensor")
            return try Tensor.from((0..<r.count).map { Float(r.lo + $0) }, shape: [r.count])
        case .list(let l):
            var values: [Float] = []
            var shape: [Int]?
            try flatten(.list(l), depth: 0, into: &values, shape: &shape, what: what)
            try checkSize(values.count, what: "tensor")
            return try Tensor.from(values, shape: shape ?? [0])
        default:
            throw LangError.usage("\(what) must be \(ArgType.tensorLike.name), got \(describeType(v))")
        }
    }

    /// Flattens nested lists in row-major order, checking that they are rectangular.
    private func flatten(_ v: Value, depth: Int, into values: inout [Float], shape: inout [Int]?, what: String) throws {
        guard depth < 32 else { throw LangError.runtime("\(what): lists nested too deeply for a tensor") }
        func expect(_ s: [Int]) throws {
            if let shape {
                guard Array(shape.dropFirst(depth).prefix(s.count)) == s, shape.count == depth + s.count else {
                    throw LangError.runtime("\(what): ragged nested list (rows of different lengths or depths)")
                }
            }
        }
        switch v {
        case .number(let d):
            if shape == nil { shape = [] }
            try expect([])
            values.append(Float(d))
        case .bool(let b):
            if shape == nil { shape = [] }
            try expect([])
            values.append(b ? 1 : 0)
        case .tensor(let t):
            if shape == nil { shape = t.shape }
            try expect(t.shape)
            values.append(contentsOf: t.scalars)
        case .list(let l):
            if shape == nil {
                // The first path down fixes the expected shape.
                var s: [Int] = []
                var cur: Value = .list(l)
                var d = 0
                while true {
                    if case .list(let inner) = cur {
                        s.append(inner.items.count)
                        guard let first = inner.items.first, d < 32 else { break }
                        cur = first
                        d += 1
                    } else {
                        if case .tensor(let t) = cur { s.append(contentsOf: t.shape) }
                        break
                    }
                }
                shape = s
            }
            guard let s = shape, depth < s.count, s[depth] == l.items.count else {
                throw LangError.runtime("\(what): ragged nested list (rows of different lengths or depths)")
            }
            try checkSize(values.count + l.items.count, what: "tensor")
            for item in l.items { try flatten(item, depth: depth + 1, into: &values, shape: &shape, what: what) }
        default:
            throw LangError.usage("\(what) must be \(ArgType.tensorLike.name), but holds \(describeType(v))")
        }
    }

    /// Refuses to build something with more than `limits.maxElements` elements.
    func checkSize(_ n: Int, what: String, at loc: SourceLocation? = nil) throws {
        if n > limits.maxElements {
            throw LangError.runtime("\(what) too large: \(n) elements (the limit is \(limits.maxElements))", at: loc)
        }
    }
}
