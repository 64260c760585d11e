//! The library's one error type.
//!
//! Every variant carries what failed (the file, the line or byte offset, the value) and what was
//! expected, and its message says what to do next where there is something to do. The library never
//! prints; the `ziffer` binary adds context and prints the whole chain.

use std::fmt;
use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A byte offset from the start of the (decompressed) file.
    Offset(u64),
    /// A 1-based line number in a text file.
    Line(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Offset(offset) => write!(f, "byte offset {offset}"),
            Location::Line(line) => write!(f, "line {line}"),
        }
    }
}

/// Everything that can go wrong in ziffer's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- files -------------------------------------------------------------------------------
    /// A file could not be opened, read or written.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    // ---- data sets ---------------------------------------------------------------------------
    /// The first four bytes of an IDX file are not the magic number we expected.
    #[error("{}: expected IDX {kind} magic {expected}, found {found}{hint}", path.display())]
    BadMagic {
        path: PathBuf,
        /// "image" or "label".
        kind: &'static str,
        expected: u32,
        found: u32,
        /// A suggestion such as ": did you pass the labels file?" (may be empty).
        hint: &'static str,
    },

    /// The header of an IDX file describes something that is not a valid MNIST-style data set.
    #[error("{}: at {location}: {message}", path.display())]
    BadHeader {
        path: PathBuf,
        location: Location,
        message: String,
    },

    /// The file ends before the data its header promises.
    #[error(
        "{}: the header promises {expected} bytes of data from byte offset {offset}, but only {found} \
         are there: the file is truncated or the header is damaged",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        offset: u64,
        expected: u64,
        found: u64,
    },

    /// A label is not a digit class 0..=9 (or beyond the number of classes).
    #[error("{}: at {location}: label {label} is outside 0-{max}", path.display())]
    LabelOutOfRange {
        path: PathBuf,
        location: Location,
        label: u64,
        max: u8,
    },

    /// A CSV line has the wrong number of cells.
    #[error(
        "{}: line {line}: expected {expected} comma-separated values (the label, then the pixels), found {found}",
        path.display()
    )]
    CsvColumns {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },

    /// A CSV cell is not a whole number, or a pixel is over 255.
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    CsvCell {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// The image file and the label file do not describe the same number of examples.
    #[error(
        "{} holds {images} images but {} holds {labels} labels: are they from the same data set?",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        images_path: PathBuf,
        images: usize,
        labels_path: PathBuf,
        labels: usize,
    },

    /// A data set with no examples.
    #[error("{}: the data set is empty", path.display())]
    EmptyDataset { path: PathBuf },

    /// A bundled file does not match the digest in `SHA256SUMS`.
    #[error(
        "{}: SHA-256 of the decompressed data is {found}, but SHA256SUMS says {expected}: the file is \
         damaged; restore it with `git checkout -- {}`",
        path.display(),
        path.display()
    )]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },

    /// No data set was found where one was looked for.
    #[error("{message}")]
    DataNotFound { message: String },

    // ---- networks and training ---------------------------------------------------------------
    /// A configuration value (layer sizes, learning rate, batch size, ...) is not usable.
    #[error("invalid {what}: {message}")]
    InvalidConfig { what: &'static str, message: String },

    /// A data set's images do not fit the network's input (e.g. 784 inputs expected, 100 given).
    #[error(
        "{}: images of {rows}x{cols} = {} pixels, but the network takes {inputs} inputs",
        data.display(),
        rows * cols
    )]
    InputsMismatch {
        /// Where the data set came from.
        data: PathBuf,
        rows: usize,
        cols: usize,
        inputs: usize,
    },

    /// A network's outputs are not the data set's classes.
    #[error("the network has {outputs} outputs, but the data set has {classes} classes")]
    OutputsMismatch { outputs: usize, classes: usize },

    /// Models that cannot answer together as a committee. `member` counts from 0; the message
    /// counts from 1, as people do.
    #[error(
        "{}: the models of a committee must read the same images into the same classes with the \
         same output function",
        if *member == 0 { reason.clone() } else { format!("member {} of the committee {reason}", member + 1) }
    )]
    Committee { member: usize, reason: String },

    /// A network that does not read 28x28 digits is asked to serve the page.
    #[error(
        "the network takes {inputs} inputs and gives {outputs} outputs; the page needs \
         {expected_inputs} inputs (28x28 pixels) and {expected_outputs} outputs (digits)"
    )]
    NotADigitReader {
        inputs: usize,
        outputs: usize,
        expected_inputs: usize,
        expected_outputs: usize,
    },

    /// An image in MNIST form does not fit the network that is to read it.
    #[error(
        "the network takes {inputs} inputs and gives {outputs} outputs, but a digit image has \
         {pixels} pixels ({expected_pixels} expected) and {classes} classes"
    )]
    ImageMismatch {
        inputs: usize,
        outputs: usize,
        pixels: usize,
        expected_pixels: usize,
        classes: usize,
    },

    /// A data set's pixel bytes are not its labels times the image size.
    #[error(
        "{}: {labels} labels of {rows}x{cols} images need {} pixel bytes, found {found}",
        data.display(),
        labels * rows * cols
    )]
    PixelCount {
        data: PathBuf,
        labels: usize,
        rows: usize,
        cols: usize,
        found: usize,
    },

    /// CSV holds only square images: its reader takes the side as the square root of the
    /// number of pixel columns.
    #[error(
        "{}: CSV can only hold square images (the size is read back as the square root of the \
         number of pixels), but these are {rows}x{cols}; write IDX files instead",
        path.display()
    )]
    CsvNotSquare {
        path: PathBuf,
        rows: usize,
        cols: usize,
    },

    /// A count does not fit in an IDX header's 32 bits.
    #[error("{}: {count} {what} do not fit in an IDX header (at most {})", path.display(), u32::MAX)]
    IdxTooLarge {
        path: PathBuf,
        count: usize,
        /// `images`, `rows` or `columns`.
        what: &'static str,
    },

    /// Two neighbouring layers do not fit: one's outputs are not the next one's inputs.
    #[error(
        "invalid layers: layer {layer} has {outputs} outputs but layer {} takes {inputs} inputs; \
         each layer's inputs must be the previous layer's outputs",
        layer + 1
    )]
    LayersDoNotFit {
        /// 1-based.
        layer: usize,
        outputs: usize,
        inputs: usize,
    },

    /// A layer's parameters are not as many as its shape needs.
    #[error(
        "invalid layers: layer {layer} of {inputs} inputs and {outputs} outputs needs {} weights \
         and {outputs} biases, but has {weights} weights and {biases} biases; build it with \
         Dense::new_random or give a weight for every (output, input) pair",
        inputs * outputs
    )]
    LayerParameters {
        /// 1-based.
        layer: usize,
        inputs: usize,
        outputs: usize,
        weights: usize,
        biases: usize,
    },

    /// An optimizer's saved state is not shaped like the network it is to update.
    #[error(
        "invalid optimizer: the saved state does not fit {optimizer} on this network \
         ({layers} layers of {slots} slot(s) each expected, found {found})"
    )]
    OptimizerStateMismatch {
        /// The optimizer, as text (`adam=0.9/0.999/1e-8`).
        optimizer: String,
        layers: usize,
        slots: usize,
        /// What the state holds, e.g. `3 layers`.
        found: String,
    },

    /// A resumed run asks for another network than the saved model is: its shape, functions and
    /// initial weights are fixed once it exists.
    #[error(
        "{what} {asked} differs from the resumed model's {saved}: a network's {what} cannot change when it resumes"
    )]
    ResumeMismatch {
        /// `layers`, `activation`, `output`, `loss`, `init` or `classes`.
        what: &'static str,
        asked: String,
        saved: String,
    },

    /// A network too big for this machine, refused before anything is allocated.
    #[error(
        "{network} needs at least {} to train (its weights and gradients alone); this machine \
         has {}: use smaller layers",
        gigabytes(*needed),
        available.map_or("memory of unknown size".to_string(), gigabytes)
    )]
    TooBigForMemory {
        /// The sizes, e.g. `784-100000000-10`.
        network: String,
        /// Bytes: `2 · 4 · parameters`, or `u64::MAX` if that does not even fit in 64 bits.
        needed: u64,
        /// Bytes of memory this machine has, if known.
        available: Option<u64>,
    },

    /// The loss became NaN or infinite during training.
    #[error(
        "training diverged in epoch {epoch} at batch {batch}: the loss became {loss}; \
         try a smaller learning rate"
    )]
    Diverged {
        epoch: usize,
        batch: usize,
        loss: f32,
    },

    /// Training was asked to stop (Ctrl-C), and stopped at the end of a batch.
    #[error("training was interrupted in epoch {epoch}, after {images} of its images")]
    Interrupted { epoch: usize, images: usize },

    // ---- the GPU -------------------------------------------------------------------------------
    /// The CUDA engine cannot start or failed: no driver, no device, no library, out of memory.
    #[error("{message}")]
    Cuda { message: String },

    // ---- images and plots --------------------------------------------------------------------
    /// An image file could not be decoded (not an image, truncated, too large, ...).
    #[error("{}: cannot read the image: {message}", path.display())]
    Image { path: PathBuf, message: String },

    /// An image holds no ink to read.
    #[error("{}: no digit found: {message}", path.display())]
    NoDigit { path: PathBuf, message: String },

    /// A plot could not be drawn or written.
    #[error("{}: cannot draw the plot: {message}", path.display())]
    Plot { path: PathBuf, message: String },

    // ---- model files -------------------------------------------------------------------------
    /// A model file is not valid safetensors, or does not describe a ziffer network.
    #[error("{}: not a usable ziffer model: {message}", path.display())]
    BadModel { path: PathBuf, message: String },

    /// A network that an ONNX file cannot hold as ziffer writes it.
    #[error("cannot export {what} to ONNX: {reason}")]
    NotExportable {
        /// What could not be exported, e.g. `a network of 600000000 parameters`.
        what: String,
        /// Why, and what to do instead.
        reason: String,
    },
}

/// Bytes as people read them: `635 GB`, `24 GB`, `512 MB`; `u64::MAX`, what a count too large
/// for 64 bits is reported as, is `18 EB`.
pub(crate) fn gigabytes(bytes: u64) -> String {
    if bytes == u64::MAX {
        return "18 EB".to_string();
    }
    if bytes >= 1_000_000_000 {
        format!("{} GB", bytes / 1_000_000_000)
    } else {
        format!("{} MB", bytes.div_ceil(1_000_000))
    }
}

impl Error {
    /// Wraps an I/O error with the file it concerns and what was being done.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// A model file problem.
    pub fn bad_model(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadModel {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An unusable configuration value.
    pub fn config(what: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            what,
            message: message.into(),
        }
    }
}
