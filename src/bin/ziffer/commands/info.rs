//! `ziffer info`: what a model file holds.

use crate::cli::InfoArgs;
use crate::output::{EPOCH_HEADER, epoch_json, epoch_line, sizes, thousands};
use anyhow::{Context, Result};
use ziffer::model_file;

pub fn run(args: InfoArgs) -> Result<()> {
    let model = model_file::load(&args.model)
        .with_context(|| format!("cannot load the model {}", args.model.display()))?;
    let network = &model.network;
    let training = &model.training;
    if args.json {
        let json = serde_json::json!({
            "model": args.model,
            "layers": network.sizes(),
            "activation": network.activation().name(),
            "loss": model_file::LOSS,
            "parameters": network.parameter_count(),
            "test_accuracy": model.test_accuracy(),
            "seed": training.seed,
            "batch_size": training.batch_size,
            "schedule": training.schedule.to_string(),
            "epochs": training.history.iter().map(epoch_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!("model:       {}", args.model.display());
    println!(
        "network:     {} ({} activation, {} loss)",
        sizes(&network.sizes()),
        network.activation(),
        model_file::LOSS
    );
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
        "training:    seed {}, batch size {}, learning rates {}",
        training.seed, training.batch_size, training.schedule
    );
    match model.test_accuracy() {
        Some(acc) => {
            let seconds: f64 = training.history.iter().map(|e| e.seconds).sum();
            println!(
                "trained:     {} epochs, {:.1} s; test accuracy {:.2}%",
                training.history.len(),
                seconds,
                100.0 * acc
            );
            println!();
            println!("{EPOCH_HEADER}");
            for record in &training.history {
                println!("{}", epoch_line(record));
            }
        }
        None => println!("trained:     not yet"),
    }
    Ok(())
}
