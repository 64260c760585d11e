"""What the NumPy and PyTorch references share: their command line, thread settings, the MNIST
reader and the JSON they print.

What it is: everything of `numpy_mlp.py` and `torch_mlp.py` that is not the network, so that the
two differ only in the maths. What it is not: the network (each reference writes its own forward
and backward) or the comparison (`compare.py`).

It imports neither NumPy nor PyTorch at module level: `parse_args` must set the thread counts in
the environment before either is imported, because their BLAS libraries read them only once, when
they load.
"""

import argparse
import gzip
import json
import os
import re
import struct
import sys
from pathlib import Path

# Where `ziffer` looks by default: the bundled MNIST, relative to the repository root.
DEFAULT_DATA = Path(__file__).resolve().parent.parent / "data" / "mnist"

# The thread-count variables of the BLAS and OpenMP runtimes a NumPy or PyTorch wheel may load.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def parse_args(impl):
    """The references' common options, with ziffer's defaults; sets the thread variables."""
    parser = argparse.ArgumentParser(
        description=f"ziffer's training algorithm written out in {impl}, for timing "
        "(784-128-64-10 sigmoid network, squared error, mini-batch SGD)."
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs to train and time (default 1)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per mini-batch (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="threads for the BLAS (default 1)")
    parser.add_argument(
        "--layers",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[784, 128, 64, 10],
        help="layer sizes, input first (default 784,128,64,10)",
    )
    parser.add_argument("--lr", type=float, default=3.0, help="learning rate η, constant (default 3.0)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the weights and shuffles (default 42)")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"folder with the MNIST .gz files (default {DEFAULT_DATA})"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a line per epoch")
    args = parser.parse_args()
    for name, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size), ("--threads", args.threads)):
        if value < 1:
            parser.error(f"{name} must be at least 1, got {value}")
    if len(args.layers) < 2 or min(args.layers) < 1:
        parser.error(f"--layers needs at least two sizes, none 0 (e.g. 784,128,64,10), got {args.layers}")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(args.threads)
    return args


def read_idx(path, magic, dims):
    """The payload of an IDX file (gzip or raw) as bytes, and its dimensions.

    `magic` is 2051 for images (3 dimensions: count, rows, columns) and 2049 for labels (1).
    """
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 + 4 * dims:
        sys.exit(f"error: {path}: {len(raw)} bytes is too short for an IDX header")
    (found,) = struct.unpack(">i", raw[:4])
    if found != magic:
        other = "labels" if magic == 2051 else "images"
        sys.exit(f"error: {path}: expected IDX magic {magic}, found {found}: did you pass the {other} file?")
    shape = struct.unpack(f">{dims}i", raw[4 : 4 + 4 * dims])
    payload = raw[4 + 4 * dims :]
    expected = 1
    for d in shape:
        expected *= d
    if len(payload) != expected:
        sys.exit(f"error: {path}: header promises {expected} bytes of data, found {len(payload)}")
    return payload, shape


def load_mnist(folder, np):
    """`(train_images, train_labels, test_images, test_labels)` as NumPy `uint8` arrays:
    images `(N, 784)`, one row per image, pixels 0..=255 as on disk; labels `(N,)`, 0..=9."""

    def find(stem):
        for name in (stem + ".gz", stem):
            if (folder / name).exists():
                return folder / name
        sys.exit(f"error: {folder}: neither {stem}.gz nor {stem} found (pass the MNIST folder with --data)")

    sets = []
    for prefix in ("train", "t10k"):
        pixels, (n, rows, cols) = read_idx(find(f"{prefix}-images-idx3-ubyte"), 2051, 3)
        labels, (m,) = read_idx(find(f"{prefix}-labels-idx1-ubyte"), 2049, 1)
        if n != m:
            sys.exit(f"error: {folder}: {n} {prefix} images but {m} labels")
        sets.append(np.frombuffer(pixels, dtype=np.uint8).reshape(n, rows * cols))
        sets.append(np.frombuffer(labels, dtype=np.uint8))
    if sets[0].shape[1] != sets[2].shape[1]:
        sys.exit(f"error: {folder}: training and test images differ in size")
    return tuple(sets)


def check_data_fits(args, train_images, train_labels):
    """Stops with a message if the network's input or output size does not fit the data."""
    if args.layers[0] != train_images.shape[1]:
        sys.exit(f"error: --layers starts with {args.layers[0]} inputs but the images have {train_images.shape[1]} pixels")
    if args.layers[-1] <= int(train_labels.max()):
        sys.exit(f"error: --layers ends with {args.layers[-1]} outputs but the labels go up to {int(train_labels.max())}")


def torch_blas_description(torch, device):
    """The BLAS that PyTorch's `mm`/`addmm` call (`torch` is the module, passed in: this file
    imports no PyTorch, see above). On the CPU, e.g. `"MKL 2024.2"`, from its build
    configuration (PyTorch links its BLAS statically, so threadpoolctl cannot see it); on the GPU,
    cuBLAS with the CUDA version PyTorch was built for and the GPU's name, e.g.
    `"cuBLAS (CUDA 13.0) on NVIDIA H200"`."""
    if device.type == "cuda":
        return f"cuBLAS (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name(device)}"
    config = torch.__config__.show()
    info = re.search(r"BLAS_INFO=(\w+)", config)
    name = info.group(1) if info else "unknown"
    if name == "mkl" or torch.backends.mkl.is_available():
        version = re.search(r"Math Kernel Library Version ([\d.]+)", config)
        return "MKL" + (f" {version.group(1)}" if version else "")
    if name == "open":
        return "OpenBLAS"
    return name


def report(args, impl, version, blas, blas_threads, seconds, train_losses, test_accuracy):
    """Prints the result: one JSON object with `--json`, else a line per epoch."""
    if args.json:
        print(
            json.dumps(
                {
                    "impl": impl,
                    "version": version,
                    "blas": blas,
                    "blas_threads": blas_threads,
                    "threads": args.threads,
                    "batch_size": args.batch_size,
                    "layers": args.layers,
                    "lr": args.lr,
                    "seed": args.seed,
                    "seconds_per_epoch": seconds,
                    "train_loss": train_losses,
                    "test_accuracy": test_accuracy,
                }
            )
        )
        return
    print(f"{impl} {version}, {blas}, {args.threads} thread(s), batch size {args.batch_size}")
    for epoch, (s, loss) in enumerate(zip(seconds, train_losses), start=1):
        print(f"epoch {epoch:>3}  train loss {loss:.5f}  seconds {s:.3f}")
    print(f"test accuracy after {len(seconds)} epoch(s): {100 * test_accuracy:.2f}%")
