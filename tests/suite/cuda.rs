//! The CUDA engine against the CPU engine, as llm.c checks its kernels: every kernel of
//! `src/cuda/kernels.cu` on random inputs against the CPU function of the same name (forward,
//! backward, the loss and each update rule apart), with the largest difference printed and the
//! tolerance stated; then a whole epoch of the original network, batch by batch.
//!
//! Without a GPU each test prints "skipped: no CUDA device" and passes; the one that compiles
//! every kernel needs only the NVRTC library, and says "skipped: no NVRTC library" without it
//! (CI installs it, and fails if this test skips).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ziffer::cpu::Cpu;
use ziffer::cuda::{
    Cuda, HostArg, KERNEL_NAMES, Launch, compile_cubin, compile_kernels, nvrtc_available,
};
use ziffer::data::batch::{fill_inputs, fill_targets, shuffled_indices};
use ziffer::data::mnist;
use ziffer::engine::{Batch, Engine};
use ziffer::matrix::{MatMut, MatRef, gemm_naive};
use ziffer::metrics::evaluate;
use ziffer::model::Model;
use ziffer::nn::activation::{self, Activation, Output};
use ziffer::nn::dropout::dropout_backward;
use ziffer::nn::loss::{self, Loss};
use ziffer::nn::optimizer::{self, AdamStep};
use ziffer::rng::epoch_rng;
use ziffer::settings::TrainConfig;

/// Relative tolerance of elementwise kernels: `expf`, `tanhf` and the CPU's `exp`, `tanh` may
/// differ in the last bits.
const ELEMENTWISE: f32 = 1e-5;
/// Relative tolerance of sums and products, which the GPU adds up in another order.
const SUMS: f32 = 1e-4;

/// The GPU, or `None` (and the word "skipped") on a machine without one.
fn gpu() -> Option<Cuda> {
    if !ziffer::cuda::driver_available() {
        println!("skipped: no CUDA device (no NVIDIA driver)");
        return None;
    }
    match Cuda::new(0) {
        Ok(cuda) => Some(cuda),
        Err(err) if err.to_string().contains("no CUDA device") => {
            println!("skipped: no CUDA device");
            None
        }
        Err(err) => panic!("the CUDA engine does not start: {err}"),
    }
}

fn random(rng: &mut ChaCha8Rng, len: usize, range: std::ops::Range<f32>) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(range.clone())).collect()
}

/// The largest difference between `gpu` and `cpu`, relative to `max(1, |cpu|)`, printed, and
/// checked against `tolerance`.
fn assert_close(what: &str, gpu: &[f32], cpu: &[f32], tolerance: f32) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths");
    let (at, worst) = gpu
        .iter()
        .zip(cpu)
        .map(|(&g, &c)| (g - c).abs() / c.abs().max(1.0))
        .enumerate()
        .fold((0, 0.0f32), |best, (i, d)| {
            if d > best.1 || d.is_nan() {
                (i, d)
            } else {
                best
            }
        });
    println!(
        "{what}: largest difference {worst:.2e} at {at} (gpu {}, cpu {}), tolerance {tolerance:.0e}",
        gpu[at], cpu[at]
    );
    assert!(
        worst <= tolerance,
        "{what}: difference {worst:e} over {tolerance:e}"
    );
}

#[test]
fn every_kernel_compiles_with_nvrtc() {
    if !nvrtc_available() {
        println!("skipped: no NVRTC library");
        return;
    }
    // The A100's and the H100/H200's architectures.
    for arch in ["sm_80", "sm_90"] {
        let ptx = compile_kernels(arch)
            .unwrap_or_else(|e| panic!("{arch}: {e}"))
            .to_src();
        for kernel in KERNEL_NAMES {
            assert!(
                ptx.contains(&format!(".entry {kernel}(")),
                "{arch}: no kernel {kernel} in the PTX"
            );
        }
        // What the engine loads: machine code, which a driver older than this NVRTC still runs.
        let cubin = compile_cubin(arch).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert!(
            cubin.starts_with(b"\x7fELF"),
            "{arch}: the CUBIN is not an ELF file"
        );
        println!(
            "{arch}: all {} kernels compiled, PTX and a {} kB CUBIN",
            KERNEL_NAMES.len(),
            cubin.len() / 1024
        );
    }
}

#[test]
fn batches_are_gathered_as_fill_inputs_and_fill_targets_gather_them() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (images, pixels, batch_size) = (50, 784, 16);
    let pixels_data: Vec<u8> = (0..images * pixels).map(|_| rng.random::<u8>()).collect();
    let labels: Vec<u8> = (0..images).map(|i| (i * 7 % 10) as u8).collect();
    let data =
        ziffer::data::Dataset::new(pixels_data.clone(), labels.clone(), 28, 28, "random").unwrap();
    let order = shuffled_indices(images, &mut rng);
    let order32: Vec<u32> = order.iter().map(|&i| i as u32).collect();
    // Step 2 of batches of 16: images 32..48 of the order.
    let (step, n) = (2, 16);
    let indices = &order[step * batch_size..][..n];
    let mut x = vec![0.0; pixels * n];
    cuda.run_kernel(
        "fill_inputs",
        Launch::Over(pixels * n),
        &mut [
            HostArg::U8(&pixels_data),
            HostArg::U32(&order32),
            HostArg::I32(&mut [step as i32]),
            HostArg::Int(batch_size as i32),
            HostArg::Int(n as i32),
            HostArg::Int(pixels as i32),
            HostArg::F32(&mut x),
        ],
    )
    .unwrap();
    let mut expected = vec![0.0; pixels * n];
    fill_inputs(&data, indices, &mut expected);
    assert_close("fill_inputs", &x, &expected, 0.0);
    // One-hot targets, and smoothed ones: bit for bit the CPU's.
    for smoothing in [0.0, 0.1] {
        let mut y = vec![0.5; 10 * n];
        cuda.run_kernel(
            "fill_targets",
            Launch::Over(10 * n),
            &mut [
                HostArg::U8(&labels),
                HostArg::U32(&order32),
                HostArg::I32(&mut [step as i32]),
                HostArg::Int(batch_size as i32),
                HostArg::Int(n as i32),
                HostArg::Int(10),
                HostArg::Float(smoothing),
                HostArg::F32(&mut y),
            ],
        )
        .unwrap();
        let mut expected = vec![0.0; 10 * n];
        fill_targets(&data, indices, smoothing, &mut expected);
        assert_close("fill_targets", &y, &expected, 0.0);
    }
}

/// `Z + B[row]`, as dense_forward leaves it before the activation.
fn plus_bias(z: &[f32], bias: &[f32], n: usize) -> Vec<f32> {
    z.iter()
        .enumerate()
        .map(|(i, &v)| v + bias[i / n])
        .collect()
}

#[test]
fn every_activation_forward_matches_its_cpu_function() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (rows, n) = (37, 33);
    for activation in Activation::ALL {
        let z = random(&mut rng, rows * n, -6.0..6.0);
        let bias = random(&mut rng, rows, -1.0..1.0);
        let mut gpu_a = z.clone();
        let kernel = format!("{}_forward", activation.name().replace('-', "_"));
        let args = &mut [
            HostArg::F32(&mut gpu_a),
            HostArg::F32(&mut bias.clone()),
            HostArg::Int(rows as i32),
            HostArg::Int(n as i32),
        ];
        cuda.run_kernel(&kernel, Launch::Over(rows * n), args)
            .unwrap();
        let mut cpu_a = plus_bias(&z, &bias, n);
        activation.forward(&mut cpu_a);
        assert_close(&kernel, &gpu_a, &cpu_a, ELEMENTWISE);
    }
}

#[test]
fn softmax_forward_matches_its_cpu_function() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (classes, n) = (10, 45);
    let z = random(&mut rng, classes * n, -30.0..30.0);
    let bias = random(&mut rng, classes, -1.0..1.0);
    let mut gpu_a = z.clone();
    let args = &mut [
        HostArg::F32(&mut gpu_a),
        HostArg::F32(&mut bias.clone()),
        HostArg::Int(classes as i32),
        HostArg::Int(n as i32),
    ];
    cuda.run_kernel("softmax_forward", Launch::Over(n), args)
        .unwrap();
    let mut cpu_a = plus_bias(&z, &bias, n);
    activation::softmax_forward(&mut cpu_a, classes);
    assert_close("softmax_forward", &gpu_a, &cpu_a, ELEMENTWISE);
}

#[test]
fn every_activation_backward_matches_and_sums_db() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (rows, n) = (29, 300);
    for activation in Activation::ALL {
        for with_mask in [false, true] {
            let mut a = random(&mut rng, rows * n, -1.0..1.0);
            activation.forward(&mut a);
            let da = random(&mut rng, rows * n, -1.0..1.0);
            let mut mask: Vec<f32> = (0..rows * n)
                .map(|_| {
                    if rng.random::<f32>() < 0.3 {
                        0.0
                    } else {
                        1.0 / 0.7
                    }
                })
                .collect();
            let mut gpu_dz = da.clone();
            let mut gpu_db = vec![0.0; rows];
            let kernel = format!("{}_backward", activation.name().replace('-', "_"));
            let mut a_copy = a.clone();
            let mask_arg = if with_mask {
                HostArg::F32(&mut mask)
            } else {
                HostArg::Null
            };
            cuda.run_kernel(
                &kernel,
                Launch::PerRow(rows),
                &mut [
                    HostArg::F32(&mut a_copy),
                    HostArg::F32(&mut gpu_dz),
                    mask_arg,
                    HostArg::F32(&mut gpu_db),
                    HostArg::Int(n as i32),
                ],
            )
            .unwrap();
            let mut cpu_dz = da.clone();
            if with_mask {
                dropout_backward(&mask, &mut cpu_dz);
            }
            activation.backward(&a, &mut cpu_dz);
            let cpu_db: Vec<f32> = cpu_dz
                .chunks(n)
                .map(|r| r.iter().sum::<f32>() / n as f32)
                .collect();
            let case = format!("{kernel}, mask {with_mask}");
            assert_close(&format!("{case}: dZ"), &gpu_dz, &cpu_dz, ELEMENTWISE);
            assert_close(&format!("{case}: dB"), &gpu_db, &cpu_db, SUMS);
        }
    }
}

#[test]
fn the_output_layers_db_is_the_mean_of_dz() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (rows, n) = (10, 1000);
    let dz = random(&mut rng, rows * n, -1.0..1.0);
    let mut db = vec![0.0; rows];
    let args = &mut [
        HostArg::F32(&mut dz.clone()),
        HostArg::F32(&mut db),
        HostArg::Int(n as i32),
    ];
    cuda.run_kernel("dense_backward_bias", Launch::PerRow(rows), args)
        .unwrap();
    let expected: Vec<f32> = dz
        .chunks(n)
        .map(|r| r.iter().sum::<f32>() / n as f32)
        .collect();
    assert_close("dense_backward_bias", &db, &expected, SUMS);
}

#[test]
fn the_loss_kernels_match_the_cpus_dz_and_loss() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (classes, n) = (10, 64);
    for output in Output::ALL {
        for loss in Loss::ALL {
            let mut a = random(&mut rng, classes * n, -3.0..3.0);
            output.forward(&mut a, classes);
            let mut y = vec![0.0; classes * n];
            for j in 0..n {
                y[rng.random_range(0..classes) * n + j] = 1.0;
            }
            let mut gpu_dz = vec![0.0; classes * n];
            let mut gpu_loss = [0.0f64];
            let kernel = match loss {
                Loss::Quadratic => "quadratic_loss_backward",
                Loss::CrossEntropy => "cross_entropy_delta",
            };
            let code = if output == Output::Sigmoid { 0 } else { 1 };
            cuda.run_kernel(
                kernel,
                Launch::Over(n),
                &mut [
                    HostArg::F32(&mut a.clone()),
                    HostArg::F32(&mut y.clone()),
                    HostArg::F32(&mut gpu_dz),
                    HostArg::Int(classes as i32),
                    HostArg::Int(n as i32),
                    HostArg::Int(code),
                    HostArg::F64(&mut gpu_loss),
                ],
            )
            .unwrap();
            let mut cpu_dz = vec![0.0; classes * n];
            loss.output_delta(output, &a, &y, &mut cpu_dz, classes);
            let cpu_loss = loss.value(output, &a, &y, n);
            let case = format!("{kernel} ({output}, {loss})");
            assert_close(&format!("{case}: dZ"), &gpu_dz, &cpu_dz, ELEMENTWISE);
            let gpu_mean = (gpu_loss[0] / n as f64) as f32;
            assert_close(&format!("{case}: loss"), &[gpu_mean], &[cpu_loss], SUMS);
        }
    }
    // The functions named in the kernels' comments exist on the CPU.
    let _ = (loss::quadratic_loss, loss::cross_entropy_delta);
}

#[test]
fn dropout_forward_matches_its_cpu_function() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let size = 5000;
    let a = random(&mut rng, size, -1.0..1.0);
    let mut mask = vec![0.0; size];
    ziffer::nn::dropout::dropout_mask(0.25, &mut rng, &mut mask);
    let mut kept = vec![0.0; size];
    let args = &mut [
        HostArg::F32(&mut a.clone()),
        HostArg::F32(&mut mask.clone()),
        HostArg::F32(&mut kept),
        HostArg::Long(size as i64),
    ];
    cuda.run_kernel("dropout_forward", Launch::Over(size), args)
        .unwrap();
    let mut expected = vec![0.0; size];
    ziffer::nn::dropout::dropout_forward(&a, &mask, &mut expected);
    assert_close("dropout_forward", &kept, &expected, 0.0);
}

#[test]
fn the_products_match_dense_forward_and_backward() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (inputs, outputs, n) = (784, 96, 33);
    let w = random(&mut rng, outputs * inputs, -0.1..0.1);
    let b = random(&mut rng, outputs, -0.5..0.5);
    for image_after_image in [true, false] {
        let a = random(&mut rng, inputs * n, 0.0..1.0);
        let gpu_z = cuda
            .dense_forward(&w, &b, &a, image_after_image, (inputs, outputs, n))
            .unwrap();
        let a_view = if image_after_image {
            MatRef::col_major(&a, inputs, n)
        } else {
            MatRef::row_major(&a, inputs, n)
        };
        let mut cpu_z = vec![0.0; outputs * n];
        let wv = MatRef::row_major(&w, outputs, inputs);
        ziffer::nn::layer::dense_forward(wv, &b, a_view, &mut cpu_z);
        assert_close(
            &format!("dense_forward (X image after image: {image_after_image})"),
            &gpu_z,
            &cpu_z,
            SUMS,
        );
    }
    let a = random(&mut rng, inputs * n, 0.0..1.0);
    let dz = random(&mut rng, outputs * n, -1.0..1.0);
    let (gpu_dw, gpu_da) = cuda
        .dense_backward(&w, &a, &dz, (inputs, outputs, n))
        .unwrap();
    let (mut cpu_dw, mut cpu_db) = (vec![0.0; outputs * inputs], vec![0.0; outputs]);
    let a_view = MatRef::row_major(&a, inputs, n);
    ziffer::nn::layer::dense_backward_params(a_view, &dz, &mut cpu_dw, &mut cpu_db);
    assert_close("dense_backward_params: dW", &gpu_dw, &cpu_dw, SUMS);
    let mut cpu_da = vec![0.0; inputs * n];
    let dz_view = MatRef::row_major(&dz, outputs, n);
    ziffer::nn::layer::dense_backward_input(
        MatRef::row_major(&w, outputs, inputs),
        dz_view,
        &mut cpu_da,
    );
    assert_close("dense_backward_input: dA_prev", &gpu_da, &cpu_da, SUMS);
    // And the naive product agrees with the CPU's, so the reference itself is checked.
    let mut naive = vec![0.0; inputs * n];
    gemm_naive(
        1.0,
        MatRef::row_major(&w, outputs, inputs).t(),
        dz_view,
        0.0,
        MatMut::row_major(&mut naive, inputs, n),
    );
    assert_close("gemm_naive: dA_prev", &naive, &cpu_da, SUMS);
}

#[test]
fn every_update_rule_matches_its_cpu_function() {
    let Some(cuda) = gpu() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (count, weights) = (10_000usize, 9_000usize);
    let (eta, mu, lambda) = (0.05f32, 0.9f32, 1e-3f32);
    let theta = random(&mut rng, count, -1.0..1.0);
    let g = random(&mut rng, count, -1.0..1.0);
    let slot = random(&mut rng, count, -0.1..0.1);
    let slot2 = random(&mut rng, count, 0.0..0.1);
    // What the CPU does: weights with λ, biases without (Optimizer::step).
    let split = |f: &mut dyn FnMut(std::ops::Range<usize>, f32)| {
        f(0..weights, lambda);
        f(weights..count, 0.0);
    };
    for rule in [
        "sgd_update",
        "momentum_update",
        "nesterov_update",
        "adam_update",
    ] {
        let (mut gpu_theta, mut gpu_v, mut gpu_m) = (theta.clone(), slot.clone(), slot2.clone());
        let (mut cpu_theta, mut cpu_v, mut cpu_m) = (theta.clone(), slot.clone(), slot2.clone());
        let steps = 4u64;
        let (beta1, beta2, epsilon) = (0.9f32, 0.999f32, 1e-8f32);
        let (mut g_copy, mut eta_cell, mut steps_cell) = (g.clone(), [eta], [steps]);
        let mut head = vec![HostArg::F32(&mut gpu_theta)];
        match rule {
            "sgd_update" => {}
            "adam_update" => {
                head.push(HostArg::F32(&mut gpu_m));
                head.push(HostArg::F32(&mut gpu_v));
            }
            _ => head.push(HostArg::F32(&mut gpu_v)),
        }
        let mut args = head;
        args.push(HostArg::F32(&mut g_copy));
        args.push(HostArg::Long(count as i64));
        args.push(HostArg::Long(weights as i64));
        args.push(HostArg::F32(&mut eta_cell));
        match rule {
            "sgd_update" => args.push(HostArg::Float(lambda)),
            "adam_update" => {
                args.extend([
                    HostArg::Float(beta1),
                    HostArg::Float(beta2),
                    HostArg::Float(epsilon),
                ]);
                args.push(HostArg::Float(lambda));
                args.push(HostArg::U64(&mut steps_cell));
            }
            _ => args.extend([HostArg::Float(mu), HostArg::Float(lambda)]),
        }
        cuda.run_kernel(rule, Launch::Over(count), &mut args)
            .unwrap();
        drop(args);
        split(&mut |range, l| {
            let (t, v, m, gr) = (
                &mut cpu_theta[range.clone()],
                &mut cpu_v[range.clone()],
                &mut cpu_m[range.clone()],
                &g[range],
            );
            match rule {
                "sgd_update" => optimizer::sgd_update(t, gr, eta, l),
                "momentum_update" => optimizer::momentum_update(t, v, gr, eta, mu, l),
                "nesterov_update" => optimizer::nesterov_update(t, v, gr, eta, mu, l),
                _ => {
                    let step = AdamStep::new(beta1, beta2, epsilon, steps + 1);
                    optimizer::adam_update(t, m, v, gr, eta, &step, l)
                }
            }
        });
        assert_close(&format!("{rule}: θ"), &gpu_theta, &cpu_theta, ELEMENTWISE);
        if rule != "sgd_update" {
            assert_close(&format!("{rule}: v"), &gpu_v, &cpu_v, ELEMENTWISE);
        }
        if rule == "adam_update" {
            assert_close(&format!("{rule}: m"), &gpu_m, &cpu_m, ELEMENTWISE);
        }
    }
}

#[test]
fn end_step_rounds_and_adds_the_loss_as_the_cpu_loop_does() {
    let Some(cuda) = gpu() else { return };
    let (mut loss, mut epoch, mut first_bad) = ([6.4f64], [10.0f64], [-1i32]);
    let (mut bad, mut losses, mut step, mut steps) = ([0.0f32], [0.0f32; 4], [2i32], [7u64]);
    let args = &mut [
        HostArg::F64(&mut loss),
        HostArg::Int(32),
        HostArg::F64(&mut epoch),
        HostArg::I32(&mut first_bad),
        HostArg::F32(&mut bad),
        HostArg::F32(&mut losses),
        HostArg::I32(&mut step),
        HostArg::U64(&mut steps),
    ];
    cuda.run_kernel("end_step", Launch::Over(1), args).unwrap();
    let batch = (6.4f64 / 32.0) as f32;
    assert_eq!(losses[2], batch);
    assert_eq!(epoch[0], 10.0 + batch as f64 * 32.0);
    assert_eq!((loss[0], step[0], steps[0], first_bad[0]), (0.0, 3, 8, -1));
}

#[test]
fn a_whole_epoch_of_the_original_network_follows_the_cpu_batch_by_batch() {
    let Some(cuda) = gpu() else { return };
    let data = mnist::load_bundled().unwrap();
    let model = Model::new(&TrainConfig::default()).unwrap();
    let cpu = Cpu::new(2).unwrap();
    let order = shuffled_indices(data.train.len(), &mut epoch_rng(model.settings().seed, 0));
    let batch_size = model.settings().batch_size;
    let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
    let lr = model.settings().schedule.lr_at(0);
    let mut trained = Vec::new();
    let mut losses = Vec::new();
    for engine in [&cpu as &dyn Engine, &cuda as &dyn Engine] {
        let mut trainer = engine.trainer(&model).unwrap();
        trainer.start_epoch(0);
        for (b, &indices) in batches.iter().enumerate() {
            let batch = Batch {
                data: &data.train,
                order: &order,
                indices,
                first: b * batch_size,
                next: batches.get(b + 1).copied(),
            };
            trainer.step(batch, lr).unwrap();
        }
        let epoch = trainer.end_epoch().unwrap();
        losses.push(epoch.batches);
        let mut after = model.clone();
        trainer.read_back(&mut after).unwrap();
        trained.push(after);
    }
    let (cpu_losses, gpu_losses) = (&losses[0], &losses[1]);
    assert_eq!(cpu_losses.len(), batches.len());
    assert_close(
        "per-batch losses of one epoch",
        gpu_losses,
        cpu_losses,
        1e-4,
    );
    let accuracy = |m: &Model| evaluate(&cpu, &m.network, &data.test).unwrap().accuracy();
    let (cpu_accuracy, gpu_accuracy) = (accuracy(&trained[0]), accuracy(&trained[1]));
    println!("test accuracy after one epoch: cpu {cpu_accuracy:.4}, gpu {gpu_accuracy:.4}");
    assert!(
        (cpu_accuracy - gpu_accuracy).abs() <= 0.001,
        "more than 0.1 points apart"
    );
    // The GPU's own evaluation reads the same classes.
    let on_gpu = evaluate(&cuda, &trained[1].network, &data.test)
        .unwrap()
        .accuracy();
    assert_eq!(on_gpu, gpu_accuracy, "evaluating on the GPU");
}

#[test]
fn a_graph_replays_the_same_steps_as_kernels_launched_one_by_one() {
    let Some(mut cuda) = gpu() else { return };
    let data = mnist::load_bundled().unwrap();
    let train_set = data.train.take(4000);
    let test = data.test.take(500);
    let mut models = Vec::new();
    for graphs in [true, false] {
        cuda.set_graphs(graphs);
        let mut model = Model::new(&TrainConfig::default()).unwrap();
        let sets = ziffer::train::Sets::new(&train_set, &test);
        ziffer::train::train(&mut model, sets, 2, &cuda, |_| Ok(())).unwrap();
        models.push(model);
    }
    assert_eq!(
        models[0].network, models[1].network,
        "graph and kernels differ"
    );
}

#[test]
fn every_kind_of_network_trains_on_the_gpu_as_on_the_cpu() {
    let Some(cuda) = gpu() else { return };
    let data = mnist::load_bundled().unwrap();
    let train_set = data.train.take(6000);
    let test = data.test.take(2000);
    for (activation, loss, optimizer, dropout, smoothing, augment) in [
        ("relu", "cross-entropy", "adam", 0.0, 0.0, "none"),
        ("tanh", "quadratic", "momentum", 0.0, 0.0, "none"),
        (
            "leaky-relu",
            "cross-entropy",
            "nesterov",
            0.2,
            0.1,
            "elastic",
        ),
        (
            "relu",
            "cross-entropy",
            "momentum",
            0.0,
            0.1,
            "mixup=0.3,flip",
        ),
    ] {
        let functions = ziffer::nn::network::Functions::choose(
            Activation::from_name(activation),
            None,
            Loss::from_name(loss),
        );
        let optimizer: ziffer::nn::optimizer::Optimizer = optimizer.parse().unwrap();
        let config = TrainConfig {
            layers: vec![784, 64, 32, 10],
            functions,
            settings: ziffer::settings::TrainSettings {
                optimizer,
                schedule: ziffer::schedule::default_schedule(optimizer),
                dropout,
                label_smoothing: smoothing,
                augment: augment.parse().unwrap(),
                ..Default::default()
            },
            ..TrainConfig::default()
        };
        let mut accuracies = Vec::new();
        for engine in [&Cpu::new(2).unwrap() as &dyn Engine, &cuda as &dyn Engine] {
            let mut model = Model::new(&config).unwrap();
            let sets = ziffer::train::Sets::new(&train_set, &test);
            ziffer::train::train(&mut model, sets, 2, engine, |_| Ok(())).unwrap();
            accuracies.push(model.test_accuracy().unwrap());
        }
        println!(
            "{activation}/{loss}/{optimizer}/dropout {dropout}/smoothing {smoothing}/{augment}: \
             cpu {:.4}, gpu {:.4}",
            accuracies[0], accuracies[1]
        );
        assert!(
            (accuracies[0] - accuracies[1]).abs() < 0.02,
            "{activation}: {accuracies:?}"
        );
    }
}
