"""ziffer's training algorithm written out in PyTorch (CPU, or the GPU with `--device cuda`), for
timing against ziffer.

What it is: the same network, loss, data and update as ziffer and `numpy_mlp.py` (dense layers,
a sigmoid after every layer, `W ~ N(0, 1/I)`, `B = 0`, `½‖A − Y‖²`, pixels / 255 in float32, a
fresh permutation every epoch, mini-batches of 32, `W −= η·dW`), float32 throughout, with the
forward and backward passes written by hand on plain tensors: no autograd (`torch.no_grad`, no
`requires_grad`), no `nn.Module`, no optimizer object. It is written for speed: every buffer is
allocated once, every operation writes into one (`out=` or in place), and the products use
PyTorch's fused forms: `addmm` adds the bias inside the forward product, and `addmm_` subtracts
`(η/m)·dZᵀ·A_prev` straight from the weights, so `dW` is never stored.
What it is not: bit-for-bit ziffer (PyTorch's generator draws the weights and the order).

With `--device cuda` (or `cuda:N`) the same code runs with every tensor on the GPU: the weights
and each epoch's order are still drawn by the CPU generator (the same numbers as on the CPU) and
copied over, the products are cuBLAS's in full float32 (`set_float32_matmul_precision("highest")`,
no TF32, as cuBLAS itself does by default), and the clock stops after `torch.cuda.synchronize()`,
when the GPU has finished the epoch's work rather than when Python has queued it. Every operation
is then one kernel launch from Python, about 30 a batch.

Shapes, as in `numpy_mlp.py`: `N` images in a batch, one row per image; `I` inputs and `O` outputs
of a layer; `A` is `(N, O)`, `Z = A_prev·Wᵀ + B`. `W` is `(O, I)` as in ziffer, kept as its
contiguous transpose `Wᵀ`, `(I, O)`, which MKL multiplies a little faster here (measured on a
2-core AMD EPYC: 75 µs instead of 78 µs for the first layer's forward product).

    python3 bench/torch_mlp.py --epochs 1 --threads 1 --json
    python3 bench/torch_mlp.py --epochs 2 --device cuda --json
"""

import argparse
import re
import sys
import time

import mlp_common

DEVICE_HELP = "  --device DEVICE       where the tensors live: cpu or cuda[:N] (default cpu)"


def take_device(argv):
    """`(device, rest)`: the `--device` option taken off `argv`, since the options the two
    references share (`mlp_common.parse_args`) have none: NumPy runs on the CPU only."""

    def device(text):
        if not re.fullmatch(r"cpu|cuda(:\d+)?", text):
            raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N (e.g. cuda:0), got {text!r}")
        return text

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--device", type=device, default="cpu")
    known, rest = parser.parse_known_args(argv)
    return known.device, rest


DEVICE, sys.argv[1:] = take_device(sys.argv[1:])
try:
    args = mlp_common.parse_args("PyTorch")  # sets the thread variables: before PyTorch is imported
except SystemExit:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(DEVICE_HELP)  # the shared parser's help, then the option only this reference has
    raise

import numpy as np  # noqa: E402  (only to read the data files)
import torch  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)  # before any parallel work; one batch has no independent ops


def cuda_device(name):
    """`torch.device(name)` for `cuda` or `cuda:N`, or a stop with a message that says why PyTorch
    cannot use it: a CPU-only build, no GPU or driver it can use, or no device `N`."""
    if torch.version.cuda is None:
        sys.exit(f"error: --device {name}: this PyTorch ({torch.__version__}) is a CPU-only build; "
                 "install a CUDA build (PyPI's default Linux wheel is one) or drop --device")
    if not torch.cuda.is_available():
        sys.exit(f"error: --device {name}: PyTorch {torch.__version__} (CUDA {torch.version.cuda}) finds no "
                 "usable NVIDIA GPU: no driver, a driver too old for this CUDA, or CUDA_VISIBLE_DEVICES hides it; "
                 "`nvidia-smi` shows what the driver sees")
    device = torch.device(name)
    if device.index is not None and device.index >= torch.cuda.device_count():
        sys.exit(f"error: --device {name}: there are {torch.cuda.device_count()} CUDA device(s), "
                 f"numbered from 0")
    return device


def new_network(sizes, generator, device=torch.device("cpu")):
    """`[(Wᵀ, B), ...]`, one pair per layer, on `device`: `W ~ N(0, 1/I)` of shape `(O, I)`, drawn
    by the CPU `generator` and kept as its contiguous transpose `(I, O)`; `B = 0` of shape `(O,)`."""
    layers = []
    for inputs, outputs in zip(sizes[:-1], sizes[1:]):
        w = torch.randn(outputs, inputs, generator=generator, dtype=torch.float32)
        w *= (1.0 / inputs) ** 0.5
        layers.append((w.t().contiguous().to(device), torch.zeros(outputs, dtype=torch.float32, device=device)))
    return layers


class Buffers:
    """Every array one batch needs, allocated once for batches of up to `capacity` images, on the
    device of the `layers`."""

    def __init__(self, layers, capacity):
        inputs = layers[0][0].shape[0]
        outputs = [len(b) for _, b in layers]
        classes = outputs[-1]
        device = layers[0][0].device
        self.x_u8 = torch.empty(capacity, inputs, dtype=torch.uint8, device=device)  # the batch's pixels, (N, 784)
        self.x = torch.empty(capacity, inputs, device=device)  # X = pixels / 255, (N, 784)
        self.y = torch.empty(capacity, classes, device=device)  # Y, one-hot rows, (N, 10)
        self.acts = [torch.empty(capacity, o, device=device) for o in outputs]  # A of each layer, (N, O)
        self.deltas = [torch.empty(capacity, o, device=device) for o in outputs]  # dA, then dZ, (N, O)
        self.tmps = [torch.empty(capacity, o, device=device) for o in outputs]  # σ'(Z), (N, O)
        self.ones = torch.ones(capacity, device=device)  # for dB = Σₙ dZ as a product, (N,)
        self._rows = {}

    def rows(self, n):
        """The first `n` rows of every buffer (a smaller last batch uses those), as views made
        once per size: slicing a tensor costs about a microsecond, 12 of them a batch."""
        if n not in self._rows:
            self._rows[n] = (
                self.x_u8[:n],
                self.x[:n],
                self.y[:n],
                [a[:n] for a in self.acts],
                [d[:n] for d in self.deltas],
                [t[:n] for t in self.tmps],
                self.ones[:n],
                self.deltas[-1][:n].view(-1),
            )
        return self._rows[n]


def train_epoch(layers, images, onehot, batch_size, lr, generator, buffers):
    """One epoch of mini-batch SGD over `images` (uint8 `(60000, 784)`) with targets `onehot`
    (float32 `(60000, 10)`), on their device; returns the mean loss `½‖A − Y‖²` over the images,
    before each batch's update, as ziffer's `train_loss`."""
    count = len(images)
    # a fresh order every epoch, drawn by the CPU generator (copied to the GPU there)
    order = torch.randperm(count, generator=generator).to(images.device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    last = len(layers) - 1
    for start in range(0, count, batch_size):
        indices = order[start : start + batch_size]
        n = len(indices)
        x_u8, x, y, acts, deltas, tmps, ones, d_flat = buffers.rows(n)
        # next batch: the pixels stay uint8 in memory and become p / 255 in float32 here, per
        # batch, as in ziffer (converting all 60,000 images once up front measured no faster)
        torch.index_select(images, 0, indices, out=x_u8)
        torch.mul(x_u8, 1.0 / 255.0, out=x)
        torch.index_select(onehot, 0, indices, out=y)

        # forward: for each layer Z = A_prev·Wᵀ + B (one addmm), then A = σ(Z), in place; every
        # A is kept, as backward needs A_prev for dW and A for σ'(Z) = A ⊙ (1 − A)
        a_prev = x
        for (wt, b), a in zip(layers, acts):
            torch.addmm(b, a_prev, wt, out=a)
            a.sigmoid_()
            a_prev = a

        # loss and its gradient: dA[L] = A[L] − Y
        torch.sub(acts[last], y, out=deltas[last])
        loss_sum += torch.dot(d_flat, d_flat)

        # backward and update, last layer first
        step = lr / n
        for l in range(last, -1, -1):
            wt, b = layers[l]
            a, d, t = acts[l], deltas[l], tmps[l]
            a_prev = acts[l - 1] if l > 0 else x
            # dZ = dA ⊙ σ'(Z) = dA ⊙ (A − A ⊙ A), in place
            torch.mul(a, a, out=t)
            torch.sub(a, t, out=t)
            d.mul_(t)
            # dA_prev = dZ·W, with W before its update; not needed for the first layer
            if l > 0:
                torch.mm(d, wt.t(), out=deltas[l - 1])
            # W −= η·dW with dW = (1/m)·dZᵀ·A_prev, fused into one product that updates W in
            # place (with W kept as Wᵀ: Wᵀ −= (η/m)·A_prevᵀ·dZ)
            wt.addmm_(a_prev.t(), d, alpha=-step)
            # B −= η·dB with dB = (1/m)·Σₙ dZ = (1/m)·dZᵀ·1, also one fused product
            b.addmv_(d.t(), ones, alpha=-step)
    return 0.5 * float(loss_sum) / count


def accuracy(layers, images, labels):
    """Fraction of `images` whose largest output is their label (one forward pass, untimed)."""
    a = images.to(torch.float32) * (1.0 / 255.0)
    for wt, b in layers:
        a = torch.sigmoid(torch.addmm(b, a, wt))
    return float((a.argmax(dim=1) == labels).to(torch.float64).mean())


@torch.no_grad()
def main():
    device = cuda_device(DEVICE) if DEVICE != "cpu" else torch.device("cpu")
    if device.type == "cuda":
        torch.set_float32_matmul_precision("highest")  # float32 products, no TF32
    train_images, train_labels, test_images, test_labels = mlp_common.load_mnist(args.data, np)
    mlp_common.check_data_fits(args, train_images, train_labels)
    classes = args.layers[-1]
    # np.frombuffer arrays are read-only; PyTorch wants its own copy (on the GPU, the copy there)
    images = torch.from_numpy(train_images.copy()).to(device)
    labels = torch.from_numpy(train_labels.astype(np.int64)).to(device)
    onehot = torch.nn.functional.one_hot(labels, classes).to(torch.float32)  # one_hot(label) of every image

    generator = torch.Generator().manual_seed(args.seed)
    layers = new_network(args.layers, generator, device)
    buffers = Buffers(layers, args.batch_size)

    seconds, losses = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        loss = train_epoch(layers, images, onehot, args.batch_size, args.lr, generator, buffers)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # the epoch ends when the GPU has done its work
        seconds.append(time.perf_counter() - start)
        losses.append(loss)
        if not np.isfinite(loss):
            sys.exit(f"error: the loss became {loss} in epoch {len(seconds)}; try a smaller --lr")
    mlp_common.report(
        args,
        "torch",
        torch.__version__,
        mlp_common.torch_blas_description(torch, device),
        torch.get_num_threads(),
        seconds,
        losses,
        accuracy(
            layers,
            torch.from_numpy(test_images.copy()).to(device),
            torch.from_numpy(test_labels.astype(np.int64)).to(device),
        ),
    )


if __name__ == "__main__":
    main()
