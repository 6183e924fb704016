"""PyTorch's side of scripts/interop: load Losscape's ResNet-18 checkpoint into kuangliu's model
(strict), compare logits, then change the weights, write them back for Losscape to load."""
import importlib.util
import json
import os
import struct
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_torch", os.path.join(here, "..", "bench-torch.py"))
bench_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_torch)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """The format from its definition: u64 LE header length, JSON header, raw LE data."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[b:e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes() if hasattr(t, "numpy") else bytes(t.untyped_storage())
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header, sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def main(d):
    torch.set_num_threads(2)
    model = bench_torch.ResNet18(3, 10, 16)
    model.load_state_dict(read_safetensors(os.path.join(d, "losscape.safetensors")), strict=True)
    model.eval()
    io = read_safetensors(os.path.join(d, "io.safetensors"))
    with torch.no_grad():
        ours = model(io["x"])
    diff = (ours - io["logits"]).abs().max().item()
    scale = io["logits"].abs().max().item()
    print(f"Losscape → PyTorch: max |Δlogit| = {diff:.3g} (max |logit| {scale:.3g})")
    if diff > 1e-4 * (1.0 + scale):
        sys.exit("logits differ by more than 1e-4")
    # Change every parameter and the running statistics, then hand the weights back.
    torch.manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.train()
    with torch.no_grad():
        model(torch.randn(16, 3, 32, 32))
    model.eval()
    write_safetensors(os.path.join(d, "torch.safetensors"), model.state_dict())
    with torch.no_grad():
        write_safetensors(os.path.join(d, "torch-logits.safetensors"), {"logits": model(io["x"])})
    print("pytorch: wrote", os.path.join(d, "torch.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
