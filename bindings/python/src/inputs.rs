//! Pixel arrays from Python, checked and brought to the network's input.
//!
//! What it is: the one place that decides which arrays `Model.predict` and friends accept, and
//! how they become the columns of `X` `(P, N)` (`P` pixels per image, `N` images). What it is
//! not: preprocessing of photos (that is [`ziffer::preprocess`]).
//!
//! Accepted: `(N, P)`, `(P,)` (one image), and for square images of side `S` (`P = S²`, 28 for
//! MNIST) `(N, S, S)` and `(S, S)`; `uint8` 0..=255 (times `1/255` in `f32`, as the data sets
//! are in training: `x * np.float32(1 / 255)` gives the same bits, `x / 255` may not) or
//! `float32`/`float64` in `[0, 1]` (0 background, 1 ink). A C-contiguous `float32` or
//! `uint8` array is read in place (bytes converted a batch at a time); anything else is copied
//! once.

use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ziffer::data::batch::normalise_pixel;
use ziffer::matrix::MatRef;

/// Images as the network reads them: `n` images of `p` pixels.
pub struct Pixels<'py> {
    pub n: usize,
    pub p: usize,
    values: Values<'py>,
}

enum Values<'py> {
    /// A C-contiguous `uint8` array, read where it lies, converted a batch at a time.
    BorrowedBytes(PyReadonlyArrayDyn<'py, u8>),
    /// `uint8` pixels copied, converted a batch at a time.
    Bytes(Vec<u8>),
    /// A C-contiguous `float32` array, read where it lies.
    Borrowed(PyReadonlyArrayDyn<'py, f32>),
    /// Floats copied into the network's type.
    Owned(Vec<f32>),
}

/// Checks `x` and reads it as images of `p` pixels each.
pub fn read<'py>(x: &Bound<'py, PyAny>, p: usize) -> PyResult<Pixels<'py>> {
    let Ok(array) = x.cast::<numpy::PyUntypedArray>() else {
        return Err(PyValueError::new_err(format!(
            "expected a NumPy array of images, got {}; use numpy.asarray(images)",
            x.get_type().name()?
        )));
    };
    let shape = array.shape().to_vec();
    let n = images_in(&shape, p)?;
    let values = if let Ok(bytes) = x.cast::<PyArrayDyn<u8>>() {
        let bytes = bytes.readonly();
        if bytes.as_slice().is_ok() {
            Values::BorrowedBytes(bytes)
        } else {
            Values::Bytes(bytes.as_array().iter().copied().collect())
        }
    } else if let Ok(floats) = x.cast::<PyArrayDyn<f32>>() {
        let floats = floats.readonly();
        check_range(floats.as_array().iter().map(|&v| v as f64), p)?;
        if floats.as_slice().is_ok() {
            Values::Borrowed(floats)
        } else {
            Values::Owned(floats.as_array().iter().copied().collect())
        }
    } else if let Ok(doubles) = x.cast::<PyArrayDyn<f64>>() {
        let doubles = doubles.readonly();
        check_range(doubles.as_array().iter().copied(), p)?;
        Values::Owned(doubles.as_array().iter().map(|&v| v as f32).collect())
    } else {
        return Err(PyValueError::new_err(format!(
            "expected pixels of dtype uint8 (0-255) or float32/float64 (0-1), got {}; \
             convert with images.astype(numpy.uint8) or images.astype(numpy.float32) / 255",
            array.dtype()
        )));
    };
    Ok(Pixels { n, p, values })
}

/// The number of images in an array of `shape`, for images of `p` pixels.
fn images_in(shape: &[usize], p: usize) -> PyResult<usize> {
    let side = (p as f64).sqrt().round() as usize;
    let square = side * side == p;
    let n = match *shape {
        [len] if len == p => Some(1),
        [n, len] if len == p => Some(n),
        [rows, cols] if square && rows == side && cols == side => Some(1),
        [n, rows, cols] if square && rows == side && cols == side => Some(n),
        _ => None,
    };
    n.ok_or_else(|| {
        let forms = if square {
            format!("(N, {p}), (N, {side}, {side}), ({p},) or ({side}, {side})")
        } else {
            format!("(N, {p}) or ({p},)")
        };
        PyValueError::new_err(format!(
            "images of shape {shape:?} do not fit the network's {p} inputs: expected {forms}"
        ))
    })
}

/// Every float pixel finite and in `[0, 1]`.
fn check_range(values: impl Iterator<Item = f64>, p: usize) -> PyResult<()> {
    for (i, v) in values.enumerate() {
        if !(0.0..=1.0).contains(&v) {
            let what = if v.is_nan() { "NaN" } else { "outside [0, 1]" };
            return Err(PyValueError::new_err(format!(
                "pixel {} of image {} is {v} ({what}): float pixels must be in [0, 1], 0 \
                 background and 1 ink; pass uint8 for 0-255 values",
                i % p,
                i / p
            )));
        }
    }
    Ok(())
}

impl Pixels<'_> {
    /// Calls `f(first, X)` for batches of up to `batch` images, `X` `(P, n)` column-major: one
    /// column of pixels per image, as [`ziffer::data::batch::fill_inputs`] writes them.
    pub fn for_each_batch(&self, batch: usize, mut f: impl FnMut(usize, MatRef)) {
        let p = self.p;
        let mut buffer = Vec::new();
        for first in (0..self.n).step_by(batch.max(1)) {
            let n = batch.min(self.n - first);
            let range = first * p..(first + n) * p;
            let mut convert = |bytes: &[u8]| {
                buffer.clear();
                buffer.extend(bytes[range.clone()].iter().map(|&b| normalise_pixel(b)));
            };
            let x: &[f32] = match &self.values {
                Values::BorrowedBytes(bytes) => {
                    convert(bytes.as_slice().expect("checked contiguous"));
                    &buffer
                }
                Values::Bytes(bytes) => {
                    convert(bytes);
                    &buffer
                }
                Values::Borrowed(floats) => &floats.as_slice().expect("checked contiguous")[range],
                Values::Owned(floats) => &floats[range],
            };
            f(first, MatRef::col_major(x, p, n));
        }
    }

    /// The pixels as bytes 0..=255 (floats rounded from `255·v`), image after image.
    pub fn to_bytes(&self) -> Vec<u8> {
        let floats = |v: &[f32]| v.iter().map(|&v| (v * 255.0).round() as u8).collect();
        match &self.values {
            Values::BorrowedBytes(bytes) => bytes.as_slice().expect("checked contiguous").to_vec(),
            Values::Bytes(bytes) => bytes.clone(),
            Values::Borrowed(f) => floats(f.as_slice().expect("checked contiguous")),
            Values::Owned(f) => floats(f),
        }
    }
}
