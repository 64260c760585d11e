//! The `Model` class: a trained network and its record, loaded from or saved to a model file,
//! predicting on NumPy arrays.
//!
//! What it is: [`ziffer::model::Model`] behind Python properties and methods. What it is not:
//! the checks on pixel arrays (`inputs.rs`) or training (`training.rs`).

use crate::errors;
use crate::inputs;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use ziffer::cpu::Cpu;
use ziffer::engine::EVAL_BATCH;
use ziffer::nn::activation::Output;
use ziffer::nn::network::predicted_classes;

/// A network and how it was trained: what a ziffer model file (`.safetensors`) holds.
///
/// Get one with `ziffer.load(path)` or `ziffer.train(...)`.
#[pyclass(module = "ziffer", name = "Model", frozen)]
pub struct Model {
    pub inner: ziffer::model::Model,
}

/// The CPU engine for `n` images: one thread per core for large batches, else one (the outputs
/// are the same bits whatever the number of threads).
pub fn engine_for(n: usize) -> PyResult<Cpu> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    Cpu::new(if n >= EVAL_BATCH { cores } else { 1 }).map_err(errors::other)
}

impl Model {
    /// The network's outputs `A[L]` for the images `x`, as `(N, C)` row-major.
    fn raw_outputs(&self, x: &Bound<'_, PyAny>) -> PyResult<(usize, Vec<f32>)> {
        let network = &self.inner.network;
        let pixels = inputs::read(x, network.inputs())?;
        let classes = network.outputs();
        let engine = engine_for(pixels.n)?;
        let mut ws = network.workspace(EVAL_BATCH.min(pixels.n).max(1));
        let mut out = vec![0.0f32; pixels.n * classes];
        pixels.for_each_batch(EVAL_BATCH, |first, x| {
            let n = x.cols();
            // A[L] is (C, n) row-major; the answer is (N, C).
            let a = engine.forward(network, x, &mut ws);
            for c in 0..classes {
                for j in 0..n {
                    out[(first + j) * classes + c] = a[c * n + j];
                }
            }
        });
        Ok((pixels.n, out))
    }
}

#[pymethods]
impl Model {
    /// Layer sizes, input first: `[784, 128, 64, 10]` for the original network.
    #[getter]
    fn layers(&self) -> Vec<usize> {
        self.inner.network.sizes()
    }

    /// The name of each output class, in order (`["0", ..., "9"]` for digits).
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.inner.classes.clone()
    }

    /// Number of trainable values (weights and biases): 109,386 for 784-128-64-10.
    #[getter]
    fn parameters(&self) -> usize {
        self.inner.network.parameter_count()
    }

    /// The hidden layers' activation: `sigmoid`, `tanh`, `scaled-tanh`, `relu` or `leaky-relu`.
    #[getter]
    fn activation(&self) -> &'static str {
        self.inner.network.functions().hidden.name()
    }

    /// The output layer's function: `sigmoid` or `softmax`.
    #[getter]
    fn output(&self) -> &'static str {
        self.inner.network.functions().output.name()
    }

    /// The loss it was trained with: `quadratic` or `cross-entropy`.
    #[getter]
    fn loss(&self) -> &'static str {
        self.inner.network.functions().loss.name()
    }

    /// The test accuracy (0 to 1) after the last epoch trained, or None if never trained.
    #[getter]
    fn test_accuracy(&self) -> Option<f64> {
        self.inner.test_accuracy()
    }

    /// One dict per epoch trained, in order: `epoch` (1-based), `lr`, `train_loss` (the mean
    /// loss over the epoch's images), `validation_accuracy` (None without a validation set),
    /// `test_accuracy` (0 to 1) and `seconds` (the epoch's training time).
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .training
            .history
            .iter()
            .map(|record| epoch_dict(py, record))
            .collect()
    }

    /// Saves the model as a ziffer model file (safetensors), atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        ziffer::model_file::save(&self.inner, &path).map_err(errors::model)
    }

    /// Writes the network as an ONNX file (IR 8, opset 17): input `pixels` `(N, 784)` float32
    /// in [0, 1], output `scores` `(N, classes)`, the same numbers as `probabilities` before
    /// normalising (the output layer's values).
    fn export_onnx(&self, path: PathBuf) -> PyResult<()> {
        ziffer::onnx::save(&self.inner, &path).map_err(errors::model)
    }

    /// The predicted class index of each image: `int64` array of shape `(N,)` (`(1,)` for a
    /// single image), the output with the largest value, as `ziffer eval` reads it.
    ///
    /// `x`: `(N, 784)`, `(N, 28, 28)`, or one image `(784,)` or `(28, 28)`; `uint8` 0-255 or
    /// float32/float64 in [0, 1], 0 background and 1 ink (MNIST's form; see `preprocess` for
    /// photos). uint8 pixels are multiplied by `1/255` in float32, as in training. Any other
    /// shape, dtype, NaN or float outside [0, 1] raises ValueError.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let (_, out) = self.raw_outputs(x)?;
        let classes = self.inner.network.outputs();
        let n = out.len() / classes;
        // predicted_classes reads (C, N) row-major: transpose back.
        let mut by_class = vec![0.0f32; out.len()];
        for j in 0..n {
            for c in 0..classes {
                by_class[c * n + j] = out[j * classes + c];
            }
        }
        let predicted: Vec<i64> = predicted_classes(&by_class, classes)
            .map(|c| c as i64)
            .collect();
        Ok(PyArray1::from_vec(py, predicted))
    }

    /// The output layer's values normalised to sum to 1 per image: `float32` array `(N, C)`.
    ///
    /// For a softmax output these are the outputs themselves (already a distribution); for
    /// sigmoid outputs (the original network) each row is `a_c / Σ a`, the same normalisation
    /// as `ziffer predict`'s probabilities. `x` as for `predict`.
    fn probabilities<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (n, mut out) = self.raw_outputs(x)?;
        let classes = self.inner.network.outputs();
        if self.inner.network.functions().output != Output::Softmax {
            for row in out.chunks_exact_mut(classes) {
                let sum: f32 = row.iter().sum();
                if sum > 0.0 {
                    row.iter_mut().for_each(|a| *a /= sum);
                } else {
                    row.fill(1.0 / classes as f32);
                }
            }
        }
        PyArray1::from_vec(py, out).reshape([n, classes])
    }

    /// The outputs of the last layer, `A[L]`, unnormalised: `float32` `(N, C)`. `x` as for
    /// `predict`.
    fn outputs<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (n, out) = self.raw_outputs(x)?;
        PyArray1::from_vec(py, out).reshape([n, self.inner.network.outputs()])
    }

    /// The model as HTML for Jupyter: architecture, parameters, test accuracy and the learning
    /// curves (drawn by `ziffer.plot_curves`) when it has a history.
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        let html = slf.py().import("ziffer._html")?.getattr("model_html")?;
        html.call1((slf,))?.extract()
    }

    fn __repr__(&self) -> String {
        let sizes: Vec<String> = self.layers().iter().map(usize::to_string).collect();
        let accuracy = match self.inner.test_accuracy() {
            Some(a) => format!("{:.2}%", 100.0 * a),
            None => "untrained".to_string(),
        };
        format!(
            "<ziffer.Model {} {}/{}/{}, {} parameters, {} epochs, test accuracy {accuracy}>",
            sizes.join("-"),
            self.activation(),
            self.output(),
            self.loss(),
            self.parameters(),
            self.inner.epochs_trained(),
        )
    }
}

/// An epoch's record as a dict (see `Model.history`).
pub fn epoch_dict<'py>(
    py: Python<'py>,
    record: &ziffer::history::EpochRecord,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("epoch", record.epoch)?;
    dict.set_item("lr", record.lr)?;
    dict.set_item("train_loss", record.train_loss)?;
    dict.set_item("validation_accuracy", record.validation_accuracy)?;
    dict.set_item("test_accuracy", record.test_accuracy)?;
    dict.set_item("seconds", record.seconds)?;
    Ok(dict)
}

/// Loads a ziffer model file (`.safetensors`), checking every field; anything else (another
/// kind of file, a damaged one) raises ModelFileError with the reason.
#[pyfunction]
pub fn load(path: PathBuf) -> PyResult<Model> {
    let inner = ziffer::model_file::load(&path).map_err(errors::model)?;
    Ok(Model { inner })
}
