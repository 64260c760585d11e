//! Which data set a command uses: the bundled MNIST, a folder, or single files.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use ziffer::data::{Dataset, TrainTest, mnist};

#[derive(Debug, Args)]
pub struct DataArgs {
    /// A folder with the four MNIST-format files (train-images-idx3-ubyte, ...; .gz or not),
    /// e.g. Fashion-MNIST [default: the bundled MNIST in ./data/mnist]
    #[arg(long, value_name = "DIR", conflicts_with_all = ["train", "test"])]
    pub data: Option<PathBuf>,

    /// The training set as one file: IDX images (labels found next to them) or CSV
    /// (label, then the pixels, one image a line)
    #[arg(long, value_name = "FILE", requires = "test")]
    pub train: Option<PathBuf>,

    /// The test set as one file, like --train
    #[arg(long, value_name = "FILE")]
    pub test: Option<PathBuf>,
}

impl DataArgs {
    /// Loads the training and test sets.
    pub fn load(&self) -> Result<TrainTest> {
        if let Some(dir) = &self.data {
            return mnist::load_dir(dir)
                .with_context(|| format!("cannot load the data set in {}", dir.display()));
        }
        match (&self.train, &self.test) {
            (Some(train), Some(test)) => Ok(TrainTest {
                train: load_file(train, "training")?,
                test: load_file(test, "test")?,
            }),
            (None, None) => mnist::load_bundled().context("cannot load the bundled MNIST"),
            _ => bail!("--train and --test go together: pass both files"),
        }
    }

    /// Loads only the test set (`--test FILE` alone is enough).
    pub fn load_test(&self) -> Result<Dataset> {
        match (&self.data, &self.test) {
            (None, Some(test)) => load_file(test, "test"),
            _ => Ok(self.load()?.test),
        }
    }
}

fn load_file(path: &Path, which: &str) -> Result<Dataset> {
    mnist::load_file(path).with_context(|| format!("cannot load the {which} set"))
}
