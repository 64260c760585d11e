//! Reading data sets: IDX and CSV round trips, one test per kind of malformed input (each checks
//! the error variant and that the message names the file and the byte offset or line), folders of
//! MNIST files with their checksums, and the bundled MNIST itself.
//!
//! Fixtures are made by the tests in temporary folders; only the bundled-MNIST tests read the real
//! data in `data/mnist`.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use ziffer::Error;
use ziffer::data::{Dataset, csv, idx, mnist};

// ---- helpers -----------------------------------------------------------------------------------

/// Five 4x4 images with labels 0..5 and pixels that differ from image to image.
fn small_dataset(source: &str) -> Dataset {
    let (count, side) = (5, 4);
    let pixels = (0..count * side * side)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let labels = (0..count as u8).collect();
    Dataset::new(pixels, labels, side, side, source).unwrap()
}

/// The bytes of an IDX file: the magic number, the dimensions, then the payload.
fn idx_bytes(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
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

/// Writes `bytes` to `dir/name` and returns the path.
fn file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Asserts that the message names the file and contains `location` (e.g. "byte offset 16").
fn assert_names(err: &Error, path: &Path, location: &str) {
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name {}: {message}",
        path.display()
    );
    assert!(
        message.contains(location),
        "message does not say {location:?}: {message}"
    );
}

/// A CSV data set made of lines, with a header, as text.
fn csv_text(lines: &[&str]) -> String {
    let mut text = String::from("label,p0,p1,p2,p3\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

// ---- round trips -------------------------------------------------------------------------------

#[test]
fn idx_raw_round_trip_gives_the_same_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    let data = small_dataset(&images.display().to_string());
    idx::write(&data, &images, &labels).unwrap();
    assert_eq!(std::fs::read(&images).unwrap()[..4], [0, 0, 8, 3]);
    assert_eq!(idx::load(&images, &labels).unwrap(), data);
}

#[test]
fn idx_gzip_round_trip_gives_the_same_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images.gz");
    let labels = dir.path().join("labels.gz");
    let data = small_dataset(&images.display().to_string());
    idx::write(&data, &images, &labels).unwrap();
    assert_eq!(std::fs::read(&images).unwrap()[..2], [0x1f, 0x8b]);
    assert_eq!(idx::load(&images, &labels).unwrap(), data);
}

#[test]
fn csv_round_trip_with_header_gives_the_same_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    let data = small_dataset(&path.display().to_string());
    csv::write(&data, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("label,pixel0,pixel1,"), "{text}");
    assert_eq!(csv::load(&path).unwrap(), data);
}

#[test]
fn csv_gzip_round_trip_gives_the_same_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv.gz");
    let data = small_dataset(&path.display().to_string());
    csv::write(&data, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap()[..2], [0x1f, 0x8b]);
    assert_eq!(csv::load(&path).unwrap(), data);
}

#[test]
fn csv_without_header_is_read_from_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "data.csv", b"7,0,1,2,3\r\n2,255,0,0,9\r\n\r\n");
    let data = csv::load(&path).unwrap();
    assert_eq!(data.labels(), [7, 2]);
    assert_eq!((data.rows(), data.cols()), (2, 2));
    assert_eq!(data.image(1), [255, 0, 0, 9]);
}

#[test]
fn gzip_is_recognised_without_the_gz_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "labels", &gzip(&idx_bytes(2049, &[3], &[5, 0, 4])));
    assert_eq!(idx::read_labels(&path).unwrap(), [5, 0, 4]);
}

// ---- malformed IDX files -----------------------------------------------------------------------

#[test]
fn labels_file_passed_as_images_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let labels = file(&dir, "labels", &idx_bytes(2049, &[1], &[3]));
    let err = idx::read_images(&labels).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadMagic {
                expected: 2051,
                found: 2049,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &labels, "did you pass the labels file?");
}

#[test]
fn images_file_passed_as_labels_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let images = file(&dir, "images", &idx_bytes(2051, &[1, 1, 1], &[3]));
    let err = idx::read_labels(&images).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadMagic {
                expected: 2049,
                found: 2051,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &images, "did you pass the images file?");
}

#[test]
fn wrong_number_of_dimensions_is_a_bad_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "images", &idx_bytes(0x0802, &[1, 4], &[0; 4]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(matches!(err, Error::BadHeader { .. }), "{err}");
    assert_names(&err, &path, "byte offset 3");
    assert!(err.to_string().contains("2 dimensions"), "{err}");
}

#[test]
fn zero_columns_is_a_bad_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "images", &idx_bytes(2051, &[1, 28, 0], &[]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(matches!(err, Error::BadHeader { .. }), "{err}");
    assert_names(&err, &path, "byte offset 12");
}

#[test]
fn different_image_and_label_counts_are_a_count_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let images = file(&dir, "images", &idx_bytes(2051, &[2, 1, 1], &[0, 0]));
    let labels = file(&dir, "labels", &idx_bytes(2049, &[3], &[0, 1, 2]));
    let err = idx::load(&images, &labels).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CountMismatch {
                images: 2,
                labels: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &images, "2 images");
    assert_names(&err, &labels, "3 labels");
}

#[test]
fn truncated_payload_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "images", &idx_bytes(2051, &[2, 2, 2], &[0; 7]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                offset: 16,
                expected: 8,
                found: 7,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "byte offset 16");
}

#[test]
fn truncated_header_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "images", &idx_bytes(2051, &[60000], &[0, 0]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                offset: 4,
                expected: 12,
                found: 6,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "byte offset 4");
}

#[test]
fn huge_count_in_a_raw_header_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "images",
        &idx_bytes(2051, &[u32::MAX, 28, 28], &[0; 784]),
    );
    let err = idx::read_images(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 3_367_254_359_280, // 4,294,967,295 * 28 * 28
                found: 784,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "byte offset 16");
}

#[test]
fn huge_count_in_a_gzip_header_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let images = file(
        &dir,
        "images.gz",
        &gzip(&idx_bytes(2051, &[u32::MAX, 28, 28], &[0; 784])),
    );
    let err = idx::read_images(&images).unwrap_err();
    assert!(matches!(err, Error::Truncated { found: 784, .. }), "{err}");
    assert_names(&err, &images, "byte offset 16");

    let labels = file(
        &dir,
        "labels.gz",
        &gzip(&idx_bytes(2049, &[u32::MAX], &[1])),
    );
    let err = idx::read_labels(&labels).unwrap_err();
    assert!(matches!(err, Error::Truncated { found: 1, .. }), "{err}");
    assert_names(&err, &labels, "byte offset 8");
}

#[test]
fn label_10_in_idx_is_out_of_range_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "labels", &idx_bytes(2049, &[3], &[1, 10, 2]));
    let err = idx::read_labels(&path).unwrap_err();
    assert!(
        matches!(err, Error::LabelOutOfRange { label: 10, .. }),
        "{err}"
    );
    assert_names(&err, &path, "byte offset 9");
}

#[test]
fn trailing_bytes_after_the_payload_are_a_bad_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "labels", &idx_bytes(2049, &[2], &[1, 2, 3, 4]));
    let err = idx::read_labels(&path).unwrap_err();
    assert!(matches!(err, Error::BadHeader { .. }), "{err}");
    assert_names(&err, &path, "byte offset 10");
    assert!(err.to_string().contains("2 unexpected bytes"), "{err}");
}

#[test]
fn idx_with_count_zero_is_an_empty_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "images", &idx_bytes(2051, &[0, 28, 28], &[]));
    let err = idx::read_images(&path).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset { .. }), "{err}");
    assert_names(&err, &path, "empty");
}

// ---- malformed CSV files -----------------------------------------------------------------------

#[test]
fn label_10_in_csv_is_out_of_range_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "d.csv",
        csv_text(&["1,0,0,0,0", "10,0,0,0,0"]).as_bytes(),
    );
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(err, Error::LabelOutOfRange { label: 10, .. }),
        "{err}"
    );
    assert_names(&err, &path, "line 3");
}

#[test]
fn csv_line_with_a_missing_pixel_is_a_column_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "d.csv",
        csv_text(&["1,0,0,0,0", "2,0,0,0"]).as_bytes(),
    );
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvColumns {
                line: 3,
                expected: 5,
                found: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "line 3");
}

#[test]
fn csv_line_with_an_extra_pixel_is_a_column_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "d.csv",
        csv_text(&["1,0,0,0,0", "2,0,0,0,0,0"]).as_bytes(),
    );
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvColumns {
                line: 3,
                expected: 5,
                found: 6,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn non_numeric_csv_cell_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "d.csv",
        csv_text(&["1,0,0,0,0", "2,0,x7,0,0"]).as_bytes(),
    );
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvCell {
                line: 3,
                column: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "line 3, column 3: 'x7' is not a number");
}

#[test]
fn pixel_256_in_csv_is_a_cell_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "d.csv", csv_text(&["1,0,0,0,256"]).as_bytes());
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvCell {
                line: 2,
                column: 5,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "'256' is too large");
}

#[test]
fn negative_pixel_in_csv_is_a_cell_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "d.csv", csv_text(&["1,0,-1,0,0"]).as_bytes());
    let err = csv::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvCell {
                line: 2,
                column: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_names(&err, &path, "negative");
}

#[test]
fn csv_with_only_a_header_is_an_empty_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "d.csv", csv_text(&[]).as_bytes());
    let err = csv::load(&path).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset { .. }), "{err}");
    assert_names(&err, &path, "empty");
}

#[test]
fn empty_file_is_an_empty_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "d.csv", b"");
    let err = mnist::load_file(&path).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset { .. }), "{err}");
    assert_names(&err, &path, "empty");
}

// ---- folders and single files ------------------------------------------------------------------

#[test]
fn folder_missing_files_lists_what_it_expected() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_dataset("x");
    idx::write(
        &data,
        &dir.path().join("train-images-idx3-ubyte.gz"),
        &dir.path().join("train-labels-idx1-ubyte"),
    )
    .unwrap();
    let err = mnist::load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, Error::DataNotFound { .. }), "{err}");
    let message = err.to_string();
    assert_names(&err, dir.path(), "missing t10k-labels-idx1-ubyte[.gz]");
    assert!(message.contains("t10k-images-idx3-ubyte[.gz]"), "{message}");
    assert!(!message.contains("missing train"), "{message}");
}

#[test]
fn folder_of_plain_and_gzip_files_loads_train_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_dataset("x");
    let path = |name: &str| dir.path().join(name);
    idx::write(
        &data,
        &path("train-images-idx3-ubyte"),
        &path("train-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let test = data.take(2);
    idx::write(
        &test,
        &path("t10k-images-idx3-ubyte.gz"),
        &path("t10k-labels-idx1-ubyte"),
    )
    .unwrap();
    let sets = mnist::load_dir(dir.path()).unwrap();
    assert_eq!(sets.train.pixels(), data.pixels());
    assert_eq!(sets.test.labels(), test.labels());
    assert_eq!(sets.train.source(), path("train-images-idx3-ubyte"));
}

#[test]
fn load_file_finds_the_labels_next_to_an_images_file() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("fashion-images-idx3-ubyte.gz");
    let data = small_dataset(&images.display().to_string());
    idx::write(
        &data,
        &images,
        &dir.path().join("fashion-labels-idx1-ubyte"),
    )
    .unwrap();
    assert_eq!(mnist::load_file(&images).unwrap(), data);
}

#[test]
fn load_file_without_labels_next_to_it_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("train-images-idx3-ubyte");
    let labels = dir.path().join("elsewhere");
    idx::write(&small_dataset("x"), &images, &labels).unwrap();
    let err = mnist::load_file(&images).unwrap_err();
    assert!(matches!(err, Error::DataNotFound { .. }), "{err}");
    assert_names(&err, &images, "train-labels-idx1-ubyte.gz");
}

#[test]
fn load_file_of_a_labels_file_asks_for_the_images_file() {
    let dir = tempfile::tempdir().unwrap();
    let labels = file(
        &dir,
        "train-labels-idx1-ubyte",
        &idx_bytes(2049, &[1], &[3]),
    );
    let err = mnist::load_file(&labels).unwrap_err();
    assert!(matches!(err, Error::BadMagic { .. }), "{err}");
    assert_names(&err, &labels, "pass the images file");
}

#[test]
fn load_file_reads_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "d.csv.gz", &gzip(csv_text(&["3,1,2,3,4"]).as_bytes()));
    let data = mnist::load_file(&path).unwrap();
    assert_eq!(
        (data.labels(), data.image(0)),
        (&[3][..], &[1, 2, 3, 4][..])
    );
}

// ---- the bundled MNIST -------------------------------------------------------------------------

#[test]
fn bundled_mnist_loads_with_the_known_counts_and_first_labels() {
    let sets = mnist::load_bundled().unwrap();
    assert_eq!(sets.train.len(), 60_000);
    assert_eq!(sets.test.len(), 10_000);
    assert_eq!((sets.train.rows(), sets.train.cols()), (28, 28));
    assert_eq!((sets.test.rows(), sets.test.cols()), (28, 28));
    assert_eq!(sets.train.labels()[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(sets.test.labels()[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
}

#[test]
fn damaged_file_in_a_checksummed_folder_is_a_checksum_mismatch() {
    let bundled = mnist::bundled_dir().expect("the bundled MNIST is in data/mnist");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    // Change the first training label from 5 to 6: still a valid file, but not MNIST's.
    let damaged = dir.path().join("train-labels-idx1-ubyte.gz");
    let mut labels = idx::read_decompressed(&damaged).unwrap();
    labels[8] = 6;
    std::fs::write(&damaged, gzip(&labels)).unwrap();

    let err = mnist::load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
    assert_names(
        &err,
        &damaged,
        "SHA256SUMS says 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    );
}
