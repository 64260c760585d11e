//! The IDX format of the original MNIST files: reading with precise errors, and writing.
//!
//! An IDX file is a header followed by a payload of unsigned bytes (see
//! <http://yann.lecun.com/exdb/mnist/>). All numbers in the header are big-endian `u32`:
//!
//! ```text
//! images (magic 2051 = 0x00000803):  magic | count | rows | cols | count*rows*cols pixels
//! labels (magic 2049 = 0x00000801):  magic | count |                count labels
//! ```
//!
//! The magic number's third byte is the element type (`0x08`, unsigned byte) and its fourth the
//! number of dimensions. A file may be gzip-compressed; that is recognised by its first two bytes
//! (`1f 8b`), not by its name. Every check names the file and the byte offset (in the decompressed
//! data) where it failed, and no allocation is sized from a header before the header has been
//! checked against the bytes that are really there: a damaged count of 4,294,967,295 gives an
//! error, not an abort.
//!
//! This module is not where folders of MNIST files are found ([`super::mnist`]) nor where CSV is
//! read ([`super::csv`]); it knows one file format.

use super::{CLASSES, Dataset};
use crate::error::{Error, Location, Result};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// Magic number of an IDX file of images: unsigned bytes (`0x08`) in 3 dimensions.
pub const IMAGE_MAGIC: u32 = 2051;
/// Magic number of an IDX file of labels: unsigned bytes (`0x08`) in 1 dimension.
pub const LABEL_MAGIC: u32 = 2049;

/// The most bytes a data file may hold, after decompression (1 GiB).
///
/// MNIST's largest file is 47 MB decompressed and its CSV form 110 MB; anything over this is a
/// damaged file or a gzip bomb, and is refused before it fills the memory.
pub const MAX_DATA_BYTES: u64 = 1 << 30;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Element type "unsigned byte", the third byte of both MNIST magic numbers.
const UNSIGNED_BYTE: u8 = 0x08;

/// Images as stored in an IDX file: `count` images of `rows` x `cols` pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// `count * rows * cols` pixels, image after image, each row-major; 0 = background, 255 = ink.
    pub pixels: Vec<u8>,
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
}

/// Reads an IDX images file, raw or gzip-compressed.
pub fn read_images(path: &Path) -> Result<Images> {
    parse_images(path, read_decompressed(path)?)
}

/// Reads an IDX labels file, raw or gzip-compressed; every label is checked to be in `0..=9`.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    parse_labels(path, &read_decompressed(path)?)
}

/// Reads an images file and its labels file into one data set whose source is `images_path`.
///
/// For example `load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")` gives MNIST's
/// 60,000 training images of 28x28 pixels.
pub fn load(images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    let images = read_images(images_path)?;
    let labels = read_labels(labels_path)?;
    pair(images_path, images, labels_path, labels)
}

/// Joins images and labels read from two files into a data set whose source is `images_path`,
/// checking that the two files hold the same number of examples.
pub fn pair(
    images_path: &Path,
    images: Images,
    labels_path: &Path,
    labels: Vec<u8>,
) -> Result<Dataset> {
    if images.count != labels.len() {
        return Err(Error::CountMismatch {
            images_path: images_path.to_path_buf(),
            images: images.count,
            labels_path: labels_path.to_path_buf(),
            labels: labels.len(),
        });
    }
    Dataset::new(images.pixels, labels, images.rows, images.cols, images_path)
}

/// Reads a whole file into memory, decompressing it if it starts with the gzip magic bytes.
///
/// This is the one place where data files are read, so that a caller can both hash and parse the
/// bytes (see [`super::mnist`]) without decompressing twice. Files of more than
/// [`MAX_DATA_BYTES`] (before or after decompression) are refused with an [`Error::Io`].
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>> {
    read_decompressed_limited(path, MAX_DATA_BYTES)
}

/// [`read_decompressed`] with the size limit as a parameter, so that tests can use a small one.
fn read_decompressed_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "read", e))?
        .len();
    let too_large = |action, what: String| {
        Error::io(
            path,
            action,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{what}, more than the {} a data set may hold: this is not an MNIST-style data \
                     file, or it is damaged",
                    format_bytes(limit)
                ),
            ),
        )
    };
    if len > limit {
        return Err(too_large("read", format!("the file is {len} bytes")));
    }
    // `len <= limit`, and `take` keeps a file that grows while we read within the limit too.
    let mut raw = Vec::with_capacity(len as usize);
    (&file)
        .take(limit + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io(path, "read", e))?;
    if raw.len() as u64 > limit {
        return Err(too_large(
            "read",
            format!("the file grew to {} bytes", raw.len()),
        ));
    }
    decompress_limited(path, raw, limit)
}

/// The bytes of a data file as read from disk, decompressed if they start with the gzip magic
/// bytes and returned as they are otherwise; `path` is only used in errors.
///
/// This is what [`read_decompressed`] does once the file is read, for bytes that come from
/// elsewhere. The same limits hold: more than [`MAX_DATA_BYTES`] before or after decompression
/// is an [`Error::Io`], and so is a gzip stream holding an IDX header that expands to more than
/// [`IDX_SLACK_BYTES`] past the end its header states.
pub fn decompress(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    decompress_limited(path, raw, MAX_DATA_BYTES)
}

/// How far past the end its header states a compressed IDX file is decompressed (1 MiB), so that
/// the parser can still count the bytes too many, while a gzip bomb behind a small header stops
/// here and not at [`MAX_DATA_BYTES`].
pub const IDX_SLACK_BYTES: u64 = 1 << 20;

/// [`decompress`] with the size limit as a parameter, so that tests can use a small one.
fn decompress_limited(path: &Path, raw: Vec<u8>, limit: u64) -> Result<Vec<u8>> {
    let too_large = |what: String| {
        Error::io(
            path,
            "decompress",
            std::io::Error::new(std::io::ErrorKind::InvalidData, what),
        )
    };
    let over_limit = |what: String| {
        too_large(format!(
            "{what}, more than the {} a data set may hold: this is not an MNIST-style data \
             file, or it is damaged",
            format_bytes(limit)
        ))
    };
    if raw.len() as u64 > limit {
        return Err(over_limit(format!("the data is {} bytes", raw.len())));
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut decoder = MultiGzDecoder::new(&raw[..]);
    // The IDX header, if this is an IDX file, says how long the whole file should be: no more
    // than that (and some slack) is decompressed.
    let mut head = Vec::with_capacity(IDX_HEAD_BYTES);
    (&mut decoder)
        .take(IDX_HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, "decompress", e))?;
    let stated = idx_stated_len(&head);
    let cap = stated.map_or(limit, |n| n.saturating_add(IDX_SLACK_BYTES).min(limit));
    // The gzip trailer's size (mod 2^32) is only a hint: it is capped by what the compressed bytes
    // could expand to at deflate's best ratio (1032:1), by the header and by the limit, so a lying
    // trailer cannot make us allocate more than the data could fill. It spares the doubling
    // reallocations whose old and new buffers would together double the peak memory.
    let mut data = Vec::with_capacity(gzip_size_hint(&raw, cap).max(head.len()));
    data.extend_from_slice(&head);
    decoder
        .take((cap + 1).saturating_sub(head.len() as u64))
        .read_to_end(&mut data)
        .map_err(|e| Error::io(path, "decompress", e))?;
    if data.len() as u64 > cap {
        let compressed = raw.len();
        return Err(match stated {
            Some(stated) if cap < limit => too_large(format!(
                "the IDX header says the file holds {stated} bytes, but the {compressed} \
                 compressed bytes expand to more than {} bytes past that: the file is damaged",
                IDX_SLACK_BYTES
            )),
            _ => over_limit(format!(
                "the {compressed} compressed bytes expand to more than that"
            )),
        });
    }
    Ok(data)
}

/// The most header bytes an MNIST-style IDX file has: magic, count, rows, columns.
const IDX_HEAD_BYTES: usize = 16;

/// The length, header included, that an IDX header at the start of `head` states for its file:
/// `None` if `head` does not start with an unsigned-byte IDX header of 1 or 3 dimensions, or if
/// the product overflows (the parser then says what is wrong).
fn idx_stated_len(head: &[u8]) -> Option<u64> {
    let [0, 0, UNSIGNED_BYTE, dims @ (1 | 3), ..] = *head else {
        return None;
    };
    let dims = dims as usize;
    let sizes = head.get(4..4 + 4 * dims)?;
    sizes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as u64)
        .try_fold(1u64, u64::checked_mul)?
        .checked_add(header_len(dims))
}

/// The decompressed size a gzip stream's trailer states, bounded as explained at its use.
fn gzip_size_hint(raw: &[u8], limit: u64) -> usize {
    let Some(trailer) = raw.last_chunk::<4>() else {
        return 0;
    };
    let stated = u32::from_le_bytes(*trailer) as u64;
    stated.min(limit).min(raw.len() as u64 * 1032) as usize
}

/// "1 GiB" for whole gibibytes, else "N bytes".
fn format_bytes(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else {
        format!("{n} bytes")
    }
}

/// Parses the (decompressed) bytes of an IDX images file; `path` is only used in errors.
///
/// For example the 16 header bytes `00 00 08 03 | 00 00 00 02 | 00 00 00 1c | 00 00 00 1c`
/// followed by 2 * 28 * 28 bytes give 2 images of 28x28 pixels.
///
/// Takes the bytes by value and keeps their buffer for the pixels: a copy would double the peak
/// memory of loading MNIST's 47 MB of training pixels.
pub fn parse_images(path: &Path, mut bytes: Vec<u8>) -> Result<Images> {
    check_magic(path, &bytes, Kind::Images)?;
    let [count, rows, cols] = read_dims::<3>(path, &bytes)?;
    if rows == 0 {
        return Err(zero_dimension(path, 8, "rows"));
    }
    if cols == 0 {
        return Err(zero_dimension(path, 12, "columns"));
    }
    if count == 0 {
        return Err(Error::EmptyDataset {
            path: path.to_path_buf(),
        });
    }
    let payload_len = payload(path, &bytes, [count, rows, cols], "image")?.len();
    bytes.drain(..header_len(3) as usize);
    debug_assert_eq!(bytes.len(), payload_len);
    Ok(Images {
        pixels: bytes,
        count: count as usize,
        rows: rows as usize,
        cols: cols as usize,
    })
}

/// Parses the (decompressed) bytes of an IDX labels file; `path` is only used in errors.
///
/// For example `00 00 08 01 | 00 00 00 03 | 05 00 04` gives the labels `[5, 0, 4]`.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    check_magic(path, bytes, Kind::Labels)?;
    let [count] = read_dims::<1>(path, bytes)?;
    if count == 0 {
        return Err(Error::EmptyDataset {
            path: path.to_path_buf(),
        });
    }
    let labels = payload(path, bytes, [count], "label")?;
    if let Some(i) = labels.iter().position(|&l| l as usize >= CLASSES) {
        return Err(Error::LabelOutOfRange {
            path: path.to_path_buf(),
            location: Location::Offset(header_len(1) + i as u64),
            label: labels[i] as u64,
            max: (CLASSES - 1) as u8,
        });
    }
    Ok(labels.to_vec())
}

/// Writes a data set as an IDX images file and an IDX labels file, each gzip-compressed if its
/// name ends in `.gz` and raw otherwise.
pub fn write(dataset: &Dataset, images_path: &Path, labels_path: &Path) -> Result<()> {
    let dim = |count: usize, what: &'static str| {
        u32::try_from(count).map_err(|_| Error::IdxTooLarge {
            path: images_path.to_path_buf(),
            count,
            what,
        })
    };
    let count = dim(dataset.len(), "images")?;
    let rows = dim(dataset.rows(), "rows")?;
    let cols = dim(dataset.cols(), "columns")?;

    let mut images = Vec::with_capacity(16 + dataset.pixels().len());
    for n in [IMAGE_MAGIC, count, rows, cols] {
        images.extend_from_slice(&n.to_be_bytes());
    }
    images.extend_from_slice(dataset.pixels());
    write_file(images_path, &images)?;

    let mut labels = Vec::with_capacity(8 + dataset.len());
    for n in [LABEL_MAGIC, count] {
        labels.extend_from_slice(&n.to_be_bytes());
    }
    labels.extend_from_slice(dataset.labels());
    write_file(labels_path, &labels)
}

/// Writes `bytes` to `path`, gzip-compressed if the name ends in `.gz`.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, "create", e))?;
    let mut out = BufWriter::new(file);
    let written = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = GzEncoder::new(&mut out, Compression::default());
        gz.write_all(bytes).and_then(|()| gz.finish().map(drop))
    } else {
        out.write_all(bytes)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(path, "write", e))
}

/// Which of the two MNIST file kinds is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGE_MAGIC,
            Kind::Labels => LABEL_MAGIC,
        }
    }

    /// "image" or "label", as in "expected IDX image magic 2051".
    fn name(self) -> &'static str {
        match self {
            Kind::Images => "image",
            Kind::Labels => "label",
        }
    }

    fn dims(self) -> u8 {
        match self {
            Kind::Images => 3,
            Kind::Labels => 1,
        }
    }
}

/// Number of header bytes: the magic number and one `u32` per dimension.
fn header_len(dims: usize) -> u64 {
    4 + 4 * dims as u64
}

/// Checks the magic number, telling swapped files, other IDX files and non-IDX files apart.
fn check_magic(path: &Path, bytes: &[u8], kind: Kind) -> Result<()> {
    let Some(&magic) = bytes.first_chunk::<4>() else {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            offset: 0,
            expected: 4,
            found: bytes.len() as u64,
        });
    };
    let found = u32::from_be_bytes(magic);
    if found == kind.magic() {
        return Ok(());
    }
    let [zero_a, zero_b, element_type, dims] = magic;
    let is_idx = zero_a == 0 && zero_b == 0;
    let hint = match (kind, found) {
        (Kind::Images, LABEL_MAGIC) => ": did you pass the labels file?",
        (Kind::Labels, IMAGE_MAGIC) => ": did you pass the images file?",
        _ if is_idx && element_type == UNSIGNED_BYTE => {
            return Err(Error::BadHeader {
                path: path.to_path_buf(),
                location: Location::Offset(3),
                message: format!(
                    "the magic number {found} says {dims} dimensions, but an IDX {} file has {} \
                     ({}): is this an MNIST-style file?",
                    kind.name(),
                    kind.dims(),
                    match kind {
                        Kind::Images => "count, rows, columns",
                        Kind::Labels => "count",
                    }
                ),
            });
        }
        _ if is_idx && matches!(element_type, 0x09 | 0x0b | 0x0c | 0x0d | 0x0e) => {
            ": this IDX file holds signed numbers or floats, but MNIST-style files hold unsigned bytes"
        }
        _ => ": is this an IDX file?",
    };
    Err(Error::BadMagic {
        path: path.to_path_buf(),
        kind: kind.name(),
        expected: kind.magic(),
        found,
        hint,
    })
}

/// Reads the `D` dimension sizes that follow the magic number.
fn read_dims<const D: usize>(path: &Path, bytes: &[u8]) -> Result<[u32; D]> {
    let end = header_len(D) as usize;
    if bytes.len() < end {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            offset: 4,
            expected: 4 * D as u64,
            found: bytes.len() as u64 - 4,
        });
    }
    Ok(std::array::from_fn(|d| {
        let at = 4 + 4 * d;
        u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
    }))
}

fn zero_dimension(path: &Path, offset: u64, what: &str) -> Error {
    Error::BadHeader {
        path: path.to_path_buf(),
        location: Location::Offset(offset),
        message: format!("the header says the images have 0 {what}: the header is damaged"),
    }
}

/// The payload after the header, checked to be exactly as long as the dimensions promise.
///
/// The product of the dimensions is computed with checked arithmetic and compared with the bytes
/// that are there before anything is sliced or allocated.
fn payload<'a, const D: usize>(
    path: &Path,
    bytes: &'a [u8],
    dims: [u32; D],
    item: &str,
) -> Result<&'a [u8]> {
    let offset = header_len(D);
    let found = bytes.len() as u64 - offset;
    let Some(expected) = dims
        .iter()
        .try_fold(1u64, |product, &d| product.checked_mul(d as u64))
    else {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            location: Location::Offset(4),
            message: format!(
                "the dimensions {dims:?} multiply to more bytes than any file can hold: the header \
                 is damaged"
            ),
        });
    };
    if found < expected {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            offset,
            expected,
            found,
        });
    }
    if found > expected {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            location: Location::Offset(offset + expected),
            message: format!(
                "{} unexpected bytes after the last {item}: the header says {} {item}s, so the file \
                 should end here; is the count in the header damaged?",
                found - expected,
                dims[0]
            ),
        });
    }
    Ok(&bytes[offset as usize..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(payload);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn parses_two_images_of_two_by_three_pixels() {
        let pixels: Vec<u8> = (0..12).collect();
        let images = parse_images(Path::new("x"), idx(IMAGE_MAGIC, &[2, 2, 3], &pixels)).unwrap();
        assert_eq!(
            images,
            Images {
                pixels,
                count: 2,
                rows: 2,
                cols: 3
            }
        );
    }

    #[test]
    fn parses_labels() {
        let labels = parse_labels(Path::new("x"), &idx(LABEL_MAGIC, &[3], &[5, 0, 4])).unwrap();
        assert_eq!(labels, [5, 0, 4]);
    }

    #[test]
    fn labels_magic_where_images_expected_suggests_the_labels_file() {
        let err = parse_images(Path::new("x"), idx(LABEL_MAGIC, &[1], &[0])).unwrap_err();
        assert!(
            matches!(err, Error::BadMagic { hint, .. } if hint.contains("labels file")),
            "{err}"
        );
    }

    #[test]
    fn text_where_images_expected_asks_whether_it_is_idx() {
        let err = parse_images(Path::new("x"), b"5,0,0,0\n".to_vec()).unwrap_err();
        assert!(
            matches!(err, Error::BadMagic { hint, .. } if hint.contains("IDX file?")),
            "{err}"
        );
    }

    #[test]
    fn float_idx_file_is_named_as_such() {
        let err = parse_labels(Path::new("x"), &idx(0x0d01, &[1], &[0; 4])).unwrap_err();
        assert!(
            matches!(err, Error::BadMagic { hint, .. } if hint.contains("floats")),
            "{err}"
        );
    }

    #[test]
    fn two_dimensional_byte_file_is_a_bad_header_at_the_dimension_byte() {
        let err = parse_images(Path::new("x"), idx(0x0802, &[1, 1], &[0])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::BadHeader {
                    location: Location::Offset(3),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn dimensions_whose_product_overflows_are_a_bad_header() {
        let bytes = idx(IMAGE_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        let err = parse_images(Path::new("x"), bytes).unwrap_err();
        assert!(matches!(err, Error::BadHeader { .. }), "{err}");
    }

    #[test]
    fn one_byte_file_is_truncated_at_offset_zero() {
        let err = parse_labels(Path::new("x"), &[0]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    offset: 0,
                    expected: 4,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn raw_file_over_the_limit_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, [0u8; 101]).unwrap();
        let err = read_decompressed_limited(&path, 100).unwrap_err();
        assert!(
            err.to_string()
                .contains("101 bytes, more than the 100 bytes"),
            "{err}"
        );
    }

    #[test]
    fn gzip_bomb_is_stopped_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.gz");
        std::fs::write(&path, gzip(&[0u8; 100_000])).unwrap();
        let err = read_decompressed_limited(&path, 1000).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "decompress",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("more than the 1000 bytes"),
            "{err}"
        );
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-extension");
        std::fs::write(&path, gzip(b"hello")).unwrap();
        assert_eq!(read_decompressed(&path).unwrap(), b"hello");
    }

    #[test]
    fn header_claiming_two_billion_images_of_65536_squared_in_a_tiny_file_is_truncated() {
        // 2^31 images of 2^16 x 2^16 pixels: 2^63 bytes promised, 10 there. Refused by comparing
        // the product with the bytes present, before anything is allocated from it.
        let bytes = idx(IMAGE_MAGIC, &[1 << 31, 1 << 16, 1 << 16], &[0; 10]);
        let err = parse_images(Path::new("x"), bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    offset: 16,
                    expected: 9_223_372_036_854_775_808,
                    found: 10,
                    ..
                }
            ),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("the header promises 9223372036854775808 bytes")
                && message.contains("only 10 are there"),
            "{message}"
        );
    }

    #[test]
    fn gzip_file_with_a_huge_header_is_decompressed_only_as_far_as_its_data_goes() {
        let compressed = gzip(&idx(IMAGE_MAGIC, &[1 << 31, 1 << 16, 1 << 16], &[0; 10]));
        let data = decompress(Path::new("x"), compressed).unwrap();
        assert_eq!(data.len(), 26);
        assert!(data.capacity() < 1 << 20, "{}", data.capacity());
        let err = parse_images(Path::new("x"), data).unwrap_err();
        assert!(matches!(err, Error::Truncated { found: 10, .. }), "{err}");
    }

    #[test]
    fn gzip_bomb_behind_a_small_idx_header_stops_just_past_what_the_header_states() {
        // A labels header for 1 label, then 3 MiB of zeros: decompression stops 1 MiB past the
        // 9 bytes the header states, far below the 1 GiB limit.
        let mut bytes = idx(LABEL_MAGIC, &[1], &[0]);
        bytes.resize(3 << 20, 0);
        let err = decompress(Path::new("x"), gzip(&bytes)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "decompress",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("the IDX header says the file holds 9 bytes"),
            "{err}"
        );
    }

    #[test]
    fn gzip_idx_file_with_bytes_too_many_still_counts_them_exactly() {
        let compressed = gzip(&idx(LABEL_MAGIC, &[1], &[0, 1, 2, 3, 4, 5]));
        let data = decompress(Path::new("x"), compressed).unwrap();
        let err = parse_labels(Path::new("x"), &data).unwrap_err();
        assert!(err.to_string().contains("5 unexpected bytes"), "{err}");
    }

    #[test]
    fn bytes_over_the_limit_are_refused_before_decompressing() {
        let err = decompress_limited(Path::new("x"), gzip(&[0; 10]), 5).unwrap_err();
        assert!(err.to_string().contains("more than the 5 bytes"), "{err}");
    }

    #[test]
    fn idx_stated_length_is_read_from_one_and_three_dimensional_headers_only() {
        assert_eq!(
            idx_stated_len(&idx(LABEL_MAGIC, &[3, 99, 99], &[])),
            Some(11)
        );
        assert_eq!(idx_stated_len(&idx(IMAGE_MAGIC, &[2, 2, 3], &[])), Some(28));
        assert_eq!(idx_stated_len(&idx(0x0802, &[2, 2, 3], &[])), None);
        assert_eq!(idx_stated_len(b"5,0,0,0,0,0,0,0,0"), None);
        assert_eq!(idx_stated_len(&idx(IMAGE_MAGIC, &[2], &[])), None);
        let huge = idx(IMAGE_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert_eq!(idx_stated_len(&huge), None);
    }

    #[test]
    fn limit_is_written_in_gib() {
        assert_eq!(format_bytes(MAX_DATA_BYTES), "1 GiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
    }
}
