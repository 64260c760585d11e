//! ziffer: a neural network written from scratch that learns to read handwritten digits.

pub mod activation;
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
pub mod train;

pub use error::{Error, Result};
