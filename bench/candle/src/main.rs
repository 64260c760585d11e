//! ziffer's network and training step written with candle the way its users write it, for timing
//! against ziffer (`bench/compare.py` builds and runs it).
//!
//! What it is: candle-nn's `Linear` layers in a `seq()` with sigmoids (784-128-64-10, a sigmoid
//! after every layer, candle-nn's default initialisation), the images as one `f32` tensor
//! `p / 255`, a fresh random order every epoch and each mini-batch of 32 gathered with
//! `index_select`, the loss `½‖A − Y‖²` averaged over the batch as a tensor expression, and
//! candle-nn's `SGD` (`backward_step`: autograd, then `W −= η·dW`) at the constant rate 3. Nothing
//! is tuned: it is the program candle's examples lead a Rust user to write.
//!
//! What it is not: bit-for-bit ziffer (candle draws its own weights, `U(−1/√I, 1/√I)`, and its
//! own order) or part of ziffer's build (its own workspace: `cargo build --release` in this
//! folder). The CPU's matrix products are candle's own, through the `gemm` crate; its thread count
//! is `RAYON_NUM_THREADS`, which `--threads` sets.
//!
//! ```sh
//! cargo run --release -- --epochs 1 --threads 1 --json
//! ```

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Activation, Optimizer, SGD, VarBuilder, VarMap};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Args {
    epochs: usize,
    batch_size: usize,
    threads: usize,
    layers: Vec<usize>,
    lr: f64,
    seed: u64,
    data: PathBuf,
    json: bool,
}

const USAGE: &str = "usage: candle-mlp [--epochs N] [--batch-size N] [--threads N] [--layers 784,128,64,10] \
[--lr 3] [--seed 42] [--data DIR] [--json]";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        epochs: 1,
        batch_size: 32,
        threads: 1,
        layers: vec![784, 128, 64, 10],
        lr: 3.0,
        seed: 42,
        data: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist"),
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            args.json = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}\n{USAGE}");
        match flag.as_str() {
            "--epochs" => args.epochs = value.parse().map_err(|e| bad(&e))?,
            "--batch-size" => args.batch_size = value.parse().map_err(|e| bad(&e))?,
            "--threads" => args.threads = value.parse().map_err(|e| bad(&e))?,
            "--lr" => args.lr = value.parse().map_err(|e| bad(&e))?,
            "--seed" => args.seed = value.parse().map_err(|e| bad(&e))?,
            "--data" => args.data = PathBuf::from(&value),
            "--layers" => {
                args.layers = value
                    .split(',')
                    .map(str::parse)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| bad(&e))?
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }
    if args.epochs == 0 || args.batch_size == 0 || args.threads == 0 {
        return Err("--epochs, --batch-size and --threads must be at least 1".into());
    }
    if args.layers.len() < 2 || args.layers.contains(&0) {
        return Err("--layers needs at least two sizes, none 0 (e.g. 784,128,64,10)".into());
    }
    Ok(args)
}

/// The payload of an IDX file (gzip or raw) and its dimensions; `magic` 2051 for images, 2049
/// for labels.
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<u8>, Vec<usize>)> {
    let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let raw = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        out
    } else {
        raw
    };
    let word = |i: usize| -> Result<usize> {
        let bytes = raw
            .get(4 * i..4 * i + 4)
            .ok_or_else(|| format!("{}: too short", path.display()))?;
        Ok(u32::from_be_bytes(bytes.try_into()?) as usize)
    };
    if word(0)? != magic as usize {
        return Err(format!(
            "{}: expected IDX magic {magic}, found {}",
            path.display(),
            word(0)?
        )
        .into());
    }
    let dims: Vec<usize> = (1..=if magic == 2051 { 3 } else { 1 })
        .map(word)
        .collect::<Result<_>>()?;
    let start = 4 + 4 * dims.len();
    if raw.len() - start != dims.iter().product::<usize>() {
        return Err(format!("{}: header and size disagree", path.display()).into());
    }
    Ok((raw[start..].to_vec(), dims))
}

fn find(folder: &Path, stem: &str) -> Result<PathBuf> {
    [format!("{stem}.gz"), stem.to_string()]
        .into_iter()
        .map(|name| folder.join(name))
        .find(|p| p.exists())
        .ok_or_else(|| {
            format!(
                "{}: no {stem}(.gz) (pass the MNIST folder with --data)",
                folder.display()
            )
            .into()
        })
}

/// `(images, one-hot targets, labels)`: images `(n, 784)` as `p / 255`, targets `(n, classes)`.
fn load(
    folder: &Path,
    prefix: &str,
    classes: usize,
    device: &Device,
) -> Result<(Tensor, Tensor, Vec<u8>)> {
    let (pixels, dims) = read_idx(&find(folder, &format!("{prefix}-images-idx3-ubyte"))?, 2051)?;
    let (labels, _) = read_idx(&find(folder, &format!("{prefix}-labels-idx1-ubyte"))?, 2049)?;
    let n = dims[0];
    let images =
        (Tensor::from_vec(pixels, (n, dims[1] * dims[2]), device)?.to_dtype(DType::F32)? / 255.0)?;
    let labels_t = Tensor::from_vec(
        labels.iter().map(|&l| l as u32).collect::<Vec<_>>(),
        n,
        device,
    )?;
    let targets = candle_nn::encoding::one_hot(labels_t, classes, 1f32, 0f32)?;
    Ok((images, targets, labels))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    // candle's CPU products read the thread count from here, once.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string()) };
    let device = Device::Cpu;
    let classes = *args.layers.last().unwrap();
    let (x, y, _) = load(&args.data, "train", classes, &device)?;
    let (test_x, _, test_labels) = load(&args.data, "t10k", classes, &device)?;
    if x.dim(1)? != args.layers[0] {
        return Err(format!(
            "--layers starts with {} inputs but the images have {} pixels",
            args.layers[0],
            x.dim(1)?
        )
        .into());
    }

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let mut model = candle_nn::seq();
    for (l, pair) in args.layers.windows(2).enumerate() {
        model = model
            .add(candle_nn::linear(
                pair[0],
                pair[1],
                vb.pp(format!("layer{l}")),
            )?)
            .add(Activation::Sigmoid);
    }
    let mut sgd = SGD::new(varmap.all_vars(), args.lr)?;

    let count = x.dim(0)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut order: Vec<u32> = (0..count as u32).collect();
    let (mut seconds, mut losses) = (Vec::new(), Vec::new());
    for epoch in 1..=args.epochs {
        let start = Instant::now();
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for batch in order.chunks(args.batch_size) {
            let indices = Tensor::from_slice(batch, batch.len(), &device)?;
            let (images, targets) = (x.index_select(&indices, 0)?, y.index_select(&indices, 0)?);
            // ½‖A − Y‖² of each image, averaged over the batch
            let loss = (model
                .forward(&images)?
                .sub(&targets)?
                .sqr()?
                .sum(D::Minus1)?
                .mean_all()?
                * 0.5)?;
            sgd.backward_step(&loss)?;
            loss_sum += loss.to_scalar::<f32>()? as f64 * batch.len() as f64;
        }
        seconds.push(start.elapsed().as_secs_f64());
        losses.push(loss_sum / count as f64);
        if !losses[epoch - 1].is_finite() {
            return Err(format!(
                "the loss became {} in epoch {epoch}; try a smaller --lr",
                losses[epoch - 1]
            )
            .into());
        }
    }

    let predicted = model
        .forward(&test_x)?
        .argmax(D::Minus1)?
        .to_vec1::<u32>()?;
    let right = predicted
        .iter()
        .zip(&test_labels)
        .filter(|&(&p, &l)| p == l as u32)
        .count();
    let accuracy = right as f64 / test_labels.len() as f64;
    if args.json {
        let report = serde_json::json!({
            "impl": "candle",
            "threads": args.threads,
            "batch_size": args.batch_size,
            "layers": args.layers,
            "lr": args.lr,
            "seed": args.seed,
            "seconds_per_epoch": seconds,
            "train_loss": losses,
            "test_accuracy": accuracy,
        });
        println!("{report}");
    } else {
        println!(
            "candle, {} thread(s), batch size {}",
            args.threads, args.batch_size
        );
        for (e, (s, l)) in seconds.iter().zip(&losses).enumerate() {
            println!("epoch {:>3}  train loss {l:.5}  seconds {s:.3}", e + 1);
        }
        println!(
            "test accuracy after {} epoch(s): {:.2}%",
            seconds.len(),
            100.0 * accuracy
        );
    }
    Ok(())
}
