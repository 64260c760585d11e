//! `ziffer export`: a saved model as an ONNX file, for runtimes other than ziffer.
//!
//! One library call, [`ziffer::onnx::save`], after loading the model; this file checks the paths
//! and says what was written.

use crate::args::DEFAULT_MODEL;
use crate::output::{sizes, thousands};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use ziffer::{model_file, onnx};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model to export
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,

    /// Where to write the ONNX file (IR version 8, opset 17) [default: the model's path with
    /// the extension .onnx]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print one JSON object on stdout instead of a line of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.model.with_extension("onnx"));
    if same_file(&args.model, &out) {
        bail!(
            "--out {} is the model itself: exporting would replace it; give another path, e.g. \
             --out {}",
            out.display(),
            args.model.with_extension("onnx").display()
        );
    }
    let model = model_file::load(&args.model).with_context(|| {
        format!(
            "cannot load the model {} (train one with `ziffer train`)",
            args.model.display()
        )
    })?;
    onnx::save(&model, &out)
        .with_context(|| format!("cannot export the model to {}", out.display()))?;
    let bytes = std::fs::metadata(&out)
        .with_context(|| format!("cannot read back the size of {}", out.display()))?
        .len();
    let network = &model.network;
    if args.json {
        let json = serde_json::json!({
            "model": args.model,
            "onnx": out,
            "layers": network.sizes(),
            "parameters": network.parameter_count(),
            "bytes": bytes,
            "ir_version": onnx::IR_VERSION,
            "opset": onnx::OPSET_VERSION,
            "input": onnx::INPUT,
            "output": onnx::OUTPUT,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!(
        "exported {} to {}: {}, {} parameters, {:.0} kB",
        args.model.display(),
        out.display(),
        sizes(&network.sizes()),
        thousands(network.parameter_count()),
        bytes as f64 / 1e3
    );
    Ok(())
}

/// Whether `a` and `b` name one existing file (through links and `..` too).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
