//! Fuzzes the CSV reader: decompression as `csv::load` does it, then [`csv::parse`].
//!
//! Invariants: a data set that parses is square, not empty, holds `len * side * side` pixels and
//! labels 0-9, and is no bigger than the text it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use ziffer::data::{csv, idx};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.csv");
    let Ok(bytes) = idx::decompress(path, data.to_vec()) else {
        return;
    };
    let Ok(set) = csv::parse(path, &bytes) else {
        return;
    };
    assert!(!set.is_empty());
    assert_eq!(set.rows(), set.cols());
    assert!(set.rows() > 0);
    assert_eq!(set.pixels().len(), set.len() * set.pixels_per_image());
    assert!(set.labels().iter().all(|&l| l < 10));
    // Every pixel and label takes at least one digit and one separator.
    assert!(set.pixels().len() + set.len() <= bytes.len());
});
