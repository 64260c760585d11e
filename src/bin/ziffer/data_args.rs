//! Which data set a command uses: the bundled MNIST, a folder, or single files.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use ziffer::data::{Dataset, TrainTest, classes, mnist};
use ziffer::run::DataSource;

#[derive(Debug, Clone, Default, Args)]
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

    /// Whether any data flag was given (none: the bundled MNIST).
    pub fn given(&self) -> bool {
        self.data.is_some() || self.train.is_some() || self.test.is_some()
    }

    /// Where these flags take the data from, as a run records it.
    pub fn source(&self) -> DataSource {
        match (&self.data, &self.train, &self.test) {
            (Some(dir), _, _) => DataSource::Folder { dir: dir.clone() },
            (None, Some(train), Some(test)) => DataSource::Files {
                train: train.clone(),
                test: test.clone(),
            },
            _ => DataSource::Bundled,
        }
    }

    /// The flags that name `source`.
    pub fn from_source(source: &DataSource) -> DataArgs {
        match source {
            DataSource::Bundled => DataArgs::default(),
            DataSource::Folder { dir } => DataArgs {
                data: Some(dir.clone()),
                ..DataArgs::default()
            },
            DataSource::Files { train, test } => DataArgs {
                data: None,
                train: Some(train.clone()),
                test: Some(test.clone()),
            },
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

/// Which data set's class names to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DatasetKind {
    /// MNIST: the digits 0 to 9
    Mnist,
    /// Fashion-MNIST: T-shirt/top, Trouser, ..., Ankle boot
    Fashion,
}

/// Where Fashion-MNIST can be downloaded, for the message that asks for it.
pub const FASHION_MNIST_URL: &str = "https://github.com/zalandoresearch/fashion-mnist";

impl DataArgs {
    /// The folder the data comes from, if not the bundled MNIST.
    fn folder(&self) -> Option<PathBuf> {
        match (&self.data, &self.train) {
            (Some(dir), _) => Some(dir.clone()),
            (None, Some(file)) => Some(
                file.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or(PathBuf::from("."), Path::to_path_buf),
            ),
            (None, None) => None,
        }
    }

    /// The class names for this data: those of `kind` if given, else those in `classes.txt`
    /// next to the data if there is one, else the digits.
    pub fn class_names(&self, kind: Option<DatasetKind>) -> Result<Vec<String>> {
        let folder = self.folder();
        match kind {
            Some(DatasetKind::Mnist) => Ok(classes::digits()),
            Some(DatasetKind::Fashion) if folder.is_none() => bail!(
                "Fashion-MNIST is not bundled with ziffer: download its four .gz files from \
                 {FASHION_MNIST_URL} into a folder and pass it with --data DIR"
            ),
            Some(DatasetKind::Fashion) => Ok(classes::fashion()),
            None => match folder.map(|f| f.join(classes::CLASS_FILE)) {
                Some(file) if file.exists() => Ok(classes::read_class_file(&file)?),
                _ => Ok(classes::digits()),
            },
        }
    }
}

/// What `train` and `sweep` train on: the training set less its last `validation` images,
/// which become the validation set (none for 0), then cut to its first `limit` images.
pub fn training_sets(
    train_set: Dataset,
    validation: usize,
    limit: Option<usize>,
) -> Result<(Dataset, Option<Dataset>)> {
    // The library's rule (data::training_sets), in the words of the flags.
    if limit == Some(0) {
        bail!("--limit 0 leaves no training images; give at least 1");
    }
    ziffer::data::training_sets(train_set, validation, limit)
        .context("pass --validation with a smaller number, or 0")
}
