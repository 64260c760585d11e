"""ziffer.train: options, the callback, stopping (an exception, Ctrl-C), and bad settings."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest

import ziffer


def test_the_callback_gets_each_epoch_as_in_the_history():
    seen = []
    model = ziffer.train(epochs=2, limit=300, validation=0, layers=[784, 16, 10], progress=False, callback=seen.append)
    assert [e["epoch"] for e in seen] == [1, 2]
    assert seen == model.history
    assert seen[0]["validation_accuracy"] is None


def test_options_reach_the_network():
    model = ziffer.train(
        epochs=1, limit=500, layers=[784, 32, 10], activation="relu", loss="cross-entropy",
        optimizer="adam", lr=0.001, dropout=0.1, batch_size=16, seed=7, threads=1, progress=False,
    )
    assert model.layers == [784, 32, 10]
    assert (model.activation, model.output, model.loss) == ("relu", "softmax", "cross-entropy")
    assert model.history[0]["lr"] == pytest.approx(0.001)
    images, _ = ziffer.load_mnist("test")
    p = model.probabilities(images[:50])
    np.testing.assert_array_equal(p, model.outputs(images[:50]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_label_smoothing_makes_the_network_less_sure():
    options = dict(
        epochs=2, limit=2000, validation=0, layers=[784, 32, 10], activation="relu", loss="cross-entropy",
        optimizer="adam", lr=0.002, threads=1, progress=False,
    )
    plain = ziffer.train(**options)
    smoothed = ziffer.train(label_smoothing=0.3, **options)
    images, _ = ziffer.load_mnist("test")
    sure = plain.probabilities(images[:500]).max(axis=1).mean()
    less_sure = smoothed.probabilities(images[:500]).max(axis=1).mean()
    assert less_sure < sure - 0.05, (sure, less_sure)
    assert smoothed.history[-1]["test_accuracy"] > 0.8


def test_weight_averaging_keeps_the_mean_and_survives_a_save(tmp_path):
    options = dict(
        epochs=3, limit=1000, validation=0, layers=[784, 16, 10], activation="relu", loss="cross-entropy",
        optimizer="nesterov", lr=0.05, threads=1, progress=False,
    )
    plain = ziffer.train(**options)
    averaged = ziffer.train(average_from=2, **options)
    images, _ = ziffer.load_mnist("test")
    # The first epoch is the same; from the second on the model is a mean, not the last weights.
    for key in ["train_loss", "test_accuracy"]:
        assert averaged.history[0][key] == plain.history[0][key]
    assert not np.array_equal(averaged.outputs(images[:100]), plain.outputs(images[:100]))
    assert averaged.history[-1]["test_accuracy"] > 0.8
    averaged.save(tmp_path / "averaged.safetensors")
    loaded = ziffer.load(tmp_path / "averaged.safetensors")
    np.testing.assert_array_equal(loaded.outputs(images[:100]), averaged.outputs(images[:100]))


def test_the_same_seed_trains_the_same_network():
    a = ziffer.train(epochs=1, limit=300, layers=[784, 8, 10], progress=False)
    b = ziffer.train(epochs=1, limit=300, layers=[784, 8, 10], progress=False, threads=1)
    assert a.history[0]["train_loss"] == b.history[0]["train_loss"]


def test_an_exception_in_the_callback_stops_training_and_propagates():
    calls = []

    def stop(epoch):
        calls.append(epoch)
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        ziffer.train(epochs=3, limit=300, layers=[784, 8, 10], progress=False, callback=stop)
    assert len(calls) == 1


@pytest.fixture
def ctrl_c():
    """Python's own Ctrl-C handler, as in a terminal or Jupyter (a process started in the
    background inherits SIGINT ignored, and then interrupt_main does nothing)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_keyboard_interrupt_from_the_callback_stops_training(ctrl_c):
    calls = []

    def interrupt(epoch):
        calls.append(epoch)
        _thread.interrupt_main()

    with pytest.raises(KeyboardInterrupt):
        ziffer.train(epochs=5, limit=300, layers=[784, 8, 10], progress=False, callback=interrupt)
    assert len(calls) == 1


def test_ctrl_c_during_an_epoch_stops_training_quickly(ctrl_c):
    # The signal arrives while Rust trains without the GIL, in the middle of a long epoch.
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ziffer.train(epochs=20, validation=0, progress=False)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 10


def test_other_threads_run_while_it_trains():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        ziffer.train(epochs=1, limit=3000, validation=0, progress=False)
    finally:
        stop.set()
        thread.join()
    assert len(ticks) > 5


@pytest.mark.parametrize(
    "options",
    [
        {"layers": [784, 0, 10]}, {"lr": "fast"}, {"lr": -1.0}, {"optimizer": "magic"}, {"dropout": 1.5},
        {"label_smoothing": 1.0}, {"label_smoothing": -0.1}, {"average_from": 0},
    ],
)
def test_an_unusable_setting_raises_training_error(options):
    with pytest.raises(ziffer.TrainingError):
        ziffer.train(epochs=1, limit=100, progress=False, **options)


@pytest.mark.parametrize("options", [{"activation": "swish"}, {"epochs": 0}, {"limit": 0}, {"lr": [1]}])
def test_a_bad_option_raises_value_error(options):
    with pytest.raises(ValueError):
        ziffer.train(**{"epochs": 1, "limit": 100, "progress": False, **options})


def test_a_missing_data_folder_raises_data_error(tmp_path):
    with pytest.raises(ziffer.DataError):
        ziffer.train(epochs=1, data=tmp_path, progress=False)


def test_the_progress_bar_does_not_get_in_the_way():
    pytest.importorskip("tqdm")
    model = ziffer.train(epochs=1, limit=200, layers=[784, 8, 10], progress=True)
    assert len(model.history) == 1


def test_a_network_too_big_for_the_machine_raises_training_error_before_allocating():
    with pytest.raises(ziffer.TrainingError, match="needs at least 636 GB to train"):
        ziffer.train(layers=[784, 100_000_000, 10], epochs=1, progress=False)
