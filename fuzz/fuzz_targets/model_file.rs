//! Fuzzes the model-file loader, [`model_file::from_safetensors`] (what `model_file::load` does
//! once the file is read).
//!
//! Invariants: a model that loads has layers whose tensors match their sizes, finite values,
//! one class name per output, and saves and loads back as the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use ziffer::model_file;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.safetensors");
    let Ok(model) = model_file::from_safetensors(path, data) else {
        return;
    };
    let network = &model.network;
    let sizes = network.sizes();
    assert!(sizes.len() >= 2 && sizes.iter().all(|&s| s > 0));
    for (layer, io) in network.layers().iter().zip(sizes.windows(2)) {
        assert_eq!((layer.inputs, layer.outputs), (io[0], io[1]));
        assert_eq!(layer.weight.len(), layer.inputs * layer.outputs);
        assert_eq!(layer.bias.len(), layer.outputs);
        assert!(
            layer
                .weight
                .iter()
                .chain(&layer.bias)
                .all(|v| v.is_finite())
        );
    }
    assert_eq!(model.classes.len(), network.outputs());
    // The weights alone took 4 bytes each in the file.
    let parameters: usize = network
        .layers()
        .iter()
        .map(|l| l.weight.len() + l.bias.len())
        .sum();
    assert!(parameters * 4 <= data.len());
    let saved = model_file::to_safetensors(&model).expect("a loaded model saves");
    let again = model_file::from_safetensors(path, &saved).expect("a saved model loads");
    assert_eq!(again, model);
});
