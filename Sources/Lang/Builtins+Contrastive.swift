import Data
import Foundation
import NN
import Tensor
import Train

/// SimCLR pre-training, linear probes, the random-feature baseline and k-NN accuracy: the paper's
/// three training regimes (issue 7), on Train's `pretrainSimCLR`, `LinearProbe` and `knnAccuracy`.
@Sendable func registerContrastive(_ r: BuiltinRegistry) {
    let topic = "contrastive"
    let model = ArgType.object("model")
    let dataset = ArgType.object("dataset")
    let images = "x = rand([16, 1, 8, 8], seed: 0)\nd = dataset(x, tensor(range(16)) % 2)\n"
    let tinyEncoder = "enc = sequential([conv2d(1, 4, 3, padding: 1, seed: 0), batchnorm2d(4), relu(), global_avgpool()])\n"

    r.register("nt_xent", topic: topic, params: [
        .required("z", .tensor, "2N×d embeddings: rows i and i + N are the two views of image i"),
        .optional("temperature", .number, default: 0.5, "τ"),
    ], returns: "scalar tensor",
       doc: "SimCLR's NT-Xent loss: rows L2-normalized, cosine similarities / τ as logits over the 2N − 1 other rows, each row's twin the target, mean over the 2N rows.",
       example: "z = tensor([[1, 0], [0, 1], [2, 0], [0, 3]])\nprint(nt_xent(z, temperature: 1))   # log(e + 2) - 1") { a in
        .tensor(try ntXent(try a.tensor("z"), temperature: try a.number("temperature")))
    }

    r.register("simclr", topic: topic, params: [
        .required("encoder", model, "a headless model giving N×F features, e.g. resnet18(in: 1, width: 16, headless: true); trained in place"),
        .required("data", dataset, "training images (labels unused); pixels in [0, 1], or a normalized set (augmented on its pixels)"),
        .optional("epochs", .int, default: 10), .optional("batch", .int, default: 128, "images per step (2·batch views)"),
        .optional("temperature", .number, default: 0.5, "NT-Xent's τ"),
        .optional("lr", .number, default: 1e-3, "Adam's learning rate (the paper's)"),
        .optional("weight_decay", .number, default: 0, "Adam's L2 penalty"),
        .optional("schedule", .object("schedule"), "stepped once per epoch; default: constant"),
        .optional("proj_dim", .int, default: 128, "output size of the projection head"),
        .optional("hidden", .int, "hidden size of the projection head (default: the encoder's feature count)"),
        .optional("strength", .number, default: 0.5, "colour-jitter strength s (brightness, contrast, saturation 0.8s, hue 0.2s)"),
        .optional("blur", .bool, default: false, "add SimCLR's Gaussian blur (left out for CIFAR-size images)"),
        .optional("knn", dataset, "a labelled held-out set: knn_acc after every epoch (k-NN monitor)"),
        .optional("knn_bank", dataset, "the labelled bank the monitor's neighbours come from (default: data)"),
        .optional("knn_k", .int, default: 200),
        .optional("track", .oneOf([.object("tracker"), .list]), "every(n, fn(encoder, epoch) {...}) trackers: they receive the encoder"),
        .optional("checkpoint", .record, "{dir, every: n, best: \"knn_acc\"}: checkpoints (encoder, head, Adam, generators) that resume: continues"),
        .optional("resume", .string, "a simclr checkpoint to continue from, up to epochs in total"),
        .optional("drop_last", .bool, default: true, "leave out a last, smaller batch"),
        .optional("minutes", .number, "a wall-clock budget: no epoch starts that would pass it (judged by the last epoch's duration)"),
        .optional("seed", .int, "seeds the head's initialization, shuffling and augmentation"),
    ], returns: "history record",
       doc: "SimCLR pre-training (Chen et al. 2020): two augmented views of every image (random resized crop 0.08–1, flip, colour jitter with p 0.8, grayscale with p 0.2; on one-channel images brightness and contrast only), encoder + projection head (Linear–ReLU–Linear to proj_dim), NT-Xent, Adam. Trains the encoder in place and discards the head. Returns the history: epoch, lr, train_loss (NT-Xent), knn_acc with knn:, and tracked columns. Progress, Ctrl-C (history so far in last_history) and checkpoints as fit.",
       example: images + tinyEncoder + "log = simclr(enc, d, epochs: 2, batch: 8, knn: d, knn_k: 5, seed: 0)\nprint(keys(log))") { a in
        let encoder = try a.model("encoder")
        let data = try a.dataset("data")
        let epochs = try a.int("epochs", atLeast: 0), batch = try a.int("batch", atLeast: 2)
        var o = SimCLROptions()
        o.temperature = try a.number("temperature")
        o.augmentation = .simclr(strength: try a.number("strength"), blur: try a.bool("blur"))
        if case .object(let s as ScheduleValue) = a["schedule"] { o.schedule = s.schedule }
        o.seed = try a.seed()
        o.dropLast = try a.bool("drop_last")
        if let minutes = try a.optionalNumber("minutes") {
            guard minutes > 0 else { throw LangError.usage("simclr: minutes must be positive, got \(formatNumber(minutes))") }
            o.timeLimit = minutes * 60
        }
        if let test = try a.optionalDataset("knn") {
            o.knn = (bank: try a.optionalDataset("knn_bank") ?? data, test: test)
            o.knnK = try a.int("knn_k", atLeast: 1)
        }
        let (tracked, headlines) = try trackers(a["track"], model: encoder, data: data, interpreter: a.interpreter)
        if case .list(let l) = a["track"], l.items.contains(where: { if case .object(let t as TrackerValue) = $0, case .named = t.measure { return true }; return false }) {
            throw LangError.usage("simclr: track takes functions fn(encoder, epoch); the named measures need a classifier (measure the linear_probe of the encoder inside the function)")
        }
        if case .object(let t as TrackerValue) = a["track"], case .named = t.measure {
            throw LangError.usage("simclr: track takes functions fn(encoder, epoch); the named measures need a classifier (measure the linear_probe of the encoder inside the function)")
        }
        o.track = tracked
        if !a.isNil("checkpoint") { o.checkpoint = try checkpointPolicy(try a.record("checkpoint"), a.interpreter, what: "simclr") }
        let resume = try a.optionalString("resume")
        if resume != nil || o.checkpoint != nil { try requireFileAccess(a) }

        let features = try featureCount(encoder.module, data, what: "simclr")
        var rng = RandomGenerator(seed: o.seed.map { $0 ^ 0x9E37_79B9_7F4A_7C15 } ?? GlobalRandom.generator.next())
        let head = try projectionHead(features: features, hidden: try a.optionalInt("hidden"), out: try a.int("proj_dim", atLeast: 1), rng: &rng)
        let pair = SimCLRModel(encoder: encoder.module, head: head)
        let adam = try Adam(pair, lr: try a.number("lr"), weightDecay: try a.number("weight_decay"))
        var history = History()
        do {
            try pretrainSimCLR(pair, data, adam, epochs: epochs, batch: batch, options: o, resume: resume, into: &history)
        } catch {
            throw interruptedTraining("simclr", error, history: history, headlines: headlines, epochs: epochs, interpreter: a.interpreter)
        }
        return .record(historyRecord(history, headlines: headlines))
    }

    let probeParams: [Param] = [
        .optional("epochs", .int, default: 10), .optional("batch", .int, default: 128),
        .optional("lr", .number, default: 0.01), .optional("momentum", .number, default: 0.9),
        .optional("weight_decay", .number, default: 0), .optional("nesterov", .bool, default: false),
        .optional("schedule", .object("schedule"), "stepped once per epoch; default: constant"),
        .optional("test", dataset, "evaluated after every epoch: test_loss, test_acc"),
        .optional("eval", .record, "more evaluation sets {name: data}: NAME_loss, NAME_acc"),
        .optional("track", .oneOf([.object("tracker"), .list]), "every(n, m) trackers of the classifier, as fit's"),
        .optional("full", .bool, default: false, "fine-tune the encoder too (BatchNorm in training mode); default: frozen, in eval mode"),
        .optional("classes", .int, "outputs of the head (default: from the labels)"),
        .optional("augment", .oneOf([.string, .list]), "augment each training batch (the encoder then runs every step)"),
        .optional("eval_batch", .int, default: 512, "batch size of the feature pass and the evaluations"),
        .optional("seed", .int, "seeds the head's initialization and the shuffling"),
    ]

    r.register("linear_probe", topic: topic, params: [
        .required("encoder", model, "a headless model giving N×F features; not changed (the classifier holds a copy)"),
        .required("data", dataset, "the labelled training set"),
    ] + probeParams, returns: "{model, history}",
       doc: "Fine-tunes a linear layer on an encoder's features with SGD and mean cross-entropy (the paper: lr 0.01 or 0.03, momentum 0.9, batch 32/128/512, 10 epochs). model is the classifier: a deep copy of the encoder (frozen, BatchNorm in eval mode, unless full: true) then the head `linear` — params, grad, hvp and every measure act on its trainable parameters, the head, unless given wrt: \"all\". A frozen encoder without augmentation runs once over the data (features computed in eval mode), then the head trains on them: the same steps, much faster. history is fit's.",
       example: images + tinyEncoder + "p = linear_probe(enc, d, epochs: 3, batch: 8, test: d, seed: 0)\nprint(param_names(p.model), len(p.history.test_acc))") { a in
        let encoder = try a.model("encoder").module
        let data = try a.dataset("data")
        let (probe, record) = try runProbe(a, encoder: encoder, data: data)
        return .record([("model", .object(ModelValue(probe.classifier))), ("history", .record(record))])
    }

    r.register("random_features", topic: topic, params: [
        .required("data", dataset, "the labelled training set (images N×C×H×W)"),
        .optional("width", .int, default: 16, "the random ResNet-18's width (64 in the paper)"),
        .optional("bn_batch", .int, default: 512, "batch size of the BatchNorm recalibration pass"),
    ] + probeParams, returns: "{model, history, encoder}",
       doc: "The paper's random-feature baseline: a randomly initialized, headless ResNet-18 (seeded by seed) whose BatchNorm running statistics are recalibrated by one pass over data in training mode without gradients (a cumulative average of the batch statistics, as recalibrate_bn), then frozen; a linear layer trained on its features exactly as linear_probe. Returns the classifier, the history and the random encoder.",
       example: "x = rand([16, 1, 8, 8], seed: 0)\nd = dataset(x, tensor(range(16)) % 2)\nr = random_features(d, width: 2, epochs: 2, batch: 8, seed: 0)\nprint(r.history.train_acc)") { a in
        let data = try a.dataset("data")
        guard data.x.rank == 4 else {
            throw LangError.usage("random_features: needs images N×C×H×W, got x of shape \(shapeText(data.x.shape))")
        }
        let seed = try a.seed() ?? GlobalRandom.generator.next()
        let encoder = try ResNet.resnet18(inChannels: data.x.shape[1], width: try a.int("width", atLeast: 1), headless: true, seed: seed)
        try recalibrateBatchNorm(encoder, data, batch: try a.int("bn_batch", atLeast: 1))
        _ = try encoder.freeze("*")
        let (probe, record) = try runProbe(a, encoder: encoder, data: data, seed: seed)
        return .record([("model", .object(ModelValue(probe.classifier))), ("history", .record(record)),
                        ("encoder", .object(ModelValue(encoder)))])
    }

    r.register("recalibrate_bn", topic: topic, params: [
        .required("model", model), .required("data", dataset), .optional("batch", .int, default: 512),
    ], returns: "number of BatchNorm layers",
       doc: "Resets every BatchNorm layer's running statistics and accumulates them over one pass of data in training mode without gradients, as a cumulative average (PyTorch's momentum=None): the running mean is the mean of the batch means, the running variance the mean of the unbiased batch variances. Momenta and modes are restored.",
       example: images + tinyEncoder + "print(recalibrate_bn(enc, d, batch: 8))") { a in
        .number(Double(try recalibrateBatchNorm(try a.model("model").module, try a.dataset("data"), batch: try a.int("batch", atLeast: 1))))
    }

    r.register("embed", topic: topic, params: [
        .required("encoder", model), .required("data", dataset), .optional("batch", .int, default: 512),
    ], returns: "N×F tensor",
       doc: "The encoder's features of every item of data, in order (eval mode, no gradients).",
       example: images + tinyEncoder + "print(shape(embed(enc, d)))") { a in
        .tensor(try embed(try a.model("encoder").module, try a.dataset("data"), batch: try a.int("batch", atLeast: 1)))
    }

    r.register("knn_accuracy", topic: topic, params: [
        .required("encoder", model), .required("bank", dataset, "labelled items whose features vote"),
        .required("test", dataset, "labelled items to classify"),
        .optional("k", .int, default: 200, "neighbours (capped at the bank's size)"),
        .optional("temperature", .number, default: 0.1, "votes weigh exp(cos/τ); nil: one vote each"),
        .optional("batch", .int, default: 512),
    ], returns: "number in [0, 1]",
       doc: "k-nearest-neighbour accuracy of an encoder's features (cosine similarity; Wu et al.'s weighted vote, as the SimCLR/MoCo CIFAR monitors): each test item takes the k most similar bank items, each voting for its label with weight exp(cos/τ); the label with the largest total wins.",
       example: images + tinyEncoder + "print(knn_accuracy(enc, d, d, k: 3))") { a in
        .number(try knnAccuracy(try a.model("encoder").module, bank: try a.dataset("bank"), test: try a.dataset("test"),
                                k: try a.int("k", atLeast: 1), temperature: try a.optionalNumber("temperature"),
                                batch: try a.int("batch", atLeast: 1)))
    }
}

/// Builds and trains a linear probe from linear_probe's (and random_features') arguments.
private func runProbe(_ a: BuiltinArgs, encoder: Module, data: Dataset, seed: UInt64? = nil) throws -> (LinearProbe, RecordValue) {
    let what = a.builtin.name
    var o = LinearProbeOptions()
    o.epochs = try a.int("epochs", atLeast: 0)
    o.batch = try a.int("batch", atLeast: 1)
    o.lr = try a.number("lr")
    o.momentum = try a.number("momentum")
    o.weightDecay = try a.number("weight_decay")
    o.nesterov = try a.bool("nesterov")
    if case .object(let s as ScheduleValue) = a["schedule"] { o.schedule = s.schedule }
    o.test = try a.optionalDataset("test")
    o.eval = try evaluationSets(a)
    o.full = try a.bool("full")
    o.classes = try a.optionalInt("classes")
    o.evalBatch = try a.int("eval_batch", atLeast: 1)
    o.seed = try a.seed() ?? seed
    if !a.isNil("augment") {
        let aug = try augmentation(a["augment"], what: what)
        o.transform = { x, rng in try aug(x, rng: &rng) }
    }
    _ = try featureCount(encoder, data, what: what)
    let probe = try LinearProbe(encoder: encoder, data: data, options: o)
    let classifier = ModelValue(probe.classifier)
    let (tracked, headlines) = try trackers(a["track"], model: classifier, data: data, interpreter: a.interpreter)
    o.track = tracked
    var history = History()
    do {
        try probe.train(data, options: o, into: &history)
    } catch {
        throw interruptedTraining(what, error, history: history, headlines: headlines, epochs: o.epochs, interpreter: a.interpreter)
    }
    return (probe, historyRecord(history, headlines: headlines))
}

/// The encoder's feature count on data's items, with an error that says what an encoder must give.
private func featureCount(_ encoder: Module, _ data: Dataset, what: String) throws -> Int {
    guard data.count > 0 else { throw LangError.usage("\(what): the data set is empty") }
    let f: Tensor
    do {
        f = try embed(encoder, try data.subset(indices: [0]))
    } catch let e as TrainError {
        throw LangError.usage("\(what): the encoder must map items to one feature row each (a headless model, e.g. resnet18(..., headless: true)): \(e.message)")
    }
    return f.shape[1]
}
