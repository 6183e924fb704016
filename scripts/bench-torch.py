#!/usr/bin/env python3
"""PyTorch's side of scripts/bench: the same workloads, on the same machine, as JSON.

Run through `scripts/bench --torch` (which makes a virtualenv outside the repository); torch is
never a dependency of Losscape. Two threads, as Losscape uses on this machine.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


def median_time(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


# kuangliu/pytorch-cifar ResNet-18 with a width multiplier and a global average pool.
class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, in_ch=3, classes=10, width=64):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(in_ch, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        layers, inp = [], w
        for planes, stride in [(w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)]:
            layers.append(nn.Sequential(BasicBlock(inp, planes, stride), BasicBlock(planes, planes, 1)))
            inp = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(8 * w, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_step_ms(model, shape, reps):
    torch.manual_seed(0)
    x = torch.rand(shape)
    y = torch.randint(0, 10, (shape[0],))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return round(median_time(step, reps) * 1000, 3)


def bench_sgemm():
    out = {}
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        t = median_time(lambda: torch.mm(a, b), 7 if n < 2048 else 3)
        out[str(n)] = round(2 * n ** 3 / t / 1e9, 3)
    return out


def bench_conv():
    x = torch.randn(128, 64, 32, 32, requires_grad=True)
    w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
    gy = torch.randn(128, 64, 32, 32)

    def fb():
        y = F.conv2d(x, w, padding=1)
        torch.autograd.grad(y, [x, w], gy)

    t = median_time(fb, 3, warmup=1)
    flops = 3 * 2.0 * 128 * 64 * 64 * 9 * 32 * 32
    return {"forward_backward_ms": round(t * 1000, 3), "gflops": round(flops / t / 1e9, 3)}


def bench_hvp():
    torch.manual_seed(0)
    model = mlp([784, 512, 512, 10])
    params = list(model.parameters())
    x = torch.rand(512, 784)
    y = torch.randint(0, 10, (512,))
    v = [torch.randn_like(p) for p in params]

    def loss():
        return F.cross_entropy(model(x), y)

    def grad():
        torch.autograd.grad(loss(), params)

    def hvp_one_shot():
        g = torch.autograd.grad(loss(), params, create_graph=True)
        torch.autograd.grad(g, params, v)

    def hvp_amortized():
        g = torch.autograd.grad(loss(), params, create_graph=True)
        for _ in range(20):
            torch.autograd.grad(g, params, v, retain_graph=True)

    tg = median_time(grad, 9)
    t1 = median_time(hvp_one_shot, 9)
    ta = median_time(hvp_amortized, 3) / 20
    return {"grad_ms": round(tg * 1000, 3), "hvp_one_shot_ms": round(t1 * 1000, 3),
            "hvp_amortized_ms": round(ta * 1000, 3),
            "hvp_over_grad_one_shot": round(t1 / tg, 3), "hvp_over_grad_amortized": round(ta / tg, 3)}


def bench_train():
    torch.manual_seed(0)
    return {
        "batch": 128,
        "mlp_784_512_512_10": {"ms": train_step_ms(mlp([784, 512, 512, 10]), (128, 784), 21)},
        "resnet18_w16_1x28x28": {"ms": train_step_ms(ResNet18(1, 10, 16), (128, 1, 28, 28), 9)},
        "resnet18_w16_3x32x32": {"ms": train_step_ms(ResNet18(3, 10, 16), (128, 3, 32, 32), 9)},
        "resnet18_w64_3x32x32": {"ms": train_step_ms(ResNet18(3, 10, 64), (128, 3, 32, 32), 5)},
    }


def nt_xent(z, tau=0.5):
    z = F.normalize(z, dim=1)
    n = z.shape[0] // 2
    sim = (z @ z.t() / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    twins = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, twins)


def bench_simclr():
    """One SimCLR step: 2 x 256 views (made beforehand), ResNet-18 w16 headless + 128-128-128 head, Adam."""
    torch.manual_seed(0)
    net = ResNet18(1, 10, 16)
    net.linear = nn.Identity()
    model = nn.Sequential(net, nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    views = torch.rand(512, 1, 28, 28)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        nt_xent(model(views)).backward()
        opt.step()

    return {"views": "2 x 256, 1x28x28", "ms": round(median_time(step, 7) * 1000, 3)}


# ---- measures (issue 4): top-10 Hessian eigenvalues and a RAG pass --------------------------

FMNIST = "/usr/share/datasets/fashion-mnist"


def fashion_mnist_prefix(n):
    """The first n training images (N×1×28×28, pixels in [0, 1]) and labels, as Losscape loads them."""
    import gzip
    import numpy as np
    with gzip.open(f"{FMNIST}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784]
    with gzip.open(f"{FMNIST}/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    x = torch.from_numpy(x.reshape(n, 1, 28, 28).astype(np.float32) / 255)
    return x, torch.from_numpy(y.astype(np.int64))


def hashed_uniform(count, layer, bound):
    """Benchmarks/LosscapeBench/Measures.swift's hashedUniform: the same weights on both sides."""
    import numpy as np
    m = np.uint64(0xFFFFFFFF)
    h = (np.arange(count, dtype=np.uint64) + np.uint64(7919 * layer)) & m
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & m
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & m
    h ^= h >> np.uint64(16)
    return torch.from_numpy((bound * (2 * h.astype(np.float64) / 4294967296 - 1)).astype(np.float32))


def bench_top_eigenvalues():
    """Top-10 (LM) of MLP 784-512-512-10 on 512 images: scipy's eigsh on a LinearOperator of
    torch HVPs (first backward's graph kept), and hessian-eigenthings' way (its lanczos(): eigsh
    with ncv = 2k, maxiter 20, tol 1e-6, and an HVP operator that recomputes the gradient for
    every product). Residuals ‖Hv − λv‖/|λ| are checked afterwards (not counted)."""
    import numpy as np
    from scipy.sparse.linalg import LinearOperator, eigsh, ArpackNoConvergence
    x, y = fashion_mnist_prefix(512)
    x = x.reshape(512, 784)
    model = mlp([784, 512, 512, 10])
    fan_in = [784, 784, 512, 512, 512, 512]
    with torch.no_grad():
        for l, p in enumerate(model.parameters()):
            p.copy_(hashed_uniform(p.numel(), l, 1 / fan_in[l] ** 0.5).reshape(p.shape))
    params = list(model.parameters())
    n = sum(p.numel() for p in params)

    def split(v):
        t = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
        out, o = [], 0
        for p in params:
            out.append(t[o:o + p.numel()].view_as(p))
            o += p.numel()
        return out

    def run(kept, **eigsh_args):
        count = [0]
        g_kept = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True) if kept else None

        def matvec(v):
            count[0] += 1
            g = g_kept if kept else torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
            hv = torch.autograd.grad(g, params, split(v.ravel()), retain_graph=kept)
            return torch.cat([h.reshape(-1) for h in hv]).double().numpy()

        op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
        t0 = time.perf_counter()
        status = "converged"
        try:
            vals, vecs = eigsh(op, k=10, which="LM", **eigsh_args)
        except ArpackNoConvergence as e:
            vals, vecs, status = e.eigenvalues, e.eigenvectors, "no convergence"
        t = time.perf_counter() - t0
        hvps = count[0]
        res = []
        for i in range(len(vals)):
            hv = matvec(vecs[:, i])
            res.append(float(np.linalg.norm(hv - vals[i] * vecs[:, i]) / abs(vals[i])))
        order = np.argsort(-np.abs(vals))
        return {"seconds": round(t, 3), "hvps": hvps, "status": status,
                "converged": int(sum(r <= 1e-4 for r in res)), "max_residual": max(res) if res else None,
                "values": [round(float(vals[i]), 6) for i in order]}

    return {"model": "MLP 784-512-512-10 (hashed weights), 512 Fashion-MNIST images, k 10 LM",
            "scipy_eigsh_tol_1e-4": run(True, tol=1e-4),
            "hessian_eigenthings_lanczos": run(False, tol=1e-6, ncv=20, maxiter=20)}


def bench_rag_pass():
    """One RAG pass (eval mode, ascent step 0.1, perturbed loss on the previous batch, weights
    copied back) and one SGD training epoch over the first 10,000 images, ResNet-18 width 16,
    batch 128; interleaved twice, the faster of each kept."""
    x, y = fashion_mnist_prefix(10000)
    torch.manual_seed(0)
    model = ResNet18(1, 10, 16)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    n, batch = x.shape[0], 128

    def epoch():
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            loss.backward()
            opt.step()
            loss.item()
            (logits.argmax(1) == y[idx]).sum().item()

    def rag(step=0.1):
        model.eval()
        params = [p for p in model.parameters() if p.requires_grad]
        perm = torch.randperm(n)
        batches = [perm[i:i + batch] for i in range(0, n, batch)]
        saved = [p.detach().clone() for p in params]
        prev, adv, plain = batches[-1], [], []
        for idx in batches:
            loss = F.cross_entropy(model(x[idx]), y[idx])
            grads = torch.autograd.grad(loss, params)
            plain.append(loss.item())
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.add_(g, alpha=step)
                adv.append(F.cross_entropy(model(x[prev]), y[prev]).item())
                for p, s in zip(params, saved):
                    p.copy_(s)
            prev = idx
        return adv, plain

    epochs, passes = [], []
    for _ in range(2):
        t0 = time.perf_counter(); epoch(); epochs.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); rag(); passes.append(time.perf_counter() - t0)
    e, r = min(epochs), min(passes)
    model.train()
    return {"model": "ResNet-18 width 16, 10000 Fashion-MNIST images, batch 128",
            "rag_seconds": round(r, 3), "epoch_seconds": round(e, 3), "rag_over_epoch": round(r / e, 3),
            "rag_seconds_all": [round(t, 3) for t in passes], "epoch_seconds_all": [round(t, 3) for t in epochs]}


def bench_measures():
    return {"top10_eigenvalues": bench_top_eigenvalues(), "rag_pass": bench_rag_pass()}


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    want = lambda name: not wanted or name in wanted
    report = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if want("sgemm") or want("conv") or want("train") or want("simclr"):
        report["sgemm_gflops"] = bench_sgemm()
    if want("conv"):
        report["conv2d"] = bench_conv()
    if want("hvp"):
        report["hvp"] = bench_hvp()
    if want("train"):
        report["train_step"] = bench_train()
    if want("simclr"):
        report["simclr_step"] = bench_simclr()
    if want("measures"):
        report["measures"] = bench_measures()
    print(json.dumps(report, indent=2, sort_keys=True))
