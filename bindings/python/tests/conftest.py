"""Shared fixtures: one quick model (1 epoch on 10,000 images) and the bundled test set."""

import pytest

import ziffer


@pytest.fixture(scope="session")
def model():
    """The original 784-128-64-10 sigmoid network after one epoch on 10,000 images."""
    return ziffer.train(epochs=1, limit=10000, progress=False)


@pytest.fixture(scope="session")
def test_set():
    return ziffer.load_mnist("test")
