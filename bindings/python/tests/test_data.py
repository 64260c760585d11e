"""load_mnist, preprocess and the plots."""

import io

import numpy as np
import pytest

import ziffer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_load_mnist_gives_the_bundled_sets(test_set):
    images, labels = ziffer.load_mnist()
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    test_images, test_labels = test_set
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))
    assert test_labels[:3].tolist() == [7, 2, 1]


def test_load_mnist_refuses_another_split():
    with pytest.raises(ValueError, match="train"):
        ziffer.load_mnist("validation")


def test_load_mnist_from_a_folder_without_the_files_raises_data_error(tmp_path):
    with pytest.raises(ziffer.DataError):
        ziffer.load_mnist("test", path=tmp_path)


def drawn_digit_png(ink=0, paper=255) -> bytes:
    """A PNG of a thick '7' drawn on paper, as a photo of a digit would be."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (120, 160), paper)
    draw = ImageDraw.Draw(image)
    draw.line([(20, 25), (100, 25), (50, 140)], fill=ink, width=14)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_preprocess_brings_a_drawing_to_mnist_form(tmp_path):
    pytest.importorskip("PIL")
    data = drawn_digit_png()
    path = tmp_path / "seven.png"
    path.write_bytes(data)
    x = ziffer.preprocess(path)
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    # The top rows are background (0), as in MNIST, and the digit a stroke, not a blot.
    assert x[:2].max() == 0
    assert 30 < (x > 0.5).sum() < 300
    np.testing.assert_array_equal(ziffer.preprocess(data), x)
    np.testing.assert_array_equal(ziffer.preprocess(str(path)), x)


def test_light_ink_on_dark_paper_gives_the_same_digit():
    pytest.importorskip("PIL")
    dark_on_light = ziffer.preprocess(drawn_digit_png(ink=0, paper=255))
    light_on_dark = ziffer.preprocess(drawn_digit_png(ink=255, paper=0))
    np.testing.assert_allclose(light_on_dark, dark_on_light, atol=2 / 255)


def test_a_preprocessed_image_can_be_predicted(model):
    pytest.importorskip("PIL")
    x = ziffer.preprocess(drawn_digit_png())
    assert model.predict(x).shape == (1,)
    assert model.probabilities(x).shape == (1, 10)


def test_preprocess_refuses_what_is_not_an_image():
    with pytest.raises(ziffer.DataError):
        ziffer.preprocess(b"this is not an image")


def test_a_blank_image_holds_no_digit():
    pytest.importorskip("PIL")
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (50, 50), 255).save(out, format="PNG")
    with pytest.raises(ziffer.DataError, match="no digit"):
        ziffer.preprocess(out.getvalue())


def test_preprocess_refuses_a_number():
    with pytest.raises(ValueError):
        ziffer.preprocess(42)


def test_the_plots_are_png(model, test_set, tmp_path):
    images, labels = test_set
    plots = [
        ziffer.plot_curves(model),
        ziffer.plot_confusion(model),
        ziffer.plot_confusion(model, images[:200], labels[:200]),
        ziffer.plot_weights(model),
        ziffer.plot_digits(images[:16], labels[:16]),
        ziffer.plot_digits(images[:4].astype(np.float32) / 255, [0, 1, 2, 3], title="four"),
    ]
    for plot in plots:
        assert plot.data.startswith(PNG_SIGNATURE)
        assert plot._repr_png_() == plot.data
    plots[0].save(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes() == plots[0].data


def test_plot_digits_needs_a_label_per_image(test_set):
    images, labels = test_set
    with pytest.raises(ValueError, match="labels"):
        ziffer.plot_digits(images[:4], labels[:3])


def test_the_html_shows_the_architecture_and_the_curves(model):
    html = model._repr_html_()
    assert "784 → 128 → 64 → 10" in html
    assert "109,386" in html
    assert "data:image/png;base64," in html
