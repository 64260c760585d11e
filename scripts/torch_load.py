#!/usr/bin/env python3
"""Load a ziffer model into PyTorch as a `torch.nn.Sequential`, and check it reads as ziffer does.

What it is: the few lines a PyTorch user needs, and a check of them. A ziffer model file is
safetensors: `layers.{l}.weight` is `[outputs, inputs]` and `layers.{l}.bias` is `[outputs]`,
exactly the layout of `torch.nn.Linear(inputs, outputs)`'s `weight` and `bias`, so each layer
loads as it is. The activations (`sigmoid`, `tanh`, `scaled-tanh` = 1.7159·tanh(2z/3), `relu`, `leaky-relu` with slope 0.01) and the
output function (`sigmoid`, `softmax`) come from the file's metadata.

What it is not: a training script (train with ziffer; fine-tune the loaded module with PyTorch if
you like), nor part of CI: PyTorch is a download of gigabytes. `scripts/gpu-check.sh` runs it on
a machine that has PyTorch.

Usage, from the repository root:

    cargo run --release -- train --epochs 2 --out model.safetensors -q
    cargo run --release -- eval --model model.safetensors --predictions predictions.csv
    python3 scripts/torch_load.py model.safetensors [predictions.csv] [--data data/mnist]

With a predictions file (`ziffer eval --predictions`), every test image is read by the PyTorch
module and its digit compared with ziffer's; the exit status is 1 on any disagreement.
"""

import argparse
import csv
import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch

class ScaledTanh(torch.nn.Module):
    """LeCun's scaled hyperbolic tangent, 1.7159·tanh(2z/3)."""

    def forward(self, z):
        return 1.7159 * torch.tanh(z * (2.0 / 3.0))


ACTIVATIONS = {
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "scaled-tanh": lambda: ScaledTanh(),
    "relu": torch.nn.ReLU,
    "leaky-relu": lambda: torch.nn.LeakyReLU(0.01),
}


def read_safetensors(path):
    """The tensors (as NumPy arrays) and the metadata of a safetensors file, read with the
    standard library: an 8-byte header length, a JSON header, then the raw little-endian data."""
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = data[8 + header_len :]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"])
    return tensors, metadata


def load(path):
    """The ziffer model at `path` as `torch.nn.Sequential`: Linear, activation, ..., Linear,
    output function. Its input is `(N, 784)` pixels in [0, 1] (pixel / 255), its output ziffer's
    output layer `A[L]`."""
    tensors, meta = read_safetensors(path)
    sizes = [int(s) for s in meta["layers"].split(",")]
    hidden = ACTIVATIONS[meta.get("activation", "sigmoid")]
    output = meta.get("output", "sigmoid")
    modules = []
    for l, (inputs, outputs) in enumerate(zip(sizes, sizes[1:])):
        linear = torch.nn.Linear(inputs, outputs)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(tensors[f"layers.{l}.weight"].copy()))
            linear.bias.copy_(torch.from_numpy(tensors[f"layers.{l}.bias"].copy()))
        modules.append(linear)
        last = l == len(sizes) - 2
        if not last:
            modules.append(hidden())
        elif output == "softmax":
            modules.append(torch.nn.Softmax(dim=1))
        else:
            modules.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*modules).eval()


def read_idx_images(path):
    raw = gzip.open(path).read() if str(path).endswith(".gz") else Path(path).read_bytes()
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        raise ValueError(f"{path}: IDX image magic {magic}, expected 2051")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, rows * cols)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("predictions", nargs="?")
    parser.add_argument("--data", default="data/mnist")
    args = parser.parse_args()
    module = load(args.model)
    print(module)
    if args.predictions is None:
        return 0
    data = Path(args.data)
    images_path = next(p for p in [data / "t10k-images-idx3-ubyte.gz", data / "t10k-images-idx3-ubyte"] if p.exists())
    pixels = torch.from_numpy(read_idx_images(images_path).astype(np.float32) * np.float32(1 / 255))
    with torch.no_grad():
        digits = module(pixels).argmax(dim=1).numpy()
    with open(args.predictions) as f:
        ziffer = {int(r["index"]): int(r["predicted"]) for r in csv.DictReader(f)}
    agree = sum(int(digits[i]) == p for i, p in ziffer.items())
    print(f"PyTorch agrees with ziffer on {agree}/{len(ziffer)} test images")
    return 0 if agree == len(ziffer) else 1


if __name__ == "__main__":
    sys.exit(main())
