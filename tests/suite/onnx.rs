//! ONNX export: the bytes decoded back with the library's own messages, checked field by field
//! against the model (versions, nodes in order, initializers, input and output, metadata) for
//! every activation and output function; the graph run by a small interpreter here against
//! ziffer's forward pass; and `ziffer export` end to end, with a clean error for every bad path.
//!
//! ONNX Runtime itself runs the exported files in CI (`scripts/check_onnx.py`).

use assert_cmd::Command;
use predicates::prelude::*;
use prost::Message;
use serde_json::Value;
use std::path::Path;
use ziffer::data::mnist;
use ziffer::history::EpochRecord;
use ziffer::matrix::MatRef;
use ziffer::model::Model;
use ziffer::nn::activation::{Activation, LEAKY_SLOPE, Output};
use ziffer::nn::network::Functions;
use ziffer::onnx::proto::{
    AttributeProto, AttributeType, FLOAT, ModelProto, NodeProto, ValueInfoProto,
    tensor_shape_proto::dimension, type_proto,
};
use ziffer::onnx::{self, Op};
use ziffer::settings::TrainConfig;
use ziffer::{Error, model_file};

use crate::support::mnist_folder::small_mnist;

fn ziffer() -> Command {
    Command::cargo_bin("ziffer").unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An untrained model of `layers` with `hidden` and `output`, and digits as classes.
fn model(layers: &[usize], hidden: Activation, output: Output) -> Model {
    let config = TrainConfig {
        layers: layers.to_vec(),
        functions: Functions::choose(Some(hidden), Some(output), None),
        ..TrainConfig::default()
    };
    Model::new(&config).unwrap()
}

/// `model` exported and decoded back.
fn exported(model: &Model) -> ModelProto {
    let bytes = onnx::to_onnx(model).unwrap();
    ModelProto::decode(&bytes[..]).unwrap()
}

fn attribute<'n>(node: &'n NodeProto, name: &str) -> &'n AttributeProto {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{} has no attribute {name}", node.name))
}

/// The shape of a graph input or output: `(element type, dimensions)`, a symbol as `Err`.
fn shape(value: &ValueInfoProto) -> (i32, Vec<Result<i64, String>>) {
    let Some(type_proto::Value::TensorType(tensor)) = value.r#type.as_ref().unwrap().value.clone()
    else {
        panic!("{} is not a tensor", value.name)
    };
    let dims = tensor
        .shape
        .unwrap()
        .dim
        .into_iter()
        .map(|d| match d.value.unwrap() {
            dimension::Value::DimValue(v) => Ok(v),
            dimension::Value::DimParam(p) => Err(p),
        })
        .collect();
    (tensor.elem_type, dims)
}

fn metadata(proto: &ModelProto) -> Vec<(&str, &str)> {
    proto
        .metadata_props
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect()
}

fn little_endian(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn an_export_is_ir_8_opset_17_by_ziffer() {
    let proto = exported(&model(&[784, 16, 10], Activation::Sigmoid, Output::Sigmoid));
    assert_eq!(proto.ir_version, 8);
    assert_eq!(proto.opset_import.len(), 1);
    assert_eq!(proto.opset_import[0].domain, "");
    assert_eq!(proto.opset_import[0].version, 17);
    assert_eq!(proto.producer_name, "ziffer");
    assert_eq!(proto.producer_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn every_layer_is_a_gemm_on_its_own_weights_then_its_function() {
    for hidden in Activation::ALL {
        for output in Output::ALL {
            let model = model(&[784, 12, 8, 10], hidden, output);
            let graph = exported(&model).graph.unwrap();
            let hidden_type = onnx::hidden_op(hidden).unwrap().op_type();
            let output_type = onnx::output_op(output).unwrap().op_type();
            let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
            let expected = [
                "Gemm",
                hidden_type,
                "Gemm",
                hidden_type,
                "Gemm",
                output_type,
            ];
            assert_eq!(ops, expected, "{hidden}, {output}");
            let mut a_prev = "pixels".to_string();
            for (l, pair) in graph.node.chunks(2).enumerate() {
                let (gemm, function) = (&pair[0], &pair[1]);
                let (w, b) = (format!("layers.{l}.weight"), format!("layers.{l}.bias"));
                assert_eq!(gemm.input, [a_prev.clone(), w, b], "{}", gemm.name);
                let trans_b = attribute(gemm, "transB");
                assert_eq!(trans_b.r#type, AttributeType::Int as i32);
                assert_eq!(trans_b.i, Some(1));
                // alpha and beta only where the scaled tanh's factors go (see gemm_scales).
                let (inner, outer) = onnx::gemm_scales(hidden);
                let last = l + 1 == model.network.layers().len();
                let alpha = if l > 0 { outer } else { 1.0 } * if last { 1.0 } else { inner };
                let beta = if last { 1.0 } else { inner };
                let float = |name| {
                    gemm.attribute
                        .iter()
                        .find(|a| a.name == name)
                        .map(|a| a.f.unwrap())
                };
                assert_eq!(float("alpha").unwrap_or(1.0), alpha, "{}", gemm.name);
                assert_eq!(float("beta").unwrap_or(1.0), beta, "{}", gemm.name);
                let expected = 1 + usize::from(alpha != 1.0) + usize::from(beta != 1.0);
                assert_eq!(gemm.attribute.len(), expected, "{}", gemm.name);
                assert_eq!(function.input, gemm.output);
                assert_eq!(function.domain, "");
                a_prev = function.output[0].clone();
            }
            assert_eq!(a_prev, "scores");
            for node in &graph.node {
                match node.op_type.as_str() {
                    "LeakyRelu" => {
                        let alpha = attribute(node, "alpha");
                        assert_eq!(alpha.r#type, AttributeType::Float as i32);
                        assert_eq!(alpha.f, Some(LEAKY_SLOPE));
                    }
                    "Softmax" => assert_eq!(attribute(node, "axis").i, Some(1)),
                    "Gemm" => {}
                    _ => assert!(node.attribute.is_empty(), "{}", node.name),
                }
            }
        }
    }
}

#[test]
fn the_initializers_are_the_models_tensors_with_their_shapes() {
    let model = model(&[784, 12, 8, 10], Activation::Relu, Output::Softmax);
    let graph = exported(&model).graph.unwrap();
    let layers = model.network.layers();
    assert_eq!(graph.initializer.len(), 2 * layers.len());
    for (l, layer) in layers.iter().enumerate() {
        let (weight, bias) = (&graph.initializer[2 * l], &graph.initializer[2 * l + 1]);
        assert_eq!(weight.name, model_file::weight_name(l));
        assert_eq!(bias.name, model_file::bias_name(l));
        assert_eq!(weight.dims, [layer.outputs as i64, layer.inputs as i64]);
        assert_eq!(bias.dims, [layer.outputs as i64]);
        for (tensor, values) in [(weight, &layer.weight), (bias, &layer.bias)] {
            assert_eq!(tensor.data_type, FLOAT);
            assert_eq!(tensor.raw_data, little_endian(values), "{}", tensor.name);
            assert!(tensor.float_data.is_empty());
        }
    }
}

#[test]
fn the_input_is_pixels_n_by_784_and_the_output_scores_n_by_classes() {
    let config = TrainConfig {
        layers: vec![784, 16, 7],
        classes: (0..7).map(|c| format!("class {c}")).collect(),
        ..TrainConfig::default()
    };
    let model = Model::new(&config).unwrap();
    let graph = exported(&model).graph.unwrap();
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.output.len(), 1);
    assert_eq!(graph.input[0].name, "pixels");
    assert_eq!(graph.output[0].name, "scores");
    let n = || Err("N".to_string());
    assert_eq!(shape(&graph.input[0]), (FLOAT, vec![n(), Ok(784)]));
    assert_eq!(shape(&graph.output[0]), (FLOAT, vec![n(), Ok(7)]));
}

#[test]
fn the_metadata_holds_the_class_names_and_the_training_summary() {
    let mut model = model(&[784, 16, 10], Activation::LeakyRelu, Output::Softmax);
    model.classes = ziffer::data::classes::fashion();
    model.training.history.push(EpochRecord {
        epoch: 1,
        lr: 0.3,
        train_loss: 0.5,
        validation_accuracy: None,
        test_accuracy: 0.875,
        seconds: 2.5,
    });
    let proto = exported(&model);
    let meta = metadata(&proto);
    let keys: Vec<&str> = meta.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["classes", "summary"]);
    let classes: Vec<String> = serde_json::from_str(meta[0].1).unwrap();
    assert_eq!(classes, model.classes);
    let summary: Value = serde_json::from_str(meta[1].1).unwrap();
    assert_eq!(summary, model.summary());
    assert_eq!(summary["layers"], serde_json::json!([784, 16, 10]));
    assert_eq!(summary["activation"], "leaky-relu");
    assert_eq!(summary["output"], "softmax");
    assert_eq!(summary["loss"], "cross-entropy");
    assert_eq!(summary["classes"][9], "Ankle boot");
    assert_eq!(summary["epochs_trained"], 1);
    assert_eq!(summary["test_accuracy"], 0.875);
    assert_eq!(summary["seed"], model.settings().seed);
    assert_eq!(summary["epochs"][0]["lr"], 0.3);
    assert_eq!(summary["parameters"], 784 * 16 + 16 + 16 * 10 + 10);
}

/// The graph run as ONNX defines its operators, in f64 on images as rows: returns `scores`,
/// `(N, classes)` row-major.
fn run_graph(proto: &ModelProto, pixels: &[f32], n: usize) -> Vec<f64> {
    let graph = proto.graph.as_ref().unwrap();
    let tensor = |name: &str| {
        let t = graph.initializer.iter().find(|t| t.name == name).unwrap();
        let values: Vec<f64> = t
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
            .collect();
        (t.dims.clone(), values)
    };
    let mut a: Vec<f64> = pixels.iter().map(|&p| p as f64).collect();
    let mut columns = pixels.len() / n;
    for node in &graph.node {
        match node.op_type.as_str() {
            // Y = alpha·A·Bᵀ + beta·C, with transB = 1 and C broadcast over the rows
            "Gemm" => {
                assert_eq!(attribute(node, "transB").i, Some(1));
                let float = |name| {
                    node.attribute
                        .iter()
                        .find(|a| a.name == name)
                        .map_or(1.0, |a| a.f.unwrap() as f64)
                };
                let (alpha, beta) = (float("alpha"), float("beta"));
                let (dims, w) = tensor(&node.input[1]);
                let (_, b) = tensor(&node.input[2]);
                let (outputs, inputs) = (dims[0] as usize, dims[1] as usize);
                assert_eq!(inputs, columns);
                let mut z = vec![0.0; n * outputs];
                for i in 0..n {
                    for o in 0..outputs {
                        let row = &a[i * inputs..(i + 1) * inputs];
                        let weights = &w[o * inputs..(o + 1) * inputs];
                        let dot: f64 = row.iter().zip(weights).map(|(x, w)| x * w).sum();
                        z[i * outputs + o] = alpha * dot + beta * b[o];
                    }
                }
                a = z;
                columns = outputs;
            }
            "Sigmoid" => a.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            "Tanh" => a.iter_mut().for_each(|v| *v = v.tanh()),
            "Relu" => a.iter_mut().for_each(|v| *v = v.max(0.0)),
            "LeakyRelu" => {
                let alpha = attribute(node, "alpha").f.unwrap() as f64;
                a.iter_mut()
                    .for_each(|v| *v = if *v < 0.0 { alpha * *v } else { *v });
            }
            "Softmax" => {
                assert_eq!(attribute(node, "axis").i, Some(1));
                for row in a.chunks_mut(columns) {
                    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    row.iter_mut().for_each(|v| *v = (*v - max).exp());
                    let sum: f64 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= sum);
                }
            }
            other => panic!("unexpected operator {other}"),
        }
    }
    a
}

#[test]
fn the_graph_computes_ziffers_output_for_every_activation_and_output() {
    let data = mnist::load_bundled().unwrap();
    let n = 50;
    let test = data.test.take(n);
    let pixels: Vec<f32> = test
        .pixels()
        .iter()
        .map(|&p| ziffer::data::batch::normalise_pixel(p))
        .collect();
    for hidden in Activation::ALL {
        for output in Output::ALL {
            let model = model(&[784, 32, 16, 10], hidden, output);
            let network = &model.network;
            let scores = run_graph(&exported(&model), &pixels, n);
            // ziffer's own forward pass: X is (784, N), A[L] comes back (10, N) row-major.
            let mut ws = network.workspace(n);
            let x = MatRef::row_major(&pixels, n, 784).t();
            let a = network.forward(x, &mut ws);
            let mut largest = 0.0f64;
            for i in 0..n {
                for c in 0..10 {
                    let d = (scores[i * 10 + c] - a[c * n + i] as f64).abs();
                    largest = largest.max(d);
                }
            }
            assert!(
                largest < 1e-5,
                "{hidden}, {output}: largest |ONNX − ziffer| is {largest:e}"
            );
        }
    }
}

#[test]
fn each_function_maps_to_its_operator() {
    assert_eq!(
        onnx::hidden_op(Activation::LeakyRelu).unwrap(),
        Op::LeakyRelu { alpha: LEAKY_SLOPE }
    );
    assert_eq!(
        onnx::output_op(Output::Softmax).unwrap(),
        Op::Softmax { axis: 1 }
    );
}

#[test]
fn save_writes_the_bytes_of_to_onnx_and_replaces_an_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("m.onnx");
    let first = model(&[784, 8, 10], Activation::Sigmoid, Output::Sigmoid);
    onnx::save(&first, &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        onnx::to_onnx(&first).unwrap()
    );
    let second = model(&[784, 4, 10], Activation::Relu, Output::Softmax);
    onnx::save(&second, &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        onnx::to_onnx(&second).unwrap()
    );
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["m.onnx"], "no temporary file is left behind");
}

#[test]
fn save_into_a_folder_fails_with_the_path_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(&[784, 8, 10], Activation::Sigmoid, Output::Sigmoid);
    let err = onnx::save(&model, dir.path()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains(path_str(dir.path())), "{err}");
    assert!(dir.path().is_dir());
}

/// Trains a small model with `ziffer train` into `dir` and returns its path.
fn trained_model(dir: &Path) -> std::path::PathBuf {
    let data = small_mnist(300, 100);
    let path = dir.join("m.safetensors");
    ziffer()
        .args(["train", "--data", path_str(data.path())])
        .args(["--layers", "784,16,10", "--epochs", "1", "--quiet"])
        .args(["--out", path_str(&path)])
        .assert()
        .success();
    path
}

#[test]
fn export_writes_an_onnx_file_and_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = trained_model(dir.path());
    let out = dir.path().join("m.onnx");
    let line = format!(
        "exported {} to {}: 784-16-10, 12,730 parameters, ",
        path_str(&model_path),
        path_str(&out)
    );
    ziffer()
        .args(["export", "--model", path_str(&model_path)])
        .args(["--out", path_str(&out)])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(line))
        .stdout(predicate::str::is_match(r" \d+ kB\n$").unwrap());
    let model = model_file::load(&model_path).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), onnx::to_onnx(&model).unwrap());
}

#[test]
fn export_without_out_writes_beside_the_model_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = trained_model(dir.path());
    let run = ziffer()
        .args(["export", "--model", path_str(&model_path), "--json"])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let out = dir.path().join("m.onnx");
    assert_eq!(report["onnx"], path_str(&out));
    assert_eq!(report["model"], path_str(&model_path));
    assert_eq!(report["parameters"], 12_730);
    assert_eq!(report["ir_version"], 8);
    assert_eq!(report["opset"], 17);
    assert_eq!(report["bytes"], std::fs::metadata(&out).unwrap().len());
}

#[test]
fn the_summary_in_the_file_is_what_info_json_says() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = trained_model(dir.path());
    let out = dir.path().join("m.onnx");
    ziffer()
        .args(["export", "-m", path_str(&model_path), "-o", path_str(&out)])
        .assert()
        .success();
    let info = ziffer()
        .args(["info", "--model", path_str(&model_path), "--json"])
        .assert()
        .success();
    let mut info: Value = serde_json::from_slice(&info.get_output().stdout).unwrap();
    info.as_object_mut().unwrap().remove("model");
    let proto = ModelProto::decode(&std::fs::read(&out).unwrap()[..]).unwrap();
    let (_, summary) = metadata(&proto)[1];
    let mut summary: Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["epochs_trained"], 1);
    summary.as_object_mut().unwrap().remove("epochs_trained");
    assert_eq!(summary, info);
}

/// Runs ziffer with `args`, expects exit code 1 with `message` in stderr and no panic.
fn fails_with(args: &[&str], message: &str) {
    let assert = ziffer().args(args).assert().code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains(message),
        "ziffer {args:?}: stderr was:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn export_fails_cleanly_without_a_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.onnx");
    fails_with(
        &[
            "export",
            "--model",
            "no/such.safetensors",
            "--out",
            path_str(&out),
        ],
        "cannot load the model no/such.safetensors",
    );
    assert!(!out.exists());
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, "this is not a model").unwrap();
    fails_with(
        &[
            "export",
            "--model",
            path_str(&junk),
            "--out",
            path_str(&out),
        ],
        "not a safetensors file",
    );
    assert!(!out.exists());
}

#[test]
fn export_fails_cleanly_where_the_output_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("m.safetensors");
    let model = model(&[784, 8, 10], Activation::Sigmoid, Output::Sigmoid);
    model_file::save(&model, &model_path).unwrap();
    let model = path_str(&model_path);
    // A folder where the file should go, and a file where a folder should be.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    fails_with(
        &["export", "--model", model, "--out", path_str(&folder)],
        &format!("cannot export the model to {}", path_str(&folder)),
    );
    assert!(folder.is_dir());
    let under_a_file = model_path.join("m.onnx");
    fails_with(
        &["export", "--model", model, "--out", path_str(&under_a_file)],
        "creating the folder failed",
    );
    // The model itself, which the export would replace.
    fails_with(
        &["export", "--model", model, "--out", model],
        "is the model itself",
    );
    assert_eq!(
        model_file::load(&model_path).unwrap().network.sizes(),
        [784, 8, 10]
    );
}
