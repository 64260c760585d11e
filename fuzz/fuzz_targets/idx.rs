//! Fuzzes the IDX reader: gzip decompression ([`idx::decompress`], what `read_images` and
//! `read_labels` do once the file is read), then both parsers on the same bytes.
//!
//! Invariants: a parse that succeeds gives `count * rows * cols` pixels and labels 0-9; nothing
//! larger than the data limit comes out of decompression.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use ziffer::data::idx;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    let Ok(bytes) = idx::decompress(path, data.to_vec()) else {
        return;
    };
    assert!(bytes.len() as u64 <= idx::MAX_DATA_BYTES);
    if !data.starts_with(&[0x1f, 0x8b]) {
        assert_eq!(bytes, data, "raw bytes pass through unchanged");
    }
    if let Ok(images) = idx::parse_images(path, bytes.clone()) {
        assert!(images.count > 0 && images.rows > 0 && images.cols > 0);
        assert_eq!(
            images.pixels.len(),
            images.count * images.rows * images.cols
        );
        assert_eq!(images.pixels.len() + 16, bytes.len());
    }
    if let Ok(labels) = idx::parse_labels(path, &bytes) {
        assert!(!labels.is_empty());
        assert!(labels.iter().all(|&l| l < 10));
        assert_eq!(labels.len() + 8, bytes.len());
    }
});
