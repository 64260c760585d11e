//! The exceptions: `ZifferError` and one subclass per kind of failure, each raised with the
//! library's message (its `Display`).
//!
//! What it is: the map from [`ziffer::Error`]'s variants to the classes. What it is not: new
//! messages; the library's say what failed and what to do.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use ziffer::Error;

create_exception!(
    ziffer,
    ZifferError,
    PyException,
    "Every error of ziffer's library; its message says what failed and what to do."
);
create_exception!(
    ziffer,
    DataError,
    ZifferError,
    "A data set or an image that cannot be read: missing, damaged, of the wrong kind."
);
create_exception!(
    ziffer,
    ModelFileError,
    ZifferError,
    "A model file that cannot be read or written, or a model that cannot be exported."
);
create_exception!(
    ziffer,
    TrainingError,
    ZifferError,
    "A network or a training setting that is not usable, or training that failed (diverged)."
);

/// Which class a file error ([`Error::Io`]) raises: that of the file being read or written.
#[derive(Debug, Clone, Copy)]
pub enum Files {
    Data,
    Model,
    Other,
}

/// The exception for `err`, with its message.
pub fn to_py(err: Error, files: Files) -> PyErr {
    let message = err.to_string();
    match err {
        Error::Io { .. } => match files {
            Files::Data => DataError::new_err(message),
            Files::Model => ModelFileError::new_err(message),
            Files::Other => ZifferError::new_err(message),
        },
        Error::BadMagic { .. }
        | Error::BadHeader { .. }
        | Error::Truncated { .. }
        | Error::LabelOutOfRange { .. }
        | Error::CsvColumns { .. }
        | Error::CsvCell { .. }
        | Error::CountMismatch { .. }
        | Error::EmptyDataset { .. }
        | Error::ChecksumMismatch { .. }
        | Error::DataNotFound { .. }
        | Error::PixelCount { .. }
        | Error::CsvNotSquare { .. }
        | Error::IdxTooLarge { .. }
        | Error::Image { .. }
        | Error::NoDigit { .. } => DataError::new_err(message),
        Error::BadModel { .. } | Error::NotExportable { .. } | Error::Committee { .. } => {
            ModelFileError::new_err(message)
        }
        Error::InvalidConfig { .. }
        | Error::InputsMismatch { .. }
        | Error::OutputsMismatch { .. }
        | Error::NotADigitReader { .. }
        | Error::ImageMismatch { .. }
        | Error::LayersDoNotFit { .. }
        | Error::LayerParameters { .. }
        | Error::OptimizerStateMismatch { .. }
        | Error::ResumeMismatch { .. }
        | Error::Diverged { .. }
        | Error::TooBigForMemory { .. }
        | Error::Cuda { .. } => TrainingError::new_err(message),
        Error::Plot { .. } => ZifferError::new_err(message),
        Error::Interrupted { .. } => pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
    }
}

/// [`to_py`] for a data set or an image.
pub fn data(err: Error) -> PyErr {
    to_py(err, Files::Data)
}

/// [`to_py`] for a model file.
pub fn model(err: Error) -> PyErr {
    to_py(err, Files::Model)
}

/// [`to_py`] for anything else (training, plots).
pub fn other(err: Error) -> PyErr {
    to_py(err, Files::Other)
}
