"""ziffer: a neural network written from scratch in Rust that learns to read handwritten digits.

This package is ziffer's library behind a small Python API: load or train a model, predict on
NumPy arrays, bring a photo of a digit to MNIST's form, export to ONNX, and draw plots that show
inline in Jupyter. The maths runs in Rust on the CPU, with the GIL released while it trains.

>>> import ziffer
>>> model = ziffer.train(epochs=1, limit=5000, progress=False)
>>> images, labels = ziffer.load_mnist("test")
>>> (model.predict(images) == labels).mean() > 0.8
True

What it is not: a general neural-network library; the network is ziffer's multilayer
perceptron, and the command line (`ziffer train`, `ziffer serve`, ...) does the same things.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence, Union

from . import _ziffer
from ._ziffer import (
    DataError,
    Model,
    ModelFileError,
    TrainingError,
    ZifferError,
    load,
    load_mnist,
    preprocess,
)

__all__ = [
    "DataError",
    "Model",
    "ModelFileError",
    "Png",
    "TrainingError",
    "ZifferError",
    "load",
    "load_mnist",
    "plot_confusion",
    "plot_curves",
    "plot_digits",
    "plot_weights",
    "preprocess",
    "train",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Png:
    """A PNG picture: its bytes in `.data`; Jupyter shows it inline (`_repr_png_`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the PNG to `path`."""
        with open(path, "wb") as file:
            file.write(self.data)

    def __repr__(self) -> str:
        return f"<ziffer.Png, {len(self.data)} bytes>"


def train(
    *,
    layers: Sequence[int] = (784, 128, 64, 10),
    epochs: Optional[int] = None,
    lr: Union[float, str, None] = None,
    batch_size: int = 32,
    seed: int = 42,
    activation: str = "sigmoid",
    output: Optional[str] = None,
    loss: Optional[str] = None,
    optimizer: str = "sgd",
    dropout: float = 0.0,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    average_from: Optional[int] = None,
    augment: str = "none",
    validation: Optional[int] = None,
    limit: Optional[int] = None,
    data: Union[str, os.PathLike, None] = None,
    threads: Optional[int] = None,
    progress: bool = True,
    callback: Optional[Callable[[dict], Any]] = None,
) -> Model:
    """Trains a new network, as `ziffer train` does, and returns the Model.

    The defaults are the original network: 784-128-64-10, sigmoids, the quadratic loss, plain
    SGD on mini-batches of 32, seed 42, and the measured schedule `3x25,0.3x5,0.03x3` (33
    epochs: rate 3 for 25 epochs, then 0.3 for 5, then 0.03 for 3).

    - `epochs`: passes over the training set (default: the schedule's total, 10 for one rate).
    - `lr`: one rate (`0.1`) or a schedule as text (`"3x25,0.3x5"`, `"cosine:0.1x30"`).
    - `activation`: `sigmoid`, `tanh`, `scaled-tanh`, `relu` or `leaky-relu`; `output`: `sigmoid` or
      `softmax`; `loss`: `quadratic` or `cross-entropy` (each left out is chosen to fit).
    - `optimizer`: `sgd`, `momentum[=0.9]`, `nesterov[=0.9]` or `adam[=0.9/0.999]`.
    - `dropout`, `weight_decay`, `label_smoothing` (targets `1 - ε + ε/K` and `ε/K`):
      regularisation; `augment`: `none`, `affine`, `elastic` or a spec.
    - `average_from`: stochastic weight averaging from that epoch on (the model is the mean of
      the weights after each epoch from then; training goes on from the last ones).
    - `validation`: training images held out (the last ones), default 5,000 (0 if fewer than
      10,000); `limit`: train on the first `limit` images only, for quick runs.
    - `data`: a folder of MNIST-format files (default the bundled MNIST); `threads`: default
      one per core.
    - `progress`: a tqdm bar over the epochs, if tqdm is installed.
    - `callback(epoch)`: called after each epoch with that epoch's dict (as in
      `Model.history`); an exception it raises stops training and propagates.

    Ctrl-C (KeyboardInterrupt) stops training within a tenth of a second and is raised.
    Unusable settings raise TrainingError (or ValueError for an unknown name), data that
    cannot be read DataError.
    """
    bar = _progress_bar(epochs, lr) if progress else None

    def on_epoch(record: dict) -> None:
        if bar is not None:
            bar.update(1)
            postfix = {"loss": f"{record['train_loss']:.4f}", "test": f"{record['test_accuracy']:.2%}"}
            if record["validation_accuracy"] is not None:
                postfix["validation"] = f"{record['validation_accuracy']:.2%}"
            bar.set_postfix(postfix)
        if callback is not None:
            callback(record)

    try:
        return _ziffer.train(
            layers=list(layers),
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            activation=activation,
            output=output,
            loss=loss,
            optimizer=optimizer,
            dropout=dropout,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            average_from=average_from,
            augment=augment,
            validation=validation,
            limit=limit,
            data=None if data is None else os.fspath(data),
            threads=threads,
            on_epoch=on_epoch,
        )
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(epochs: Optional[int], lr: Union[float, str, None]):
    """A tqdm bar over the epochs, or None without tqdm."""
    import warnings

    try:
        with warnings.catch_warnings():
            # Without ipywidgets, tqdm.auto warns in Jupyter and draws a text bar: good enough.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None
    total = epochs
    if total is None and lr is None:
        total = 33  # the default schedules' 25 + 5 + 3 epochs
    elif total is None and not isinstance(lr, str):
        total = 10  # one rate: ten epochs, as `ziffer train`
    return tqdm(total=total, unit="epoch", desc="training")


def plot_curves(model: Model) -> Png:
    """The learning curves: training loss and test (and validation) accuracy per epoch."""
    return Png(_ziffer.plot_curves(model))


def plot_confusion(model: Model, images: Any = None, labels: Any = None) -> Png:
    """The confusion matrix of `model` on `images` and `labels` (as `Model.predict` takes
    them), default the bundled MNIST test set: rows are the true digits, columns the answers."""
    if (images is None) != (labels is None):
        raise ValueError("give both images and labels, or neither")
    if labels is not None:
        labels = _labels(labels)
    return Png(_ziffer.plot_confusion(model, images, labels))


def plot_weights(model: Model) -> Png:
    """The first layer's weights as images, one per neuron: what each looks for."""
    return Png(_ziffer.plot_weights(model))


def plot_digits(images: Any, labels: Any, title: str = "digits") -> Png:
    """`images` (as `Model.predict` takes them, e.g. `(N, 28, 28)` uint8) in a grid, each with
    its label under it. Pass a slice (say 32 or 64 images): every image given is drawn."""
    return Png(_ziffer.plot_digits(images, _labels(labels), title))


def _labels(labels: Any) -> list:
    """Labels as a list of ints 0..=255 (the library checks they are classes)."""
    import numpy as np

    array = np.asarray(labels)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be a 1-d array of integers, got {array.dtype} of shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError("labels must be class numbers from 0")
    return array.astype(np.uint8).tolist()
