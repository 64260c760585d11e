//! How good a network is on a data set: accuracy and the confusion matrix.
//!
//! What it is: counting, over forward passes in batches. What it is not: printing or plotting;
//! callers decide how to show an [`Evaluation`].

use crate::data::batch::fill_inputs;
use crate::data::{CLASSES, Dataset};
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use crate::network::{Network, predicted_classes};
use serde::Serialize;

/// Images per forward pass when evaluating: large enough for efficient matrix products, small
/// enough to keep the buffers at a few MB.
const EVAL_BATCH: usize = 1000;

/// The result of running a network over a labelled data set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// `confusion[true][predicted]`: how many images of class `true` were read as `predicted`.
    pub confusion: [[usize; CLASSES]; CLASSES],
}

impl Evaluation {
    /// Number of images evaluated.
    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    /// Number read correctly: the diagonal.
    pub fn correct(&self) -> usize {
        (0..CLASSES).map(|c| self.confusion[c][c]).sum()
    }

    /// Fraction read correctly, `0..=1`.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    /// For each true class, the fraction of its images read correctly (`None` if the class has no
    /// image in the set).
    pub fn per_class_accuracy(&self) -> [Option<f64>; CLASSES] {
        std::array::from_fn(|c| {
            let row: usize = self.confusion[c].iter().sum();
            (row > 0).then(|| self.confusion[c][c] as f64 / row as f64)
        })
    }
}

/// Predicts every image of `data` and counts the outcomes.
pub fn evaluate(network: &Network, data: &Dataset) -> Result<Evaluation> {
    let mut confusion = [[0usize; CLASSES]; CLASSES];
    for_each_prediction(network, data, |i, predicted| {
        confusion[data.label(i) as usize][predicted] += 1;
    })?;
    Ok(Evaluation { confusion })
}

/// The predicted class of every image of `data`, in order.
pub fn predict_all(network: &Network, data: &Dataset) -> Result<Vec<u8>> {
    let mut predictions = vec![0u8; data.len()];
    for_each_prediction(network, data, |i, predicted| {
        predictions[i] = predicted as u8;
    })?;
    Ok(predictions)
}

/// Runs the network over `data` in batches and calls `f(image index, predicted class)`.
fn for_each_prediction(
    network: &Network,
    data: &Dataset,
    mut f: impl FnMut(usize, usize),
) -> Result<()> {
    check_fits(network, data)?;
    let p = data.pixels_per_image();
    let batch = EVAL_BATCH.min(data.len());
    let mut ws = network.workspace(batch);
    let mut x = vec![0.0; p * batch];
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch) {
        fill_inputs(data, chunk, &mut x);
        let output = network.forward(MatRef::col_major(&x, p, chunk.len()), &mut ws);
        for (&i, class) in chunk
            .iter()
            .zip(predicted_classes(output, network.outputs()))
        {
            f(i, class);
        }
    }
    Ok(())
}

/// Checks that `data`'s images and classes fit the network's input and output sizes.
pub fn check_fits(network: &Network, data: &Dataset) -> Result<()> {
    if data.pixels_per_image() != network.inputs() {
        return Err(Error::ShapeMismatch {
            message: format!(
                "{}: images of {}x{} = {} pixels, but the network takes {} inputs",
                data.source().display(),
                data.rows(),
                data.cols(),
                data.pixels_per_image(),
                network.inputs()
            ),
        });
    }
    if network.outputs() != CLASSES {
        return Err(Error::ShapeMismatch {
            message: format!(
                "the network has {} outputs, but the data set has {CLASSES} classes",
                network.outputs()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_is_the_diagonal_over_the_total() {
        let mut confusion = [[0; CLASSES]; CLASSES];
        confusion[3][3] = 3;
        confusion[3][5] = 1;
        confusion[7][7] = 4;
        let e = Evaluation { confusion };
        assert_eq!(e.total(), 8);
        assert_eq!(e.accuracy(), 7.0 / 8.0);
        let per_class = e.per_class_accuracy();
        assert_eq!(per_class[3], Some(0.75));
        assert_eq!(per_class[0], None);
    }
}
