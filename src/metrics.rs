//! How good a network is on a data set: accuracy and the confusion matrix.
//!
//! What it is: counting, over forward passes in batches. What it is not: printing or plotting;
//! callers decide how to show an [`Evaluation`].

use crate::data::{CLASSES, Dataset};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::nn::network::{Network, predicted_classes};
use serde::Serialize;

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

/// Predicts every image of `data` on `engine` and counts the outcomes.
pub fn evaluate(engine: &dyn Engine, network: &Network, data: &Dataset) -> Result<Evaluation> {
    let mut confusion = [[0usize; CLASSES]; CLASSES];
    for_each_prediction(engine, network, data, |i, predicted| {
        confusion[data.label(i) as usize][predicted] += 1;
    })?;
    Ok(Evaluation { confusion })
}

/// The counts of `predicted`, one class per image of `data` in order, against `data`'s labels.
pub fn evaluation_of(data: &Dataset, predicted: &[u8]) -> Evaluation {
    debug_assert_eq!(predicted.len(), data.len());
    let mut confusion = [[0usize; CLASSES]; CLASSES];
    for (i, &p) in predicted.iter().enumerate() {
        confusion[data.label(i) as usize][p as usize] += 1;
    }
    Evaluation { confusion }
}

/// The predicted class of every image of `data`, in order, computed on `engine`.
pub fn predict_all(engine: &dyn Engine, network: &Network, data: &Dataset) -> Result<Vec<u8>> {
    let mut predictions = vec![0u8; data.len()];
    for_each_prediction(engine, network, data, |i, predicted| {
        predictions[i] = predicted as u8;
    })?;
    Ok(predictions)
}

/// Runs the network over `data` on `engine` and calls `f(image index, predicted class)`.
fn for_each_prediction(
    engine: &dyn Engine,
    network: &Network,
    data: &Dataset,
    mut f: impl FnMut(usize, usize),
) -> Result<()> {
    check_fits(network, data)?;
    engine.outputs(network, data, &mut |indices, output| {
        for (&i, class) in indices
            .iter()
            .zip(predicted_classes(output, network.outputs()))
        {
            f(i, class);
        }
    })
}

/// Checks that `data`'s images and classes fit the network's input and output sizes.
pub fn check_fits(network: &Network, data: &Dataset) -> Result<()> {
    if data.pixels_per_image() != network.inputs() {
        return Err(Error::InputsMismatch {
            data: data.source().to_path_buf(),
            rows: data.rows(),
            cols: data.cols(),
            inputs: network.inputs(),
        });
    }
    if network.outputs() != CLASSES {
        return Err(Error::OutputsMismatch {
            outputs: network.outputs(),
            classes: CLASSES,
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
