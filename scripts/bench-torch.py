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


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    want = lambda name: not wanted or name in wanted
    report = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if want("sgemm") or want("conv") or want("train"):
        report["sgemm_gflops"] = bench_sgemm()
    if want("conv"):
        report["conv2d"] = bench_conv()
    if want("hvp"):
        report["hvp"] = bench_hvp()
    if want("train"):
        report["train_step"] = bench_train()
    print(json.dumps(report, indent=2, sort_keys=True))
