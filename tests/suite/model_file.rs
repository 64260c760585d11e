//! Model files: the save/load round trip, one test per kind of damaged file (each checks for
//! `Error::BadModel`, a fragment of the reason, and that the message names the file), and saves
//! that fail, including one killed mid-write by a file-size limit, leaving the old file as it was.
//!
//! Fixtures are made by the tests in temporary folders: small networks trained for one epoch on a
//! slice of the bundled MNIST, and damaged files rebuilt from a real one with
//! `safetensors::serialize`. Loading a file over `MAX_FILE_BYTES` (1 GiB) is not tested: writing
//! one would take longer than every other test together.

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;
use ziffer::Error;
use ziffer::cpu::Cpu;
use ziffer::data::{TrainTest, idx, mnist};
use ziffer::metrics::predict_all;
use ziffer::model::Model;
use ziffer::model_file::{self, bias_name, weight_name};
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::loss::Loss;
use ziffer::nn::network::Functions;
use ziffer::nn::optimizer::Optimizer;
use ziffer::settings::{TrainConfig, TrainSettings};
use ziffer::train::{Sets, train};

// ---- helpers -----------------------------------------------------------------------------------

/// The bundled MNIST, loaded once for all tests.
fn bundled() -> &'static TrainTest {
    static DATA: OnceLock<TrainTest> = OnceLock::new();
    DATA.get_or_init(|| mnist::load_bundled().expect("the bundled MNIST loads"))
}

/// A model of `layers` trained for one epoch on the first `images` training images (so that its
/// history is not empty), judged on the first 100 test images.
fn trained(layers: &[usize], images: usize) -> Model {
    let data = bundled();
    let config = TrainConfig {
        layers: layers.to_vec(),
        ..TrainConfig::default()
    };
    let mut model = Model::new(&config).unwrap();
    let (train_set, test_set) = (data.train.take(images), data.test.take(100));
    train(
        &mut model,
        Sets::new(&train_set, &test_set),
        1,
        &Cpu::new(1).unwrap(),
        |_| Ok(()),
    )
    .unwrap();
    assert_eq!(model.epochs_trained(), 1);
    model
}

/// A 784-16-10 network trained for one epoch on 500 images, shared by the tests.
fn tiny() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| trained(&[784, 16, 10], 500))
}

/// One tensor of a model file, as bytes.
struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// The pieces of a model file, to damage one and write the file again.
struct Parts {
    tensors: Vec<Tensor>,
    metadata: Option<HashMap<String, String>>,
}

impl Parts {
    /// The pieces of the file `model_file` writes for `model`.
    fn of(model: &Model) -> Parts {
        let bytes = model_file::to_safetensors(model).unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let tensors = SafeTensors::deserialize(&bytes)
            .unwrap()
            .tensors()
            .into_iter()
            .map(|(name, view)| Tensor {
                name,
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                data: view.data().to_vec(),
            })
            .collect();
        Parts {
            tensors,
            metadata: header.metadata().clone(),
        }
    }

    fn tensor(&mut self, name: &str) -> &mut Tensor {
        self.tensors
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
    }

    fn meta(&mut self) -> &mut HashMap<String, String> {
        self.metadata.as_mut().expect("ziffer writes metadata")
    }

    /// Writes the pieces as a safetensors file at `dir/name` and returns its path.
    fn write(&self, dir: &TempDir, name: &str) -> PathBuf {
        let views = self.tensors.iter().map(|t| {
            let view = TensorView::new(t.dtype, t.shape.clone(), &t.data)
                .expect("the shape fits the data");
            (t.name.as_str(), view)
        });
        let bytes = safetensors::serialize(views, self.metadata.clone()).unwrap();
        file(dir, name, &bytes)
    }
}

/// Writes `bytes` to `dir/name` and returns the path.
fn file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Asserts that loading `path` fails with `Error::BadModel` for `path`, with a message that
/// contains `reason` and names the file.
fn assert_bad_model(path: &Path, reason: &str) {
    let err = model_file::load(path).expect_err("a damaged file must not load");
    let Error::BadModel {
        path: err_path,
        message,
    } = &err
    else {
        panic!(
            "expected Error::BadModel for {}, got {err:?}",
            path.display()
        );
    };
    assert_eq!(err_path, path);
    assert!(
        message.contains(reason),
        "{}: message does not contain '{reason}': {message}",
        path.display()
    );
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()),
        "message does not name {}: {text}",
        path.display()
    );
}

/// The `f32` values of a tensor's little-endian bytes, and back.
fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn float_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The names of the entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---- the round trip ----------------------------------------------------------------------------

#[test]
fn saving_then_loading_gives_an_equal_model_that_predicts_identically() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("model.safetensors");
    let model = tiny();
    model_file::save(model, &path).unwrap();
    let loaded = model_file::load(&path).unwrap();

    assert_eq!(&loaded, model);
    assert_eq!(loaded.training.history.len(), 1);
    let test = bundled().test.take(1000);
    assert_eq!(
        predict_all(&Cpu::new(1).unwrap(), &loaded.network, &test).unwrap(),
        predict_all(&Cpu::new(1).unwrap(), &model.network, &test).unwrap()
    );
}

#[test]
fn saving_creates_missing_parent_folders_and_replaces_an_old_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("a").join("b").join("model.safetensors");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"an older file").unwrap();
    std::fs::remove_dir_all(dir.path().join("a")).unwrap();

    model_file::save(tiny(), &path).unwrap();
    model_file::save(tiny(), &path).unwrap();
    assert_eq!(&model_file::load(&path).unwrap(), tiny());
    assert_eq!(entries(path.parent().unwrap()), ["model.safetensors"]);
}

#[test]
fn a_missing_file_gives_an_io_error_naming_it() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("absent.safetensors");
    let err = model_file::load(&path).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}

// ---- damaged files -----------------------------------------------------------------------------

#[test]
fn a_file_cut_short_anywhere_is_refused_as_not_safetensors() {
    let dir = TempDir::new().unwrap();
    let bytes = model_file::to_safetensors(tiny()).unwrap();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let cuts = [
        0,
        1,
        7,
        8,
        9,
        header_end / 2,
        header_end - 1,
        header_end,
        header_end + 1,
        bytes.len() / 2,
        bytes.len() - 1,
    ];
    for cut in cuts {
        let path = file(&dir, &format!("cut-{cut}.safetensors"), &bytes[..cut]);
        assert_bad_model(&path, "not a safetensors file");
    }
}

#[test]
fn a_text_file_is_refused_as_not_safetensors() {
    let dir = TempDir::new().unwrap();
    for (name, text) in [
        (
            "notes.safetensors",
            "These are my notes, not a model.\n".repeat(20),
        ),
        ("short.safetensors", "hi".to_string()),
        ("json.safetensors", "{\"format\": \"ziffer\"}".to_string()),
    ] {
        let path = file(&dir, name, text.as_bytes());
        assert_bad_model(&path, "not a safetensors file");
    }
}

#[test]
fn a_tensor_with_the_wrong_shape_is_refused_naming_the_tensor() {
    let dir = TempDir::new().unwrap();

    // The same bytes read as the transpose, [784, 16] instead of [16, 784].
    let mut parts = Parts::of(tiny());
    parts.tensor("layers.0.weight").shape = vec![784, 16];
    let path = parts.write(&dir, "transposed.safetensors");
    assert_bad_model(&path, "tensor 'layers.0.weight' has shape [784, 16]");
    assert_bad_model(&path, "need [16, 784]");

    // One input too few.
    let mut parts = Parts::of(tiny());
    let weight = parts.tensor("layers.0.weight");
    weight.shape = vec![16, 783];
    weight.data.truncate(16 * 783 * 4);
    let path = parts.write(&dir, "narrow.safetensors");
    assert_bad_model(&path, "tensor 'layers.0.weight' has shape [16, 783]");

    // A bias as a [1, 10] matrix instead of a [10] vector.
    let mut parts = Parts::of(tiny());
    parts.tensor("layers.1.bias").shape = vec![1, 10];
    let path = parts.write(&dir, "matrix-bias.safetensors");
    assert_bad_model(&path, "tensor 'layers.1.bias' has shape [1, 10]");
}

#[test]
fn a_missing_tensor_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    parts.tensors.retain(|t| t.name != bias_name(1));
    let path = parts.write(&dir, "missing.safetensors");
    assert_bad_model(&path, "tensor 'layers.1.bias' is missing");

    // The right count, but one under another name.
    let mut parts = Parts::of(tiny());
    parts.tensor(&bias_name(1)).name = "layers.1.b".to_string();
    let path = parts.write(&dir, "renamed.safetensors");
    assert_bad_model(&path, "unexpected tensor 'layers.1.b'");
}

#[test]
fn an_extra_tensor_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    parts.tensors.push(Tensor {
        name: "optimizer.momentum".to_string(),
        dtype: Dtype::F32,
        shape: vec![2],
        data: float_bytes(&[0.0, 1.0]),
    });
    let path = parts.write(&dir, "extra.safetensors");
    assert_bad_model(&path, "unexpected tensor 'optimizer.momentum'");
}

#[test]
fn f64_tensors_are_refused_naming_the_dtype() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    for t in &mut parts.tensors {
        t.dtype = Dtype::F64;
        t.data = floats(&t.data)
            .iter()
            .flat_map(|&v| f64::from(v).to_le_bytes())
            .collect();
    }
    let path = parts.write(&dir, "f64.safetensors");
    assert_bad_model(&path, "has dtype F64, expected F32");
}

#[test]
fn each_missing_metadata_entry_is_refused_naming_the_key() {
    let dir = TempDir::new().unwrap();
    for key in [
        "format",
        "format_version",
        "layers",
        "activation",
        "output",
        "loss",
        "classes",
        "optimizer_steps",
        "training",
    ] {
        let mut parts = Parts::of(tiny());
        parts.meta().remove(key);
        let path = parts.write(&dir, &format!("no-{key}.safetensors"));
        assert_bad_model(&path, &format!("the metadata has no '{key}' entry"));
    }
}

#[test]
fn a_file_without_metadata_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    parts.metadata = None;
    let path = parts.write(&dir, "bare.safetensors");
    assert_bad_model(&path, "the metadata has no 'format' entry");
}

#[test]
fn a_file_written_by_another_program_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    parts.meta().insert("format".to_string(), "pt".to_string());
    let path = parts.write(&dir, "torch.safetensors");
    assert_bad_model(&path, "metadata 'format' is 'pt', expected 'ziffer'");
}

#[test]
fn an_unknown_format_version_is_refused() {
    let dir = TempDir::new().unwrap();
    for version in ["3", "0", "one", ""] {
        let mut parts = Parts::of(tiny());
        parts
            .meta()
            .insert("format_version".to_string(), version.to_string());
        let path = parts.write(&dir, &format!("version-{version}.safetensors"));
        assert_bad_model(
            &path,
            &format!("format version '{version}' is not one this ziffer reads (1 or 2)"),
        );
    }
}

#[test]
fn an_unknown_activation_or_loss_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    parts
        .meta()
        .insert("activation".to_string(), "swish".to_string());
    let path = parts.write(&dir, "swish.safetensors");
    assert_bad_model(&path, "unknown activation 'swish'");

    let mut parts = Parts::of(tiny());
    parts
        .meta()
        .insert("output".to_string(), "relu".to_string());
    let path = parts.write(&dir, "relu-output.safetensors");
    assert_bad_model(&path, "unknown output function 'relu'");

    let mut parts = Parts::of(tiny());
    parts
        .meta()
        .insert("loss".to_string(), "cross_entropy".to_string());
    let path = parts.write(&dir, "cross-entropy.safetensors");
    assert_bad_model(&path, "unknown loss 'cross_entropy'");
}

/// A ReLU network with softmax, cross-entropy and Adam, named for Fashion-MNIST, trained for one
/// epoch on 300 images.
fn modern() -> Model {
    let data = bundled();
    let config = TrainConfig {
        layers: vec![784, 12, 10],
        functions: Functions {
            hidden: Activation::Relu,
            output: Output::Softmax,
            loss: Loss::CrossEntropy,
        },
        classes: ziffer::data::classes::fashion(),
        settings: TrainSettings {
            optimizer: Optimizer::ADAM,
            schedule: "0.001".parse().unwrap(),
            dropout: 0.1,
            label_smoothing: 0.1,
            weight_decay: 1e-4,
            validation: 100,
            ..TrainSettings::default()
        },
    };
    let mut model = Model::new(&config).unwrap();
    let (train_set, test_set) = (data.train.take(300), data.test.take(100));
    train(
        &mut model,
        Sets::new(&train_set, &test_set),
        1,
        &Cpu::new(1).unwrap(),
        |_| Ok(()),
    )
    .unwrap();
    model
}

#[test]
fn every_setting_the_optimizers_state_and_the_class_names_survive_the_file() {
    let dir = TempDir::new().unwrap();
    let model = modern();
    assert_eq!(
        model.optimizer_state.slots[0].len(),
        2,
        "Adam keeps m and v"
    );
    let path = dir.path().join("modern.safetensors");
    model_file::save(&model, &path).unwrap();
    let loaded = model_file::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.classes[9], "Ankle boot");
    assert_eq!(loaded.settings().optimizer, Optimizer::ADAM);
    assert_eq!(
        loaded.optimizer_state.steps, 10,
        "300 images in batches of 32"
    );
    let parts = Parts::of(&model);
    assert!(
        parts
            .tensors
            .iter()
            .any(|t| t.name == "optimizer.layers.1.weight.v")
    );
}

#[test]
fn a_missing_optimizer_tensor_or_bad_class_names_are_refused() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(&modern());
    parts
        .tensors
        .retain(|t| t.name != "optimizer.layers.0.bias.m");
    let path = parts.write(&dir, "no-m.safetensors");
    assert_bad_model(&path, "tensor 'optimizer.layers.0.bias.m' is missing");

    for (classes, reason) in [
        ("[\"a\", \"b\"]", "10 outputs, but there are 2 class names"),
        ("not json", "not a JSON list of names"),
    ] {
        let mut parts = Parts::of(&modern());
        parts
            .meta()
            .insert("classes".to_string(), classes.to_string());
        let path = parts.write(&dir, "classes.safetensors");
        assert_bad_model(&path, reason);
    }

    let mut parts = Parts::of(&modern());
    parts
        .meta()
        .insert("optimizer_steps".to_string(), "-1".to_string());
    let path = parts.write(&dir, "steps.safetensors");
    assert_bad_model(&path, "metadata 'optimizer_steps' is '-1'");
}

#[test]
fn a_version_1_file_is_read_as_the_original_network_with_digits() {
    // What ziffer wrote before format version 2: no output, classes or optimizer_steps entries,
    // and a training record without the newer fields.
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    let meta = parts.meta();
    for key in ["output", "classes", "optimizer_steps"] {
        meta.remove(key);
    }
    meta.insert("format_version".to_string(), "1".to_string());
    let mut record: serde_json::Value = serde_json::from_str(&meta["training"]).unwrap();
    let record_map = record.as_object_mut().unwrap();
    for key in [
        "init",
        "optimizer",
        "weight_decay",
        "dropout",
        "augment",
        "validation",
        "patience",
    ] {
        record_map.remove(key);
    }
    meta.insert("training".to_string(), record.to_string());
    let path = parts.write(&dir, "v1.safetensors");
    let loaded = model_file::load(&path).unwrap();
    assert_eq!(loaded.network, tiny().network);
    assert_eq!(loaded.training, tiny().training);
    assert_eq!(loaded.classes, ziffer::data::classes::digits());
    // Plain SGD keeps nothing but its step count, which version 1 did not record.
    assert_eq!(loaded.optimizer_state.steps, 0);

    // A version 1 file could only hold the quadratic loss.
    parts
        .meta()
        .insert("loss".to_string(), "cross-entropy".to_string());
    let path = parts.write(&dir, "v1-ce.safetensors");
    assert_bad_model(&path, "a version 1 file with loss 'cross-entropy'");
}

#[test]
fn layers_metadata_disagreeing_with_the_tensors_is_refused() {
    let dir = TempDir::new().unwrap();
    for (i, (layers, reason)) in [
        // same number of layers, another hidden size
        (
            "784,32,10",
            "tensor 'layers.0.weight' has shape [16, 784], but the metadata's layers 784,32,10 need [32, 784]",
        ),
        ("784,16,9", "tensor 'layers.1.weight' has shape [10, 16]"),
        // another number of layers
        ("784,16,16,10", "tensor 'layers.1.weight' has shape [10, 16], but the metadata's layers 784,16,16,10 need [16, 16]"),
        ("784,10", "unexpected tensor 'layers.1.bias'"),
        // not sizes at all
        ("784,x,10", "metadata 'layers' is '784,x,10', expected sizes like"),
        ("", "metadata 'layers' is '', expected sizes like"),
        ("784", "metadata 'layers': invalid layers"),
        ("784,0,10", "size 2 of the list is 0"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut parts = Parts::of(tiny());
        parts.meta().insert("layers".to_string(), layers.to_string());
        let path = parts.write(&dir, &format!("layers-{i}.safetensors"));
        assert_bad_model(&path, reason);
    }
}

#[test]
fn an_invalid_training_record_is_refused() {
    let dir = TempDir::new().unwrap();
    let good = Parts::of(tiny()).meta().clone()["training"].clone();
    for (i, (training, reason)) in [
        ("{not json".to_string(), "is not a valid training record"),
        ("{}".to_string(), "missing field `history`"),
        (r#"{"history": []}"#.to_string(), "missing field `seed`"),
        (
            good.replace("\"batch_size\":32", "\"batch_size\":-1"),
            "is not a valid training record",
        ),
        (
            good.replace("\"batch_size\":32", "\"batch_size\":0"),
            "metadata 'training' has batch size 0",
        ),
        (
            good.replace("3x25,0.3x5,0.03x3", "fast"),
            "is not a valid training record",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        assert_ne!(training, good, "case {i} must change the record");
        let mut parts = Parts::of(tiny());
        parts.meta().insert("training".to_string(), training);
        let path = parts.write(&dir, &format!("training-{i}.safetensors"));
        assert_bad_model(&path, reason);
    }
}

#[test]
fn a_nan_weight_is_refused_naming_the_tensor_and_index() {
    let dir = TempDir::new().unwrap();
    let mut parts = Parts::of(tiny());
    let weight = parts.tensor(&weight_name(1));
    let mut values = floats(&weight.data);
    values[37] = f32::NAN;
    weight.data = float_bytes(&values);
    let path = parts.write(&dir, "nan.safetensors");
    assert_bad_model(&path, "tensor 'layers.1.weight' holds NaN at index 37");
}

#[test]
fn an_infinite_bias_is_refused_naming_the_tensor_and_index() {
    // Written through `save`, which does not check: a diverged network can still be saved, but
    // not loaded.
    let dir = TempDir::new().unwrap();
    let mut model = tiny().clone();
    model.network.layers_mut()[0].bias[3] = f32::INFINITY;
    let path = dir.path().join("inf.safetensors");
    model_file::save(&model, &path).unwrap();
    assert_bad_model(&path, "tensor 'layers.0.bias' holds inf at index 3");
}

// ---- saves that fail ---------------------------------------------------------------------------

#[test]
fn saving_over_a_non_empty_folder_fails_and_leaves_the_folder_untouched() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("model.safetensors");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep.txt"), b"precious").unwrap();

    let err = model_file::save(tiny(), &target).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if *path == target),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("replacing the model file"),
        "{err}"
    );
    assert!(target.is_dir());
    assert_eq!(entries(&target), ["keep.txt"]);
    assert_eq!(std::fs::read(target.join("keep.txt")).unwrap(), b"precious");
    // No temporary file is left behind next to it.
    assert_eq!(entries(dir.path()), ["model.safetensors"]);
}

/// A save killed mid-write, for real: `ziffer train --resume OLD --out OLD` under a file-size
/// limit far below the model's size, so the kernel stops the process (SIGXFSZ) while it writes
/// the temporary file. OLD must keep its exact bytes. A second run without the limit shows that
/// the same command does replace the file.
#[cfg(unix)]
#[test]
fn a_save_killed_mid_write_leaves_the_old_file_intact() {
    use std::os::unix::process::ExitStatusExt;
    /// The signal for "file size limit exceeded" (25 on Linux and macOS).
    const SIGXFSZ: i32 = 25;
    /// `ulimit -f` counts 512-byte blocks in POSIX shells: 100 blocks are 51,200 bytes.
    const LIMIT_BLOCKS: usize = 100;

    let dir = TempDir::new().unwrap();
    let data_dir = dir.path().join("mnist");
    std::fs::create_dir(&data_dir).unwrap();
    let data = bundled();
    let write = |set: &ziffer::data::Dataset, images: &str, labels: &str| {
        idx::write(set, &data_dir.join(images), &data_dir.join(labels)).unwrap();
    };
    write(
        &data.train.take(300),
        mnist::TRAIN_IMAGES,
        mnist::TRAIN_LABELS,
    );
    write(&data.test.take(100), mnist::TEST_IMAGES, mnist::TEST_LABELS);

    let old = dir.path().join("old.safetensors");
    model_file::save(&trained(&[784, 300, 10], 300), &old).unwrap();
    let before = std::fs::read(&old).unwrap();
    assert!(
        before.len() > 4 * LIMIT_BLOCKS * 1024,
        "the model ({} bytes) must be far larger than the limit",
        before.len()
    );

    let resume = |limit: &str| {
        let script = format!("{limit} exec \"$0\" \"$@\"");
        let mut cmd = assert_cmd::Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_ziffer"))
            .arg("train")
            .arg("--resume")
            .arg(&old)
            .arg("--out")
            .arg(&old)
            .args(["--epochs", "1", "--limit", "300", "--threads", "1", "-q"])
            .arg("--data")
            .arg(&data_dir);
        cmd
    };

    let killed = resume(&format!("ulimit -f {LIMIT_BLOCKS};"))
        .assert()
        .failure();
    let output = killed.get_output();
    match output.status.signal() {
        Some(signal) => assert_eq!(signal, SIGXFSZ, "killed by an unexpected signal"),
        // Where SIGXFSZ is ignored, the write fails with EFBIG and ziffer reports it.
        None => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("writing the model"), "{stderr}");
        }
    }
    assert!(
        std::fs::read(&old).unwrap() == before,
        "the old model file changed"
    );
    let still = model_file::load(&old).unwrap();
    assert_eq!(still.epochs_trained(), 1);

    resume("").assert().success();
    assert!(std::fs::read(&old).unwrap() != before);
    assert_eq!(model_file::load(&old).unwrap().epochs_trained(), 2);
}

#[cfg(unix)]
#[test]
fn a_saved_model_is_readable_by_others_and_a_resave_keeps_the_old_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("m.safetensors");
    model_file::save(tiny(), &path).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o644);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    model_file::save(tiny(), &path).unwrap();
    assert_eq!(mode(&path), 0o640);
}
