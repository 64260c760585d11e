//! `ziffer info`: what a model file holds; with several `--model`s, the committee they form.

use crate::args::{DEFAULT_MODEL, load_committee};
use crate::output::{EPOCH_HEADER, describe, epoch_line, regularisation, thousands};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use ziffer::model_file;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The model to describe; give --model more than once to describe the committee of them
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: Vec<PathBuf>,

    /// Print one JSON object on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InfoArgs) -> Result<()> {
    if args.model.len() > 1 {
        return committee(&args);
    }
    let path = &args.model[0];
    let model = model_file::load(path)
        .with_context(|| format!("cannot load the model {}", path.display()))?;
    let network = &model.network;
    let training = model.settings();
    let history = &model.training.history;
    let init = training.init.map_or("unknown", |i| i.name());
    if args.json {
        // The library's summary, with the file's path; `epochs_trained` is the length of
        // `epochs` here.
        let mut json = model.summary();
        json["model"] = serde_json::json!(path);
        if let Some(fields) = json.as_object_mut() {
            fields.remove("epochs_trained");
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!("model:       {}", path.display());
    println!("network:     {}", describe(network));
    if !ziffer::data::classes::are_digits(&model.classes) {
        println!("classes:     {}", model.classes.join(", "));
    }
    println!("parameters:  {}", thousands(network.parameter_count()));
    for (l, layer) in network.layers().iter().enumerate() {
        println!(
            "  layer {}:   {:>4} -> {:<4} {:>7} weights + {:>4} biases",
            l + 1,
            layer.inputs,
            layer.outputs,
            thousands(layer.weight.len()),
            layer.bias.len()
        );
    }
    println!(
        "training:    seed {}, batch size {}, {}, learning rates {}, {} initialisation",
        training.seed, training.batch_size, training.optimizer, training.schedule, init
    );
    let mut extras = regularisation(training);
    if training.validation > 0 {
        extras.push(format!(
            "{} images held out for validation",
            thousands(training.validation)
        ));
    }
    if !extras.is_empty() {
        println!("             {}", extras.join(", "));
    }
    if let Some(run) = &model.training.run {
        let images = match run.limit {
            Some(limit) => format!("the first {} training images", thousands(limit)),
            None => "every training image".to_string(),
        };
        let left = run.epochs.saturating_sub(history.len());
        let state = match left {
            0 => "finished".to_string(),
            n => format!(
                "{n} left: `ziffer train --resume {}` finishes it",
                path.display()
            ),
        };
        println!(
            "run:         {} epochs on {images} of {} ({state})",
            run.epochs, run.data.source
        );
    }
    match model.test_accuracy() {
        Some(acc) => {
            let seconds: f64 = history.iter().map(|e| e.seconds).sum();
            println!(
                "trained:     {} epochs, {:.1} s; test accuracy {:.2}%",
                history.len(),
                seconds,
                100.0 * acc
            );
            println!();
            println!("{EPOCH_HEADER}");
            for record in history {
                println!("{}", epoch_line(record));
            }
        }
        None => println!("trained:     not yet"),
    }
    Ok(())
}

/// `info` with several `--model`s: the committee, then a line for each member.
fn committee(args: &InfoArgs) -> Result<()> {
    let committee = load_committee(&args.model)?;
    if args.json {
        let mut json = committee.summary();
        json["models"] = serde_json::json!(args.model);
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    let parameters: usize = committee
        .members()
        .iter()
        .map(|m| m.network.parameter_count())
        .sum();
    println!(
        "committee:   {} models, answering with the mean of their outputs",
        committee.len()
    );
    if !ziffer::data::classes::are_digits(committee.classes()) {
        println!("classes:     {}", committee.classes().join(", "));
    }
    println!("parameters:  {} in all", thousands(parameters));
    for (k, (path, member)) in args.model.iter().zip(committee.members()).enumerate() {
        let accuracy = member
            .test_accuracy()
            .map_or("not trained".to_string(), |a| {
                format!("{:.2}% after {} epochs", 100.0 * a, member.epochs_trained())
            });
        println!("member {}:    {}", k + 1, path.display());
        println!("             {}; {accuracy}", describe(&member.network));
    }
    Ok(())
}
