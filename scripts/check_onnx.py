#!/usr/bin/env python3
"""Check that `ziffer export` writes a valid ONNX file that ONNX Runtime runs as ziffer does.

What it is: an independent reader of the ONNX files documented in src/onnx/mod.rs. It validates
the file with `onnx.checker.check_model(model, full_check=True)` (which also infers every
value's shape), checks what ziffer promises about it (IR version 8, opset 17, producer "ziffer",
input `pixels` [N, 784], output `scores` [N, classes], one Gemm per layer then its function,
the class names and the training summary in the metadata, each initializer equal to the model
file's tensor), runs it with ONNX Runtime on every test image, and compares:

  - each image's predicted class (argmax of `scores`) with the predictions ziffer wrote
    (`ziffer eval --predictions`), which must agree on every image;
  - the scores themselves with ziffer's output layer A[L], computed here with NumPy from the
    safetensors model file exactly as scripts/check_safetensors.py does (whose readers and
    forward pass are imported from it), which must agree within 1e-5 on every value.

What it is not: part of ziffer. It needs nothing of ziffer but the files.

Usage, from the repository root:

    cargo run --release -- train --epochs 1 --out model.safetensors -q
    cargo run --release -- eval --model model.safetensors --predictions predictions.csv
    cargo run --release -- export --model model.safetensors --out model.onnx
    python3 scripts/check_onnx.py model.onnx model.safetensors predictions.csv [DATA_DIR]
        [--scores SCORES.npy] [--tolerance 1e-5]

DATA_DIR (default data/mnist) holds t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz].
--scores also writes ONNX Runtime's scores, float32 (N, classes), as a NumPy .npy file.

Exit status: 0 if the file is valid and every prediction and score agrees; 1 otherwise, or on
input files that cannot be read.

Requirements (pinned): pip install -r scripts/requirements-onnx.txt
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError
from onnx import numpy_helper
from safetensors import SafetensorError

from check_safetensors import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    SHOW_MISMATCHES,
    TEST_IMAGES,
    TEST_LABELS,
    CheckFailed,
    forward,
    read_idx,
    read_metadata,
    read_predictions,
    read_tensors,
)

IR_VERSION = 8
OPSET_VERSION = 17
PRODUCER = "ziffer"
INPUT = "pixels"
OUTPUT = "scores"
# ziffer's function names and the ONNX operators they become.
HIDDEN_OPS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "scaled-tanh": "Tanh",
    "relu": "Relu",
    "leaky-relu": "LeakyRelu",
}
# The factors (inner, outer) of a·tanh(b·z) folded into the Gemms around its Tanh: the layer's
# own Gemm has alpha = beta = b, the next one alpha = a. Every other activation: none.
GEMM_SCALES = {"scaled-tanh": (np.float32(2.0 / 3.0), np.float32(1.7159))}
OUTPUT_OPS = {"sigmoid": "Sigmoid", "softmax": "Softmax"}
LEAKY_SLOPE = np.float32(0.01)
TOLERANCE = 1e-5


# ---- the ONNX file ------------------------------------------------------------------------------


def shape_of(value):
    """A graph input's or output's element type and dimensions (a symbol as its name)."""
    tensor = value.type.tensor_type
    dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in tensor.shape.dim]
    return tensor.elem_type, dims


def attributes(node):
    """A node's attributes as a dict of Python values."""
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def check_onnx(path, sizes, hidden, output, layers):
    """Validates the file and checks it against the safetensors model's metadata and tensors;
    returns the class names from its metadata."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    problems = []

    def expect(what, found, expected):
        if found != expected:
            problems.append(f"{what} is {found!r}, expected {expected!r}")

    expect("ir_version", model.ir_version, IR_VERSION)
    expect("opset_import", {o.domain: o.version for o in model.opset_import}, {"": OPSET_VERSION})
    expect("producer_name", model.producer_name, PRODUCER)
    graph = model.graph
    expect("inputs", [i.name for i in graph.input], [INPUT])
    expect("outputs", [o.name for o in graph.output], [OUTPUT])
    if len(graph.input) == 1 and len(graph.output) == 1:
        float32 = onnx.TensorProto.FLOAT
        expect(f"input '{INPUT}'", shape_of(graph.input[0]), (float32, ["N", sizes[0]]))
        expect(f"output '{OUTPUT}'", shape_of(graph.output[0]), (float32, ["N", sizes[-1]]))

    ops = [n.op_type for n in graph.node]
    expected_ops = []
    for l in range(len(layers)):
        last = l + 1 == len(layers)
        expected_ops += ["Gemm", OUTPUT_OPS[output] if last else HIDDEN_OPS[hidden]]
    expect("the nodes' operators", ops, expected_ops)
    inner, outer = GEMM_SCALES.get(hidden, (np.float32(1.0), np.float32(1.0)))
    gemms = [n for n in graph.node if n.op_type == "Gemm"]
    for l, node in enumerate(gemms):
        alpha = (outer if l > 0 else 1.0) * (inner if l + 1 < len(gemms) else 1.0)
        beta = inner if l + 1 < len(gemms) else 1.0
        wanted = {"transB": 1}
        if alpha != 1.0:
            wanted["alpha"] = float(np.float32(alpha))
        if beta != 1.0:
            wanted["beta"] = float(np.float32(beta))
        expect(f"{node.name}'s attributes", attributes(node), wanted)
    for node in graph.node:
        found = attributes(node)
        if node.op_type == "LeakyRelu":
            expect(f"{node.name}'s attributes", found, {"alpha": float(LEAKY_SLOPE)})
        elif node.op_type == "Softmax":
            expect(f"{node.name}'s attributes", found, {"axis": 1})

    initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    expected_names = [f"layers.{l}.{p}" for l in range(len(layers)) for p in ["weight", "bias"]]
    expect("the initializers", sorted(initializers), sorted(expected_names))
    for l, (weight, bias) in enumerate(layers):
        for part, tensor in [("weight", weight), ("bias", bias)]:
            name = f"layers.{l}.{part}"
            if name in initializers and not np.array_equal(initializers[name], tensor):
                problems.append(f"initializer '{name}' differs from the model file's tensor")

    meta = {p.key: p.value for p in model.metadata_props}
    expect("the metadata keys", sorted(meta), ["classes", "summary"])
    classes = json.loads(meta.get("classes", "[]"))
    expect("the number of class names", len(classes), sizes[-1])
    summary = json.loads(meta.get("summary", "{}"))
    expect("the summary's layers", summary.get("layers"), sizes)
    expect("the summary's activation", summary.get("activation"), hidden)
    expect("the summary's output", summary.get("output"), output)
    if problems:
        raise CheckFailed(f"{path}: " + "; ".join(problems))
    print(
        f"onnx: {path}: valid (onnx {onnx.__version__} full check), IR {model.ir_version}, "
        f"opset {OPSET_VERSION}, {len(graph.node)} nodes {' '.join(ops)}, "
        f"{len(initializers)} initializers equal to the model file's tensors"
    )
    epochs = summary.get("epochs_trained")
    print(
        f"metadata: classes {', '.join(classes)}; summary: {epochs} "
        f"epoch{'' if epochs == 1 else 's'} trained, test accuracy "
        f"{summary.get('test_accuracy')}, seed {summary.get('seed')}"
    )
    return classes


# ---- the check ----------------------------------------------------------------------------------


def check(onnx_path, model_path, predictions_path, data_dir, scores_path, tolerance):
    """Runs every check, printing what it found; returns the exit status."""
    sizes, hidden, output, _ = read_metadata(model_path)
    layers = read_tensors(model_path, sizes)
    check_onnx(onnx_path, sizes, hidden, output, layers)

    images_path, images = read_idx(data_dir, TEST_IMAGES, IMAGE_MAGIC, 3)
    _, labels = read_idx(data_dir, TEST_LABELS, LABEL_MAGIC, 1)
    count, rows, cols = images.shape
    if rows * cols != sizes[0]:
        raise CheckFailed(
            f"{images_path}: images of {rows}x{cols} pixels, but the model takes {sizes[0]} inputs"
        )
    csv_labels, ziffer_predicted = read_predictions(predictions_path)
    if csv_labels.shape[0] != count or not np.array_equal(csv_labels, labels):
        raise CheckFailed(
            f"{predictions_path}: its labels are not the {count} test labels of {data_dir}: "
            f"was it written by `ziffer eval` on {data_dir}?"
        )
    print(f"data: {count} test images from {images_path}")

    images = images.reshape(count, rows * cols)
    # The same scaling as ziffer's normalise_pixel: byte * (1/255) in float32.
    pixels = images.astype(np.float32) * np.float32(1.0 / 255.0)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (scores,) = session.run([OUTPUT], {INPUT: pixels})
    if scores.shape != (count, sizes[-1]) or scores.dtype != np.float32:
        raise CheckFailed(
            f"{onnx_path}: ONNX Runtime gave scores of shape {list(scores.shape)} and dtype "
            f"{scores.dtype}, expected [{count}, {sizes[-1]}] float32"
        )
    if scores_path is not None:
        np.save(scores_path, scores)
        print(f"scores: written to {scores_path}")

    onnx_predicted = np.argmax(scores, axis=1)
    mismatches = np.flatnonzero(onnx_predicted != ziffer_predicted)
    for i in mismatches[:SHOW_MISMATCHES]:
        top = np.sort(scores[i])[::-1]
        print(
            f"  image {i}: label {labels[i]}, ziffer predicted {ziffer_predicted[i]}, "
            f"ONNX Runtime {onnx_predicted[i]} (its top two scores {top[0]:.7g} and {top[1]:.7g})"
        )
    if len(mismatches) > SHOW_MISMATCHES:
        print(f"  ... and {len(mismatches) - SHOW_MISMATCHES} more")
    agree = count - len(mismatches)
    print(
        f"predictions: ONNX Runtime {ort.__version__} agrees with ziffer eval on {agree} of "
        f"{count} images; accuracy {100 * np.mean(onnx_predicted == labels):.2f}% "
        f"(ziffer {100 * np.mean(ziffer_predicted == labels):.2f}%)"
    )

    reference = forward(layers, hidden, output, images)
    difference = np.abs(scores.astype(np.float64) - reference.astype(np.float64))
    worst = np.unravel_index(np.argmax(difference), difference.shape)
    over = int(np.count_nonzero(difference > tolerance))
    print(
        f"scores: max |ONNX Runtime - ziffer's A[L]| = {difference.max():.3g} (image {worst[0]}, "
        f"class {worst[1]}), mean {difference.mean():.3g}; {over} of {difference.size} values "
        f"over {tolerance:g}"
    )

    failed = []
    if len(mismatches):
        failed.append(f"{len(mismatches)} predictions differ from ziffer's")
    if over:
        failed.append(f"{over} scores differ from ziffer's A[L] by more than {tolerance:g}")
    if failed:
        print(f"FAILED: {'; '.join(failed)}", file=sys.stderr)
        return 1
    print("OK: the ONNX file is valid and ONNX Runtime reads every image as ziffer does")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Check that an ONNX file written by `ziffer export` is valid and that ONNX "
        "Runtime gives ziffer's predictions and scores on every test image.",
        epilog="Exit status 0: all agree; 1: an invalid file, a mismatch, or unreadable input.",
    )
    parser.add_argument("onnx", type=Path, help="the ONNX file written by `ziffer export`")
    parser.add_argument(
        "model", type=Path, help="the model file (.safetensors) it was exported from"
    )
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
    parser.add_argument(
        "--scores", type=Path, metavar="FILE.npy", help="also write ONNX Runtime's scores here"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE,
        help="the largest |difference| allowed between a score and ziffer's "
        f"(default {TOLERANCE:g})",
    )
    args = parser.parse_args(argv)
    try:
        return check(
            args.onnx, args.model, args.predictions, args.data_dir, args.scores, args.tolerance
        )
    except (CheckFailed, OSError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    except SafetensorError as e:
        print(f"FAILED: {args.model}: not a readable safetensors file: {e}", file=sys.stderr)
        return 1
    except (DecodeError, onnx.checker.ValidationError) as e:
        print(f"FAILED: {args.onnx}: not a valid ONNX model: {e}", file=sys.stderr)
        return 1
    except json.JSONDecodeError as e:
        print(f"FAILED: {args.onnx}: metadata that is not JSON: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:
        print(f"FAILED: {args.onnx}: ONNX Runtime cannot run it: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
