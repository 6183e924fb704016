import Foundation
import Tensor

/// Tensor creation, shape, reductions and elementwise math. Numbers stay numbers: `sqrt(2)` is a
/// number, `sqrt(t)` a tensor; a reduction to one value (`sum(t)`) gives a number.
@Sendable func registerTensors(_ r: BuiltinRegistry) {
    let topic = "tensors"

    r.register("tensor", topic: topic, params: [.required("values", .tensorLike, "a number, a (nested) list of numbers, a range or a tensor")],
               returns: "tensor", doc: "A Float32 tensor from nested lists (rows along the first axis).",
               example: "tensor([[1, 2, 3], [4, 5, 6]])") { a in .tensor(try a.tensor("values")) }

    r.register("zeros", topic: topic, params: [.required("shape", .shape)], returns: "tensor",
               doc: "A tensor of zeros.", example: "zeros([2, 3])") { a in .tensor(Tensor.zeros(try a.shape("shape"))) }

    r.register("ones", topic: topic, params: [.required("shape", .shape)], returns: "tensor",
               doc: "A tensor of ones.", example: "ones(3)") { a in .tensor(Tensor.ones(try a.shape("shape"))) }

    r.register("full", topic: topic, params: [.required("shape", .shape), .required("value", .number)], returns: "tensor",
               doc: "A tensor filled with one value.", example: "full([2, 2], 0.5)") { a in
        .tensor(Tensor.full(Float(try a.number("value")), shape: try a.shape("shape")))
    }

    r.register("randn", topic: topic, params: [
        .required("shape", .shape), .optional("seed", .int, "its own stream; default: the global one (see seed)"),
    ], returns: "tensor", doc: "Samples of the standard normal distribution.",
       example: "randn([2, 3], seed: 1)") { a in
        let shape = try a.shape("shape")
        if let s = try a.optionalInt("seed") { return .tensor(Tensor.randn(shape, seed: try seedValue(s))) }
        return .tensor(Tensor.randn(shape, using: &GlobalRandom.generator))
    }

    r.register("rand", topic: topic, params: [
        .required("shape", .shape), .optional("low", .number, default: 0), .optional("high", .number, default: 1),
        .optional("seed", .int, "its own stream; default: the global one (see seed)"),
    ], returns: "tensor", doc: "Uniform samples in [low, high).",
       example: "rand([2, 2], low: -1, high: 1, seed: 7)") { a in
        let shape = try a.shape("shape")
        let lo = Float(try a.number("low")), hi = Float(try a.number("high"))
        if let s = try a.optionalInt("seed") { return .tensor(Tensor.rand(shape, low: lo, high: hi, seed: try seedValue(s))) }
        return .tensor(Tensor.rand(shape, low: lo, high: hi, using: &GlobalRandom.generator))
    }

    r.register("arange", topic: topic, params: [
        .required("start", .number, "the end when given alone"), .optional("stop", .number, "excluded"),
        .optional("step", .number, default: 1),
    ], returns: "tensor", doc: "A 1-D tensor start, start + step, … below stop (NumPy's arange): arange(3) is [0, 1, 2].",
       example: "arange(0, 1, 0.25)") { a in
        var start = try a.number("start")
        let stop: Double
        if let s = try a.optionalNumber("stop") { stop = s } else { stop = start; start = 0 }
        let step = try a.number("step")
        guard step != 0, step.isFinite, start.isFinite, stop.isFinite else {
            throw LangError.usage("arange: start, stop and step must be finite and step nonzero")
        }
        let n = max(0, ((stop - start) / step).rounded(.up))
        try a.interpreter.checkSize(n < 1e18 ? Int(n) : Int.max, what: "arange")
        return .tensor(try Tensor.from((0..<Int(n)).map { Float(start + Double($0) * step) }, shape: [Int(n)]))
    }

    r.register("shape", topic: topic, params: [.required("x", .tensorLike)], returns: "list",
               doc: "The dimensions of a tensor (or of nested lists), as a list.",
               example: "shape(zeros([2, 3]))") { a in
        .list(ListValue(try a.tensor("x").shape.map { .number(Double($0)) }))
    }

    r.register("reshape", topic: topic, params: [
        .required("x", .tensorLike), .required("shape", .list, "whole numbers; one may be -1 (inferred)"),
    ], returns: "tensor", doc: "The same values in a new shape (row-major order).",
       example: "reshape(arange(6), [2, -1])") { a in
        let t = try a.tensor("x")
        var dims = try a.list("shape").items.map { v -> Int in
            guard case .number(let d) = v, let i = wholeNumber(d), i >= -1 else {
                throw LangError.usage("reshape: shape must hold whole numbers ≥ 0 (and at most one -1)")
            }
            return i
        }
        let unknown = dims.indices.filter { dims[$0] == -1 }
        guard unknown.count <= 1 else { throw LangError.usage("reshape: at most one dimension may be -1") }
        if let u = unknown.first {
            let known = dims.filter { $0 != -1 }.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard known > 0, t.count % known == 0 else {
                throw LangError.runtime("reshape: cannot fit \(t.count) elements into \(shapeText(dims))")
            }
            dims[u] = t.count / known
        }
        return .tensor(try t.reshaped(dims))
    }

    r.register("transpose", topic: topic, params: [.required("x", .tensorLike)], returns: "tensor",
               doc: "Swaps the last two axes (a matrix's transpose).",
               example: "transpose(tensor([[1, 2, 3]]))") { a in .tensor(try a.tensor("x").transposed()) }

    r.register("concat", topic: topic, params: [.required("tensors", .list), .optional("axis", .int, default: 0)],
               returns: "tensor", doc: "Joins tensors along an existing axis.",
               example: "concat([ones(2), zeros(3)])") { a in
        let parts = try a.list("tensors").items.map { try a.interpreter.toTensor($0, what: "concat: each element") }
        // Scalars have no axis to join along (the engine throws too); point the user to stack.
        if let scalar = parts.first(where: { $0.rank == 0 }) {
            throw LangError.runtime("concat: cannot join scalars (\(formatTensor(scalar))); use stack")
        }
        return .tensor(try Tensor.concat(parts, axis: try a.int("axis")))
    }

    r.register("stack", topic: topic, params: [.required("tensors", .list), .optional("axis", .int, default: 0)],
               returns: "tensor", doc: "Stacks equally shaped tensors along a new axis.",
               example: "stack([ones(2), zeros(2)])") { a in
        let parts = try a.list("tensors").items.map { try a.interpreter.toTensor($0, what: "stack: each element") }
        return .tensor(try Tensor.stack(parts, axis: try a.int("axis")))
    }

    r.register("where", topic: topic, params: [
        .required("condition", .tensorLike, "nonzero picks a"), .required("a", .tensorLike), .required("b", .tensorLike),
    ], returns: "tensor", doc: "Elementwise a where the condition is nonzero, else b (broadcasting).",
       example: "t = tensor([-1, 2, -3])\nwhere(t > 0, t, 0)") { a in
        .tensor(try Tensor.where(try a.tensor("condition"), try a.tensor("a"), try a.tensor("b")))
    }

    registerReduction(r, "sum", doc: "The sum of all elements (a number), or along axis (a tensor).",
                      example: "sum(tensor([[1, 2], [3, 4]]), axis: 0)", plain: { $0.reduce(0, +) }) { t, axes, keep in
        try t.sum(axes: axes, keepDims: keep)
    }
    registerReduction(r, "mean", doc: "The mean of all elements (a number), or along axis (a tensor).",
                      example: "mean([1, 2, 3, 4])", plain: { $0.isEmpty ? .nan : $0.reduce(0, +) / Double($0.count) }) { t, axes, keep in
        try t.mean(axes: axes, keepDims: keep)
    }
    registerReduction(r, "max", doc: "The largest element (a number), or the maxima along axis (a tensor). Also for lists of numbers.",
                      example: "max([3, 7, 5])", plain: { $0.max() ?? .nan }) { t, axes, keep in
        try t.max(axes: axes, keepDims: keep)
    }
    registerReduction(r, "min", doc: "The smallest element (a number), or the minima along axis (a tensor). Also for lists of numbers.",
                      example: "min(tensor([3, 7, 5]))", plain: { $0.min() ?? .nan }) { t, axes, keep in
        -(try (-t).max(axes: axes, keepDims: keep))
    }

    r.register("argmax", topic: topic, params: [.required("x", .tensorLike), .optional("axis", .int)],
               returns: "number or tensor",
               doc: "The index of the largest element (of the flattened tensor, a number), or along axis (a tensor of indices).",
               example: "argmax(tensor([[1, 9], [8, 2]]), axis: 1)") { a in
        let t = try a.tensor("x")
        if let axis = try a.optionalInt("axis") {
            try checkAxes([axis], of: t, "argmax")
            return try a.interpreter.unwrapScalar(try t.argmax(axis: axis))
        }
        guard t.count > 0 else { throw LangError.runtime("argmax: empty tensor") }
        let v = t.scalars
        var best = 0
        for i in 1..<max(v.count, 1) where v[i] > v[best] { best = i }
        return .number(Double(best))
    }

    registerElementwise(r, "exp", doc: "e to the x, elementwise.", example: "exp(1)", number: Foundation.exp) { try $0.exp() }
    registerElementwise(r, "log", doc: "The natural logarithm, elementwise.", example: "log(tensor([1, 10]))",
                        number: Foundation.log) { try $0.log() }
    registerElementwise(r, "sqrt", doc: "The square root, elementwise.", example: "sqrt(2)",
                        number: Foundation.sqrt) { try $0.sqrt() }
    registerElementwise(r, "abs", doc: "The absolute value, elementwise.", example: "abs(tensor([-1, 2]))",
                        number: Swift.abs) { try $0.abs() }
    registerElementwise(r, "tanh", doc: "The hyperbolic tangent, elementwise.", example: "tanh(0.5)",
                        number: Foundation.tanh) { try $0.tanh() }
    registerElementwise(r, "sigmoid", doc: "1 / (1 + e^−x), elementwise.", example: "sigmoid(tensor([0, 2]))",
                        number: { 1 / (1 + Foundation.exp(-$0)) }) { try $0.sigmoid() }

    r.register("softmax", topic: topic, params: [.required("x", .tensorLike), .optional("axis", .int, default: -1)],
               returns: "tensor", doc: "exp(x) normalized to sum 1 along axis.",
               example: "softmax(tensor([1, 2, 3]))") { a in
        let t = try a.tensor("x"), axis = try a.int("axis")
        try checkAxes([axis], of: t, "softmax")
        return .tensor(try t.softmax(axis: axis))
    }

    r.register("norm", topic: topic, params: [.required("x", .tensorLike)], returns: "number",
               doc: "The Euclidean (Frobenius) norm √(Σ x²), accumulated in double precision.",
               example: "norm(tensor([3, 4]))") { a in
        let t = try a.tensor("x")
        return .number(t.withUnsafeBufferPointer { p in p.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot())
    }

    r.register("dot", topic: topic, params: [.required("a", .tensorLike), .required("b", .tensorLike)], returns: "number",
               doc: "Σ a·b over all elements of two equally shaped tensors.",
               example: "dot(tensor([1, 2, 3]), tensor([4, 5, 6]))") { a in
        .number(Double(try (try a.tensor("a")).dot(try a.tensor("b")).item()))
    }

    r.register("item", topic: topic, params: [.required("x", .numeric)], returns: "number",
               doc: "The number in a one-element tensor.",
               example: "item(sum(ones([2, 2]), axis: [0, 1]))") { a in
        if case .number(let d) = a["x"] { return .number(d) }
        return .number(Double(try a.tensor("x").item()))
    }

    r.register("tolist", topic: topic, params: [.required("x", .tensorLike)], returns: "list",
               doc: "The values of a tensor as (nested) lists of numbers.",
               example: "tolist(tensor([[1, 2], [3, 4]]))") { a in
        let t = try a.tensor("x")
        let v = t.scalars
        if t.rank == 0 { return .number(Double(v.first ?? 0)) }
        func build(_ axis: Int, _ offset: Int, _ stride: Int) -> Value {
            let n = t.shape[axis]
            let inner = stride / max(n, 1)
            if axis == t.rank - 1 { return .list(ListValue((0..<n).map { .number(Double(v[offset + $0])) })) }
            return .list(ListValue((0..<n).map { build(axis + 1, offset + $0 * inner, inner) }))
        }
        return build(0, 0, t.count)
    }
}

/// sum / mean / max / min: plain lists and ranges of numbers reduce in Double; tensors through the
/// engine, over all axes (a number) or `axis:` (a tensor).
private func registerReduction(_ r: BuiltinRegistry, _ name: String, doc: String, example: String,
                               plain: @escaping ([Double]) -> Double,
                               _ op: @escaping (Tensor, [Int]?, Bool) throws -> Tensor) {
    r.register(name, topic: "tensors", params: [
        .required("x", .tensorLike), .optional("axis", .oneOf([.int, .list]), "an axis or a list of axes (negative from the end)"),
        .optional("keepdims", .bool, default: false, "keep reduced axes with length 1"),
    ], returns: "number or tensor", doc: doc, example: example) { a in
        let axes: [Int]?
        switch a["axis"] {
        case .null: axes = nil
        case .number: axes = [try a.int("axis")]
        case .list(let l):
            axes = try l.items.map { v in
                guard case .number(let d) = v, let i = wholeNumber(d) else { throw LangError.usage("\(name): axes must be whole numbers") }
                return i
            }
        default: axes = nil
        }
        if axes == nil, let numbers = plainNumbers(a["x"]) { return .number(plain(numbers)) }
        let t = try a.tensor("x")
        if let axes { try checkAxes(axes, of: t, name) }
        return try a.interpreter.unwrapScalar(try op(t, axes, try a.bool("keepdims")))
    }
}

/// The numbers of a flat list or range of plain numbers, or nil.
private func plainNumbers(_ v: Value) -> [Double]? {
    switch v {
    case .list(let l):
        var out: [Double] = []
        out.reserveCapacity(l.items.count)
        for item in l.items {
            guard case .number(let d) = item else { return nil }
            out.append(d)
        }
        return out
    case .range(let rg) where rg.count <= 1 << 24:
        return (0..<rg.count).map { Double(rg.lo + $0) }
    default:
        return nil
    }
}

/// A math function of numbers (in Double) and tensors (elementwise in the engine).
private func registerElementwise(_ r: BuiltinRegistry, _ name: String, doc: String, example: String,
                                 number: @escaping (Double) -> Double, _ op: @escaping (Tensor) throws -> Tensor) {
    r.register(name, topic: "tensors", params: [.required("x", .tensorLike)], returns: "number or tensor",
               doc: doc, example: example) { a in
        if case .number(let d) = a["x"] { return .number(number(d)) }
        return .tensor(try op(try a.tensor("x")))
    }
}

/// Axes must exist (negative ones count from the end). The engine now throws for these too
/// (TensorError); the check stays so the message speaks of the builtin, not the engine op.
func checkAxes(_ axes: [Int], of t: Tensor, _ name: String) throws {
    for a in axes where a >= t.rank || a < -t.rank {
        throw LangError.runtime("\(name): axis \(a) out of range for a tensor of shape \(shapeText(t.shape))")
    }
}

func seedValue(_ s: Int) throws -> UInt64 {
    guard s >= 0 else { throw LangError.usage("seed must be ≥ 0, got \(s)") }
    return UInt64(s)
}
