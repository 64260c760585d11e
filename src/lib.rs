//! ziffer: a neural network written from scratch that learns to read handwritten digits.
//!
//! The maths is ours, written out by hand and each formula in one named function; matrix
//! products go through the `faer` crate's GEMM. The house has four floors, and imports point
//! down only:
//!
//! | floor | modules | what they hold |
//! | --- | --- | --- |
//! | applications | [`train`], [`sweep`], [`bench`](mod@bench), [`metrics`], [`predict`], [`committee`], [`teach`], [`plot`], [`web`] | the epoch loop, comparisons, speed, accuracy, reading one image, several networks answering together, teaching one, pictures, the page |
//! | engines | [`engine`], [`cpu`], `cuda`, [`device`] | where the maths runs: the seam, the CPU engine (threads, blocks of neurons), the CUDA engine (cuBLAS and NVRTC kernels, feature `cuda`), and `--device` |
//! | data and files | [`data`], [`augment`], [`preprocess`], [`model`], [`model_file`], [`onnx`], [`settings`], [`schedule`], [`history`], [`run`], [`rng`] | data sets, distortions, a person's image, the model and its file, its ONNX export, what to train, the learning rates, the record, what a run was asked to do, the random streams |
//! | maths | [`nn`], [`matrix`] | the network's formulas over whole layers; `C ← α·A·B + β·C` |
//!
//! In the order a batch meets them: [`data`] and [`augment`] make the batch, [`nn::layer`] and
//! [`nn::activation`] run it forward, [`nn::loss`] measures the error, [`nn::network`] sends it
//! back, and [`nn::optimizer`] updates the weights; [`cpu`] runs all of it on the cores and
//! [`train`] repeats it epoch after epoch.
//!
//! The network is explained for a learner, formula by formula, in `docs/how-it-works.md`.
//!
//! # Example
//!
//! Train a small network for two epochs on 5,000 bundled MNIST images, save it and load it back:
//!
//! ```
//! use ziffer::cpu::Cpu;
//! use ziffer::data::mnist;
//! use ziffer::model::Model;
//! use ziffer::settings::{TrainConfig, TrainSettings};
//! use ziffer::train::{Sets, train};
//!
//! # fn main() -> ziffer::Result<()> {
//! let data = mnist::load_bundled()?;
//! let config = TrainConfig {
//!     layers: vec![784, 32, 10],
//!     settings: TrainSettings {
//!         schedule: "3".parse()?,
//!         ..TrainSettings::default()
//!     },
//!     ..TrainConfig::default()
//! };
//! let mut model = Model::new(&config)?;
//! let engine = Cpu::new(1)?;
//! let train_set = data.train.take(5000);
//! let sets = Sets::new(&train_set, &data.test);
//! train(&mut model, sets, 2, &engine, |_event| Ok(()))?;
//! assert!(model.test_accuracy().unwrap() > 0.8);
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("small.safetensors");
//! ziffer::model_file::save(&model, &path)?;
//! assert_eq!(ziffer::model_file::load(&path)?, model);
//! # Ok(())
//! # }
//! ```

/// Serialises a type as its `Display` text and reads it back with `FromStr`, so that e.g. a
/// schedule is `"3x25,0.3x5,0.03x3"` in a model file's JSON, the same text as on the command
/// line.
macro_rules! serde_as_text {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod augment;
pub mod bench;
pub mod committee;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod device;
pub mod engine;
pub mod error;
pub mod history;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod model_file;
pub mod nn;
pub mod onnx;
pub mod plot;
pub mod predict;
pub mod preprocess;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod sweep;
pub mod teach;
pub mod train;
pub mod web;

pub use error::{Error, Result};

/// CI runs the tests a second time with `debug-assertions` and `overflow-checks` set for this
/// package (`.ci/run`, with `ZIFFER_EXPECT_CHECKS=1`); this fails if those settings did not reach
/// the library's build, for example after a rename of the package.
#[cfg(test)]
mod build_checks {
    #[test]
    fn a_checked_build_has_debug_assertions_and_overflow_checks() {
        if std::env::var_os("ZIFFER_EXPECT_CHECKS").is_none() {
            return;
        }
        let asserted =
            std::panic::catch_unwind(|| debug_assert!(std::hint::black_box(false))).is_err();
        assert!(
            asserted,
            "debug_assert!(false) did not panic: debug assertions are off"
        );
        let overflowed = std::panic::catch_unwind(|| std::hint::black_box(u8::MAX) + 1).is_err();
        assert!(
            overflowed,
            "255u8 + 1 did not panic: overflow checks are off in this build"
        );
    }
}
