//! `ziffer bench`: how fast training and inference run here, against this machine's GEMM peak.

use crate::args::parse_device;
use crate::data_args::DataArgs;
use crate::output::{sizes, thousands};
use anyhow::{Result, bail};
use clap::Args;
use ziffer::bench::{
    gemm_peak_gflops, inference_flops, machine_description, median, peak_resident_bytes,
    time_inference, time_training, training_flops,
};
use ziffer::cpu::Cpu;
use ziffer::device::Device;
use ziffer::model::Model;
use ziffer::settings::{TrainConfig, TrainSettings};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Layer sizes of the network to time [default: 784,128,64,10]
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,

    /// Batch sizes to time, comma-separated
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "32,128"
    )]
    pub batch_size: Vec<usize>,

    /// Thread counts to time, comma-separated
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pub threads: Vec<usize>,

    /// Training epochs timed per batch size and thread count (the median is reported)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub epochs: usize,

    /// Inference passes over the test set per thread count (the median is reported)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub repeats: usize,

    /// Size of the square product that measures the GEMM peak
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub peak_size: usize,

    /// Do not measure the GEMM peak
    #[arg(long)]
    pub skip_peak: bool,

    /// Do not measure inference
    #[arg(long)]
    pub skip_inference: bool,

    /// Print one JSON object on stdout instead of tables
    #[arg(long)]
    pub json: bool,

    /// Where to time: cpu (the thread counts of --threads) or cuda[:N], an NVIDIA GPU (each
    /// batch size with the step captured as a CUDA graph, and launched kernel by kernel)
    #[arg(long, value_name = "DEVICE", default_value = "cpu", value_parser = parse_device)]
    pub device: Device,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if args.epochs == 0 || args.repeats == 0 {
        bail!("--epochs and --repeats must be at least 1");
    }
    if args.threads.contains(&0) || args.batch_size.contains(&0) {
        bail!("--threads and --batch-size must be at least 1");
    }
    let data = args.data.load()?;
    let layers = args.layers.clone().unwrap_or(TrainConfig::default().layers);
    let epoch_flops = training_flops(&layers, data.train.len());
    if let Device::Cuda(ordinal) = args.device {
        return cuda::run(&args, ordinal, &data, &layers);
    }

    let mut training = Vec::new();
    for &batch_size in &args.batch_size {
        for &threads in &args.threads {
            let config = TrainConfig {
                layers: layers.clone(),
                settings: TrainSettings {
                    batch_size,
                    ..TrainSettings::default()
                },
                ..TrainConfig::default()
            };
            let engine = Cpu::new(threads)?;
            let seconds = time_training(&config, &data.train, &data.test, args.epochs, &engine)?;
            training.push((batch_size, threads, seconds));
        }
    }

    let mut inference = Vec::new();
    if !args.skip_inference {
        let model = Model::new(&TrainConfig {
            layers: layers.clone(),
            ..TrainConfig::default()
        })?;
        for &threads in &args.threads {
            let seconds = time_inference(&model, &data.test, args.repeats, &Cpu::new(threads)?)?;
            inference.push((threads, seconds));
        }
    }
    let peak_memory = peak_resident_bytes();

    let mut peaks = Vec::new();
    if !args.skip_peak {
        for &threads in &args.threads {
            let cpu = Cpu::new(threads)?;
            peaks.push((threads, gemm_peak_gflops(args.peak_size, 3, &cpu)));
        }
    }
    let peak_for = |threads: usize| peaks.iter().find(|p| p.0 == threads).map(|p| p.1);

    if args.json {
        let json = serde_json::json!({
            "machine": machine_description(),
            "gemm": "faer",
            "layers": layers,
            "train_images": data.train.len(),
            "gflop_per_epoch": epoch_flops / 1e9,
            "gemm_peak_gflops": peaks.iter().map(|(t, g)| serde_json::json!({"threads": t, "gflops": g})).collect::<Vec<_>>(),
            "training": training.iter().map(|(b, t, s)| {
                let m = median(s);
                serde_json::json!({
                    "batch_size": b,
                    "threads": t,
                    "seconds_per_epoch": s,
                    "median_seconds_per_epoch": m,
                    "gflops": epoch_flops / m / 1e9,
                    "fraction_of_peak": peak_for(*t).map(|p| epoch_flops / m / 1e9 / p),
                })
            }).collect::<Vec<_>>(),
            "inference": inference.iter().map(|(t, s)| serde_json::json!({
                "threads": t,
                "images": data.test.len(),
                "median_seconds": median(s),
                "images_per_second": data.test.len() as f64 / median(s),
            })).collect::<Vec<_>>(),
            "peak_resident_bytes": peak_memory,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }

    println!("machine: {}", machine_description());
    if !peaks.is_empty() {
        let list: Vec<String> = peaks
            .iter()
            .map(|(t, g)| format!("{g:.1} GFLOP/s on {t} thread{}", plural(*t)))
            .collect();
        println!(
            "GEMM peak ({n}x{n}x{n} through faer, best of 3): {}",
            list.join(", "),
            n = args.peak_size
        );
    }
    println!(
        "\ntraining {} on {} images: {:.2} GFLOP per epoch; median of {} epochs",
        sizes(&layers),
        thousands(data.train.len()),
        epoch_flops / 1e9,
        args.epochs
    );
    println!("batch  threads  s/epoch  GFLOP/s  of peak  limit s/epoch");
    for (batch_size, threads, seconds) in &training {
        let m = median(seconds);
        let gflops = epoch_flops / m / 1e9;
        let (fraction, limit) = match peak_for(*threads) {
            Some(p) => (
                format!("{:>6.0}%", 100.0 * gflops / p),
                format!("{:>13.3}", epoch_flops / p / 1e9),
            ),
            None => (format!("{:>7}", "-"), format!("{:>13}", "-")),
        };
        println!("{batch_size:>5}  {threads:>7}  {m:>7.3}  {gflops:>7.1}  {fraction}  {limit}");
    }
    if !inference.is_empty() {
        println!(
            "\ninference over {} test images ({:.2} GFLOP); median of {} passes",
            thousands(data.test.len()),
            inference_flops(&layers, data.test.len()) / 1e9,
            args.repeats
        );
        println!("threads  milliseconds  images/s");
        for (threads, seconds) in &inference {
            let m = median(seconds);
            println!(
                "{threads:>7}  {:>12.2}  {:>8}",
                1e3 * m,
                thousands((data.test.len() as f64 / m) as usize)
            );
        }
    }
    if let Some(bytes) = peak_memory {
        println!(
            "\npeak resident memory (data, models, buffers): {:.1} MB",
            bytes as f64 / 1e6
        );
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `ziffer bench --device cuda` in a build without the CUDA engine: the error that says so.
#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::BenchArgs;
    use anyhow::Result;
    use ziffer::data::TrainTest;

    pub fn run(_: &BenchArgs, ordinal: usize, _: &TrainTest, _: &[usize]) -> Result<()> {
        match ziffer::device::Device::Cuda(ordinal).engine(1) {
            Ok(_) => unreachable!("a build without the CUDA engine refuses cuda"),
            Err(err) => Err(err.into()),
        }
    }
}

/// `ziffer bench --device cuda`: the same measurements on a GPU.
#[cfg(feature = "cuda")]
mod cuda {
    use super::BenchArgs;
    use crate::output::{sizes, thousands};
    use anyhow::Result;
    use ziffer::bench::{
        inference_flops, machine_description, median, peak_resident_bytes, time_inference,
        time_training, training_flops,
    };
    use ziffer::data::TrainTest;
    use ziffer::engine::Engine;
    use ziffer::model::Model;
    use ziffer::settings::{TrainConfig, TrainSettings};

    pub fn run(args: &BenchArgs, ordinal: usize, data: &TrainTest, layers: &[usize]) -> Result<()> {
        let mut engine = ziffer::cuda::Cuda::new(ordinal)?;
        let device = engine.describe();
        let epoch_flops = training_flops(layers, data.train.len());
        // (batch size, launched as a graph?, seconds per epoch)
        let mut training = Vec::new();
        for &batch_size in &args.batch_size {
            for graphs in [true, false] {
                engine.set_graphs(graphs);
                let config = TrainConfig {
                    layers: layers.to_vec(),
                    settings: TrainSettings {
                        batch_size,
                        ..TrainSettings::default()
                    },
                    ..TrainConfig::default()
                };
                // One epoch more than asked, the first left out: it compiles nothing, but it
                // uploads the data and captures the graph.
                let mut seconds =
                    time_training(&config, &data.train, &data.test, args.epochs + 1, &engine)?;
                seconds.remove(0);
                training.push((batch_size, graphs, seconds));
            }
        }
        engine.set_graphs(true);
        let mut inference = Vec::new();
        if !args.skip_inference {
            let model = Model::new(&TrainConfig {
                layers: layers.to_vec(),
                ..TrainConfig::default()
            })?;
            inference = time_inference(&model, &data.test, args.repeats, &engine)?;
        }
        let launch = |graphs: bool| if graphs { "graph" } else { "kernels" };
        if args.json {
            let rows: Vec<_> = training
                .iter()
                .map(|(b, graphs, s)| {
                    let m = median(s);
                    // The launches' share: what a step loses when its kernels are launched one
                    // by one rather than replayed as one graph.
                    let direct = training
                        .iter()
                        .find(|(b2, g2, _)| b2 == b && !g2)
                        .map(|(_, _, s)| median(s));
                    serde_json::json!({
                        "device": device,
                        "batch_size": b,
                        "threads": 1,
                        "launch": launch(*graphs),
                        "seconds_per_epoch": s,
                        "median_seconds_per_epoch": m,
                        "gflops": epoch_flops / m / 1e9,
                        "fraction_of_peak": null,
                        "launch_share_when_not_a_graph": direct.filter(|_| *graphs).map(|d| 1.0 - m / d),
                    })
                })
                .collect();
            let json = serde_json::json!({
                "machine": machine_description(),
                "device": device,
                "gemm": "cuBLAS (FP32)",
                "layers": layers,
                "train_images": data.train.len(),
                "gflop_per_epoch": epoch_flops / 1e9,
                "gemm_peak_gflops": [],
                "training": rows,
                "inference": if inference.is_empty() { vec![] } else { vec![serde_json::json!({
                    "device": device,
                    "images": data.test.len(),
                    "median_seconds": median(&inference),
                    "images_per_second": data.test.len() as f64 / median(&inference),
                })] },
                "peak_resident_bytes": peak_resident_bytes(),
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
            return Ok(());
        }
        println!("device: {device}; host: {}", machine_description());
        println!(
            "\ntraining {} on {} images: {:.2} GFLOP per epoch; median of {} epochs after one to warm up",
            sizes(layers),
            thousands(data.train.len()),
            epoch_flops / 1e9,
            args.epochs
        );
        println!("batch  launch   ms/epoch  GFLOP/s  images/s");
        for (batch_size, graphs, seconds) in &training {
            let m = median(seconds);
            println!(
                "{batch_size:>5}  {:<7}  {:>8.2}  {:>7.1}  {:>8}",
                launch(*graphs),
                1e3 * m,
                epoch_flops / m / 1e9,
                thousands((data.train.len() as f64 / m) as usize)
            );
        }
        if !inference.is_empty() {
            let m = median(&inference);
            println!(
                "\ninference over {} test images ({:.2} GFLOP): {:.2} ms, {} images/s",
                thousands(data.test.len()),
                inference_flops(layers, data.test.len()) / 1e9,
                1e3 * m,
                thousands((data.test.len() as f64 / m) as usize)
            );
        }
        Ok(())
    }
}
