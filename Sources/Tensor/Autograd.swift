/// Whether ops record the graph. Off inside `withNoGrad` (evaluation, optimizer updates) so memory
/// stays flat over thousands of steps; the engine also turns it off for a backward pass that does
/// not create a graph.
public enum GradMode {
    nonisolated(unsafe) static var enabled = true

    public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording a graph.
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try withGradMode(false, body)
}

/// Runs `body` with grad mode set as given, restoring the previous mode afterwards.
public func withGradMode<T>(_ on: Bool, _ body: () throws -> T) rethrows -> T {
    let saved = GradMode.enabled
    GradMode.enabled = on
    defer { GradMode.enabled = saved }
    return try body()
}

/// One step of the graph: the op that made a tensor, its inputs, and its vector-Jacobian product.
///
/// Every backward rule is written with differentiable Tensor ops. Run under grad mode, the
/// backward pass therefore records a graph of its own, and differentiating it again gives exact
/// second derivatives (Hessian-vector products) with no special cases.
final class Node {
    let op: String
    private(set) var inputs: [Tensor]
    /// Given the gradient of the output and which inputs need one, returns one gradient per input
    /// (nil where not needed), each of its input's shape.
    private(set) var backward: (Tensor, [Bool]) throws -> [Tensor?]

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor, [Bool]) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }

    /// Frees the graph behind this node with a loop, not by recursion: releasing a tensor whose last
    /// owner is this node would run its node's deinit inside this one, a few stack frames per op, and
    /// a graph some 10⁴ ops deep would overflow the stack. Inputs that die with this node hand their
    /// own inputs to the loop first.
    deinit {
        var pending = inputs
        inputs = []
        backward = Node.released  // the closure's captures go now, while `pending` still holds the inputs
        while var t = pending.popLast() {
            guard isKnownUniquelyReferenced(&t), var n = t.node else { continue }
            t.node = nil
            guard isKnownUniquelyReferenced(&n) else { continue }
            pending.append(contentsOf: n.inputs)
            n.inputs = []
            n.backward = Node.released
        }
    }

    private static func released(_: Tensor, _: [Bool]) -> [Tensor?] { [] }
}

extension Tensor {
    /// Wraps a freshly computed result: records `backward` when grad mode is on and an input needs grad.
    static func result(_ out: Tensor, op: String, inputs: [Tensor],
                       backward: @escaping (Tensor, [Bool]) throws -> [Tensor?]) -> Tensor {
        if GradMode.enabled && inputs.contains(where: { $0.requiresGrad }) {
            out.node = Node(op: op, inputs: inputs, backward: backward)
        }
        return out
    }
}

/// Gradients of `output` with respect to each of `inputs` (reverse mode).
///
/// `seed` is the vector in the vector-Jacobian product (ones for a scalar output when nil).
/// With `createGraph: true` the returned gradients are themselves differentiable, which is how
/// `hvp` gets exact second derivatives. Inputs that `output` does not depend on get zeros.
///
///     let g = try gradients(of: loss, wrt: params)
public func gradients(of output: Tensor, wrt inputs: [Tensor], seed: Tensor? = nil,
                      createGraph: Bool = false) throws -> [Tensor] {
    if let seed, seed.shape != output.shape {
        throw TensorError("gradients", "seed of shape \(shapeText(seed.shape)) for output of shape \(shapeText(output.shape))")
    }
    if seed == nil && output.count != 1 {
        throw TensorError("gradients", "output of shape \(shapeText(output.shape)) is not a scalar; pass a seed")
    }
    let targets = Set(inputs.map(ObjectIdentifier.init))

    // Topological order (post-order DFS, iterative so deep graphs cannot overflow the stack),
    // keeping only tensors from which some target is reachable.
    var order: [Tensor] = []
    var leads: [ObjectIdentifier: Bool] = [:]
    var stack: [(Tensor, Int)] = [(output, 0)]
    var visiting = Set<ObjectIdentifier>()
    visiting.insert(ObjectIdentifier(output))
    while let (t, next) = stack.popLast() {
        let id = ObjectIdentifier(t)
        if let node = t.node, next < node.inputs.count {
            stack.append((t, next + 1))
            let child = node.inputs[next]
            let cid = ObjectIdentifier(child)
            if leads[cid] == nil && !visiting.contains(cid) && child.requiresGrad {
                visiting.insert(cid)
                stack.append((child, 0))
            }
            continue
        }
        var reaches = targets.contains(id)
        if let node = t.node {
            for child in node.inputs where leads[ObjectIdentifier(child)] == true { reaches = true }
        }
        leads[id] = reaches
        if reaches { order.append(t) }
    }

    var grads: [ObjectIdentifier: Tensor] = [:]
    grads[ObjectIdentifier(output)] = seed ?? Tensor.full(1, shape: output.shape)
    var result: [ObjectIdentifier: Tensor] = [:]
    try withGradMode(createGraph) {
        for t in order.reversed() {
            let id = ObjectIdentifier(t)
            guard let g = grads[id] else { continue }
            if targets.contains(id) { result[id] = g }
            guard let node = t.node else { continue }
            grads[id] = nil  // free as we go
            let needs = node.inputs.map { leads[ObjectIdentifier($0)] == true }
            let inputGrads = try node.backward(g, needs)
            for (i, input) in node.inputs.enumerated() where needs[i] {
                guard let ig = inputGrads[i] else { continue }
                assert(ig.shape == input.shape, "\(node.op) backward returned \(ig.shape) for input \(input.shape)")
                let iid = ObjectIdentifier(input)
                if let existing = grads[iid] {
                    grads[iid] = try existing + ig
                } else {
                    grads[iid] = ig
                }
            }
        }
    }
    return inputs.map { result[ObjectIdentifier($0)] ?? Tensor.zeros($0.shape) }
}

/// Σᵢ sum(aᵢ ⊙ bᵢ), differentiable: the inner product of two lists of same-shaped tensors.
public func innerProduct(_ a: [Tensor], _ b: [Tensor]) throws -> Tensor {
    guard a.count == b.count else { throw TensorError("innerProduct", "\(a.count) tensors against \(b.count)") }
    var total: Tensor? = nil
    for (x, y) in zip(a, b) {
        guard x.shape == y.shape else {
            throw TensorError("innerProduct", "shapes \(shapeText(x.shape)) and \(shapeText(y.shape)) differ")
        }
        let d = try x.dot(y)
        total = try total.map { try $0 + d } ?? d
    }
    return total ?? Tensor(scalar: 0)
}

/// Exact Hessian-vector product H v = ∇(∇f · v) by double backward (never finite differences).
///
///     let hv = try hvp(loss, params: ws, v: vs)
public func hvp(_ f: Tensor, params: [Tensor], v: [Tensor]) throws -> [Tensor] {
    try HessianVectorProduct(f, params: params).apply(v)
}

/// Keeps the first backward's graph so that many HVPs on the same batch pay for it once
/// (Lanczos runs dozens of them on one batch).
public final class HessianVectorProduct {
    public let params: [Tensor]
    /// ∇f, differentiable.
    public let gradient: [Tensor]

    public init(_ f: Tensor, params: [Tensor]) throws {
        self.params = params
        self.gradient = try withGradMode(true) { try gradients(of: f, wrt: params, createGraph: true) }
    }

    /// H v for a v shaped like the parameters.
    public func apply(_ v: [Tensor]) throws -> [Tensor] {
        guard v.count == params.count else {
            throw TensorError("hvp", "\(v.count) vector parts for \(params.count) parameters")
        }
        for (p, x) in zip(params, v) where p.shape != x.shape {
            throw TensorError("hvp", "vector part of shape \(shapeText(x.shape)) for parameter of shape \(shapeText(p.shape))")
        }
        let dot = try withGradMode(true) { try innerProduct(gradient, v.map { $0.detached() }) }
        return try gradients(of: dot, wrt: params)
    }
}
