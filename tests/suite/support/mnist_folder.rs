//! A small data set in MNIST's folder layout, for the command-line tests.

use tempfile::TempDir;
use ziffer::data::{idx, mnist};

/// A folder in MNIST layout with the first `train` and `test` images of the bundled MNIST (the
/// test files gzipped, the training files raw, so that both are read).
pub fn small_mnist(train: usize, test: usize) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist::load_bundled().unwrap();
    let d = dir.path();
    idx::write(
        &data.train.take(train),
        &d.join("train-images-idx3-ubyte"),
        &d.join("train-labels-idx1-ubyte"),
    )
    .unwrap();
    idx::write(
        &data.test.take(test),
        &d.join("t10k-images-idx3-ubyte.gz"),
        &d.join("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    dir
}
