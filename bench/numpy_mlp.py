"""ziffer's training algorithm written out in NumPy, for timing against ziffer.

What it is: the same network (dense layers, a sigmoid after every layer, `W ~ N(0, 1/I)`, `B = 0`),
loss (`½‖A − Y‖²`, so `dA[L] = A[L] − Y`), data (pixels / 255 in float32, a fresh permutation of
the training images every epoch, mini-batches of 32 with a smaller last one) and update
(`W −= η·dW`, `B −= η·dB`) as ziffer, float32 throughout, forward and backward by hand, written
for speed: every buffer is allocated once and every operation writes into one (`out=`).
What it is not: bit-for-bit ziffer. The random numbers come from NumPy's generator, not ziffer's
ChaCha8, so the initial weights and the order of the images differ (their distributions do not).

Shapes, stated once: `N` images in a batch, `I` inputs and `O` outputs of a layer. Unlike ziffer,
whose batch matrices have one column per image, a batch here has one row per image, the natural
layout for NumPy (C order): `A` is `(N, I)`, so `Z = A_prev·Wᵀ + B` and every formula is ziffer's
transposed. `W` is `(O, I)` as in ziffer and its model files, but kept here as its transpose `Wᵀ`,
`(I, O)` and contiguous: OpenBLAS multiplies `A_prev·Wᵀ` faster that way than through a transposed
view of `W` (measured on a 2-core AMD EPYC, batch 32: 76 µs instead of 111 µs for the first layer,
about 10% of the epoch), and the backward products cost the same either way.

    python3 bench/numpy_mlp.py --epochs 1 --threads 1 --json
"""

import sys
import time

import mlp_common

args = mlp_common.parse_args("NumPy")  # sets the thread variables: before NumPy is imported

import numpy as np  # noqa: E402


def blas_description():
    """The BLAS that NumPy calls for `matmul`, e.g. `"OpenBLAS 0.3.30 (Zen kernel, pthreads)"`,
    and its thread count (None if unknown)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            p = blas[0]
            name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(p["internal_api"], p["internal_api"])
            details = [d for d in (p.get("architecture") or p.get("corename"), p.get("threading_layer")) if d]
            kernel = f" ({details[0]} kernel" + "".join(f", {d}" for d in details[1:]) + ")" if details else ""
            return f"{name} {p.get('version') or '?'}{kernel}", p.get("num_threads")
    # Without threadpoolctl: what NumPy was built against (not the kernel it chose at run time).
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '?')} (build configuration)", None
    except Exception:  # older NumPy: show_config prints only
        return "unknown (install threadpoolctl)", None


def sigmoid_(z):
    """`A = σ(Z) = 1 / (1 + e^(−Z))`, in place. `e^(−Z)` overflows to inf for `Z < −88`, and
    `1/(1 + inf) = 0` as it should, so the overflow warning is silenced (see `main`)."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)


def new_network(sizes, rng):
    """`[(Wᵀ, B), ...]`, one pair per layer: `W ~ N(0, 1/I)` of shape `(O, I)`, kept as its
    contiguous transpose `(I, O)`; `B = 0` of shape `(O,)`."""
    layers = []
    for inputs, outputs in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((outputs, inputs), dtype=np.float32)
        w *= np.float32(np.sqrt(1.0 / inputs))
        layers.append((np.ascontiguousarray(w.T), np.zeros(outputs, dtype=np.float32)))
    return layers


def new_buffers(layers, capacity):
    """Every array one batch needs, allocated once for batches of up to `capacity` images (a
    smaller last batch uses their first rows)."""
    inputs = layers[0][0].shape[0]
    classes = len(layers[-1][1])
    return (
        np.empty((capacity, inputs), dtype=np.float32),  # X, (N, 784)
        np.empty((capacity, classes), dtype=np.float32),  # Y, (N, 10)
        [np.empty((capacity, len(b)), dtype=np.float32) for _, b in layers],  # A of each layer, (N, O)
        [np.empty((capacity, len(b)), dtype=np.float32) for _, b in layers],  # dA, then dZ, then (η/m)·dZ, (N, O)
        [np.empty((capacity, len(b)), dtype=np.float32) for _, b in layers],  # σ'(Z), (N, O)
        [np.empty_like(wt) for wt, _ in layers],  # η·dWᵀ, (I, O)
        [np.empty_like(b) for _, b in layers],  # η·dB, (O,)
    )


def train_epoch(layers, images, onehot, batch_size, lr, rng, buffers):
    """One epoch of mini-batch SGD over `images` (uint8 `(60000, 784)`) with targets `onehot`
    (float32 `(60000, 10)`); returns the mean loss `½‖A − Y‖²` over the images, before each
    batch's update, as ziffer's `train_loss`."""
    x, y, acts, deltas, tmps, dwts, dbs = buffers
    scale = np.float32(1.0 / 255.0)
    count = len(images)
    order = rng.permutation(count)  # a fresh order every epoch
    loss_sum = 0.0
    for start in range(0, count, batch_size):
        indices = order[start : start + batch_size]
        n = len(indices)  # the last batch may be smaller: every buffer is used as its first n rows
        # next batch: the pixels stay uint8 in memory and become p / 255 in float32 here, per
        # batch, as in ziffer (converting all 60,000 images once up front measured no faster)
        xb = x[:n]
        np.multiply(images[indices], scale, out=xb)
        yb = y[:n]
        np.take(onehot, indices, axis=0, out=yb)

        # forward: for each layer Z = A_prev·Wᵀ + B, then A = σ(Z), in place; every A is kept,
        # as backward needs A_prev for dW and A for σ'(Z) = A ⊙ (1 − A)
        a_prev = xb
        for (wt, b), a in zip(layers, acts):
            a = a[:n]
            np.matmul(a_prev, wt, out=a)
            a += b
            sigmoid_(a)
            a_prev = a

        # loss and its gradient: dA[L] = A[L] − Y
        d = deltas[-1][:n]
        np.subtract(acts[-1][:n], yb, out=d)
        loss_sum += 0.5 * float(np.vdot(d, d))

        # backward and update, last layer first
        step = np.float32(lr / n)
        for l in range(len(layers) - 1, -1, -1):
            wt, b = layers[l]
            a = acts[l][:n]
            a_prev = acts[l - 1][:n] if l > 0 else xb
            d = deltas[l][:n]
            # dZ = dA ⊙ σ'(Z) = dA ⊙ A ⊙ (1 − A), in place
            t = tmps[l][:n]
            np.subtract(1.0, a, out=t)
            t *= a
            d *= t
            # dA_prev = dZ·W, with W before its update; not needed for the first layer
            if l > 0:
                np.matmul(d, wt.T, out=deltas[l - 1][:n])
            # dW = (1/m)·dZᵀ·A_prev and dB = (1/m)·Σₙ dZ, then W −= η·dW, B −= η·dB:
            # η/m is folded into dZ (N x O) instead of being applied to dW (O x I), which saves
            # a pass over the largest matrix; the arithmetic is the same. With W kept as Wᵀ,
            # the product is dWᵀ = A_prevᵀ·dZ, (I, O).
            d *= step
            np.matmul(a_prev.T, d, out=dwts[l])
            wt -= dwts[l]
            np.sum(d, axis=0, out=dbs[l])
            b -= dbs[l]
    return loss_sum / count


def accuracy(layers, images, labels):
    """Fraction of `images` whose largest output is their label (one forward pass, untimed)."""
    a = images.astype(np.float32) * np.float32(1.0 / 255.0)
    for wt, b in layers:
        a = a @ wt + b
        sigmoid_(a)
    return float(np.mean(a.argmax(axis=1) == labels))


def main():
    np.seterr(over="ignore")  # e^(−Z) for large −Z: inf is the right answer, see sigmoid_
    train_images, train_labels, test_images, test_labels = mlp_common.load_mnist(args.data, np)
    mlp_common.check_data_fits(args, train_images, train_labels)
    classes = args.layers[-1]
    onehot = np.eye(classes, dtype=np.float32)[train_labels]  # one_hot(label) of every image

    rng = np.random.default_rng(args.seed)
    layers = new_network(args.layers, rng)
    buffers = new_buffers(layers, args.batch_size)

    seconds, losses = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        loss = train_epoch(layers, train_images, onehot, args.batch_size, args.lr, rng, buffers)
        seconds.append(time.perf_counter() - start)
        losses.append(loss)
        if not np.isfinite(loss):
            sys.exit(f"error: the loss became {loss} in epoch {len(seconds)}; try a smaller --lr")
    blas, blas_threads = blas_description()
    mlp_common.report(
        args,
        "numpy",
        np.__version__,
        blas,
        blas_threads,
        seconds,
        losses,
        accuracy(layers, test_images, test_labels),
    )


if __name__ == "__main__":
    main()
