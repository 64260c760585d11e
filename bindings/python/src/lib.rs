//! The native half of ziffer's Python package, `ziffer._ziffer`: the library's model, training,
//! data, preprocessing and plots behind a small Python API.
//!
//! What it is: conversions between NumPy arrays or Python values and the library's types, the
//! GIL released while the library trains, and the library's [`ziffer::Error`] mapped to Python
//! exceptions. What it is not: maths, or any behaviour of its own; every number comes from the
//! library. The pure-Python half (`python/ziffer/__init__.py`) adds the progress bar, the PNG
//! objects and the notebook's HTML on top.
//!
//! The files: `errors.rs` (the exception classes), `inputs.rs` (pixel arrays checked and brought
//! to the network's input), `model.rs` (the `Model` class), `training.rs` (`train`) and
//! `files.rs` (data sets, preprocessing, plots).

mod errors;
mod files;
mod inputs;
mod model;
mod training;

use pyo3::prelude::*;

#[pymodule]
fn _ziffer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ZifferError", py.get_type::<errors::ZifferError>())?;
    m.add("DataError", py.get_type::<errors::DataError>())?;
    m.add("ModelFileError", py.get_type::<errors::ModelFileError>())?;
    m.add("TrainingError", py.get_type::<errors::TrainingError>())?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(model::load, m)?)?;
    m.add_function(wrap_pyfunction!(training::train, m)?)?;
    m.add_function(wrap_pyfunction!(files::load_mnist, m)?)?;
    m.add_function(wrap_pyfunction!(files::preprocess, m)?)?;
    m.add_function(wrap_pyfunction!(files::plot_curves, m)?)?;
    m.add_function(wrap_pyfunction!(files::plot_confusion, m)?)?;
    m.add_function(wrap_pyfunction!(files::plot_weights, m)?)?;
    m.add_function(wrap_pyfunction!(files::plot_digits, m)?)?;
    Ok(())
}
