//! The CPU engine against the plain recipes it runs in parallel: for every activation, output,
//! loss, optimizer and with dropout, `Cpu::forward`, `Cpu::backward` and `Cpu::step` on 1, 2
//! and 3 threads give the same bits as `Network::forward`, `Network::backward` and
//! `Optimizer::step` on whole layers, and `Cpu::backward_and_step` the bits of `Cpu::backward`
//! then `Cpu::step`. The sizes are chosen so that every layer is cut into blocks (and the last,
//! small one is not), with an odd batch size.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ziffer::cpu::Cpu;
use ziffer::data::Dataset;
use ziffer::data::batch::fill_inputs;
use ziffer::engine::Engine;
use ziffer::matrix::MatRef;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::layer::Init;
use ziffer::nn::loss::Loss;
use ziffer::nn::network::{Functions, Network};
use ziffer::nn::optimizer::Optimizer;
use ziffer::rng::image_rng;

const SIZES: [usize; 4] = [784, 96, 40, 10];
const N: usize = 33;

fn problem(functions: Functions, seed: u64) -> (Network, Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init = Init::for_activation(functions.hidden);
    let net = Network::new_random(&SIZES, functions, init, &mut rng).unwrap();
    let x: Vec<f32> = (0..SIZES[0] * N)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    let mut y = vec![0.0; 10 * N];
    for col in 0..N {
        y[rng.random_range(0..10usize) * N + col] = 1.0;
    }
    (net, x, y)
}

/// The index and the two values of the first difference between `a` and `b`, if any.
fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).enumerate())
        .find(|(_, (x, y))| x.to_bits() != y.to_bits())
        .map(|(i, (&x, &y))| (i, x, y))
}

fn assert_same_bits(what: &str, engine: &[f32], plain: &[f32]) {
    if let Some((i, e, p)) = first_difference(engine, plain) {
        panic!("{what}: value {i} is {e} on the engine but {p} in the plain recipe");
    }
}

fn every_functions() -> Vec<Functions> {
    let mut all = Vec::new();
    for hidden in Activation::ALL {
        for (output, loss) in [
            (Output::Sigmoid, Loss::Quadratic),
            (Output::Softmax, Loss::CrossEntropy),
        ] {
            all.push(Functions {
                hidden,
                output,
                loss,
            });
        }
    }
    all
}

#[test]
fn forward_and_backward_give_the_plain_recipes_bits_on_any_thread_count() {
    for (k, functions) in every_functions().into_iter().enumerate() {
        for dropout in [0.0, 0.3] {
            let (net, x, y) = problem(functions, k as u64);
            let x = MatRef::col_major(&x, SIZES[0], N);
            let masks = || ChaCha8Rng::seed_from_u64(99);
            let mut plain_ws = net.training_workspace(N, dropout);
            plain_ws.draw_dropout_masks(&mut masks(), N);
            let mut plain_grads = net.gradients();
            let plain_loss = net.loss_and_gradients(x, &y, &mut plain_ws, &mut plain_grads);
            for threads in [1, 2, 3] {
                let cpu = Cpu::new(threads).unwrap();
                let mut ws = net.training_workspace(N, dropout);
                ws.draw_dropout_masks(&mut masks(), N);
                let mut grads = net.gradients();
                let loss = cpu.loss_and_gradients(&net, x, &y, &mut ws, &mut grads);
                let case = format!("{functions:?}, dropout {dropout}, {threads} threads");
                assert_eq!(loss.to_bits(), plain_loss.to_bits(), "loss, {case}");
                for l in 1..SIZES.len() {
                    let (a, p) = (ws.activations(l, N), plain_ws.activations(l, N));
                    assert_same_bits(&format!("A[{l}], {case}"), a, p);
                }
                for (l, (g, p)) in grads.layers.iter().zip(&plain_grads.layers).enumerate() {
                    assert_same_bits(&format!("dW[{}], {case}", l + 1), &g.dweight, &p.dweight);
                    assert_same_bits(&format!("dB[{}], {case}", l + 1), &g.dbias, &p.dbias);
                }
            }
        }
    }
}

#[test]
fn every_update_rule_gives_the_plain_steps_bits_on_any_thread_count() {
    let functions = Functions::ORIGINAL;
    for optimizer in Optimizer::ALL {
        let (net, x, y) = problem(functions, 5);
        let x = MatRef::col_major(&x, SIZES[0], N);
        let mut ws = net.workspace(N);
        let mut grads = net.gradients();
        net.loss_and_gradients(x, &y, &mut ws, &mut grads);
        let (mut plain, mut plain_state) = (net.clone(), optimizer.new_state(&net));
        for _ in 0..3 {
            optimizer.step(&mut plain, &grads, &mut plain_state, 0.1, 1e-3);
        }
        for threads in [1, 2, 3] {
            let cpu = Cpu::new(threads).unwrap();
            let (mut fast, mut state) = (net.clone(), optimizer.new_state(&net));
            for _ in 0..3 {
                cpu.step(&optimizer, &mut fast, &grads, &mut state, 0.1, 1e-3);
            }
            assert_eq!(state, plain_state, "{optimizer}, {threads} threads: state");
            for (l, (f, p)) in fast.layers().iter().zip(plain.layers()).enumerate() {
                let case = format!("{optimizer}, {threads} threads, layer {}", l + 1);
                assert_same_bits(&format!("W, {case}"), &f.weight, &p.weight);
                assert_same_bits(&format!("B, {case}"), &f.bias, &p.bias);
            }
        }
    }
}

#[test]
fn the_fused_backward_and_update_gives_the_bits_of_backward_then_step() {
    // Every update rule, with weight decay and dropout, on 1, 2 and 3 threads, and a network of
    // one layer (whose update is its only one); three steps, so that later steps start from
    // updated weights and optimizer state.
    let optimizers = [
        Optimizer::Sgd,
        Optimizer::Momentum {
            momentum: 0.9,
            nesterov: true,
        },
        Optimizer::ADAM,
    ];
    for (k, (optimizer, sizes)) in optimizers
        .into_iter()
        .map(|o| (o, &SIZES[..]))
        .chain([(Optimizer::Sgd, &[784, 10][..])])
        .enumerate()
    {
        let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
        let functions = Functions::ORIGINAL;
        let net = Network::new_random(sizes, functions, Init::Lecun, &mut rng).unwrap();
        let x: Vec<f32> = (0..sizes[0] * N)
            .map(|_| rng.random_range(0.0..1.0))
            .collect();
        let x = MatRef::col_major(&x, sizes[0], N);
        let classes = sizes[sizes.len() - 1];
        let mut y = vec![0.0; classes * N];
        for col in 0..N {
            y[rng.random_range(0..classes) * N + col] = 1.0;
        }
        for threads in [1, 2, 3] {
            let cpu = Cpu::new(threads).unwrap();
            let case = format!("{optimizer}, {sizes:?}, {threads} threads");
            let run = |fused: bool| {
                let (mut net, mut state) = (net.clone(), optimizer.new_state(&net));
                let mut ws = net.training_workspace(N, 0.3);
                let mut grads = net.gradients();
                let mut masks = ChaCha8Rng::seed_from_u64(7);
                for _ in 0..3 {
                    ws.draw_dropout_masks(&mut masks, N);
                    cpu.loss(&net, x, &y, &mut ws);
                    if fused {
                        let (eta, lambda) = (0.1, 1e-3);
                        cpu.backward_and_step(
                            &mut net,
                            &[x],
                            &y,
                            &mut ws,
                            &mut grads,
                            &optimizer,
                            &mut state,
                            eta,
                            lambda,
                        );
                    } else {
                        cpu.backward(&net, x, &y, &mut ws, &mut grads);
                        cpu.step(&optimizer, &mut net, &grads, &mut state, 0.1, 1e-3);
                    }
                }
                (net, state)
            };
            let ((fused, fused_state), (plain, plain_state)) = (run(true), run(false));
            assert_eq!(fused_state, plain_state, "{case}: optimizer state");
            for (l, (f, p)) in fused.layers().iter().zip(plain.layers()).enumerate() {
                let layer = format!("{case}, layer {}", l + 1);
                assert_same_bits(&format!("W, {layer}"), &f.weight, &p.weight);
                assert_same_bits(&format!("B, {layer}"), &f.bias, &p.bias);
            }
        }
    }
}

#[test]
fn a_batch_is_filled_alike_on_any_thread_count_with_and_without_distortions() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let images: Vec<u8> = (0..40 * 784).map(|_| rng.random::<u8>()).collect();
    let labels: Vec<u8> = (0..40).map(|i| (i % 10) as u8).collect();
    let data = Dataset::new(images, labels, 28, 28, "random").unwrap();
    let indices: Vec<usize> = (0..40).rev().collect();
    for augment in ["none", "elastic"] {
        let augment: ziffer::augment::Augment = augment.parse().unwrap();
        let mut plain = vec![0.0; 784 * 40];
        if augment.is_none() {
            fill_inputs(&data, &indices, &mut plain);
        } else {
            for (k, column) in plain.chunks_exact_mut(784).enumerate() {
                augment.apply(
                    data.image(indices[k]),
                    28,
                    &mut image_rng(1, 2, 10 + k),
                    column,
                );
            }
        }
        for threads in [1, 2, 3] {
            let mut x = vec![0.0; 784 * 40];
            let cpu = Cpu::new(threads).unwrap();
            cpu.fill_inputs(&data, &indices, &mut x, &augment, |k| {
                image_rng(1, 2, 10 + k)
            });
            assert_same_bits(&format!("{augment}, {threads} threads"), &x, &plain);
        }
    }
}

#[test]
fn evaluation_reads_the_plain_forward_pass() {
    let (net, _, _) = problem(Functions::ORIGINAL, 8);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let images: Vec<u8> = (0..1500 * 784).map(|_| rng.random::<u8>()).collect();
    let labels = vec![0u8; 1500];
    let data = Dataset::new(images, labels, 28, 28, "random").unwrap();
    let cpu = Cpu::new(2).unwrap();
    let mut seen = 0;
    cpu.outputs(&net, &data, &mut |indices, output| {
        let n = indices.len();
        let mut x = vec![0.0; 784 * n];
        fill_inputs(&data, indices, &mut x);
        let mut ws = net.workspace(n);
        let plain = net.forward(MatRef::col_major(&x, 784, n), &mut ws);
        assert_same_bits(&format!("images from {}", indices[0]), output, plain);
        seen += n;
    })
    .unwrap();
    assert_eq!(seen, 1500);
}

#[test]
fn a_team_of_no_threads_is_refused() {
    let err = Cpu::new(0).err().expect("0 threads refused");
    assert!(err.to_string().contains("threads"), "{err}");
}
