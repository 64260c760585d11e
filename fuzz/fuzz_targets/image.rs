//! Fuzzes image decoding and preprocessing: [`preprocess::preprocess_bytes`], the path of an
//! upload and of `ziffer predict`, under the decoder's limits.
//!
//! Invariants: a result has the size of the image as given, within the limits, a crop inside it,
//! and measures between 0 and 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use ziffer::preprocess;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = preprocess::preprocess_bytes(data, Path::new("fuzz.png")) else {
        return;
    };
    assert!(image.width > 0 && image.height > 0);
    assert!(image.width <= preprocess::MAX_WIDTH && image.height <= preprocess::MAX_HEIGHT);
    let crop = image.crop;
    assert!(crop.width > 0 && crop.height > 0);
    assert!(crop.x as u64 + crop.width as u64 <= image.width as u64);
    assert!(crop.y as u64 + crop.height as u64 <= image.height as u64);
    for measure in [image.background, image.contrast, image.ink_fraction] {
        assert!((0.0..=1.0).contains(&measure), "{measure}");
    }
    assert!(
        image.pixels.iter().any(|&p| p > 0),
        "a digit was found, so there is ink"
    );
});
