//! What a training run was asked to do, kept in the model file so that `--resume` finishes it.
//!
//! What it is: [`RunRecord`], the run's epoch target, its data (where it came from and a digest of
//! what was read) and its `--limit`, and [`SetRecord::of`], the digest that notices a changed data
//! file. With the settings ([`crate::settings::TrainSettings`]: seed, batch size, schedule,
//! optimizer, regularisation, augmentation, validation split) and the weights and optimizer state
//! a model file already holds, this is all a run needs to continue, after any interruption, to the
//! same tensors bit for bit as the run that was never interrupted. What it is not: loading the
//! data (the caller loads [`DataSource`] as it does any data flag) or deciding what a resumed run
//! changes (the command line does, from its flags).

use crate::data::Dataset;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// One training run: what it trains on and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The number of epochs the model has trained when the run ends (counting those before it).
    pub epochs: usize,
    /// Where the data came from, and what it held.
    pub data: DataRecord,
    /// Training on the first `limit` training images only (after the validation images are held
    /// out); `None` for all of them.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The data a run trains and is tested on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    pub source: DataSource,
    /// The whole training file, before the validation images are held out or `--limit` applies.
    pub train: SetRecord,
    pub test: SetRecord,
}

/// Where a run's data came from, as the command line named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// The MNIST copy that ships with ziffer.
    Bundled,
    /// A folder with the four MNIST-format files (`--data DIR`).
    Folder { dir: PathBuf },
    /// One file each (`--train FILE --test FILE`).
    Files { train: PathBuf, test: PathBuf },
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            DataSource::Bundled => write!(f, "the bundled MNIST"),
            DataSource::Folder { dir } => write!(f, "the folder {}", dir.display()),
            DataSource::Files { train, test } => {
                write!(f, "the files {} and {}", train.display(), test.display())
            }
        }
    }
}

/// What a data set held: enough to notice that a file changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRecord {
    pub images: usize,
    /// SHA-256, in hex, of the decoded set: its height and width (each as 8 little-endian bytes),
    /// its labels, then its pixels. The same whether the file is compressed or not, IDX or CSV.
    pub sha256: String,
}

impl SetRecord {
    /// The record of `set`.
    pub fn of(set: &Dataset) -> SetRecord {
        let mut hash = Sha256::new();
        hash.update((set.rows() as u64).to_le_bytes());
        hash.update((set.cols() as u64).to_le_bytes());
        hash.update(set.labels());
        hash.update(set.pixels());
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        SetRecord {
            images: set.len(),
            sha256,
        }
    }
}

impl fmt::Display for SetRecord {
    /// `60,000 images, SHA-256 1a2b3c4d5e6f…`
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let short: String = self.sha256.chars().take(12).collect();
        let plural = if self.images == 1 { "" } else { "s" };
        write!(f, "{} image{plural}, SHA-256 {short}…", self.images)
    }
}

impl DataRecord {
    /// The record of a run's data: its source and its training and test sets, as loaded.
    pub fn of(source: DataSource, train: &Dataset, test: &Dataset) -> DataRecord {
        DataRecord {
            source,
            train: SetRecord::of(train),
            test: SetRecord::of(test),
        }
    }

    /// How `now` differs from this record, in words (`None` if it holds the same images), e.g.
    /// "the training set: 60000 images, SHA-256 1a2b… then, 6000 images, SHA-256 3c4d… now".
    pub fn difference(&self, now: &DataRecord) -> Option<String> {
        let mut differences = Vec::new();
        for (what, then, now) in [
            ("the training set", &self.train, &now.train),
            ("the test set", &self.test, &now.test),
        ] {
            if then != now {
                differences.push(format!("{what}: {then} then, {now} now"));
            }
        }
        (!differences.is_empty()).then(|| differences.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pixels: Vec<u8>, labels: Vec<u8>, side: usize) -> Dataset {
        Dataset::new(pixels, labels, side, side, "test").unwrap()
    }

    #[test]
    fn the_digest_changes_with_any_pixel_label_or_shape() {
        let base = SetRecord::of(&set(vec![0, 1, 2, 3], vec![1], 2));
        assert_eq!(base, SetRecord::of(&set(vec![0, 1, 2, 3], vec![1], 2)));
        assert_ne!(base, SetRecord::of(&set(vec![0, 1, 2, 4], vec![1], 2)));
        assert_ne!(base, SetRecord::of(&set(vec![0, 1, 2, 3], vec![2], 2)));
        let wide = Dataset::new(vec![0, 1, 2, 3], vec![1], 1, 4, "test").unwrap();
        assert_ne!(base, SetRecord::of(&wide));
        assert_eq!(base.sha256.len(), 64);
    }

    #[test]
    fn the_difference_names_the_set_that_changed() {
        let a = set(vec![0; 4], vec![1], 2);
        let b = set(vec![9; 4], vec![1], 2);
        let then = DataRecord::of(DataSource::Bundled, &a, &a);
        assert_eq!(then.difference(&then.clone()), None);
        let now = DataRecord::of(DataSource::Bundled, &b, &a);
        let text = then.difference(&now).unwrap();
        assert!(
            text.starts_with("the training set: 1 image, SHA-256"),
            "{text}"
        );
        assert!(!text.contains("test set"), "{text}");
    }

    #[test]
    fn a_record_survives_json() {
        let a = set(vec![0; 4], vec![1], 2);
        let record = RunRecord {
            epochs: 6,
            data: DataRecord::of(
                DataSource::Files {
                    train: "a.csv".into(),
                    test: "b.csv".into(),
                },
                &a,
                &a,
            ),
            limit: Some(6000),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(r#""kind":"files""#), "{json}");
        assert_eq!(serde_json::from_str::<RunRecord>(&json).unwrap(), record);
    }
}
