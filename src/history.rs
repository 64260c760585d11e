//! What training did, epoch by epoch: the record a model keeps of its own training.
//!
//! What it is: [`EpochRecord`], one per finished epoch, and [`best_epoch`], the epoch one would
//! choose without looking at the test set, and their JSON form. What it is not: printing or plotting them (the binary
//! and [`crate::plot`] read these records).

use serde::{Deserialize, Serialize};

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based, counted over the model's whole life (a resumed run continues the count).
    pub epoch: usize,
    /// The learning rate `η` used.
    pub lr: f32,
    /// Mean loss over the epoch's training images, before each batch's update.
    pub train_loss: f32,
    /// Fraction of the validation set read correctly after the epoch, `0..=1`, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f64>,
    /// Fraction of the test set read correctly after the epoch, `0..=1`.
    pub test_accuracy: f64,
    /// Wall time of the epoch's training (not of the evaluation).
    pub seconds: f64,
}

/// The epoch with the best validation accuracy in `history` (the first, on ties), if any epoch
/// was validated: the one to choose, and where early stopping counts from.
pub fn best_epoch(history: &[EpochRecord]) -> Option<&EpochRecord> {
    history
        .iter()
        .filter(|r| r.validation_accuracy.is_some())
        .fold(None, |best: Option<&EpochRecord>, r| match best {
            Some(b) if b.validation_accuracy >= r.validation_accuracy => Some(b),
            _ => Some(r),
        })
}
impl EpochRecord {
    /// The record as JSON, as `ziffer info --json`, `ziffer train --json` and an ONNX export's
    /// metadata show it: the rate without `f32` noise (`0.3`, not `0.30000001192092896`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "epoch": self.epoch,
            "lr": json_f32(self.lr),
            "train_loss": self.train_loss,
            "validation_accuracy": self.validation_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds": self.seconds,
        })
    }
}

/// An `f32` as the `f64` with the same shortest decimal form, for JSON: `0.2`, not
/// `0.20000000298023224`.
pub fn json_f32(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_epoch_is_the_first_with_the_highest_validation_accuracy() {
        let record = |epoch, validation_accuracy| EpochRecord {
            epoch,
            lr: 0.1,
            train_loss: 0.1,
            validation_accuracy,
            test_accuracy: 0.9,
            seconds: 1.0,
        };
        let history = [
            record(1, Some(0.9)),
            record(2, Some(0.95)),
            record(3, Some(0.95)),
            record(4, Some(0.93)),
        ];
        assert_eq!(best_epoch(&history).unwrap().epoch, 2);
        assert!(best_epoch(&[record(1, None)]).is_none());
    }
}
