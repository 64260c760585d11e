//! ziffer: a neural network written from scratch that learns to read handwritten digits.
//!
//! The maths is ours, written out by hand and each formula in one named function; matrix
//! products go through the `faer` crate's GEMM. A tour of the modules, in the order a
//! batch meets them:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`data`] | IDX and CSV readers, the bundled MNIST, mini-batches ([`data::batch`]), class names |
//! | [`augment`] | seeded distortions of training images: shift, rotation, scale, elastic |
//! | [`matrix`] | `C ← α·A·B + β·C` over strided views, with a naive reference |
//! | [`layer`] | the dense layer: `Z = W·A + B` forward, `dW`, `dB`, `dA_prev` backward |
//! | [`activation`] | `A = f(Z)` and `dZ = dA ⊙ f'(Z)`: sigmoid, tanh, ReLU, leaky ReLU, softmax |
//! | [`loss`] | `½‖A − Y‖²` and the cross-entropy, and `dZ[L]` for each |
//! | [`network`] | the layers stacked: forward and backward through all of them, dropout |
//! | [`optimizer`] | the update: SGD `W := W − η·dW`, momentum, Nesterov, Adam, weight decay |
//! | [`train`] | the epoch loop, learning-rate schedules, validation, the per-epoch record |
//! | [`sweep`] | several configurations trained alike and compared |
//! | [`metrics`] | accuracy and the confusion matrix |
//! | [`model`], [`model_file`] | a network with its training record, saved as safetensors |
//! | [`preprocess`], [`predict`] | a person's image brought to MNIST's form, and read |
//! | [`plot`] | pictures of what the library computed: curves, confusion, weights, ... |
//! | [`team`], [`bench`] | the threads that share a layer's work, and speed measurements |
//! | [`web`] | `ziffer serve`: the drawing page and its JSON API |
//!
//! The network is explained for a learner, formula by formula, in `docs/how-it-works.md`.
//!
//! # Example
//!
//! Train a small network for two epochs on 5,000 bundled MNIST images, save it and load it back:
//!
//! ```
//! use ziffer::data::mnist;
//! use ziffer::model::Model;
//! use ziffer::train::{Sets, TrainConfig, train};
//!
//! # fn main() -> ziffer::Result<()> {
//! let data = mnist::load_bundled()?;
//! let config = TrainConfig {
//!     layers: vec![784, 32, 10],
//!     schedule: "3".parse()?,
//!     ..TrainConfig::default()
//! };
//! let mut model = Model::new(&config)?;
//! let threads = 1;
//! let train_set = data.train.take(5000);
//! let sets = Sets::new(&train_set, &data.test);
//! train(&mut model, sets, 2, threads, |_event| Ok(()))?;
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

pub mod activation;
pub mod augment;
pub mod bench;
pub mod data;
pub mod error;
pub mod layer;
pub mod loss;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod model_file;
pub mod network;
pub mod optimizer;
pub mod plot;
pub mod predict;
pub mod preprocess;
pub mod sweep;
pub mod team;
pub mod train;
pub mod web;

pub use error::{Error, Result};
