//! ziffer: a neural network written from scratch that learns to read handwritten digits.
//!
//! The maths is ours, written out by hand and each formula in one named function; matrix
//! products go through the `faer` crate's GEMM. A tour of the modules, in the order a
//! batch meets them:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`data`] | IDX and CSV readers, the bundled MNIST, mini-batches ([`data::batch`]) |
//! | [`augment`] | seeded distortions of training images: shift, rotation, scale, elastic |
//! | [`matrix`] | `C ← α·A·B + β·C` over strided views, with a naive reference |
//! | [`layer`] | the dense layer: `Z = W·A + B` forward, `dW`, `dB`, `dA_prev` backward |
//! | [`activation`] | `A = σ(Z)` and `dZ = dA ⊙ σ'(Z)` |
//! | [`loss`] | `½‖A − Y‖²` and its gradient `A − Y` |
//! | [`network`] | the layers stacked: forward and backward through all of them |
//! | [`optimizer`] | the update `W := W − η·dW` |
//! | [`train`] | the epoch loop, the learning-rate schedule, the per-epoch record |
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
//! use ziffer::train::{TrainConfig, train};
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
//! train(&mut model, &data.train.take(5000), &data.test, 2, threads, |_event| Ok(()))?;
//! assert!(model.test_accuracy().unwrap() > 0.8);
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("small.safetensors");
//! ziffer::model_file::save(&model, &path)?;
//! assert_eq!(ziffer::model_file::load(&path)?, model);
//! # Ok(())
//! # }
//! ```

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
pub mod team;
pub mod train;
pub mod web;

pub use error::{Error, Result};
