"""The Model: loading and saving, predictions on every accepted input, bad inputs refused, ONNX."""

import pathlib

import numpy as np
import pytest

import ziffer


def test_a_saved_model_loads_back_the_same(model, tmp_path, test_set):
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = ziffer.load(str(path))
    assert loaded.layers == model.layers == [784, 128, 64, 10]
    assert loaded.classes == model.classes == [str(d) for d in range(10)]
    assert loaded.history == model.history
    images = test_set[0][:300]
    np.testing.assert_array_equal(loaded.outputs(images), model.outputs(images))


def test_history_has_one_dict_per_epoch_with_every_field(model):
    (epoch,) = model.history
    assert epoch["epoch"] == 1
    assert epoch["lr"] == 3.0
    assert epoch["train_loss"] > 0
    assert 0.5 < epoch["validation_accuracy"] <= 1
    assert epoch["test_accuracy"] == model.test_accuracy
    assert epoch["seconds"] > 0


def test_predict_on_the_test_set_gives_the_recorded_test_accuracy(model, test_set):
    images, labels = test_set
    predicted = model.predict(images)
    assert predicted.dtype == np.int64 and predicted.shape == (10000,)
    assert (predicted == labels).mean() == pytest.approx(model.test_accuracy, abs=1e-12)


def test_uint8_and_float_inputs_give_the_same_outputs(model, test_set):
    # uint8 pixels become p * (1/255) in float32, as in training: the same bits as here.
    images = test_set[0][:500]
    floats = images.astype(np.float32) * np.float32(1 / 255)
    expected = model.outputs(images)
    np.testing.assert_array_equal(model.outputs(floats), expected)
    np.testing.assert_array_equal(model.outputs(floats.reshape(500, 784)), expected)
    np.testing.assert_array_equal(model.predict(images), model.predict(floats))
    # Dividing by 255 may differ in the last bit of a pixel, not in the answers.
    divided = images / 255
    np.testing.assert_allclose(model.outputs(divided), expected, atol=1e-5)
    np.testing.assert_array_equal(model.predict(divided), model.predict(images))


def test_a_single_image_is_read_in_either_shape(model, test_set):
    image = test_set[0][7]
    expected = model.predict(test_set[0][7:8])
    assert model.predict(image).tolist() == expected.tolist()
    assert model.predict(image.reshape(784)).tolist() == expected.tolist()


def test_a_strided_array_is_read_like_a_contiguous_one(model, test_set):
    images = test_set[0][:200].astype(np.float32) / 255
    np.testing.assert_array_equal(model.outputs(images[::2]), model.outputs(images[::2].copy()))


def test_probabilities_are_rows_summing_to_one(model, test_set):
    p = model.probabilities(test_set[0][:100])
    assert p.dtype == np.float32 and p.shape == (100, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (p >= 0).all()
    np.testing.assert_array_equal(p.argmax(axis=1), model.predict(test_set[0][:100]))


BAD_INPUTS = {
    "wrong image size": np.zeros((27, 27), np.uint8),
    "wrong pixel count": np.zeros((3, 783), np.float32),
    "four dimensions": np.zeros((1, 1, 28, 28), np.uint8),
    "NaN": np.full((28, 28), np.nan, np.float32),
    "above 1": np.full((784,), 1.5, np.float32),
    "below 0": np.full((2, 784), -0.1, np.float64),
    "int64 pixels": np.zeros((28, 28), np.int64),
    "bool pixels": np.zeros((28, 28), bool),
    "a list": [[0] * 784],
    "a string": "digit.png",
}


@pytest.mark.parametrize("what", BAD_INPUTS)
def test_every_bad_input_raises_value_error(model, what):
    with pytest.raises(ValueError):
        model.predict(BAD_INPUTS[what])
    with pytest.raises(ValueError):
        model.probabilities(BAD_INPUTS[what])


def test_the_message_names_the_bad_pixel(model):
    x = np.zeros((2, 784), np.float32)
    x[1, 5] = 2.0
    with pytest.raises(ValueError, match="pixel 5 of image 1"):
        model.predict(x)


def test_a_text_file_is_not_a_model(tmp_path):
    path = tmp_path / "notes.safetensors"
    path.write_text("this is not a model\n")
    with pytest.raises(ziffer.ModelFileError):
        ziffer.load(path)


def test_a_python_source_file_is_not_a_model():
    with pytest.raises(ziffer.ModelFileError, match="not a usable ziffer model"):
        ziffer.load(pathlib.Path(__file__))


def test_a_missing_model_file_raises_model_file_error(tmp_path):
    with pytest.raises(ziffer.ModelFileError):
        ziffer.load(tmp_path / "missing.safetensors")


def test_the_errors_are_ziffer_errors():
    for error in (ziffer.DataError, ziffer.ModelFileError, ziffer.TrainingError):
        assert issubclass(error, ziffer.ZifferError)
    assert issubclass(ziffer.ZifferError, Exception)


def test_onnx_runtime_gives_the_same_outputs(model, tmp_path, test_set):
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "model.onnx"
    model.export_onnx(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = test_set[0][:500].reshape(500, 784).astype(np.float32) / 255
    (scores,) = session.run(["scores"], {"pixels": x})
    np.testing.assert_allclose(scores, model.outputs(x), atol=1e-5)
    np.testing.assert_array_equal(scores.argmax(axis=1), model.predict(x))


def test_repr_names_the_layers(model):
    assert "784-128-64-10" in repr(model)
