"""Checks that the fast NumPy and PyTorch references compute ziffer's algorithm, against a naive one.

What it is: a test of `numpy_mlp.train_epoch` and `torch_mlp.train_epoch` on a tiny made-up data
set (10 images of 20 pixels, a 20-7-5-3 network, batches of 4, so the last batch has 2): each must
end with the same weights, to float32 rounding, as `naive_epoch`, a plain float64 version that
follows the formulas image by image, in the same order. What it is not: a speed test.

    bench/.venv/bin/python bench/check_references.py      # PyTorch too, if installed
    bench/.venv/bin/python bench/check_references.py --no-torch
"""

import sys

CHECK_TORCH = "--no-torch" not in sys.argv[1:]
sys.argv = [sys.argv[0], "--threads", "1"]  # what the references parse when they are imported
import numpy_mlp  # noqa: E402  (sets the thread variables, then imports NumPy)

np = numpy_mlp.np
SIZES, IMAGES, BATCH, LR, TOLERANCE = [20, 7, 5, 3], 10, 4, 3.0, 1e-5


def naive_epoch(layers, images, onehot, order, batch_size, lr):
    """The formulas, per image and in float64: for each batch, for each image, forward
    `a = σ(W·a_prev + b)`, backward `dz = (a − y) ⊙ a ⊙ (1 − a)` for the last layer and
    `dz = (Wᵀ_next·dz_next) ⊙ a ⊙ (1 − a)` below it, `dW += dz·a_prevᵀ`, `dB += dz`; then
    `W −= η·dW/m`, `B −= η·dB/m`. `layers` is `[(W, B)]` with `W` of shape `(O, I)`."""
    layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in layers]
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers]
        for i in batch:
            acts = [images[i].astype(np.float64) / 255.0]
            for w, b in layers:
                acts.append(1.0 / (1.0 + np.exp(-(w @ acts[-1] + b))))
            da = acts[-1] - onehot[i]
            for l in range(len(layers) - 1, -1, -1):
                a = acts[l + 1]
                dz = da * a * (1.0 - a)
                grads[l][0][...] += np.outer(dz, acts[l])
                grads[l][1][...] += dz
                da = layers[l][0].T @ dz
        for (w, b), (dw, db) in zip(layers, grads):
            w -= lr * dw / len(batch)
            b -= lr * db / len(batch)
    return layers


def largest_difference(expected, layers_t):
    """The largest difference between `expected` `[(W, B)]` and references' `[(Wᵀ, B)]`."""
    return max(
        max(np.abs(w - np.asarray(wt).T).max(), np.abs(b - np.asarray(bt)).max())
        for (w, b), (wt, bt) in zip(expected, layers_t)
    )


def main():
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(IMAGES, SIZES[0]), dtype=np.uint8)
    labels = rng.integers(0, SIZES[-1], size=IMAGES)
    onehot = np.eye(SIZES[-1], dtype=np.float32)[labels]
    start = numpy_mlp.new_network(SIZES, rng)  # [(Wᵀ, B)]
    start_w = [(wt.T.copy(), b.copy()) for wt, b in start]
    failures = 0

    # NumPy: the order is the next permutation of the generator train_epoch is given
    order = np.random.default_rng(1).permutation(IMAGES)
    expected = naive_epoch(start_w, images, onehot, order, BATCH, LR)
    layers = [(wt.copy(), b.copy()) for wt, b in start]
    numpy_mlp.train_epoch(layers, images, onehot, BATCH, LR, np.random.default_rng(1), numpy_mlp.new_buffers(layers, BATCH))
    failures += report("numpy_mlp", largest_difference(expected, layers))

    try:
        if not CHECK_TORCH:
            raise ImportError("--no-torch")
        import torch_mlp
    except ImportError as e:
        print(f"skip torch_mlp: {e}")
    else:
        torch = torch_mlp.torch
        generator = torch.Generator().manual_seed(1)
        order = torch.randperm(IMAGES, generator=torch.Generator().manual_seed(1)).numpy()
        expected = naive_epoch(start_w, images, onehot, order, BATCH, LR)
        layers = [(torch.from_numpy(wt.copy()), torch.from_numpy(b.copy())) for wt, b in start]
        with torch.no_grad():
            torch_mlp.train_epoch(
                layers, torch.from_numpy(images), torch.from_numpy(onehot), BATCH, LR, generator,
                torch_mlp.Buffers(layers, BATCH),
            )
        failures += report("torch_mlp", largest_difference(expected, [(wt.numpy(), b.numpy()) for wt, b in layers]))
    sys.exit(1 if failures else 0)


def report(name, difference):
    ok = difference < TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {name}: weights after one epoch differ from the naive float64 "
          f"version by at most {difference:.2e} (tolerance {TOLERANCE:.0e})")
    return 0 if ok else 1


if __name__ == "__main__":
    main()
