//! Model files: a [`Model`] saved as safetensors, and loaded back with every field checked.
//!
//! What it is: the only code that reads or writes model files. A file holds one tensor per weight
//! matrix and bias vector, little-endian `f32`, and text metadata describing the network:
//!
//! | tensor | shape | meaning |
//! | --- | --- | --- |
//! | `layers.{l}.weight` | `[outputs, inputs]` | `W` of layer `l` (0-based), row `o` = weights into neuron `o` |
//! | `layers.{l}.bias` | `[outputs]` | `B` of layer `l` |
//! | `optimizer.layers.{l}.weight.{slot}` | `[outputs, inputs]` | what the optimizer keeps for `W` (`velocity`; Adam's `m`, `v`) |
//! | `optimizer.layers.{l}.bias.{slot}` | `[outputs]` | the same for `B` |
//! | `iterate.layers.{l}.weight`, `iterate.layers.{l}.bias` | as `layers.*` | with weight averaging under way, the last epoch's weights, which training goes on from (`layers.*` are then their mean) |
//!
//! | metadata key | example | meaning |
//! | --- | --- | --- |
//! | `format` | `ziffer` | what wrote the file |
//! | `format_version` | `2` | bumped on any incompatible change |
//! | `layers` | `784,128,64,10` | sizes, input first |
//! | `activation` | `sigmoid` | after every hidden layer (`sigmoid`, `tanh`, `relu`, `leaky-relu`) |
//! | `output` | `sigmoid` | after the last layer (`sigmoid`, `softmax`) |
//! | `loss` | `quadratic` | `quadratic` (`½‖A − Y‖²`) or `cross-entropy` |
//! | `classes` | `["0", ..., "9"]` | JSON: the name of each output |
//! | `optimizer_steps` | `52500` | updates made so far (Adam's `t`) |
//! | `training` | JSON | seed, batch size, schedule, optimizer, regularisation, augmentation and per-epoch history ([`TrainingRecord`]) |
//!
//! Version 1 files (sigmoid output, quadratic loss, digits, plain SGD, no `output`, `classes` or
//! `optimizer_steps` key) are still read.
//!
//! safetensors holds only data, never code, so loading a file cannot run anything (unlike pickle).
//! What it is not: a general tensor store; files that are not ziffer networks are refused with
//! the reason.

use crate::error::{Error, Result};
use crate::model::{Model, TrainingRecord};
use crate::nn::activation::{Activation, Output};
use crate::nn::layer::Dense;
use crate::nn::loss::Loss;
use crate::nn::network::{Functions, Network, check_sizes};
use crate::nn::optimizer::{OptimizerState, Slot};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The value of the `format` metadata key.
pub const FORMAT: &str = "ziffer";
/// The model file format this version writes (it reads this one and version 1).
pub const FORMAT_VERSION: u32 = 2;
/// Model files larger than this are refused before being read (the original network is 438 kB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The tensor name of layer `l`'s weights.
pub fn weight_name(l: usize) -> String {
    format!("layers.{l}.weight")
}

/// The tensor name of layer `l`'s biases.
pub fn bias_name(l: usize) -> String {
    format!("layers.{l}.bias")
}

/// The tensor name of the weights (`part` `"weight"`) or biases (`"bias"`) of layer `l` that
/// training goes on from, while `layers.*` hold their average ([`Model::iterate`]).
pub fn iterate_name(l: usize, part: &str) -> String {
    format!("iterate.layers.{l}.{part}")
}

/// The tensor name of what the optimizer keeps as `slot` for layer `l`'s weights (`part`
/// `"weight"`) or biases (`"bias"`).
pub fn slot_name(l: usize, part: &str, slot: &str) -> String {
    format!("optimizer.layers.{l}.{part}.{slot}")
}

fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The file's bytes for `model`.
pub fn to_safetensors(model: &Model) -> Result<Vec<u8>> {
    let network = &model.network;
    let mut tensors: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
    for (l, layer) in network.layers().iter().enumerate() {
        tensors.push((
            weight_name(l),
            to_bytes(&layer.weight),
            vec![layer.outputs, layer.inputs],
        ));
        tensors.push((bias_name(l), to_bytes(&layer.bias), vec![layer.outputs]));
        if let Some(iterate) = &model.iterate {
            let layer = &iterate.layers()[l];
            tensors.push((
                iterate_name(l, "weight"),
                to_bytes(&layer.weight),
                vec![layer.outputs, layer.inputs],
            ));
            tensors.push((
                iterate_name(l, "bias"),
                to_bytes(&layer.bias),
                vec![layer.outputs],
            ));
        }
        let slot_names = model.settings().optimizer.slot_names();
        for (slot, name) in model.optimizer_state.slots[l].iter().zip(slot_names) {
            tensors.push((
                slot_name(l, "weight", name),
                to_bytes(&slot.weight),
                vec![layer.outputs, layer.inputs],
            ));
            tensors.push((
                slot_name(l, "bias", name),
                to_bytes(&slot.bias),
                vec![layer.outputs],
            ));
        }
    }
    let views = tensors
        .iter()
        .map(|(name, bytes, shape)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
                .expect("tensor shapes match their data");
            (name.as_str(), view)
        })
        .collect::<Vec<_>>();
    let sizes: Vec<String> = network.sizes().iter().map(usize::to_string).collect();
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("layers".to_string(), sizes.join(",")),
        (
            "activation".to_string(),
            network.functions().hidden.name().to_string(),
        ),
        (
            "output".to_string(),
            network.functions().output.name().to_string(),
        ),
        (
            "loss".to_string(),
            network.functions().loss.name().to_string(),
        ),
        (
            "classes".to_string(),
            serde_json::to_string(&model.classes).expect("names serialise"),
        ),
        (
            "optimizer_steps".to_string(),
            model.optimizer_state.steps.to_string(),
        ),
        (
            "training".to_string(),
            serde_json::to_string(&model.training).expect("the training record serialises"),
        ),
    ]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::bad_model("<memory>", format!("cannot serialise: {e}")))
}

/// Saves `model` to `path`, atomically: the bytes go to a temporary file in the same folder,
/// which is flushed to disk and then renamed over `path`. A crash or a full disk during the save
/// leaves any previous file at `path` as it was (and, if the process was killed, a stray
/// `.ziffer-save-*` file beside it, which can be deleted). Creates missing parent folders. The
/// file gets the permissions of the file it replaces, or `rw-r--r--` for a new one.
pub fn save(model: &Model, path: &Path) -> Result<()> {
    write_atomically(path, &to_safetensors(model)?)
}

/// Writes `bytes` to `path` as [`save`] writes a model: to a temporary file in the same folder,
/// flushed to disk, then renamed over `path`; missing parent folders are created, and the file
/// keeps the permissions of the one it replaces. Shared by every file format that holds a model
/// ([`crate::onnx`] too).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "creating the folder", e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ziffer-save-");
    let permissions = match std::fs::metadata(path) {
        Ok(old) if old.is_file() => old.permissions(),
        _ => new_file_permissions(),
    };
    builder.permissions(permissions);
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, "creating a temporary file", e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), "writing the model", e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(path, "replacing the model file", e.error))?;
    // Make the rename itself durable. Folders cannot be opened for this on every platform, and
    // the model is already complete under its name, so a failure here is not an error.
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn new_file_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn new_file_permissions() -> std::fs::Permissions {
    // Elsewhere a fresh temporary file's permissions are already the usual ones.
    tempfile::tempfile()
        .and_then(|f| f.metadata())
        .map(|m| m.permissions())
        .expect("a temporary file can be created")
}

/// Loads a model saved by [`save`], checking the format, the metadata, every tensor's dtype and
/// shape, and that no value is NaN or infinite.
pub fn load(path: &Path) -> Result<Model> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, "reading the model", e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Error::bad_model(
            path,
            format!("the file is {size} bytes, more than the {MAX_FILE_BYTES} a model may have"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading the model", e))?;
    from_safetensors(path, &bytes)
}

/// Refuses metadata whose layer sizes need more bytes of weights and biases (4 bytes each) than
/// any model file may hold ([`MAX_FILE_BYTES`]), before anything is looked up or allocated for
/// them: damaged metadata claiming billions of neurons gets this message. Sizes that would fit
/// are left to the tensor checks, whose messages say which tensor disagrees.
fn check_fits_in_file(sizes: &[usize], file_bytes: usize) -> std::result::Result<(), String> {
    // `training_bytes` counts weights and gradients, 8 bytes per parameter; the file holds 4.
    let needed = crate::settings::training_bytes(sizes).map(|b| b / 2);
    if needed.is_some_and(|needed| needed <= MAX_FILE_BYTES) {
        return Ok(());
    }
    let names: Vec<String> = sizes.iter().map(usize::to_string).collect();
    Err(format!(
        "metadata 'layers' says {}, which needs at least {} of weights and biases, more than the \
         {} a model file may hold (this one is {file_bytes} bytes): the metadata is damaged",
        names.join("-"),
        crate::error::gigabytes(needed.unwrap_or(u64::MAX)),
        crate::error::gigabytes(MAX_FILE_BYTES),
    ))
}

/// Parses the bytes of a model file; `path` is for messages.
pub fn from_safetensors(path: &Path, bytes: &[u8]) -> Result<Model> {
    let bad = |message: String| Error::bad_model(path, message);
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
        bad(format!(
            "not a safetensors file ({e}); was it written by `ziffer train`, and completely?"
        ))
    })?;
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("damaged safetensors data: {e}")))?;
    let empty = HashMap::new();
    let meta = header.metadata().as_ref().unwrap_or(&empty);
    let get = |key: &str| -> Result<&String> {
        meta.get(key)
            .ok_or_else(|| bad(format!("the metadata has no '{key}' entry")))
    };

    let format = get("format")?;
    if format != FORMAT {
        return Err(bad(format!(
            "metadata 'format' is '{format}', expected '{FORMAT}'"
        )));
    }
    let version = get("format_version")?;
    let version: u32 = match version.as_str() {
        "1" => 1,
        "2" => 2,
        _ => {
            return Err(bad(format!(
                "format version '{version}' is not one this ziffer reads (1 or {FORMAT_VERSION}); \
                 use the ziffer version that wrote it"
            )));
        }
    };
    let sizes: Vec<usize> = get("layers")?
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            bad(format!(
                "metadata 'layers' is '{}', expected sizes like 784,128,64,10",
                meta["layers"]
            ))
        })?;
    check_sizes(&sizes).map_err(|e| bad(format!("metadata 'layers': {e}")))?;
    check_fits_in_file(&sizes, bytes.len()).map_err(bad)?;
    let activation_name = get("activation")?;
    let hidden = Activation::from_name(activation_name)
        .ok_or_else(|| bad(format!("unknown activation '{activation_name}'")))?;
    let loss_name = get("loss")?;
    let loss =
        Loss::from_name(loss_name).ok_or_else(|| bad(format!("unknown loss '{loss_name}'")))?;
    let (output, classes, steps) = if version == 1 {
        if loss != Loss::Quadratic {
            return Err(bad(format!("a version 1 file with loss '{loss_name}'")));
        }
        (Output::Sigmoid, crate::data::classes::digits(), 0)
    } else {
        let output_name = get("output")?;
        let output = Output::from_name(output_name)
            .ok_or_else(|| bad(format!("unknown output function '{output_name}'")))?;
        let classes: Vec<String> = serde_json::from_str(get("classes")?).map_err(|e| {
            bad(format!(
                "metadata 'classes' is not a JSON list of names: {e}"
            ))
        })?;
        let steps: u64 = get("optimizer_steps")?.parse().map_err(|_| {
            bad(format!(
                "metadata 'optimizer_steps' is '{}', expected a whole number",
                meta["optimizer_steps"]
            ))
        })?;
        (output, classes, steps)
    };
    let functions = Functions {
        hidden,
        output,
        loss,
    };
    let training: TrainingRecord = serde_json::from_str(get("training")?).map_err(|e| {
        bad(format!(
            "metadata 'training' is not a valid training record: {e}"
        ))
    })?;
    if training.settings.batch_size == 0 {
        return Err(bad("metadata 'training' has batch size 0".to_string()));
    }

    let slot_names = training.settings.optimizer.slot_names();
    // With weight averaging under way, the weights training goes on from are in the file too.
    let averaging = (training.settings).averaged_epochs(training.history.len()) > 0;
    let expected: Vec<String> = (0..sizes.len() - 1)
        .flat_map(|l| {
            let slots = slot_names
                .iter()
                .flat_map(move |s| [slot_name(l, "weight", s), slot_name(l, "bias", s)]);
            let iterate = averaging
                .then(|| [iterate_name(l, "weight"), iterate_name(l, "bias")])
                .into_iter()
                .flatten();
            [weight_name(l), bias_name(l)]
                .into_iter()
                .chain(iterate)
                .chain(slots)
        })
        .collect();
    let mut names = tensors.names();
    names.sort(); // the header is a map: sort, so that the message does not vary
    if let Some(extra) = names
        .iter()
        .find(|name| !expected.iter().any(|e| e == *name))
    {
        return Err(bad(format!(
            "unexpected tensor '{extra}': the metadata's layers {} need exactly {}",
            meta["layers"],
            expected.join(", ")
        )));
    }
    let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
        let t = tensors
            .tensor(name)
            .map_err(|_| bad(format!("tensor '{name}' is missing")))?;
        if t.dtype() != Dtype::F32 {
            return Err(bad(format!(
                "tensor '{name}' has dtype {}, expected F32",
                t.dtype()
            )));
        }
        if t.shape() != shape {
            return Err(bad(format!(
                "tensor '{name}' has shape {:?}, but the metadata's layers {} need {shape:?}",
                t.shape(),
                meta["layers"]
            )));
        }
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "tensor '{name}' holds {} at index {i}: the weights are damaged (did training diverge?)",
                values[i]
            )));
        }
        Ok(values)
    };
    let mut layers = Vec::with_capacity(sizes.len() - 1);
    let mut iterate = Vec::new();
    let mut slots = Vec::with_capacity(sizes.len() - 1);
    for (l, io) in sizes.windows(2).enumerate() {
        let (inputs, outputs) = (io[0], io[1]);
        layers.push(Dense {
            inputs,
            outputs,
            weight: read(&weight_name(l), &[outputs, inputs])?,
            bias: read(&bias_name(l), &[outputs])?,
        });
        if averaging {
            iterate.push(Dense {
                inputs,
                outputs,
                weight: read(&iterate_name(l, "weight"), &[outputs, inputs])?,
                bias: read(&iterate_name(l, "bias"), &[outputs])?,
            });
        }
        slots.push(
            slot_names
                .iter()
                .map(|s| {
                    Ok(Slot {
                        weight: read(&slot_name(l, "weight", s), &[outputs, inputs])?,
                        bias: read(&slot_name(l, "bias", s), &[outputs])?,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        );
    }
    let network = Network::from_layers(layers, functions)?;
    let iterate = averaging
        .then(|| Network::from_layers(iterate, functions))
        .transpose()?;
    crate::data::classes::check(&classes, network.outputs())
        .map_err(|e| bad(format!("metadata 'classes': {e}")))?;
    Ok(Model {
        network,
        iterate,
        training,
        optimizer_state: OptimizerState { steps, slots },
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file with only these metadata entries and no tensors.
    fn with_metadata(entries: &[(&str, &str)]) -> Vec<u8> {
        let metadata = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>();
        safetensors::serialize(Vec::<(&str, TensorView)>::new(), Some(metadata)).unwrap()
    }

    fn message(bytes: &[u8]) -> String {
        from_safetensors(Path::new("m.safetensors"), bytes)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn metadata_claiming_a_billion_neurons_is_refused_before_looking_for_their_tensors() {
        let bytes = with_metadata(&[
            ("format", FORMAT),
            ("format_version", "2"),
            ("layers", "784,1000000000,10"),
        ]);
        let err = message(&bytes);
        assert!(
            err.contains(
                "metadata 'layers' says 784-1000000000-10, which needs at least 3180 GB of \
                 weights and biases, more than the 1 GB a model file may hold (this one is"
            ),
            "{err}"
        );
    }

    #[test]
    fn metadata_whose_sizes_overflow_64_bits_is_refused() {
        let layers = format!("{0},{0}", usize::MAX);
        let bytes = with_metadata(&[
            ("format", FORMAT),
            ("format_version", "2"),
            ("layers", &layers),
        ]);
        let err = message(&bytes);
        assert!(err.contains("needs at least 18 EB"), "{err}");
    }

    #[test]
    fn sizes_that_a_model_file_can_hold_pass_the_size_check() {
        // (2^28 - 1) weights and 1 bias: 2^30 bytes, the most a model file may hold.
        assert!(check_fits_in_file(&[(1 << 28) - 1, 1], 100).is_ok());
        assert!(check_fits_in_file(&[1 << 28, 1], 100).is_err());
        // More than this file holds, but a possible model: the tensor checks say what is wrong.
        assert!(check_fits_in_file(&[784, 32, 10], 100).is_ok());
    }

    #[test]
    fn header_length_beyond_the_file_is_refused() {
        let mut bytes = with_metadata(&[("format", FORMAT)]);
        bytes[..8].copy_from_slice(&(1u64 << 62).to_le_bytes());
        let err = message(&bytes);
        assert!(err.contains("not a safetensors file"), "{err}");
    }

    #[test]
    fn header_length_one_past_the_file_is_refused() {
        let mut bytes = with_metadata(&[("format", FORMAT)]);
        let n = (bytes.len() - 8 + 1) as u64;
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        let err = message(&bytes);
        assert!(err.contains("not a safetensors file"), "{err}");
    }

    /// A file with one tensor whose header is `header` (padded as safetensors pads it) followed by
    /// `data`.
    fn raw_file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut header = header.as_bytes().to_vec();
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn tensor_offsets_beyond_the_file_are_refused() {
        let bytes = raw_file(
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4000000000]}}"#,
            &[0; 8],
        );
        let err = message(&bytes);
        assert!(
            err.contains("not a safetensors file (invalid shape, data type, or offset"),
            "{err}"
        );
    }

    #[test]
    fn tensor_shape_whose_product_overflows_is_refused() {
        let bytes = raw_file(
            r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        let err = message(&bytes);
        assert!(err.contains("not a safetensors file (overflow"), "{err}");
    }

    #[test]
    fn tensor_shape_larger_than_its_bytes_is_refused() {
        let bytes = raw_file(
            r#"{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        let err = message(&bytes);
        assert!(
            err.contains("not a safetensors file (invalid shape, data type, or offset"),
            "{err}"
        );
    }
}
