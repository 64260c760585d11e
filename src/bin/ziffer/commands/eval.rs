//! `ziffer eval`: accuracy of a saved model on a test set, per class and as a confusion matrix;
//! with several `--model`s, of the committee that averages their outputs.

use crate::args::{DEFAULT_MODEL, engine, load_committee, parse_device};
use crate::data_args::DataArgs;
use anyhow::{Context, Result};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use ziffer::data::CLASSES;
use ziffer::device::Device;
use ziffer::metrics::{Evaluation, evaluate, evaluation_of, predict_all};
use ziffer::model_file;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model to evaluate; give --model more than once for a committee, which averages its
    /// members' outputs (Cireşan et al. 2010)
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: Vec<PathBuf>,

    #[command(flatten)]
    pub data: DataArgs,

    /// Also write every test image's prediction as CSV (index,label,predicted)
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,

    /// Threads for the matrix products [default: the number of CPU cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Where the maths runs: cpu (bit-reproducible, the reference) or cuda[:N], an NVIDIA GPU
    #[arg(long, value_name = "DEVICE", default_value = "cpu", value_parser = parse_device)]
    pub device: Device,

    /// Print one JSON object on stdout instead of tables
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    if args.model.len() > 1 {
        return run_committee(args);
    }
    let model = model_file::load(&args.model[0])
        .with_context(|| format!("cannot load the model {}", args.model[0].display()))?;
    let test = args.data.load_test()?;
    let network = &model.network;
    let engine = engine(args.device, args.threads)?;
    let evaluation = evaluate(&*engine, network, &test)?;
    let predictions = match &args.predictions {
        Some(_) => Some(predict_all(&*engine, network, &test)?),
        None => None,
    };

    if let (Some(path), Some(predictions)) = (&args.predictions, predictions) {
        write_predictions(path, &test, &predictions)?;
    }

    if args.json {
        let mut json = json_report(
            &test,
            &evaluation,
            &model.classes,
            network.parameter_count(),
        );
        json["model"] = serde_json::json!(args.model[0]);
        json["committee"] = serde_json::json!(false);
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    print!(
        "{}",
        report(
            &evaluation,
            &model.classes,
            &test.source().display().to_string()
        )
    );
    Ok(())
}

/// `eval` with several `--model`s: each member's accuracy, then the committee's report.
fn run_committee(args: EvalArgs) -> Result<()> {
    let committee = load_committee(&args.model)?;
    let test = args.data.load_test()?;
    let engine = engine(args.device, args.threads)?;
    let (predictions, alone) = (committee.predict_all_and_evaluate_members(&*engine, &test))
        .context("cannot evaluate the committee")?;
    let members: Vec<_> = (args.model.iter())
        .zip(alone.iter().map(Evaluation::accuracy))
        .collect();
    let evaluation = evaluation_of(&test, &predictions);
    if let Some(path) = &args.predictions {
        write_predictions(path, &test, &predictions)?;
    }
    if args.json {
        let parameters = committee
            .members()
            .iter()
            .map(|m| m.network.parameter_count());
        let mut json = json_report(&test, &evaluation, committee.classes(), parameters.sum());
        json["models"] = serde_json::json!(args.model);
        json["committee"] = serde_json::json!(true);
        json["members"] = members
            .iter()
            .map(|(path, accuracy)| serde_json::json!({"model": path, "test_accuracy": accuracy}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!(
        "a committee of {} models, averaging their outputs:",
        committee.len()
    );
    for (path, accuracy) in &members {
        println!("  {:.2}%  {}", 100.0 * accuracy, path.display());
    }
    println!();
    print!(
        "{}",
        report(
            &evaluation,
            committee.classes(),
            &test.source().display().to_string()
        )
    );
    Ok(())
}

/// What `eval --json` says of any evaluation; the caller adds the model or the committee.
fn json_report(
    test: &ziffer::data::Dataset,
    evaluation: &Evaluation,
    classes: &[String],
    parameters: usize,
) -> serde_json::Value {
    serde_json::json!({
        "data": test.source(),
        "images": evaluation.total(),
        "parameters": parameters,
        "test_accuracy": evaluation.accuracy(),
        "classes": classes,
        "per_class_accuracy": evaluation.per_class_accuracy(),
        "confusion": evaluation.confusion,
    })
}

/// Every test image's prediction as CSV: `index,label,predicted`.
fn write_predictions(
    path: &std::path::Path,
    test: &ziffer::data::Dataset,
    predictions: &[u8],
) -> Result<()> {
    let mut csv = String::from("index,label,predicted\n");
    for (i, p) in predictions.iter().enumerate() {
        writeln!(csv, "{i},{},{p}", test.label(i))?;
    }
    std::fs::write(path, csv)
        .with_context(|| format!("cannot write the predictions to {}", path.display()))
}

/// The text report: overall accuracy, per class (with its name, unless the classes are the
/// digits), and the confusion matrix.
fn report(e: &Evaluation, classes: &[String], source: &str) -> String {
    let named = !ziffer::data::classes::are_digits(classes);
    let width = classes.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "test accuracy: {:.2}% ({} of {} images of {source})\n",
        100.0 * e.accuracy(),
        e.correct(),
        e.total()
    );
    let name = |c: usize| match named {
        true => format!("  {:<width$}", classes[c]),
        false => String::new(),
    };
    let _ = writeln!(
        out,
        "class{}  images  accuracy",
        if named {
            format!("  {:<width$}", "name")
        } else {
            String::new()
        }
    );
    for (c, acc) in e.per_class_accuracy().iter().enumerate() {
        let images: usize = e.confusion[c].iter().sum();
        match acc {
            Some(a) => writeln!(out, "{c:>5}{}  {images:>6}  {:>7.2}%", name(c), 100.0 * a),
            None => writeln!(out, "{c:>5}{}  {images:>6}        -", name(c)),
        }
        .ok();
    }
    let _ = writeln!(
        out,
        "\nconfusion matrix (rows: true class, columns: predicted)"
    );
    let _ = write!(out, "true\\pred");
    for c in 0..CLASSES {
        let _ = write!(out, "{c:>6}");
    }
    out.push('\n');
    for (t, row) in e.confusion.iter().enumerate() {
        let _ = write!(out, "{t:>9}");
        for count in row {
            let _ = write!(out, "{count:>6}");
        }
        out.push('\n');
    }
    out
}
