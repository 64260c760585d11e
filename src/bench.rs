//! Speed measurements: the arithmetic a training epoch needs, how long it takes, and how fast
//! this machine multiplies matrices at best.
//!
//! What it is: timing of the library's own training loop, inference and GEMM, with the FLOP
//! counts that turn seconds into GFLOP/s. What it is not: a statistics package (it reports
//! medians) or a printer (the `ziffer bench` command shows the figures).

use crate::cpu::Cpu;
use crate::cpu::team::row_blocks;
use crate::data::Dataset;
use crate::engine::Engine;
use crate::error::Result;
use crate::matrix::{MatMut, MatRef, gemm};
use crate::metrics::evaluate;
use crate::model::Model;
use crate::settings::TrainConfig;
use crate::train::{Event, Sets, train};
use smallvec::SmallVec;
use std::time::Instant;

/// Floating-point operations of one training epoch over `images` images, counting a multiply-add
/// as 2: per image and layer, `Z = W·A` (`2·I·O`), `dW = dZ·Aᵀ` (`2·I·O`) and, except for the first
/// layer, whose input gradient is not needed, `dA_prev = Wᵀ·dZ` (`2·I·O`).
///
/// For the original 784-128-64-10 network and 60,000 images: 27.26 GFLOP.
pub fn training_flops(sizes: &[usize], images: usize) -> f64 {
    let per_image: usize = sizes
        .windows(2)
        .enumerate()
        .map(|(l, io)| {
            let products = if l == 0 { 2 } else { 3 };
            products * 2 * io[0] * io[1]
        })
        .sum();
    per_image as f64 * images as f64
}

/// Floating-point operations of a forward pass over `images` images: `2·I·O` per image and layer.
pub fn inference_flops(sizes: &[usize], images: usize) -> f64 {
    let per_image: usize = sizes.windows(2).map(|io| 2 * io[0] * io[1]).sum();
    per_image as f64 * images as f64
}

/// The median of some measurements (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Seconds of each of `epochs` training epochs of a fresh model from `config`, on `engine`
/// (the evaluation after each epoch is not counted).
pub fn time_training(
    config: &TrainConfig,
    train_set: &Dataset,
    test_set: &Dataset,
    epochs: usize,
    engine: &dyn Engine,
) -> Result<Vec<f64>> {
    let mut model = Model::new(config)?;
    let mut seconds = Vec::with_capacity(epochs);
    train(
        &mut model,
        Sets::new(train_set, test_set),
        epochs,
        engine,
        |event| {
            if let Event::EpochEnd { record, .. } = event {
                seconds.push(record.seconds);
            }
            Ok(())
        },
    )?;
    Ok(seconds)
}

/// Seconds of each of `repeats` passes of `model` over `data` (forward and counting), on
/// `engine`.
pub fn time_inference(
    model: &Model,
    data: &Dataset,
    repeats: usize,
    engine: &dyn Engine,
) -> Result<Vec<f64>> {
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            evaluate(engine, &model.network, data)?;
            Ok(start.elapsed().as_secs_f64())
        })
        .collect()
}

/// GFLOP/s of the best of `repeats` square products of size `n` through [`gemm`] on the CPU
/// engine's threads (each computing a block of rows of the result, as the layers do): what this
/// machine and GEMM backend can do at best, the yardstick for the epoch.
pub fn gemm_peak_gflops(n: usize, repeats: usize, cpu: &Cpu) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 17) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 13) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; n * n];
    let flops = 2.0 * (n as f64).powi(3);
    let team = cpu.team();
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        let ranges = team.row_ranges(n, n * n * n);
        let blocks = row_blocks(&mut c, n, &ranges);
        let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
        team.for_each(&mut parts, |(rows, c)| {
            let a_rows = &a[rows.start * n..rows.end * n];
            gemm(
                1.0,
                MatRef::row_major(a_rows, rows.len(), n),
                MatRef::row_major(&b, n, n),
                0.0,
                MatMut::row_major(c, rows.len(), n),
            );
        });
        best = best.min(start.elapsed().as_secs_f64());
    }
    flops / best / 1e9
}

/// The largest resident memory of this process so far, in bytes (Linux: `VmHWM`), if known.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The processor's name and the number of cores, e.g. `"AMD EPYC 9B14, 2 cores"`.
pub fn machine_description() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{model}, {cores} core{}", if cores == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_of_the_original_network_is_27_26_gflop() {
        let flops = training_flops(&[784, 128, 64, 10], 60_000);
        assert_eq!(flops, 27_264_000_000.0);
        assert_eq!(inference_flops(&[784, 10], 1), 15_680.0);
    }

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
