//! Finding and loading whole MNIST-style data sets: a folder of the four IDX files, the copy of
//! MNIST bundled with ziffer, or one file given on its own.
//!
//! A folder holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
//! and `t10k-labels-idx1-ubyte`, each plain or gzip-compressed with `.gz` appended (as MNIST and
//! Fashion-MNIST are published). If the folder also holds a `SHA256SUMS` file, in the format
//! `sha256sum` writes (`<64 hex digits>  <name>`, the name of the decompressed file), every file
//! is checked against it; the bundled copy has one, so a damaged file is reported, not learned
//! from.
//!
//! This module decides which files to read; parsing is [`super::idx`]'s and [`super::csv`]'s.

use super::idx::{self, IMAGE_MAGIC, LABEL_MAGIC};
use super::{Dataset, TrainTest, csv};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The training images, as named in MNIST (without `.gz`).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// The training labels.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// The test images.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// The test labels.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The four files of a data set folder, in the order they are loaded.
pub const FILES: [&str; 4] = [TRAIN_LABELS, TRAIN_IMAGES, TEST_LABELS, TEST_IMAGES];

/// The checksum file that may sit next to the data.
pub const CHECKSUMS: &str = "SHA256SUMS";

/// Loads the training and test sets from a folder holding the four MNIST files, verifying them
/// against the folder's `SHA256SUMS` if it has one.
pub fn load_dir(dir: &Path) -> Result<TrainTest> {
    let paths = find_all(dir)?;
    let sums = read_checksums(dir)?;
    let [train_labels, train_images, test_labels, test_images] = &paths;
    // Labels first in each pair: they are small, so a swapped or damaged file fails fast.
    let load_pair = |images: &Path, labels: &Path| -> Result<Dataset> {
        let label_values = idx::parse_labels(labels, &read_verified(labels, sums.as_ref())?)?;
        let image_values = idx::parse_images(images, read_verified(images, sums.as_ref())?)?;
        idx::pair(images, image_values, labels, label_values)
    };
    Ok(TrainTest {
        train: load_pair(train_images, train_labels)?,
        test: load_pair(test_images, test_labels)?,
    })
}

/// The folder of the bundled MNIST copy: `./data/mnist` if it holds the four files, else
/// `data/mnist` in the source checkout ziffer was built from, else `None`.
pub fn bundled_dir() -> Option<PathBuf> {
    bundled_candidates()
        .into_iter()
        .find(|dir| find_all(dir).is_ok())
}

/// Loads the bundled MNIST copy (see [`bundled_dir`]), verified against its `SHA256SUMS`.
pub fn load_bundled() -> Result<TrainTest> {
    match bundled_dir() {
        Some(dir) => load_dir(&dir),
        None => {
            let [here, checkout] = bundled_candidates();
            Err(Error::DataNotFound {
                message: format!(
                    "no bundled MNIST found: looked for the four files {} in {} and in {}; pass \
                     --data DIR for a folder holding them, or --train FILE --test FILE",
                    FILES.join(", "),
                    here.display(),
                    checkout.display()
                ),
            })
        }
    }
}

/// Loads one data set from a single file: IDX images (their labels file is found next to them)
/// or CSV, raw or gzip-compressed.
///
/// For an IDX images file such as `fashion/train-images-idx3-ubyte.gz`, the labels are looked
/// for as `fashion/train-labels-idx1-ubyte.gz` and `fashion/train-labels-idx1-ubyte`. A labels
/// file on its own is refused with a message saying to pass the images file.
pub fn load_file(path: &Path) -> Result<Dataset> {
    let bytes = idx::read_decompressed(path)?;
    let magic = bytes.first_chunk::<4>().map(|m| u32::from_be_bytes(*m));
    if magic == Some(LABEL_MAGIC) {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            kind: "image",
            expected: IMAGE_MAGIC,
            found: LABEL_MAGIC,
            hint: ": this is a labels file; pass the images file (e.g. train-images-idx3-ubyte) \
                   and its labels file next to it is found by name",
        });
    }
    // IDX files start with two zero bytes, which no CSV file does.
    if !bytes.starts_with(&[0, 0]) {
        return csv::parse(path, &bytes);
    }
    let images = idx::parse_images(path, bytes)?;
    let candidates = labels_candidates(path).ok_or_else(|| Error::DataNotFound {
        message: format!(
            "{}: holds IDX images, but its name does not contain `images-idx3`, so its labels file \
             cannot be found; name the pair like train-images-idx3-ubyte and \
             train-labels-idx1-ubyte (each may end in .gz)",
            path.display()
        ),
    })?;
    let labels_path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        Error::DataNotFound {
            message: format!(
                "{}: holds IDX images, but its labels file is not next to it: looked for {} and {}",
                path.display(),
                candidates[0].display(),
                candidates[1].display()
            ),
        }
    })?;
    let labels = idx::read_labels(labels_path)?;
    idx::pair(path, images, labels_path, labels)
}

/// Where the bundled copy is looked for: the current folder's `data/mnist`, then the checkout's.
fn bundled_candidates() -> [PathBuf; 2] {
    [
        Path::new("data").join("mnist"),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join("mnist"),
    ]
}

/// The path of a data file in `dir`: `name` if it exists, else `name.gz`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// The paths of the four files of [`FILES`] in `dir`, or an error listing those missing.
fn find_all(dir: &Path) -> Result<[PathBuf; 4]> {
    let found = FILES.map(|name| find(dir, name));
    if let [Some(a), Some(b), Some(c), Some(d)] = found {
        return Ok([a, b, c, d]);
    }
    let expected = format!(
        "expected the four MNIST files {} (each may end in .gz)",
        FILES.join(", ")
    );
    let message = if dir.is_dir() {
        let missing: Vec<_> = FILES
            .iter()
            .zip(&found)
            .filter(|(_, path)| path.is_none())
            .map(|(name, _)| format!("{name}[.gz]"))
            .collect();
        format!(
            "{}: no MNIST-style data set here: missing {}; {expected}",
            dir.display(),
            missing.join(", ")
        )
    } else {
        format!("{}: no such folder; {expected} in it", dir.display())
    };
    Err(Error::DataNotFound { message })
}

/// The digests in `dir/SHA256SUMS` by file name (lower-case hex), if the file exists.
fn read_checksums(dir: &Path) -> Result<Option<HashMap<String, String>>> {
    let path = dir.join(CHECKSUMS);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(parse_checksums(&text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, "read", e)),
    }
}

/// Parses `sha256sum` output: `<64 hex digits>  <name>` per line (`*<name>` in binary mode).
///
/// Lines that do not have this form are skipped, as `sha256sum --check` does without `--strict`;
/// a file without a line is not verified.
fn parse_checksums(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (hex, name) = line.trim_end().split_once(' ')?;
            let name = name.strip_prefix([' ', '*']).unwrap_or(name);
            let name = name.strip_prefix("./").unwrap_or(name);
            let is_digest = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
            (is_digest && !name.is_empty()).then(|| (name.to_string(), hex.to_ascii_lowercase()))
        })
        .collect()
}

/// Reads and decompresses a file, checking it against its digest in `sums` if there is one.
fn read_verified(path: &Path, sums: Option<&HashMap<String, String>>) -> Result<Vec<u8>> {
    let bytes = idx::read_decompressed(path)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if let Some(expected) = sums.and_then(|sums| sums.get(name)) {
        let found = sha256_hex(&bytes);
        if &found != expected {
            return Err(Error::ChecksumMismatch {
                path: path.to_path_buf(),
                expected: expected.clone(),
                found,
            });
        }
    }
    Ok(bytes)
}

/// The SHA-256 digest of `bytes` as 64 lower-case hex digits.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the labels of an images file may be: `images-idx3` replaced by `labels-idx1` in its
/// name, with and without `.gz`; `None` if the name has no `images-idx3`.
fn labels_candidates(images: &Path) -> Option<[PathBuf; 2]> {
    let name = images.file_name()?.to_str()?;
    if !name.contains("images-idx3") {
        return None;
    }
    let labels = name.replace("images-idx3", "labels-idx1");
    let other = match labels.strip_suffix(".gz") {
        Some(plain) => plain.to_string(),
        None => format!("{labels}.gz"),
    };
    Some([images.with_file_name(labels), images.with_file_name(other)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_the_standard_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn checksum_lines_in_text_and_binary_mode_are_read_and_others_skipped() {
        let a = "A".repeat(64);
        let b = "b".repeat(64);
        let text = format!("{a}  train-images-idx3-ubyte\n{b} *./t10k\nnot a line\n\n");
        let sums = parse_checksums(&text);
        assert_eq!(sums.len(), 2);
        assert_eq!(sums["train-images-idx3-ubyte"], "a".repeat(64));
        assert_eq!(sums["t10k"], b);
    }

    #[test]
    fn labels_are_looked_for_with_and_without_gz() {
        let [first, second] = labels_candidates(Path::new("d/train-images-idx3-ubyte.gz")).unwrap();
        assert_eq!(first, Path::new("d/train-labels-idx1-ubyte.gz"));
        assert_eq!(second, Path::new("d/train-labels-idx1-ubyte"));
        let [first, second] = labels_candidates(Path::new("t10k-images-idx3-ubyte")).unwrap();
        assert_eq!(first, Path::new("t10k-labels-idx1-ubyte"));
        assert_eq!(second, Path::new("t10k-labels-idx1-ubyte.gz"));
        assert!(labels_candidates(Path::new("digits.idx")).is_none());
    }
}
