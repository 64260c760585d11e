//! Data sets: MNIST-style images with their labels, read from IDX or CSV files.
//!
//! One representation everywhere: a [`Dataset`] keeps its pixels as `u8` (0 = background, 255 = ink,
//! as in MNIST), one image after another, row by row, and its labels as `u8` class numbers `0..=9`.
//! Pixels become `f32` in `[0, 1]` only when a mini-batch is built ([`batch`]), so the 60,000
//! training images stay 47 MB in memory.
//!
//! This module reads and validates; it knows nothing about networks.

pub mod batch;
pub mod classes;
pub mod csv;
pub mod idx;
pub mod mnist;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Number of classes in MNIST-style data sets (digits 0-9, or the ten Fashion-MNIST classes).
pub const CLASSES: usize = 10;

/// Labelled images, all of the same size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// `len() * rows * cols` pixels, image after image, each row-major; 0 = background, 255 = ink.
    images: Vec<u8>,
    /// One class `0..CLASSES` per image.
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
    /// Where the data came from, for messages.
    source: PathBuf,
}

impl Dataset {
    /// Builds a data set, checking that the pieces fit together.
    ///
    /// `images` must hold `labels.len() * rows * cols` bytes, every label must be below
    /// [`CLASSES`], and the set must not be empty.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        rows: usize,
        cols: usize,
        source: impl Into<PathBuf>,
    ) -> Result<Self> {
        let source = source.into();
        if labels.is_empty() {
            return Err(Error::EmptyDataset { path: source });
        }
        // Checked: a product that overflows would wrap, and could then match a short buffer.
        let expected = labels
            .len()
            .checked_mul(rows)
            .and_then(|n| n.checked_mul(cols));
        if rows == 0 || cols == 0 || expected != Some(images.len()) {
            return Err(Error::PixelCount {
                data: source,
                labels: labels.len(),
                rows,
                cols,
                found: images.len(),
            });
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= CLASSES) {
            return Err(Error::LabelOutOfRange {
                path: source,
                location: crate::error::Location::Offset(i as u64),
                label: labels[i] as u64,
                max: (CLASSES - 1) as u8,
            });
        }
        Ok(Dataset {
            images,
            labels,
            rows,
            cols,
            source,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: an empty data set cannot be built.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image height in pixels (28 for MNIST).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Image width in pixels (28 for MNIST).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Pixels per image: the network's input size (784 for MNIST).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i`, row-major.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels_per_image();
        &self.images[i * p..(i + 1) * p]
    }

    /// The class of image `i`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// All labels, in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.images
    }

    /// The file (or folder) the data came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The first `n` images (all of them if `n >= len()`), e.g. for a quick run.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len()).max(1);
        let p = self.pixels_per_image();
        Dataset {
            images: self.images[..n * p].to_vec(),
            labels: self.labels[..n].to_vec(),
            rows: self.rows,
            cols: self.cols,
            source: self.source.clone(),
        }
    }
}

impl Dataset {
    /// Splits off the last `n` images as a validation set: `(the first len() − n, the last n)`.
    ///
    /// The validation set is held out of training to choose the epoch or stop early, so that the
    /// test set is used only for the final report. Taking the last images (rather than a random
    /// draw) makes the split the same for every seed, and for a resumed run. Only the `n` images
    /// are copied.
    pub fn split_validation(mut self, n: usize) -> Result<(Dataset, Dataset)> {
        if n == 0 || n >= self.len() {
            return Err(Error::config(
                "validation",
                format!(
                    "cannot hold out {n} of the {} training images for validation: \
                     give a number from 1 to {} (or 0 for no validation set)",
                    self.len(),
                    self.len().saturating_sub(1)
                ),
            ));
        }
        let keep = self.len() - n;
        let p = self.pixels_per_image();
        let validation = Dataset {
            images: self.images.split_off(keep * p),
            labels: self.labels.split_off(keep),
            rows: self.rows,
            cols: self.cols,
            source: self.source.clone(),
        };
        Ok((self, validation))
    }
}

/// A training set and the test set it is judged on.
#[derive(Debug, Clone)]
pub struct TrainTest {
    pub train: Dataset,
    pub test: Dataset,
}
/// What a training run trains on: `train` less its last `validation` images, which become the
/// validation set (none for 0), then cut to its first `limit` images.
pub fn training_sets(
    train: Dataset,
    validation: usize,
    limit: Option<usize>,
) -> Result<(Dataset, Option<Dataset>)> {
    let (train, validation_set) = match validation {
        0 => (train, None),
        n => {
            let (train, validation_set) = train.split_validation(n)?;
            (train, Some(validation_set))
        }
    };
    let train = match limit {
        Some(0) => {
            return Err(Error::config(
                "limit",
                "0 leaves no training images; give at least 1",
            ));
        }
        Some(n) => train.take(n),
        None => train,
    };
    Ok((train, validation_set))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ten() -> Dataset {
        Dataset::new(vec![0; 10 * 4], (0..10).collect(), 2, 2, "ten").unwrap()
    }

    #[test]
    fn training_sets_hold_out_the_last_images_then_cut_to_the_limit() {
        let (train, validation) = training_sets(ten(), 3, Some(5)).unwrap();
        assert_eq!((train.len(), validation.unwrap().len()), (5, 3));
        assert_eq!(train.label(4), 4);
        let (train, validation) = training_sets(ten(), 0, None).unwrap();
        assert_eq!((train.len(), validation.is_none()), (10, true));
        let err = training_sets(ten(), 0, Some(0)).unwrap_err().to_string();
        assert!(err.contains("leaves no training images"), "{err}");
    }

    #[test]
    fn a_shape_whose_product_overflows_is_a_pixel_count_error() {
        // 1 x 2^32 x 2^32 wraps to 0 in 64 bits, which an empty buffer would have matched.
        let err = Dataset::new(Vec::new(), vec![0], 1 << 32, 1 << 32, "x").unwrap_err();
        assert!(matches!(err, Error::PixelCount { found: 0, .. }), "{err}");
    }
}
