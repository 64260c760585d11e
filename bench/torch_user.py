"""ziffer's network and training step written in PyTorch the way its users write it, for timing
against ziffer.

What it is: the textbook PyTorch program: the network as an `nn.Sequential` of `nn.Linear` and
`nn.Sigmoid` (784-128-64-10, a sigmoid after every layer, PyTorch's default initialisation), the
images as one float32 tensor `p / 255` in a `TensorDataset`, a `DataLoader(batch_size=32,
shuffle=True)` that draws a fresh order every epoch, the loss `½‖A − Y‖²` averaged over the batch
written as a tensor expression, `loss.backward()` (autograd) and `torch.optim.SGD(lr=3)`'s
`step()` after `zero_grad()`. Nothing is tuned: this is what a tutorial or a course writes, and so
what most people who train this network in PyTorch run.

What it is not: the hand-optimised reference (`torch_mlp.py`, the same algorithm with every buffer
allocated once and the fused products), nor bit-for-bit ziffer: PyTorch draws its own weights (its
`nn.Linear` default, `U(−1/√I, 1/√I)`, where ziffer draws `N(0, 1/I)`) and its own order. The
algorithm is the same: dense layers, sigmoids, `½‖A − Y‖²` averaged over each mini-batch of 32
(the last one smaller), plain SGD at a constant rate 3.

    python3 bench/torch_user.py --epochs 1 --threads 1 --json
"""

import sys
import time

import mlp_common

args = mlp_common.parse_args("PyTorch, as users write it")  # sets the thread variables first

import numpy as np  # noqa: E402  (only to read the data files)
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)


def network(sizes):
    """`nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, ...)`, a sigmoid after every layer."""
    layers = []
    for inputs, outputs in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(inputs, outputs), nn.Sigmoid()]
    return nn.Sequential(*layers)


def half_squared_error(output, target):
    """`½‖A − Y‖²` of each image, averaged over the batch: ziffer's quadratic loss."""
    return 0.5 * ((output - target) ** 2).sum(dim=1).mean()


def main():
    torch.manual_seed(args.seed)
    train_images, train_labels, test_images, test_labels = mlp_common.load_mnist(args.data, np)
    mlp_common.check_data_fits(args, train_images, train_labels)
    x = torch.from_numpy(train_images.astype(np.float32) / 255.0)
    y = nn.functional.one_hot(torch.from_numpy(train_labels.astype(np.int64)), args.layers[-1]).float()
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)

    model = network(args.layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    seconds, losses = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        loss_sum = 0.0
        for images, targets in loader:
            optimizer.zero_grad()
            loss = half_squared_error(model(images), targets)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(images)
        seconds.append(time.perf_counter() - start)
        losses.append(loss_sum / len(x))
        if not np.isfinite(losses[-1]):
            sys.exit(f"error: the loss became {losses[-1]} in epoch {len(seconds)}; try a smaller --lr")

    with torch.no_grad():
        test = model(torch.from_numpy(test_images.astype(np.float32) / 255.0))
        accuracy = float((test.argmax(dim=1) == torch.from_numpy(test_labels.astype(np.int64))).double().mean())
    mlp_common.report(
        args,
        "torch-user",
        torch.__version__,
        mlp_common.torch_blas_description(torch, torch.device("cpu")),
        torch.get_num_threads(),
        seconds,
        losses,
        accuracy,
    )


if __name__ == "__main__":
    main()
