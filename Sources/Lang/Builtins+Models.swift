import Data
import Foundation
import NN
import Sharpness
import Tensor

/// Models and layers (PyTorch's names and parameter order), their parameters and weights files.
@Sendable func registerModels(_ r: BuiltinRegistry) {
    let topic = "models"
    let model = ArgType.object("model")
    let nameParam = Param.optional("name", .string, "its name inside sequential([...]) (default: its index)")
    let seedParam = Param.optional("seed", .int, "initialization seed (default: the global stream, see seed)")

    r.register("mlp", topic: topic, params: [
        .required("sizes", .shape, "layer widths, input first: [784, 256, 10]"),
        .optional("bias", .bool, default: true), seedParam,
    ], returns: "model",
       doc: "A multilayer perceptron: linear layers fc1, fc2, … with a ReLU between consecutive ones (none after the last). Images are flattened first.",
       example: "net = mlp([784, 256, 10])\nprint(net.num_params)") { a in
        let sizes = try a.shape("sizes")
        var count = 0
        for (i, o) in zip(sizes, sizes.dropFirst()) {
            let (p, overflow) = i.multipliedReportingOverflow(by: o + 1)
            count = overflow ? Int.max : count &+ p
        }
        try a.interpreter.checkSize(count < 0 ? Int.max : count, what: "mlp")
        return .object(ModelValue(try MLP(sizes, bias: try a.bool("bias"), seed: try a.seed())))
    }

    r.register("resnet18", topic: topic, params: [
        .optional("in", .int, default: 3, "input channels (1 for Fashion-MNIST)"),
        .optional("classes", .int, default: 10),
        .optional("width", .int, default: 64, "base width (64 as the paper; 16 for CPU work)"),
        .optional("headless", .bool, default: false, "leave out the linear head (the encoder: 8·width features)"),
        seedParam,
    ], returns: "model",
       doc: "The CIFAR ResNet-18 of kuangliu/pytorch-cifar (3×3 stem, no max-pool, layer1…layer4 of BasicBlocks, global average pool, head linear), with PyTorch's parameter names and initialization. 11,173,962 parameters at width 64.",
       example: "net = resnet18(in: 1, classes: 10, width: 4, seed: 0)\nprint(net.num_params, shape(net(zeros([2, 1, 8, 8]))))") { a in
        try a.checkElements(2800, try a.int("width", atLeast: 1), try a.int("width"))   // ≈ 2728·width² parameters
        return .object(ModelValue(try ResNet.resnet18(inChannels: try a.int("in", atLeast: 1), classes: try a.int("classes", atLeast: 1),
                                               width: try a.int("width", atLeast: 1), headless: try a.bool("headless"),
                                               seed: try a.seed())))
    }

    r.register("sequential", topic: topic, params: [
        .required("layers", .list, "layers and models, applied in order"), nameParam,
    ], returns: "model",
       doc: "Applies its layers in order (PyTorch's nn.Sequential); a layer's parameters are named by its name: or its index (0.weight, fc.bias).",
       example: "net = sequential([flatten(), linear(4, 8, name: \"fc\"), relu(), linear(8, 2)])\nprint(param_names(net))") { a in
        var layers: [(String, Module)] = []
        var seen = Set<ObjectIdentifier>()
        for (i, item) in try a.list("layers").items.enumerated() {
            guard case .object(let o) = item, let m = o as? ModelValue else {
                throw LangError.usage("sequential: element \(i) must be a layer or model, got \(describeType(item))")
            }
            guard seen.insert(ObjectIdentifier(m.module)).inserted else {
                throw LangError.runtime("sequential: element \(i) is a layer already in the list (make a new one)")
            }
            layers.append((m.name ?? String(i), m.module))
        }
        return .object(ModelValue(try Sequential(named: layers), name: try a.optionalString("name")))
    }

    r.register("linear", topic: topic, params: [
        .required("in", .int, "input features"), .required("out", .int, "output features"),
        .optional("bias", .bool, default: true), nameParam, seedParam,
    ], returns: "model", doc: "A fully connected layer y = x·Wᵀ + b (weight out×in, bias out).",
       example: "fc = linear(3, 2, seed: 0)\nprint(fc, shape(fc(ones([4, 3]))))") { a in
        try a.checkElements(try a.int("in"), try a.int("out"))
        return .object(ModelValue(try Linear(try a.int("in"), try a.int("out"), bias: try a.bool("bias"), seed: try a.seed()),
                           name: try a.optionalString("name")))
    }

    r.register("conv2d", topic: topic, params: [
        .required("in", .int, "input channels"), .required("out", .int, "output channels"), .required("kernel", .int),
        .optional("stride", .int, default: 1), .optional("padding", .int, default: 0), .optional("bias", .bool, default: true),
        nameParam, seedParam,
    ], returns: "model", doc: "A 2-D convolution over N×C×H×W images (weight out×in×k×k).",
       example: "c = conv2d(1, 4, 3, padding: 1, seed: 0)\nprint(shape(c(zeros([2, 1, 8, 8]))))") { a in
        try a.checkElements(try a.int("in"), try a.int("out"), try a.int("kernel"), try a.int("kernel"))
        return .object(ModelValue(try Conv2d(try a.int("in"), try a.int("out"), kernel: try a.int("kernel"), stride: try a.int("stride"),
                                      padding: try a.int("padding"), bias: try a.bool("bias"), seed: try a.seed()),
                           name: try a.optionalString("name")))
    }

    r.register("batchnorm2d", topic: topic, params: [
        .required("channels", .int), .optional("momentum", .number, default: 0.1), .optional("eps", .number, default: 1e-5), nameParam,
    ], returns: "model",
       doc: "Batch normalization over the channels of N×C×H×W inputs (weight, bias, running_mean, running_var, num_batches_tracked, as PyTorch).",
       example: "bn = batchnorm2d(4)\nprint(bn, param_names(bn))") { a in
        try a.checkElements(4, try a.int("channels"))
        return .object(ModelValue(try BatchNorm2d(try a.int("channels"), momentum: Float(try a.number("momentum")),
                                           eps: Float(try a.number("eps"))), name: try a.optionalString("name")))
    }

    r.register("batchnorm1d", topic: topic, params: [
        .required("features", .int), .optional("momentum", .number, default: 0.1), .optional("eps", .number, default: 1e-5), nameParam,
    ], returns: "model", doc: "Batch normalization over the features of N×D inputs.",
       example: "bn = batchnorm1d(3)\nprint(shape(bn(randn([5, 3], seed: 0))))") { a in
        try a.checkElements(4, try a.int("features"))
        return .object(ModelValue(try BatchNorm1d(try a.int("features"), momentum: Float(try a.number("momentum")),
                                           eps: Float(try a.number("eps"))), name: try a.optionalString("name")))
    }

    func simple(_ name: String, doc: String, example: String, _ make: @escaping () -> Module) {
        r.register(name, topic: topic, params: [nameParam], returns: "model", doc: doc, example: example) { a in
            .object(ModelValue(make(), name: try a.optionalString("name")))
        }
    }
    simple("relu", doc: "The rectifier max(x, 0), elementwise, as a layer.",
           example: "relu()(tensor([-1, 2]))") { ReLU() }
    simple("global_avgpool", doc: "Averages each channel of N×C×H×W over H×W, giving N×C.",
           example: "shape(global_avgpool()(ones([2, 3, 4, 4])))") { GlobalAvgPool() }
    simple("flatten", doc: "Flattens every axis but the first: N×C×H×W becomes N×(C·H·W).",
           example: "shape(flatten()(ones([2, 3, 4, 4])))") { Flatten() }

    for (name, max) in [("maxpool2d", true), ("avgpool2d", false)] {
        r.register(name, topic: topic, params: [
            .required("kernel", .int), .optional("stride", .int, "default: the kernel"), .optional("padding", .int, default: 0), nameParam,
        ], returns: "model", doc: (max ? "Max" : "Average") + " pooling over k×k windows of N×C×H×W inputs.",
           example: "shape(\(name)(2)(ones([1, 1, 4, 4])))") { a in
            let k = try a.int("kernel"), s = try a.optionalInt("stride"), p = try a.int("padding")
            let m: Module = max ? try MaxPool2d(k, stride: s, padding: p) : try AvgPool2d(k, stride: s, padding: p)
            return .object(ModelValue(m, name: try a.optionalString("name")))
        }
    }

    r.register("dropout", topic: topic, params: [
        .optional("p", .number, default: 0.5, "probability of zeroing an element in training mode"), nameParam, seedParam,
    ], returns: "model", doc: "Zeroes elements with probability p in training mode (scaling the rest by 1/(1 − p)); passes its input through in eval mode.",
       example: "d = dropout(0.5)\neval_mode(d)\nd(ones(4))") { a in
        .object(ModelValue(try Dropout(Float(try a.number("p")), seed: try a.seed()), name: try a.optionalString("name")))
    }

    // MARK: Parameters

    let wrtParam = Param.optional("wrt", .string, default: "trainable", "\"trainable\", \"all\", or a name pattern such as \"fc2\" or \"*.bias\"")

    r.register("params", topic: topic, params: [.required("model", model), wrtParam], returns: "tensor",
               doc: "The parameters as one flat tensor, in parameter order (registration order, PyTorch's): the trainable ones unless wrt says otherwise. A copy.",
               example: "net = mlp([2, 3, 2], seed: 0)\nprint(shape(params(net)))") { a in
        let chosen = try a.parameterFilter().select(in: try a.model("model").module, op: "params")
        var flat: [Float] = []
        for p in chosen { flat.append(contentsOf: p.tensor.scalars) }
        return flatTensor(flat)
    }

    r.register("set_params", topic: topic, params: [
        .required("model", model), .required("values", .tensorLike, "a flat tensor as params(model, wrt) gives"), wrtParam,
    ], doc: "Writes a flat tensor (as params gives it) back into the parameters, in place.",
       example: "net = mlp([2, 3, 2], seed: 0)\nw = params(net)\nset_params(net, w * 0)\nprint(sum(abs(params(net))))") { a in
        let chosen = try a.parameterFilter().select(in: try a.model("model").module, op: "set_params")
        let v = try a.floats("values")
        let total = chosen.reduce(0) { $0 + $1.tensor.count }
        guard v.count == total else {
            throw LangError.runtime("set_params: \(v.count) values for \(total) parameter values")
        }
        var offset = 0
        withNoGrad {
            for p in chosen {
                let n = p.tensor.count
                p.tensor.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n { dst[i] = v[offset + i] }
                }
                offset += n
            }
        }
        return .null
    }

    r.register("param_names", topic: topic, params: [.required("model", model), wrtParam], returns: "list",
               doc: "The parameter names (PyTorch's: fc1.weight, layer1.0.conv1.weight, …), in parameter order.",
               example: "param_names(mlp([2, 3, 2]))") { a in
        .strings(try a.parameterFilter().select(in: try a.model("model").module, op: "param_names").map(\.name))
    }

    r.register("param_shapes", topic: topic, params: [.required("model", model), wrtParam], returns: "record",
               doc: "Each parameter's shape by name, in parameter order.",
               example: "param_shapes(linear(3, 2))") { a in
        let chosen = try a.parameterFilter().select(in: try a.model("model").module, op: "param_shapes")
        return .record(chosen.map { ($0.name, .list(ListValue($0.tensor.shape.map { .number(Double($0)) }))) })
    }

    r.register("state_dict", topic: topic, params: [.required("model", model)], returns: "record",
               doc: "Every parameter and buffer as a record of tensors (copies) under PyTorch's names: save(path, state_dict(net)) writes a checkpoint.",
               example: "keys(state_dict(batchnorm2d(2)))") { a in
        let bundle = try a.model("model").module.stateDict()
        return .record(bundle.names.compactMap { n in bundle[n].map { (n, .tensor($0.detached().copy())) } })
    }

    r.register("load_weights", topic: topic, params: [
        .required("model", model), .required("path", .string, "a .safetensors file (PyTorch's state-dict names)"),
        .optional("strict", .bool, default: true, "every tensor must match; false loads those that do"),
        .optional("prefix", .string, "read only the tensors whose names start with it, the prefix removed (\"model.encoder.\" of a SimCLR training checkpoint)"),
    ], returns: "nil or {missing, unexpected}",
       doc: "Loads weights from a safetensors checkpoint into the model, in place. Strict by default: missing, extra or mis-shaped tensors are an error naming each one; with strict: false it returns what was missing and unexpected. With prefix: only the tensors under that name prefix, e.g. the encoder out of a training checkpoint.",
       example: "net = mlp([2, 3, 2], seed: 0)\nsave_weights(net, \"net.safetensors\")\nload_weights(mlp([2, 3, 2], seed: 1), \"net.safetensors\")") { a in
        let path = try a.string("path")
        try requireFileAccess(a)
        let mismatch = try Checkpoint.load(try a.model("model").module, from: path, strict: try a.bool("strict"),
                                           prefix: try a.optionalString("prefix") ?? "")
        if try a.bool("strict") { return .null }
        return .record([("missing", .strings(mismatch.missing)), ("unexpected", .strings(mismatch.unexpected))])
    }

    r.register("save_weights", topic: topic, params: [.required("model", model), .required("path", .string, "a .safetensors file")],
               returns: "string",
               doc: "Writes the model's parameters and buffers to a safetensors file that PyTorch's load_state_dict reads; returns the path.",
               example: "save_weights(linear(2, 2), \"fc.safetensors\")") { a in
        try requireFileAccess(a)
        let path = try a.string("path")
        try Checkpoint.save(try a.model("model").module, to: path)
        return .string(path)
    }

    r.register("train_mode", topic: topic, params: [.required("model", model)],
               doc: "Training mode: BatchNorm uses batch statistics (and updates its running ones), Dropout drops.",
               example: "net = sequential([linear(2, 2), dropout(0.5)])\ntrain_mode(net)\nprint(net.training)") { a in
        try a.model("model").module.train()
        return .null
    }

    r.register("eval_mode", topic: topic, params: [.required("model", model)],
               doc: "Evaluation mode: BatchNorm uses its running statistics, Dropout passes its input through. Measures and evaluate use it on their own.",
               example: "net = sequential([linear(2, 2), dropout(0.5)])\neval_mode(net)\nprint(net.training)") { a in
        try a.model("model").module.eval()
        return .null
    }

    r.register("freeze", topic: topic, params: [
        .required("model", model), .optional("pattern", .string, default: "*", "a name pattern: \"*\" all, \"layer1\" a subtree, \"*.bias\", \"linear\""),
    ], returns: "number",
       doc: "Marks the parameters the pattern selects as not trainable: optimizers, fit, params, grad, hvp and the measures leave them alone (unless wrt: \"all\"). Returns how many parameter tensors it selected; a pattern that selects none is an error.",
       example: "net = resnet18(in: 1, width: 4, seed: 0)\nfreeze(net, \"*\")\nunfreeze(net, \"linear\")\nprint(net.trainable_params)") { a in
        .number(Double(try a.model("model").module.freeze(try a.string("pattern"))))
    }

    r.register("unfreeze", topic: topic, params: [
        .required("model", model), .optional("pattern", .string, default: "*"),
    ], returns: "number", doc: "Marks the parameters the pattern selects as trainable again; returns how many.",
       example: "net = mlp([2, 3, 2])\nfreeze(net)\nunfreeze(net, \"fc2\")") { a in
        .number(Double(try a.model("model").module.unfreeze(try a.string("pattern"))))
    }
}

