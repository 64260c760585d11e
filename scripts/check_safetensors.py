#!/usr/bin/env python3
"""Check that a ziffer model file is plain safetensors that Python and NumPy can use on their own.

What it is: an independent reader of the model file format documented in src/model_file.rs. It
loads the tensors with `safetensors.numpy.load_file`, reads the text metadata with
`safetensors.safe_open(...).metadata()`, checks both against the format, runs the network's
forward pass in NumPy over the MNIST test images, and compares every predicted digit with the
predictions ziffer itself wrote.

What it is not: part of ziffer, nor a second implementation to keep in step with it. It needs
nothing of ziffer but the files, which is the point: a model trained by ziffer is usable from
Python without ziffer.

The format, as checked here (layers `l = 0 .. L-1`, sizes from the `layers` metadata):

    layers.{l}.weight   float32 [outputs, inputs]   W of layer l
    layers.{l}.bias     float32 [outputs]           B of layer l
    optimizer.layers.{l}.{weight,bias}.{slot}       what the optimizer keeps (ignored here)
    metadata: format = "ziffer", format_version = "2" (or "1"), layers = "784,128,64,10",
              activation = sigmoid | tanh | scaled-tanh | relu | leaky-relu, output = sigmoid | softmax
              (version 2; version 1 is sigmoid), loss = quadratic | cross-entropy,
              classes = JSON list of names (version 2), training = JSON

The forward pass, for a batch `X` of `N` images as rows, `(N, 784)`:

    A[0] = pixels * (1/255)            as float32, the same scaling as ziffer's normalise_pixel
    A[l+1] = f(A[l] @ W[l].T + B[l])   f the activation for hidden layers, the output function last
    prediction = argmax of A[L] per row (the first of equal values, as ziffer's argmax)

Usage, from the repository root:

    cargo run --release -- train --epochs 1 --out model.safetensors -q
    cargo run --release -- eval --model model.safetensors --predictions predictions.csv
    python3 scripts/check_safetensors.py model.safetensors predictions.csv [DATA_DIR]

PREDICTIONS_CSV has the columns index,label,predicted, one row per test image. DATA_DIR
(default data/mnist) holds t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the same
names without .gz): pass the folder given to `ziffer eval --data`, if any.

Exit status: 0 if every prediction agrees; 1 on any mismatch, on a tensor with a wrong name,
dtype or shape, on wrong metadata, or on input files that cannot be read.

Requirements (pinned): pip install -r scripts/requirements.txt
"""

import argparse
import csv
import gzip
import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file

FORMAT = "ziffer"
FORMAT_VERSIONS = ["1", "2"]
ACTIVATIONS = ["sigmoid", "tanh", "scaled-tanh", "relu", "leaky-relu"]
OUTPUTS = ["sigmoid", "softmax"]
LOSSES = ["quadratic", "cross-entropy"]
LEAKY_SLOPE = np.float32(0.01)
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
GZIP_MAGIC = b"\x1f\x8b"
# How many disagreeing images to list before saying "and N more".
SHOW_MISMATCHES = 10


class CheckFailed(Exception):
    """A check failed; the message says what was found and what was expected."""


# ---- the model file -----------------------------------------------------------------------------


def read_metadata(path):
    """The model's text metadata, checked: the layer sizes (e.g. [784, 128, 64, 10]), the hidden
    activation and output function, and the training record (seed, batch size, schedule,
    per-epoch history)."""
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    if meta.get("format_version") == "1":
        meta.setdefault("output", "sigmoid")
    for key, allowed in [
        ("format", [FORMAT]),
        ("format_version", FORMAT_VERSIONS),
        ("activation", ACTIVATIONS),
        ("output", OUTPUTS),
        ("loss", LOSSES),
    ]:
        if key not in meta:
            raise CheckFailed(f"{path}: the metadata has no '{key}' entry")
        if meta[key] not in allowed:
            raise CheckFailed(
                f"{path}: metadata '{key}' is '{meta[key]}', expected one of {', '.join(allowed)}"
            )
    for key in ["layers", "training"]:
        if key not in meta:
            raise CheckFailed(f"{path}: the metadata has no '{key}' entry")
    try:
        sizes = [int(s) for s in meta["layers"].split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise CheckFailed(
            f"{path}: metadata 'layers' is '{meta['layers']}', expected sizes like 784,128,64,10"
        )
    try:
        training = json.loads(meta["training"])
    except json.JSONDecodeError as e:
        raise CheckFailed(f"{path}: metadata 'training' is not JSON: {e}") from e
    if not isinstance(training, dict) or not isinstance(training.get("history"), list):
        raise CheckFailed(f"{path}: metadata 'training' has no 'history' list")
    return sizes, meta["activation"], meta["output"], training


def read_tensors(path, sizes):
    """The weights and biases, `[(W, B), ...]` layer by layer, checked against `sizes`."""
    # What the optimizer keeps is for resuming training, not for predicting.
    tensors = {k: v for k, v in load_file(str(path)).items() if not k.startswith("optimizer.")}
    expected = {}
    for l, (inputs, outputs) in enumerate(zip(sizes, sizes[1:])):
        expected[f"layers.{l}.weight"] = (outputs, inputs)
        expected[f"layers.{l}.bias"] = (outputs,)
    problems = []
    for name in sorted(set(expected) - set(tensors)):
        problems.append(f"tensor '{name}' is missing")
    for name in sorted(set(tensors) - set(expected)):
        problems.append(f"tensor '{name}' is not part of a {len(sizes) - 1}-layer network")
    for name in sorted(set(expected) & set(tensors)):
        t = tensors[name]
        if t.dtype != np.float32:
            problems.append(f"tensor '{name}' has dtype {t.dtype}, expected float32")
        if t.shape != expected[name]:
            problems.append(
                f"tensor '{name}' has shape {list(t.shape)}, "
                f"but layers {','.join(map(str, sizes))} need {list(expected[name])}"
            )
        elif not np.all(np.isfinite(t)):
            problems.append(f"tensor '{name}' holds NaN or infinite values")
    if problems:
        raise CheckFailed(f"{path}: " + "; ".join(problems))
    return [
        (tensors[f"layers.{l}.weight"], tensors[f"layers.{l}.bias"]) for l in range(len(sizes) - 1)
    ]


# ---- the test set -------------------------------------------------------------------------------


def read_idx(data_dir, name, magic, dims):
    """An IDX file of `data_dir` (`name.gz` or `name`) as a uint8 array of `dims` dimensions."""
    path = data_dir / f"{name}.gz"
    if not path.is_file():
        path = data_dir / name
    if not path.is_file():
        raise CheckFailed(f"{data_dir}: neither {name}.gz nor {name} is there")
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    header = 4 + 4 * dims
    if len(data) < header:
        raise CheckFailed(f"{path}: {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise CheckFailed(f"{path}: expected IDX magic {magic}, found {found}")
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    values = np.frombuffer(data, dtype=np.uint8, offset=header)
    if values.size != math.prod(shape):
        raise CheckFailed(
            f"{path}: the header promises {math.prod(shape)} bytes of data, found {values.size}"
        )
    return path, values.reshape(shape)


def read_predictions(path):
    """ziffer's `index,label,predicted` CSV as two arrays: labels and predicted digits."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["index", "label", "predicted"]:
        raise CheckFailed(f"{path}: the first line must be index,label,predicted")
    labels, predicted = [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            index, label, guess = (int(v) for v in row)
        except ValueError:
            raise CheckFailed(
                f"{path}: line {line}: expected three whole numbers, found {row}"
            ) from None
        if index != line - 2:
            raise CheckFailed(f"{path}: line {line}: index {index}, expected {line - 2}")
        labels.append(label)
        predicted.append(guess)
    return np.array(labels), np.array(predicted)


# ---- the network --------------------------------------------------------------------------------


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)) in float32; e^(−z) may overflow to inf, which gives σ = 0."""
    with np.errstate(over="ignore"):
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-z))


def activation(name, z):
    """The hidden activation `name` of `z`, in float32."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "scaled-tanh":
        # LeCun's 1.7159·tanh(2z/3)
        return np.float32(1.7159) * np.tanh(z * np.float32(2.0 / 3.0))
    if name == "relu":
        return np.maximum(z, np.float32(0.0))
    return np.where(z < 0, z * LEAKY_SLOPE, z)


def softmax(z):
    """Each row's softmax, `e^(z - max z) / Σ e^(z - max z)`."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(layers, hidden, output, images):
    """The outputs A[L], `(N, outputs)`, for `images` of `(N, 784)` uint8 pixels."""
    a = images.astype(np.float32) * np.float32(1.0 / 255.0)
    for l, (weight, bias) in enumerate(layers):
        z = a @ weight.T + bias
        if l + 1 < len(layers):
            a = activation(hidden, z)
        else:
            a = softmax(z) if output == "softmax" else sigmoid(z)
    return a


# ---- the check ----------------------------------------------------------------------------------


def check(model_path, predictions_path, data_dir):
    """Runs every check, printing what it found; returns the exit status."""
    sizes, hidden, output, training = read_metadata(model_path)
    layers = read_tensors(model_path, sizes)
    print(
        f"model: {model_path}: layers {','.join(map(str, sizes))}, {hidden}, {output} output, "
        f"epochs trained: {len(training['history'])}"
    )
    print(f"tensors: {2 * len(layers)} float32, named and shaped as the metadata says")

    images_path, images = read_idx(data_dir, TEST_IMAGES, IMAGE_MAGIC, 3)
    _, labels = read_idx(data_dir, TEST_LABELS, LABEL_MAGIC, 1)
    count, rows, cols = images.shape
    if rows * cols != sizes[0]:
        raise CheckFailed(
            f"{images_path}: images of {rows}x{cols} pixels, but the model takes {sizes[0]} inputs"
        )
    if labels.shape[0] != count:
        raise CheckFailed(f"{data_dir}: {count} test images but {labels.shape[0]} labels")
    print(f"data: {count} test images from {images_path}")

    csv_labels, ziffer_predicted = read_predictions(predictions_path)
    if csv_labels.shape[0] != count:
        raise CheckFailed(
            f"{predictions_path}: {csv_labels.shape[0]} predictions for {count} test images: "
            f"was it written by `ziffer eval` on {data_dir}?"
        )
    if not np.array_equal(csv_labels, labels):
        first = int(np.argmax(csv_labels != labels))
        raise CheckFailed(
            f"{predictions_path}: line {first + 2}: label {csv_labels[first]}, but the test set "
            f"says {labels[first]}: was it written by `ziffer eval` on {data_dir}?"
        )

    outputs = forward(layers, hidden, output, images.reshape(count, rows * cols))
    numpy_predicted = np.argmax(outputs, axis=1)
    mismatches = np.flatnonzero(numpy_predicted != ziffer_predicted)
    for i in mismatches[:SHOW_MISMATCHES]:
        top = np.sort(outputs[i])[::-1]
        print(
            f"  image {i}: label {labels[i]}, ziffer predicted {ziffer_predicted[i]}, "
            f"NumPy {numpy_predicted[i]} (its top two outputs {top[0]:.7g} and {top[1]:.7g})"
        )
    if len(mismatches) > SHOW_MISMATCHES:
        print(f"  ... and {len(mismatches) - SHOW_MISMATCHES} more")
    print(f"mismatches: {len(mismatches)} of {count}")
    numpy_accuracy = np.mean(numpy_predicted == labels)
    ziffer_accuracy = np.mean(ziffer_predicted == labels)
    print(f"accuracy: {100 * numpy_accuracy:.2f}% in NumPy, {100 * ziffer_accuracy:.2f}% by ziffer")
    if len(mismatches):
        print("FAILED: NumPy and ziffer disagree on the images above", file=sys.stderr)
        return 1
    print("OK: the model loads with safetensors and NumPy predicts every image as ziffer does")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Check that a ziffer model loads with safetensors and NumPy, and that NumPy "
        "predicts every test image as ziffer did.",
        epilog="Exit status 0: all agree; 1: a mismatch, a bad tensor or metadata, "
        "or unreadable input.",
    )
    parser.add_argument("model", type=Path, help="the model file (.safetensors) written by ziffer")
    parser.add_argument(
        "predictions",
        type=Path,
        help="the CSV written by `ziffer eval --model MODEL --predictions FILE`",
    )
    parser.add_argument(
        "data_dir",
        type=Path,
        nargs="?",
        default=Path("data") / "mnist",
        help="the folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
        "(default: data/mnist)",
    )
    args = parser.parse_args(argv)
    try:
        return check(args.model, args.predictions, args.data_dir)
    except (CheckFailed, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    except SafetensorError as e:
        print(f"FAILED: {args.model}: not a readable safetensors file: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
