//! ONNX export: a [`Model`] as an ONNX file that other runtimes (ONNX Runtime, a browser's
//! onnxruntime-web, ...) run without ziffer.
//!
//! What it is: the translation of ziffer's network into an ONNX graph (IR version 8, opset 17),
//! and its atomic save. What it is not: an ONNX reader or runtime (ziffer never loads these
//! files), nor a second model format to train from: the safetensors file of
//! [`crate::model_file`] stays the one ziffer resumes from, and the ONNX file drops what only
//! training needs (the optimizer's state, the loss).
//!
//! Shapes: `N` images per batch (a symbolic dimension), `n[l]` neurons in layer `l`, `n[0]` the
//! pixels per image (784). ONNX works on images as rows, so every value is `(N, n[l])`, where
//! ziffer's own batch matrices are `(n[l], N)`: the same numbers, transposed. For each layer
//! `l = 1..=L` (named `layers.{l-1}` like its tensors in the model file):
//!
//! | node | ONNX | ziffer |
//! | --- | --- | --- |
//! | `Gemm`, `transB = 1` | `Z = A·Wᵀ + B`, `A` `(N, n[l−1])`, `W` `(n[l], n[l−1])` | `Z[l] = W[l]·A[l−1] + B[l]` |
//! | hidden activation | `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu` (`alpha` = [`LEAKY_SLOPE`]) | `A[l] = f(Z[l])`, `l < L` |
//! | output function | `Sigmoid`, or `Softmax` with `axis = 1` (over each image's classes) | `A[L] = f(Z[L])` |
//!
//! The scaled tanh `a·tanh(b·z)` (`a` = [`SCALED_TANH_A`], `b` = [`SCALED_TANH_B`]) has no
//! operator of its own in opset 17, so it is written as a `Tanh` with its two factors folded into
//! the `Gemm`s around it ([`gemm_scales`]): the layer's own `Gemm` gets `alpha = beta = b`, so it
//! computes `b·Z`, and the next `Gemm` gets `alpha = a`, so it reads `a·tanh(b·Z)`. The graph
//! keeps its pairs of nodes; only the values between them (`layers.{l}.a`, not outputs of the
//! graph) are `tanh(b·Z)`, without the factor `a`.
//!
//! | name | shape | meaning |
//! | --- | --- | --- |
//! | input `pixels` | `[N, n[0]]` float32 | each image's pixels row after row, `byte / 255` in `[0, 1]` |
//! | output `scores` | `[N, n[L]]` float32 | `A[L]`, one row per image: what ziffer's network outputs |
//! | initializer `layers.{l}.weight` | `[n[l+1], n[l]]` | `W`, row `o` = weights into neuron `o` (as in the model file) |
//! | initializer `layers.{l}.bias` | `[n[l+1]]` | `B` |
//!
//! | metadata key | example | meaning |
//! | --- | --- | --- |
//! | `classes` | `["0", ..., "9"]` | JSON: the name of each output |
//! | `summary` | JSON | the network and its training, as `ziffer info --json` describes them ([`summary`]) |
//!
//! Dropout is not in the graph: ziffer uses inverted dropout, which scales during training, so
//! a trained network predicts with its weights as they are.

pub mod proto;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::model_file::{bias_name, weight_name, write_atomically};
use crate::nn::activation::{Activation, LEAKY_SLOPE, Output, SCALED_TANH_A, SCALED_TANH_B};
use prost::Message;
use proto::{
    AttributeProto, AttributeType, FLOAT, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    tensor_shape_proto::{Dimension, dimension},
    type_proto,
};
use std::path::Path;

/// The ONNX IR version of the files ziffer writes (IR 8 came with ONNX 1.10).
pub const IR_VERSION: i64 = 8;
/// The version of ONNX's operator set (domain `""`) the graph uses.
pub const OPSET_VERSION: i64 = 17;
/// `ModelProto.producer_name`.
pub const PRODUCER: &str = "ziffer";
/// The graph's input: pixels in `[0, 1]`, `[N, n[0]]`.
pub const INPUT: &str = "pixels";
/// The graph's output: `A[L]`, `[N, n[L]]`.
pub const OUTPUT: &str = "scores";
/// The symbolic batch dimension of the input and output.
pub const BATCH: &str = "N";
/// The largest file protobuf can encode as one message: `2³¹ − 1` bytes (2 GiB).
pub const MAX_BYTES: usize = i32::MAX as usize;

/// An ONNX operator that follows a `Gemm`, with its attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Sigmoid,
    Tanh,
    Relu,
    /// `f(z) = z` for `z ≥ 0`, `alpha·z` below.
    LeakyRelu {
        alpha: f32,
    },
    /// The softmax along `axis` (1: over each row's classes).
    Softmax {
        axis: i64,
    },
}

impl Op {
    /// The ONNX operator's name (`op_type`).
    pub fn op_type(self) -> &'static str {
        match self {
            Op::Sigmoid => "Sigmoid",
            Op::Tanh => "Tanh",
            Op::Relu => "Relu",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::Softmax { .. } => "Softmax",
        }
    }

    fn attributes(self) -> Vec<AttributeProto> {
        match self {
            Op::Sigmoid | Op::Tanh | Op::Relu => Vec::new(),
            Op::LeakyRelu { alpha } => vec![float_attribute("alpha", alpha)],
            Op::Softmax { axis } => vec![int_attribute("axis", axis)],
        }
    }
}

/// The ONNX operator of a hidden activation. The match has no catch-all arm on purpose: a new
/// activation does not compile until it is given an operator here or an
/// [`Error::NotExportable`] saying why ONNX cannot hold it.
pub fn hidden_op(activation: Activation) -> Result<Op> {
    match activation {
        Activation::Sigmoid => Ok(Op::Sigmoid),
        // a·tanh(b·z): the factors go into the Gemms around the Tanh (see `gemm_scales`).
        Activation::Tanh | Activation::ScaledTanh => Ok(Op::Tanh),
        Activation::Relu => Ok(Op::Relu),
        Activation::LeakyRelu => Ok(Op::LeakyRelu { alpha: LEAKY_SLOPE }),
    }
}

/// The factors a hidden activation needs from the `Gemm`s around its operator: `(inner, outer)`,
/// where the layer's own `Gemm` multiplies `Z` by `inner` (its `alpha` and `beta`) and the next
/// `Gemm` multiplies its input by `outer` (its `alpha`). `(1, 1)` for every activation that is
/// one ONNX operator as it is; `(b, a)` for the scaled tanh `a·tanh(b·z)`.
pub fn gemm_scales(activation: Activation) -> (f32, f32) {
    match activation {
        Activation::ScaledTanh => (SCALED_TANH_B, SCALED_TANH_A),
        Activation::Sigmoid | Activation::Tanh | Activation::Relu | Activation::LeakyRelu => {
            (1.0, 1.0)
        }
    }
}

/// The ONNX operator of an output function; exhaustive like [`hidden_op`].
pub fn output_op(output: Output) -> Result<Op> {
    match output {
        Output::Sigmoid => Ok(Op::Sigmoid),
        // ONNX values are (N, classes): each image's scores are a row, so the softmax runs
        // along axis 1, where ziffer's runs down each column of (classes, N).
        Output::Softmax => Ok(Op::Softmax { axis: 1 }),
    }
}

/// The bytes of `model` as an ONNX file (see the module's tables for what it holds).
pub fn to_onnx(model: &Model) -> Result<Vec<u8>> {
    let proto = model_proto(model)?;
    check_size(proto.encoded_len(), model.network.parameter_count())?;
    Ok(proto.encode_to_vec())
}

/// Saves `model` as an ONNX file at `path`, atomically as model files are saved (see
/// [`write_atomically`]): a failed save leaves any previous file at `path` as it was.
pub fn save(model: &Model, path: &Path) -> Result<()> {
    let bytes = to_onnx(model)?;
    write_atomically(path, &bytes)
}

/// The ONNX model of `model`, as protobuf messages.
pub fn model_proto(model: &Model) -> Result<ModelProto> {
    let network = &model.network;
    let functions = network.functions();
    let layers = network.layers();
    let last = layers.len() - 1;
    let hidden = hidden_op(functions.hidden)?;
    let output = output_op(functions.output)?;
    let (inner, outer) = gemm_scales(functions.hidden);

    let mut node = Vec::with_capacity(2 * layers.len());
    let mut initializer = Vec::with_capacity(2 * layers.len());
    let mut a_prev = INPUT.to_string();
    for (l, layer) in layers.iter().enumerate() {
        let (weight, bias) = (weight_name(l), bias_name(l));
        initializer.push(tensor(
            &weight,
            &[layer.outputs, layer.inputs],
            &layer.weight,
        ));
        initializer.push(tensor(&bias, &[layer.outputs], &layer.bias));
        // Z[l] = A[l−1]·W[l]ᵀ + B[l], (N, n[l]); with alpha and beta where the activation
        // needs its factors (see `gemm_scales`).
        let z = format!("layers.{l}.z");
        let (alpha, beta) = match (l == 0, l == last) {
            (true, true) => (1.0, 1.0),
            (true, false) => (inner, inner),
            (false, true) => (outer, 1.0),
            (false, false) => (outer * inner, inner),
        };
        let mut attribute = vec![int_attribute("transB", 1)];
        if alpha != 1.0 {
            attribute.push(float_attribute("alpha", alpha));
        }
        if beta != 1.0 {
            attribute.push(float_attribute("beta", beta));
        }
        node.push(NodeProto {
            input: vec![a_prev, weight, bias],
            output: vec![z.clone()],
            name: format!("layers.{l}.gemm"),
            op_type: "Gemm".to_string(),
            attribute,
            ..NodeProto::default()
        });
        // A[l] = f(Z[l])
        let (op, a) = match l == last {
            false => (hidden, format!("layers.{l}.a")),
            true => (output, OUTPUT.to_string()),
        };
        node.push(NodeProto {
            input: vec![z],
            output: vec![a.clone()],
            name: format!("layers.{l}.{}", op.op_type().to_lowercase()),
            op_type: op.op_type().to_string(),
            attribute: op.attributes(),
            ..NodeProto::default()
        });
        a_prev = a;
    }

    let sizes = sizes_text(&network.sizes());
    let graph = GraphProto {
        node,
        name: format!("ziffer {sizes}"),
        initializer,
        doc_string: format!(
            "{INPUT}: N images of {} pixels each, row after row, every pixel byte / 255 in [0, 1]. \
             {OUTPUT}: the network's output A[L] for each image, one column per class ({}).",
            network.inputs(),
            functions.output
        ),
        input: vec![float_matrix(INPUT, network.inputs())],
        output: vec![float_matrix(OUTPUT, network.outputs())],
        ..GraphProto::default()
    };
    let classes = serde_json::to_string(&model.classes).expect("names serialise");
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET_VERSION,
        }],
        producer_name: PRODUCER.to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        doc_string: format!(
            "A ziffer network {sizes} ({} hidden activation, {} output), {} parameters, \
             trained for {} epochs.",
            functions.hidden,
            functions.output,
            network.parameter_count(),
            model.epochs_trained()
        ),
        graph: Some(graph),
        metadata_props: vec![
            entry("classes", classes),
            entry("summary", model.summary().to_string()),
        ],
        ..ModelProto::default()
    })
}

/// Refuses a file protobuf cannot encode: `len` bytes for a network of `parameters`.
fn check_size(len: usize, parameters: usize) -> Result<()> {
    if len > MAX_BYTES {
        return Err(Error::NotExportable {
            what: format!("a network of {parameters} parameters"),
            reason: format!(
                "its ONNX file would be {len} bytes, over protobuf's limit of {MAX_BYTES} bytes \
                 for one message (ONNX's external data files are not written by ziffer)"
            ),
        });
    }
    Ok(())
}

/// `784-128-64-10`.
fn sizes_text(sizes: &[usize]) -> String {
    let text: Vec<String> = sizes.iter().map(usize::to_string).collect();
    text.join("-")
}

/// A float32 tensor named `name` of `shape`, its values little-endian in `raw_data`.
fn tensor(name: &str, shape: &[usize], values: &[f32]) -> TensorProto {
    debug_assert_eq!(shape.iter().product::<usize>(), values.len());
    TensorProto {
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: FLOAT,
        name: name.to_string(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..TensorProto::default()
    }
}

/// A graph input or output: float32 `[N, columns]`.
fn float_matrix(name: &str, columns: usize) -> ValueInfoProto {
    let dim = |value| Dimension {
        value: Some(value),
        ..Dimension::default()
    };
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(dimension::Value::DimParam(BATCH.to_string())),
                        dim(dimension::Value::DimValue(columns as i64)),
                    ],
                }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

fn int_attribute(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i: Some(i),
        ..AttributeProto::default()
    }
}

fn float_attribute(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Float as i32,
        f: Some(f),
        ..AttributeProto::default()
    }
}

fn entry(key: &str, value: String) -> StringStringEntryProto {
    StringStringEntryProto {
        key: key.to_string(),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layer::Dense;
    use crate::settings::{TrainConfig, TrainSettings};

    /// The parameters of a layer in the initializers' order: `W` then `B`.
    fn parameters(layer: &Dense) -> [&[f32]; 2] {
        [&layer.weight, &layer.bias]
    }

    fn model(hidden: Activation, output: Output) -> Model {
        let config = TrainConfig {
            layers: vec![6, 5, 4, 3],
            functions: crate::nn::network::Functions::choose(Some(hidden), Some(output), None),
            classes: vec!["a".into(), "b".into(), "c".into()],
            settings: TrainSettings {
                weight_decay: 1e-4,
                dropout: 0.2,
                ..TrainSettings::default()
            },
        };
        Model::new(&config).unwrap()
    }

    #[test]
    fn every_activation_and_output_has_an_operator() {
        let ops: Vec<&str> = Activation::ALL
            .iter()
            .map(|&a| hidden_op(a).unwrap().op_type())
            .collect();
        assert_eq!(ops, ["Sigmoid", "Tanh", "Tanh", "Relu", "LeakyRelu"]);
        assert_eq!(gemm_scales(Activation::ScaledTanh), (2.0 / 3.0, 1.7159));
        assert_eq!(gemm_scales(Activation::Tanh), (1.0, 1.0));
        assert_eq!(
            hidden_op(Activation::LeakyRelu).unwrap(),
            Op::LeakyRelu { alpha: 0.01 }
        );
        assert_eq!(output_op(Output::Sigmoid).unwrap(), Op::Sigmoid);
        assert_eq!(output_op(Output::Softmax).unwrap(), Op::Softmax { axis: 1 });
    }

    #[test]
    fn a_file_over_protobufs_limit_is_refused_with_the_sizes() {
        assert!(check_size(MAX_BYTES, 1).is_ok());
        let err = check_size(MAX_BYTES + 1, 600_000_000).unwrap_err();
        assert!(matches!(err, Error::NotExportable { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "cannot export a network of 600000000 parameters to ONNX: its ONNX file would be \
             2147483648 bytes, over protobuf's limit of 2147483647 bytes for one message (ONNX's \
             external data files are not written by ziffer)"
        );
    }

    #[test]
    fn each_layer_is_a_gemm_then_its_function() {
        let model = model(Activation::Tanh, Output::Softmax);
        let graph = model_proto(&model).unwrap().graph.unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"]);
        let inputs: Vec<&[String]> = graph.node.iter().map(|n| &n.input[..]).collect();
        assert_eq!(inputs[0], ["pixels", "layers.0.weight", "layers.0.bias"]);
        assert_eq!(
            inputs[2],
            ["layers.0.a", "layers.1.weight", "layers.1.bias"]
        );
        assert_eq!(graph.node[5].output, ["scores"]);
    }

    #[test]
    fn initializers_hold_the_layers_values_in_order() {
        let model = model(Activation::Relu, Output::Sigmoid);
        let graph = model_proto(&model).unwrap().graph.unwrap();
        let expected: Vec<&[f32]> = model.network.layers().iter().flat_map(parameters).collect();
        assert_eq!(graph.initializer.len(), expected.len());
        for (tensor, values) in graph.initializer.iter().zip(expected) {
            let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(tensor.raw_data, raw, "{}", tensor.name);
        }
    }

    #[test]
    fn the_summary_writes_rates_as_they_were_given() {
        let model = model(Activation::Sigmoid, Output::Sigmoid);
        let json = model.summary();
        assert_eq!(json["weight_decay"], 0.0001);
        assert_eq!(json["dropout"], 0.2);
        assert_eq!(json["layers"], serde_json::json!([6, 5, 4, 3]));
        assert_eq!(json["epochs_trained"], 0);
        assert!(json["test_accuracy"].is_null());
    }
}
