//! Data sets, preprocessing and plots: the library's functions that read or write files, with
//! NumPy arrays and PNG bytes on the Python side.
//!
//! What it is: `load_mnist`, `preprocess` and the native halves of the `plot_*` functions, each
//! of which draws with [`ziffer::plot`] into a temporary file and returns its bytes. What it is
//! not: the PNG object the Python half wraps them in.

use crate::errors;
use crate::inputs;
use crate::model::Model;
use numpy::{PyArray1, PyArray2, PyArray3, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::{Path, PathBuf};
use ziffer::data::{Dataset, TrainTest, classes, mnist};
use ziffer::preprocess::{SIDE, load_image, preprocess_bytes};

/// The bundled MNIST, or the one in `path`.
fn load_sets(path: Option<&Path>) -> PyResult<TrainTest> {
    match path {
        Some(dir) => mnist::load_dir(dir),
        None => mnist::load_bundled(),
    }
    .map_err(errors::data)
}

/// Images `(N, rows, cols)` and their labels `(N,)`.
type Labelled<'py> = (Bound<'py, PyArray3<u8>>, Bound<'py, PyArray1<u8>>);

/// Loads MNIST: `(images, labels)`, images `uint8` `(N, 28, 28)` (0 background .. 255 ink),
/// labels `uint8` `(N,)` (the digit).
///
/// `split`: `"train"` (60,000 images) or `"test"` (10,000). `path`: a folder with the four
/// MNIST-format files (`train-images-idx3-ubyte`, ..., `.gz` or not), e.g. Fashion-MNIST;
/// default the copy bundled with ziffer (verified against its SHA-256 sums).
#[pyfunction]
#[pyo3(signature = (split="train", path=None))]
pub fn load_mnist<'py>(
    py: Python<'py>,
    split: &str,
    path: Option<PathBuf>,
) -> PyResult<Labelled<'py>> {
    if split != "train" && split != "test" {
        return Err(PyValueError::new_err(format!(
            "split must be \"train\" or \"test\", got {split:?}"
        )));
    }
    let sets = py.detach(|| load_sets(path.as_deref()))?;
    let set = if split == "train" {
        sets.train
    } else {
        sets.test
    };
    let (n, rows, cols) = (set.len(), set.rows(), set.cols());
    let images = PyArray1::from_slice(py, set.pixels()).reshape([n, rows, cols])?;
    let labels = PyArray1::from_slice(py, set.labels());
    Ok((images, labels))
}

/// Brings a photo or drawing of a digit to MNIST's form, as `ziffer predict` does: `float32`
/// `(28, 28)` in [0, 1], 0 background and 1 ink, the digit fitted in a 20x20 box and centred
/// by its centre of mass.
///
/// `image`: a path (str or os.PathLike) to a PNG, JPEG, BMP, GIF or WebP file, or the file's
/// bytes. Dark ink on light paper and light on dark both work. Raises DataError if the image
/// cannot be decoded or holds no digit.
#[pyfunction]
pub fn preprocess<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let result = if let Ok(bytes) = image.cast::<PyBytes>() {
        let bytes = bytes.as_bytes().to_vec();
        py.detach(|| preprocess_bytes(&bytes, Path::new("<bytes>")))
    } else {
        let path: PathBuf = image.extract().map_err(|_| {
            PyValueError::new_err("expected a path (str or os.PathLike) or the image's bytes")
        })?;
        py.detach(|| load_image(&path))
    };
    let done = result.map_err(errors::data)?;
    PyArray1::from_vec(py, done.inputs().to_vec()).reshape([SIDE, SIDE])
}

/// Draws with `draw` into a temporary PNG file and returns its bytes.
fn png<'py>(
    py: Python<'py>,
    draw: impl FnOnce(&Path) -> ziffer::Result<()> + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = py.detach(|| -> PyResult<Vec<u8>> {
        let dir = tempfile::tempdir().map_err(|e| errors::ZifferError::new_err(e.to_string()))?;
        let path = dir.path().join("plot.png");
        draw(&path).map_err(errors::other)?;
        std::fs::read(&path).map_err(|e| errors::ZifferError::new_err(e.to_string()))
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// The images `x` (as `Model.predict` takes them, 28x28 or another square) and `labels` as a
/// data set.
fn dataset(x: &Bound<'_, PyAny>, labels: Vec<u8>, p: usize) -> PyResult<Dataset> {
    let pixels = inputs::read(x, p)?;
    if labels.len() != pixels.n {
        return Err(PyValueError::new_err(format!(
            "{} images but {} labels: give one label per image",
            pixels.n,
            labels.len()
        )));
    }
    let side = (p as f64).sqrt().round() as usize;
    Dataset::new(pixels.to_bytes(), labels, side, p / side.max(1), "images")
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// PNG bytes of the model's learning curves (native half of `ziffer.plot_curves`).
#[pyfunction]
pub fn plot_curves<'py>(py: Python<'py>, model: &Model) -> PyResult<Bound<'py, PyBytes>> {
    let history = &model.inner.training.history;
    if history.is_empty() {
        return Err(PyValueError::new_err(
            "the model has no history: it was never trained",
        ));
    }
    png(py, |path| ziffer::plot::curves(history, path))
}

/// PNG bytes of the model's confusion matrix on `images`, `labels`, or on the bundled test
/// set (native half of `ziffer.plot_confusion`).
#[pyfunction]
#[pyo3(signature = (model, images=None, labels=None))]
pub fn plot_confusion<'py>(
    py: Python<'py>,
    model: &Model,
    images: Option<&Bound<'py, PyAny>>,
    labels: Option<Vec<u8>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let network = &model.inner.network;
    let data = match (images, labels) {
        (Some(x), Some(labels)) => dataset(x, labels, network.inputs())?,
        (None, None) => py.detach(|| load_sets(None))?.test,
        _ => {
            return Err(PyValueError::new_err(
                "give both images and labels, or neither",
            ));
        }
    };
    let classes = &model.inner.classes;
    png(py, |path| {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let engine = ziffer::cpu::Cpu::new(cores)?;
        let evaluation = ziffer::metrics::evaluate(&engine, network, &data)?;
        ziffer::plot::confusion(&evaluation, classes, path)
    })
}

/// PNG bytes of the first layer's weights, one image per neuron (native half of
/// `ziffer.plot_weights`).
#[pyfunction]
pub fn plot_weights<'py>(py: Python<'py>, model: &Model) -> PyResult<Bound<'py, PyBytes>> {
    png(py, |path| ziffer::plot::weights(&model.inner.network, path))
}

/// PNG bytes of `images` in a grid, each with its label (native half of `ziffer.plot_digits`).
#[pyfunction]
#[pyo3(signature = (images, labels, title="digits"))]
pub fn plot_digits<'py>(
    py: Python<'py>,
    images: &Bound<'py, PyAny>,
    labels: Vec<u8>,
    title: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let data = dataset(images, labels, SIDE * SIDE)?;
    let names = classes::digits();
    png(py, |path| {
        ziffer::plot::digits(&data, 0..data.len(), title, &names, path)
    })
}
