import Data
import Foundation
import NN
import Sharpness
import Tensor
import Train

/// The loss and its derivatives (loss, grad, hvp, eigh) and the sharpness measures: Hessian
/// spectrum, trace and density, (C_eps, A)-sharpness, RAG and loss-landscape slices.
@Sendable func registerMeasures(_ r: BuiltinRegistry) {
    let model = ArgType.object("model")
    let dataset = ArgType.object("dataset")
    let bnParam = Param.optional("bn", .string, default: "eval", "BatchNorm: \"eval\" (running statistics) or \"train\" (batch statistics); running statistics are never changed")
    let wrtParam = Param.optional("wrt", .string, default: "trainable", "\"trainable\", \"all\", or a name pattern such as \"linear\"")
    let seedParam = Param.optional("seed", .int, "default: drawn from the global stream (see seed)")

    // MARK: Calculus

    let lossInput: [Param] = [
        .required("model", model),
        .required("x", .oneOf([.tensorLike, dataset]), "inputs (N×…), or a data set (then leave y out)"),
    ]
    let chunkParam = Param.optional("batch", .int, default: 512, "chunk size when x is a data set (the result is the mean over all of it)")

    r.register("loss", topic: "calculus", params: lossInput + [
        .optional("y", .tensorLike, "labels"), bnParam, chunkParam,
    ], returns: "number",
       doc: "The mean cross-entropy L(w) of the classifier on (x, y) or on a whole data set — the loss every measure uses (eval-mode BatchNorm unless bn: \"train\").",
       example: "d = blobs(20, classes: 3, seed: 0)\nnet = mlp([2, 4, 3], seed: 0)\nprint(loss(net, d.x, d.y), loss(net, d))") { a in
        .number(try lossOperator(a, y: a["y"]).loss())
    }

    r.register("grad", topic: "calculus", params: lossInput + [
        .optional("y", .tensorLike, "labels"), bnParam, wrtParam, chunkParam,
    ], returns: "tensor",
       doc: "∇L(w): the gradient of the mean cross-entropy as one flat tensor over the selected parameters (params(model, wrt) order). No weight decay.",
       example: "d = blobs(20, classes: 3, seed: 0)\nnet = mlp([2, 4, 3], seed: 0)\nshape(grad(net, d.x, d.y))") { a in
        flatTensor(try lossOperator(a, y: a["y"]).gradient())
    }

    r.register("hvp", topic: "calculus", params: lossInput + [
        .optional("y", .any, "labels (or v, when x is a data set)"), .optional("v", .tensorLike, "a flat vector as params gives"),
        bnParam, wrtParam, chunkParam,
    ], returns: "tensor",
       doc: "The exact Hessian-vector product H·v = ∇(∇L(w)·v) (double backward), flat over the selected parameters. hvp(model, data, v) takes a whole data set.",
       example: "d = blobs(20, classes: 3, seed: 0)\nnet = mlp([2, 4, 3], seed: 0)\nv = randn(shape(params(net)), seed: 1)\nprint(dot(v, hvp(net, d.x, d.y, v)))") { a in
        var y = a["y"], v = a["v"]
        if case .object = a["x"], v.isNil {
            v = y
            y = .null
        }
        guard !v.isNil else { throw LangError.usage("hvp: missing argument 'v' (the vector to multiply)") }
        let h = try lossOperator(a, y: y)
        let vec = try a.interpreter.toTensor(v, what: "hvp: argument 'v'").scalars
        guard vec.count == h.dimension else {
            throw LangError.runtime("hvp: v has \(vec.count) values but the model has \(h.dimension) selected parameter values")
        }
        return flatTensor(try h.apply(vec))
    }

    r.register("eigh", topic: "calculus", params: [.required("a", .tensorLike, "a symmetric n×n matrix")],
               returns: "{values, vectors}",
               doc: "Eigenvalues (ascending) and unit eigenvectors (vectors[i] belongs to values[i]) of a small dense symmetric matrix, by Jacobi rotations in double precision. (A is symmetrized as (A + Aᵀ)/2.)",
               example: "e = eigh(tensor([[2, 1], [1, 2]]))\nprint(e.values)") { a in
        let t = try a.tensor("a")
        guard t.rank == 2, t.shape[0] == t.shape[1], t.shape[0] > 0 else {
            throw LangError.runtime("eigh: expected a square matrix, got shape \(shapeText(t.shape))")
        }
        let e = try JacobiEigen.decompose(matrix: t.scalars.map(Double.init), dimension: t.shape[0], vectors: true)
        return .record([("values", numberList(e.values)),
                        ("vectors", .list(ListValue(e.vectors.map { flatTensor($0.map(Float.init)) })))])
    }

    // MARK: Hessian

    let topic = "measures"
    let batchParam = Param.optional("batch", .optional(.int), default: 512, "items per trial's random batch; nil: the whole data set")

    r.register("hessian_eigs", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("k", .int, default: 10, "how many eigenpairs"),
        .optional("which", .string, default: "LM", "\"LM\" largest magnitude, \"LA\" largest, \"SA\" smallest"),
        batchParam, .optional("trials", .int, default: 1, "random batches; > 1 adds mean, std, max and ratio5"),
        .optional("method", .string, default: "lanczos", "\"lanczos\" (full reorthogonalization) or \"power\" (deflated power iteration)"),
        bnParam, wrtParam, .optional("tol", .number, default: 1e-4, "relative residual counted as converged"),
        seedParam, .optional("vectors", .bool, default: false, "also return the unit eigenvectors (flat tensors)"),
        .optional("max_steps", .int, "operator applications before giving up (default: the method's)"),
    ], returns: "{values, residuals, converged, hvps}",
       doc: "Top-k eigenvalues of the loss Hessian by exact Hessian-vector products: values in `which` order, residual ‖Hv − λv‖/|λ| recomputed at the end, converged flags, HVPs used. Each trial draws a random batch; with trials > 1 also mean and std per eigenvalue (n − 1), max {mean, std} of |λ1| and ratio5 {mean, std} of |λ1/λ5| per trial (the paper's Table 2).",
       example: "d = blobs(40, classes: 3, seed: 0)\nnet = mlp([2, 4, 3], seed: 0)\ne = hessian_eigs(net, d, k: 3, batch: nil, seed: 0)\nprint(len(e.values), e.converged)") { a in
        let e = try hessianEigs(try a.model("model").module, try a.dataset("data"), k: try a.int("k", atLeast: 1),
                                which: try SpectrumEnd(parsing: try a.string("which")), batch: try a.optionalInt("batch"),
                                trials: try a.int("trials", atLeast: 1), method: try EigenMethod(parsing: try a.string("method")),
                                bn: try a.bnPolicy(), wrt: try a.parameterFilter(), tol: try a.number("tol"), seed: try a.seed(),
                                vectors: try a.bool("vectors"), maxSteps: try a.optionalInt("max_steps"))
        var pairs: [(String, Value)] = [
            ("values", numberList(e.values)), ("residuals", numberList(e.residuals)),
            ("converged", .list(ListValue(e.converged.map { .bool($0) }))), ("hvps", .number(Double(e.hvps))),
        ]
        if try a.bool("vectors") { pairs.append(("vectors", .list(ListValue(e.vectors.map(flatTensor))))) }
        if e.trials.count > 1 {
            pairs.append(("mean", numberList(e.mean ?? [])))
            pairs.append(("std", numberList(e.std ?? [])))
            pairs.append(("max", e.max.map(meanStd) ?? .null))
            pairs.append(("ratio5", e.ratio5.map(meanStd) ?? .null))
            pairs.append(("trial_values", .list(ListValue(e.trials.map { numberList($0.values) }))))
        }
        pairs.append(("batch", e.batch.map { .number(Double($0)) } ?? .null))
        pairs.append(("dimension", .number(Double(e.dimension))))
        return .record(pairs)
    }

    r.register("hessian_trace", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("probes", .int, default: 100, "Rademacher probes (≥ 2 for a standard error)"),
        batchParam, bnParam, wrtParam, seedParam,
    ], returns: "{trace, stderr}",
       doc: "Hutchinson's estimate of the loss Hessian's trace (mean of zᵀHz over Rademacher probes z) with its standard error, on a random batch (batch: nil = the whole data set).",
       example: "d = blobs(40, classes: 3, seed: 0)\nt = hessian_trace(mlp([2, 4, 3], seed: 0), d, probes: 20, batch: nil, seed: 0)\nprint(t.stderr > 0)") { a in
        let t = try hessianTrace(try a.model("model").module, try a.dataset("data"), probes: try a.int("probes", atLeast: 1),
                                 batch: try a.optionalInt("batch"), bn: try a.bnPolicy(), wrt: try a.parameterFilter(),
                                 seed: try a.seed())
        return .record([("trace", .number(t.trace)), ("stderr", .number(t.stderr)), ("hvps", .number(Double(t.hvps)))])
    }

    r.register("hessian_density", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("steps", .int, default: 100, "Lanczos steps per probe"), .optional("probes", .int, default: 10),
        .optional("sigma", .number, "Gaussian smoothing width (default: 1% of the eigenvalue range)"),
        .optional("points", .int, default: 1000, "grid points"), batchParam, bnParam, wrtParam, seedParam,
    ], returns: "{x, density}",
       doc: "The Hessian's spectral density by stochastic Lanczos quadrature with Gaussian smoothing (PyHessian's ESD), on a grid ready to plot: plot(d.x, d.density).",
       example: "d = blobs(40, classes: 3, seed: 0)\nesd = hessian_density(mlp([2, 4, 3], seed: 0), d, steps: 10, probes: 2, points: 50, batch: nil, seed: 0)\nprint(len(esd.x), len(esd.density))") { a in
        try a.checkElements(try a.int("points"))
        if let sigma = try a.optionalNumber("sigma"), !(sigma > 0 && sigma.isFinite) {
            throw LangError.usage("hessian_density: sigma must be a positive number, got \(formatNumber(sigma))")
        }
        let s = try hessianDensity(try a.model("model").module, try a.dataset("data"), steps: try a.int("steps", atLeast: 1),
                                   probes: try a.int("probes", atLeast: 1), sigma: try a.optionalNumber("sigma"),
                                   points: try a.int("points", atLeast: 1), batch: try a.optionalInt("batch"),
                                   bn: try a.bnPolicy(), wrt: try a.parameterFilter(), seed: try a.seed())
        return .record([("x", numberList(s.x)), ("density", numberList(s.density)), ("sigma", .number(s.sigma)),
                        ("hvps", .number(Double(s.hvps)))])
    }

    // MARK: Keskar, RAG

    r.register("keskar", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("eps", .number, default: 1e-3, "the box size"), .optional("iters", .int, default: 10, "optimizer iterations"),
        .optional("subspace", .int, "p: a random n×p subspace A with N(0, 1) entries (default: the full space)"),
        seedParam, bnParam, wrtParam,
        .optional("method", .string, default: "lbfgsb", "\"lbfgsb\" (L-BFGS-B, as the original) or \"pga\" (projected gradient ascent)"),
        .optional("batch", .int, default: 512, "chunk size for the loss over the data"),
    ], returns: "{value, loss, max_loss, iters}",
       doc: "(C_eps, A)-sharpness (Keskar et al. 2016): (max over the box of L(w + Ay) − L(w)) / (1 + L(w)) × 100 with |y_i| ≤ eps(|(A⁺w)_i| + 1), L on all of data, starting at y = 0; the weights are restored afterwards.",
       example: "d = blobs(30, classes: 3, seed: 0)\nk = keskar(mlp([2, 4, 3], seed: 0), d, eps: 1e-3, iters: 3)\nprint(k.value >= 0, k.iters)") { a in
        let k = try keskar(try a.model("model").module, try a.dataset("data"), eps: try a.number("eps"),
                           iters: try a.int("iters", atLeast: 1), subspace: try a.optionalInt("subspace"), seed: try a.seed(),
                           bn: try a.bnPolicy(), wrt: try a.parameterFilter(),
                           method: try KeskarMethod(parsing: try a.string("method")), batch: try a.int("batch", atLeast: 1))
        return .record([("value", .number(k.value)), ("loss", .number(k.loss)), ("max_loss", .number(k.maxLoss)),
                        ("iters", .number(Double(k.iterations))), ("evals", .number(Double(k.evaluations))),
                        ("status", .string(k.status))])
    }

    r.register("rag", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("batch", .int, default: 128), .optional("step", .number, default: 0.1, "the ascent step η"),
        .optional("shuffle", .bool, default: true, "permute the data (false: data order)"), seedParam, bnParam, wrtParam,
    ], returns: "{rag, loss_adv, loss, series}",
       doc: "RAG, robustness to adversarial gradients (the paper's measure): one pass over the batches; for batch i, one gradient ascent step w + η∇L_{B_i}(w), then the loss on the previous batch B_{i−1} (the first batch uses the last); rag = (loss_adv − loss)/(1 + loss) of the size-weighted means; series holds the per-batch losses. The weights come back bit-identical.",
       example: "d = blobs(64, classes: 3, seed: 0)\nr = rag(mlp([2, 8, 3], seed: 0), d, batch: 16, step: 0.1, seed: 0)\nprint(len(r.series.loss), r.loss_adv > r.loss)") { a in
        let res = try rag(try a.model("model").module, try a.dataset("data"), batch: try a.int("batch", atLeast: 1),
                          step: try a.number("step"), shuffle: try a.bool("shuffle"), seed: try a.seed(),
                          bn: try a.bnPolicy(), wrt: try a.parameterFilter())
        let series = Value.record([("loss_adv", numberList(res.series.lossAdv)), ("loss", numberList(res.series.loss)),
                                   ("sizes", numberList(res.series.sizes.map(Double.init)))])
        return .record([("rag", .number(res.rag)), ("loss_adv", .number(res.lossAdv)), ("loss", .number(res.loss)),
                        ("series", series), ("seed", res.seed.map { .number(Double($0)) } ?? .null)])
    }

    // MARK: Slices

    let normParam = Param.optional("normalization", .string, default: "filter", "random directions: \"filter\" (Li et al.) or \"none\"")
    let biasParam = Param.optional("bias_bn", .bool, default: false, "move biases and BatchNorm parameters too (by default their direction is 0)")

    r.register("slice1d", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("direction", .tensorLike, "a flat direction as params gives (e.g. a Hessian eigenvector); default: random"),
        .optional("from", .oneOf([.string, .record, .tensor]), "a checkpoint line's start: a .safetensors path, a state_dict record, or a flat params tensor (default: the model's weights)"),
        .optional("to", .oneOf([.string, .record, .tensor]), "a checkpoint line's end: w(t) = (1 − t)·from + t·to"),
        .optional("range", .list, "[lo, hi] of t (default [-1, 1]; [0, 1] on a checkpoint line)"),
        .optional("points", .int, default: 21), normParam, biasParam, seedParam, bnParam, wrtParam,
        .optional("batch", .int, default: 512, "chunk size for the loss over the data"),
    ], returns: "{t, loss, acc}",
       doc: "The loss landscape along a line: L(w + t·d) and the accuracy over all of data at equally spaced t, along a random filter-normalized direction (Li et al. 2018), a given direction, or the line between two checkpoints. t = 0 gives exactly the unperturbed loss; the weights are restored.",
       example: "d = blobs(30, classes: 3, seed: 0)\ns = slice1d(mlp([2, 4, 3], seed: 0), d, points: 5, seed: 0)\nprint(s.t)") { a in
        let m = try a.model("model")
        let direction: SliceDirection
        if !a.isNil("to") {
            let to = try sliceEndpoint(a["to"], a)
            let from = a.isNil("from") ? SliceEndpoint.stateDict(m.module.stateDict()) : try sliceEndpoint(a["from"], a)
            if case .vector = to, a.isNil("from") {
                direction = .between(.vector(try a.parameterFilter().select(in: m.module, op: "slice1d").flatMap { $0.tensor.scalars }), to)
            } else {
                direction = .between(from, to)
            }
        } else if !a.isNil("from") {
            throw LangError.usage("slice1d: from needs to (the other end of the line)")
        } else if !a.isNil("direction") {
            direction = .vector(try a.floats("direction"))
        } else {
            direction = .random
        }
        try a.checkElements(try a.int("points"))
        let s = try slice1d(m.module, try a.dataset("data"), direction: direction, range: try a.closedRange("range"),
                            points: try a.int("points", atLeast: 1),
                            normalization: try SliceNormalization(parsing: try a.string("normalization")),
                            includeBiasAndBN: try a.bool("bias_bn"), seed: try a.seed(), bn: try a.bnPolicy(),
                            wrt: try a.parameterFilter(), batch: try a.int("batch", atLeast: 1))
        return .record([("t", numberList(s.t)), ("loss", numberList(s.loss)), ("acc", numberList(s.acc))])
    }

    r.register("slice2d", topic: topic, params: [
        .required("model", model), .required("data", dataset),
        .optional("x", .tensorLike, "the first direction (flat, as params gives); default: random"),
        .optional("y", .tensorLike, "the second direction; default: random"),
        .optional("x_range", .list, default: [-1, 1]), .optional("y_range", .list, default: [-1, 1]),
        .optional("points", .int, default: 21, "grid points per axis"),
        .optional("x_points", .int, "override points along x"), .optional("y_points", .int, "override points along y"),
        normParam, biasParam, seedParam, bnParam, wrtParam,
        .optional("batch", .int, default: 512, "chunk size for the loss over the data"),
    ], returns: "{x, y, loss, acc}",
       doc: "The loss landscape on a plane: L(w + x·d1 + y·d2) and the accuracy on the grid x × y; loss and acc are lists of rows (row j at y[j], entry i at x[i]), as contour, heatmap and surface plots take them.",
       example: "d = blobs(30, classes: 3, seed: 0)\ns = slice2d(mlp([2, 4, 3], seed: 0), d, points: 3, seed: 0)\nprint(s.x, len(s.loss), len(s.loss[0]))") { a in
        let m = try a.model("model")
        let points = try a.int("points", atLeast: 1)
        try a.checkElements(try a.optionalInt("x_points") ?? points, try a.optionalInt("y_points") ?? points)
        let s = try slice2d(m.module, try a.dataset("data"),
                            x: a.isNil("x") ? .random : .vector(try a.floats("x")),
                            y: a.isNil("y") ? .random : .vector(try a.floats("y")),
                            xRange: try a.closedRange("x_range") ?? -1...1, yRange: try a.closedRange("y_range") ?? -1...1,
                            xPoints: try a.optionalInt("x_points") ?? points, yPoints: try a.optionalInt("y_points") ?? points,
                            normalization: try SliceNormalization(parsing: try a.string("normalization")),
                            includeBiasAndBN: try a.bool("bias_bn"), seed: try a.seed(), bn: try a.bnPolicy(),
                            wrt: try a.parameterFilter(), batch: try a.int("batch", atLeast: 1))
        return .record([("x", numberList(s.x)), ("y", numberList(s.y)),
                        ("loss", .list(ListValue(s.loss.map(numberList)))), ("acc", .list(ListValue(s.acc.map(numberList))))])
    }
}

private func meanStd(_ m: MeanStd) -> Value { .record([("mean", .number(m.mean)), ("std", .number(m.std))]) }

/// The Hessian operator (and loss, gradient) of `model` on (x, y) as one batch, or on a data set.
private func lossOperator(_ a: BuiltinArgs, y: Value) throws -> ModelHessian {
    do {
        return try makeLossOperator(a, y: y)
    } catch let e as SharpnessError {
        throw LangError.runtime("\(a.builtin.name): \(e.message)")
    }
}

private func makeLossOperator(_ a: BuiltinArgs, y: Value) throws -> ModelHessian {
    let m = try a.model("model")
    let bn = try a.bnPolicy()
    let wrt: ParameterFilter = a.builtin.params.contains { $0.name == "wrt" } ? try a.parameterFilter() : .trainable
    if case .object(let o) = a["x"] {
        guard let d = o as? DatasetValue else { throw LangError.usage("\(a.builtin.name): x must be a tensor or a dataset, got \(describeType(a["x"]))") }
        guard y.isNil else { throw LangError.usage("\(a.builtin.name): give either a data set, or inputs x and labels y") }
        return try ModelHessian(model: m.module, data: d.dataset, chunk: try a.int("batch", atLeast: 1), wrt: wrt, bn: bn)
    }
    guard !y.isNil else { throw LangError.usage("\(a.builtin.name): missing argument 'y' (the labels of x)") }
    let x = try a.tensor("x")
    let labels = try a.interpreter.toTensor(y, what: "\(a.builtin.name): argument 'y'")
    let batch = try Dataset(x: x, y: labels.rank == 0 ? try labels.reshaped([1]) : labels, name: "\(a.builtin.name) batch")
    guard batch.count > 0 else { throw LangError.runtime("\(a.builtin.name): x holds no items") }
    return try ModelHessian(model: m.module, data: batch, chunk: batch.count, wrt: wrt, bn: bn)
}

/// One end of a checkpoint line: a safetensors path, a state_dict record, or a flat tensor.
private func sliceEndpoint(_ v: Value, _ a: BuiltinArgs) throws -> SliceEndpoint {
    switch v {
    case .string(let path):
        try requireFileAccess(a)
        return .stateDict(try Safetensors.read(path))
    case .record(let r):
        var tensors: [String: Tensor] = [:]
        for (k, x) in r.pairs { tensors[k] = try a.interpreter.toTensor(x, what: "\(a.builtin.name): tensor '\(k)'") }
        return .stateDict(TensorBundle(names: r.keys, tensors: tensors))
    default:
        return .vector(try a.interpreter.toTensor(v, what: "\(a.builtin.name): checkpoint vector").scalars)
    }
}
