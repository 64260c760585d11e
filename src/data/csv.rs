//! MNIST as CSV: one image per line, the label first, then the pixels.
//!
//! This is the format of the widespread `mnist_train.csv` / `mnist_test.csv` files: a line
//! `5,0,0,...,0` holds the label 5 and then 784 pixel values 0-255, row by row (28x28). The
//! number of pixel columns must be a perfect square and is set by the first data line. An
//! optional header line (`label,pixel0,...` or `label,1x1,1x2,...`) is recognised because its first
//! cell is not a number. Files may be gzip-compressed (recognised by their first bytes), may use
//! CRLF line ends and may start with a UTF-8 byte order mark; blank lines are skipped. Line
//! numbers in errors are 1-based and count the header and blank lines, as an editor does; columns
//! are 1-based with the label in column 1.
//!
//! The parser works on the bytes directly (no `String` per line or cell), so the 110 MB training
//! CSV reads in well under a second. It is not a general CSV reader: no quoting, no other
//! separators, whole numbers only.

use super::idx::{read_decompressed, write_file};
use super::{CLASSES, Dataset};
use crate::error::{Error, Location, Result};
use std::path::Path;

/// Reads a CSV data set, raw or gzip-compressed.
pub fn load(path: &Path) -> Result<Dataset> {
    parse(path, &read_decompressed(path)?)
}

/// Writes a data set as CSV with a header line `label,pixel0,pixel1,...`, gzip-compressed if the
/// name ends in `.gz`.
///
/// Only square images can be written, since the reader infers the image size from the number of
/// pixel columns.
pub fn write(dataset: &Dataset, path: &Path) -> Result<()> {
    if dataset.rows() != dataset.cols() {
        return Err(Error::CsvNotSquare {
            path: path.to_path_buf(),
            rows: dataset.rows(),
            cols: dataset.cols(),
        });
    }
    let p = dataset.pixels_per_image();
    let mut out = Vec::with_capacity(p * 10 + dataset.len() * (4 * p + 3));
    out.extend_from_slice(b"label");
    for k in 0..p {
        out.extend_from_slice(format!(",pixel{k}").as_bytes());
    }
    out.push(b'\n');
    for i in 0..dataset.len() {
        push_decimal(&mut out, dataset.label(i));
        for &pixel in dataset.image(i) {
            out.push(b',');
            push_decimal(&mut out, pixel);
        }
        out.push(b'\n');
    }
    write_file(path, &out)
}

/// Appends `n` in decimal, e.g. 207 as `b"207"`.
fn push_decimal(out: &mut Vec<u8>, n: u8) {
    if n >= 100 {
        out.push(b'0' + n / 100);
    }
    if n >= 10 {
        out.push(b'0' + n / 10 % 10);
    }
    out.push(b'0' + n % 10);
}

/// Parses the (decompressed) bytes of a CSV data set; `path` is only used in errors.
///
/// For example `"label,p0,p1,p2,p3\n3,0,255,0,12\n"` gives one 2x2 image labelled 3.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .peekable();

    // A header line's first cell is not a number ("label").
    if let Some((_, first)) = lines.peek() {
        let first_cell = first.split(|&b| b == b',').next().unwrap_or_default();
        if !looks_numeric(first_cell) {
            lines.next();
        }
    }

    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    let mut columns = 0; // set by the first data line: 1 + side * side
    for (line_no, line) in lines {
        if labels.is_empty() {
            columns = line.iter().filter(|&&b| b == b',').count() + 1;
            let side = (columns - 1).isqrt();
            if side == 0 || side * side != columns - 1 {
                let nearest = ((columns - 1) as f64).sqrt().round() as usize;
                let nearest = if nearest == 0 { 28 } else { nearest };
                return Err(Error::CsvColumns {
                    path: path.to_path_buf(),
                    line: line_no,
                    expected: 1 + nearest * nearest,
                    found: columns,
                });
            }
            // About as many images as lines of this length fit in the file (already in memory).
            pixels.reserve(bytes.len() / (line.len() + 1) * (columns - 1));
        }
        labels.push(parse_line(path, line_no, line, columns, &mut pixels)?);
    }
    if labels.is_empty() {
        return Err(Error::EmptyDataset {
            path: path.to_path_buf(),
        });
    }
    let side = (columns - 1).isqrt();
    Dataset::new(pixels, labels, side, side, path)
}

/// Parses one data line of `columns` cells, appending its pixels; returns its label.
fn parse_line(
    path: &Path,
    line_no: usize,
    line: &[u8],
    columns: usize,
    pixels: &mut Vec<u8>,
) -> Result<u8> {
    let wrong_count = |found| Error::CsvColumns {
        path: path.to_path_buf(),
        line: line_no,
        expected: columns,
        found,
    };
    let bad_cell = |column, cell: &[u8], problem: CellProblem, what: Column| Error::CsvCell {
        path: path.to_path_buf(),
        line: line_no,
        column,
        message: problem.message(cell, what),
    };

    let mut cells = line.split(|&b| b == b',');
    let label_cell = cells.next().unwrap_or_default();
    let label = match parse_cell(label_cell) {
        Ok(label) if label < CLASSES as u64 => label as u8,
        Ok(label) => {
            return Err(Error::LabelOutOfRange {
                path: path.to_path_buf(),
                location: Location::Line(line_no),
                label,
                max: (CLASSES - 1) as u8,
            });
        }
        Err(problem) => return Err(bad_cell(1, label_cell, problem, Column::Label)),
    };
    let mut column = 1;
    for cell in cells {
        column += 1;
        if column > columns {
            return Err(wrong_count(line.iter().filter(|&&b| b == b',').count() + 1));
        }
        match parse_cell(cell) {
            Ok(value) if value <= 255 => pixels.push(value as u8),
            Ok(_) => return Err(bad_cell(column, cell, CellProblem::Over255, Column::Pixel)),
            Err(problem) => return Err(bad_cell(column, cell, problem, Column::Pixel)),
        }
    }
    if column < columns {
        return Err(wrong_count(column));
    }
    Ok(label)
}

/// What a cell holds: the label (column 1) or a pixel.
#[derive(Debug, Clone, Copy)]
enum Column {
    Label,
    Pixel,
}

/// Why a cell is not a usable whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellProblem {
    Empty,
    Negative,
    Fraction,
    TooLarge,
    Over255,
    NotANumber,
}

impl CellProblem {
    /// The message for a [`Error::CsvCell`], quoting (the start of) the cell.
    fn message(self, cell: &[u8], what: Column) -> String {
        let cell = String::from_utf8_lossy(cell.trim_ascii());
        let cell: String = cell.chars().take(24).collect();
        let expected = match what {
            Column::Label => "a label is a whole number 0-9",
            Column::Pixel => "a pixel is a whole number 0-255",
        };
        match self {
            CellProblem::Empty => format!("empty cell: {expected}"),
            CellProblem::Negative => format!("'{cell}' is negative: {expected}"),
            CellProblem::Fraction => match what {
                Column::Label => format!("'{cell}' is not a whole number: {expected}"),
                Column::Pixel => format!(
                    "'{cell}' is not a whole number: {expected} (if the pixels were scaled to \
                     [0, 1], multiply them by 255 and round)"
                ),
            },
            CellProblem::TooLarge | CellProblem::Over255 => {
                format!("'{cell}' is too large: {expected}")
            }
            CellProblem::NotANumber => format!("'{cell}' is not a number: {expected}"),
        }
    }
}

/// Parses a cell holding a whole number, e.g. `b" 207"` as 207; spaces around it are allowed.
fn parse_cell(cell: &[u8]) -> Result<u64, CellProblem> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Err(CellProblem::Empty);
    }
    let mut value: u64 = 0;
    for &b in cell {
        if !b.is_ascii_digit() {
            return Err(classify(cell));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((b - b'0') as u64))
            .ok_or(CellProblem::TooLarge)?;
    }
    Ok(value)
}

/// Why a non-empty cell that is not all digits fails: `-3` is negative, `0.5` a fraction.
fn classify(cell: &[u8]) -> CellProblem {
    match cell.strip_prefix(b"-") {
        Some(rest) if looks_numeric(rest) => CellProblem::Negative,
        _ if looks_numeric(cell) => CellProblem::Fraction,
        _ => CellProblem::NotANumber,
    }
}

/// Whether a cell looks like a decimal number: an optional sign, digits, at most one point.
fn looks_numeric(cell: &[u8]) -> bool {
    let cell = cell.trim_ascii();
    let digits = cell
        .strip_prefix(b"-")
        .or_else(|| cell.strip_prefix(b"+"))
        .unwrap_or(cell);
    digits.iter().any(u8::is_ascii_digit)
        && digits.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && digits.iter().filter(|&&b| b == b'.').count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Dataset> {
        parse(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn parses_a_two_by_two_image_after_a_header() {
        let data = parse_str("label,p0,p1,p2,p3\n3,0,255,0,12\n").unwrap();
        assert_eq!((data.len(), data.rows(), data.cols()), (1, 2, 2));
        assert_eq!(data.labels(), [3]);
        assert_eq!(data.image(0), [0, 255, 0, 12]);
    }

    #[test]
    fn crlf_bom_spaces_and_blank_lines_are_tolerated() {
        let data = parse_str("\u{feff}label,a\r\n1, 7\r\n\r\n2,8 \r\n\r\n\n").unwrap();
        assert_eq!(data.labels(), [1, 2]);
        assert_eq!(data.pixels(), [7, 8]);
    }

    #[test]
    fn a_file_without_header_keeps_its_first_line() {
        assert_eq!(parse_str("4,1\n5,2").unwrap().labels(), [4, 5]);
    }

    #[test]
    fn line_numbers_count_header_and_blank_lines() {
        let err = parse_str("label,a\n1,1\n\n2,x\n").unwrap_err();
        assert!(
            matches!(
                err,
                Error::CsvCell {
                    line: 4,
                    column: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_pixel_count_that_is_not_square_suggests_the_nearest_square() {
        let err = parse_str("1,2,3,4\n").unwrap_err();
        assert!(
            matches!(
                err,
                Error::CsvColumns {
                    line: 1,
                    expected: 5,
                    found: 4,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn cells_are_parsed_or_explained() {
        assert_eq!(parse_cell(b"0"), Ok(0));
        assert_eq!(parse_cell(b" 255 "), Ok(255));
        assert_eq!(parse_cell(b""), Err(CellProblem::Empty));
        assert_eq!(parse_cell(b"-3"), Err(CellProblem::Negative));
        assert_eq!(parse_cell(b"0.5"), Err(CellProblem::Fraction));
        assert_eq!(parse_cell(b"abc"), Err(CellProblem::NotANumber));
        assert_eq!(parse_cell(b"1.2.3"), Err(CellProblem::NotANumber));
        assert_eq!(
            parse_cell(b"99999999999999999999999"),
            Err(CellProblem::TooLarge)
        );
    }

    #[test]
    fn negative_label_is_a_cell_error_in_column_one() {
        let err = parse_str("-1,0\n").unwrap_err();
        assert!(
            matches!(err, Error::CsvCell { line: 1, column: 1, ref message, .. } if message.contains("negative")),
            "{err}"
        );
    }

    #[test]
    fn decimals_are_written_without_leading_zeros() {
        let mut out = Vec::new();
        for n in [0, 7, 10, 99, 100, 207, 255] {
            push_decimal(&mut out, n);
            out.push(b' ');
        }
        assert_eq!(out, b"0 7 10 99 100 207 255 ");
    }
}
