//! Backprop checked against the definition of a derivative, for every activation, output
//! function and loss, with and without dropout and label smoothing; and every optimizer checked
//! to reduce the loss.
//!
//! Every parameter of a small network is nudged by ±h and the change of the loss,
//! `(L(θ + h) − L(θ − h)) / 2h`, is compared with the gradient backprop computed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ziffer::data::batch::smoothed_one_hot;
use ziffer::matrix::MatRef;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::layer::Init;
use ziffer::nn::loss::Loss;
use ziffer::nn::network::{Functions, Network, Workspace};
use ziffer::nn::optimizer::Optimizer;

const SIZES: [usize; 4] = [6, 5, 4, 3];
const N: usize = 7;

/// Every pairing of output function and loss.
const HEADS: [(Output, Loss); 4] = [
    (Output::Sigmoid, Loss::Quadratic),
    (Output::Sigmoid, Loss::CrossEntropy),
    (Output::Softmax, Loss::Quadratic),
    (Output::Softmax, Loss::CrossEntropy),
];

/// A 6-5-4-3 network, a batch of 7 random inputs and one-hot targets.
fn small_problem(functions: Functions, seed: u64) -> (Network, Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init = Init::for_activation(functions.hidden);
    let mut net = Network::new_random(&SIZES, functions, init, &mut rng).unwrap();
    // Non-zero biases, so that their gradients are tested away from the starting point too.
    for layer in net.layers_mut() {
        for b in &mut layer.bias {
            *b = rng.random_range(-0.5..0.5);
        }
    }
    let x: Vec<f32> = (0..SIZES[0] * N)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    // One-hot columns of the (3, N) target matrix, stored row-major like the network's output.
    let mut y = vec![0.0; 3 * N];
    for col in 0..N {
        y[rng.random_range(0..3usize) * N + col] = 1.0;
    }
    (net, x, y)
}

fn input(x: &[f32]) -> MatRef<'_> {
    MatRef::col_major(x, SIZES[0], N)
}

/// Which hidden neurons are active (`a > 0`) for each image: finite differences are only valid
/// when a nudge does not move any ReLU across its kink at 0.
fn pattern(net: &Network, ws: &Workspace) -> Vec<bool> {
    (1..net.layers().len())
        .flat_map(|l| ws.activations(l, N).iter().map(|&a| a > 0.0))
        .collect()
}

/// The largest difference between backprop and finite differences over every parameter, with
/// where it is; parameters whose nudge crosses a kink are skipped and counted.
struct Check {
    worst: f64,
    at: String,
    checked: usize,
    skipped: usize,
}

/// Compares backprop with finite differences for every parameter of a small network with
/// `functions`; with `dropout`, one fixed set of masks is used for all the passes; with
/// `smoothing`, the targets are smoothed one-hot columns.
fn check_gradients(functions: Functions, dropout: f32, smoothing: f32, seed: u64) -> Check {
    let (mut net, x, mut y) = small_problem(functions, seed);
    if smoothing > 0.0 {
        y = smoothed(&y, smoothing);
    }
    let mut ws = net.training_workspace(N, dropout);
    ws.draw_dropout_masks(&mut ChaCha8Rng::seed_from_u64(seed + 100), N);
    let mut grads = net.gradients();
    net.loss_and_gradients(input(&x), &y, &mut ws, &mut grads);
    let kinks = matches!(functions.hidden, Activation::Relu | Activation::LeakyRelu);

    // A smaller nudge for the ReLUs crosses fewer kinks; f32 round-off still allows it.
    let h = if kinks { 1e-3f32 } else { 1e-2 };
    let mut check = Check {
        worst: 0.0,
        at: String::new(),
        checked: 0,
        skipped: 0,
    };
    for l in 0..net.layers().len() {
        for is_bias in [false, true] {
            let count = if is_bias {
                net.layers()[l].bias.len()
            } else {
                net.layers()[l].weight.len()
            };
            for i in 0..count {
                let param = |net: &mut Network| -> *mut f32 {
                    let layer = &mut net.layers_mut()[l];
                    if is_bias {
                        &mut layer.bias[i]
                    } else {
                        &mut layer.weight[i]
                    }
                };
                let p = param(&mut net);
                // SAFETY: `p` points into `net`, which is not moved or resized here.
                let original = unsafe { *p };
                unsafe { *p = original + h };
                let plus = net.loss(input(&x), &y, &mut ws) as f64;
                let plus_pattern = pattern(&net, &ws);
                unsafe { *p = original - h };
                let minus = net.loss(input(&x), &y, &mut ws) as f64;
                let minus_pattern = pattern(&net, &ws);
                unsafe { *p = original };
                if kinks && plus_pattern != minus_pattern {
                    check.skipped += 1;
                    continue;
                }
                let numeric = (plus - minus) / (2.0 * h as f64);
                let analytic = if is_bias {
                    grads.layers[l].dbias[i]
                } else {
                    grads.layers[l].dweight[i]
                } as f64;
                // Absolute for small gradients, relative for large ones.
                let diff = (numeric - analytic).abs() / (1.0 + numeric.abs());
                if diff > check.worst {
                    let name = if is_bias { "bias" } else { "weight" };
                    check.worst = diff;
                    check.at = format!(
                        "layer {l} {name} {i}: backprop {analytic:e}, finite difference {numeric:e}"
                    );
                }
                check.checked += 1;
            }
        }
    }
    check
}

fn assert_gradients_match(functions: Functions, dropout: f32, smoothing: f32) {
    let tolerance = 5e-4;
    let all = 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3;
    for seed in [11, 12] {
        let check = check_gradients(functions, dropout, smoothing, seed);
        assert_eq!(check.checked + check.skipped, all);
        assert!(
            check.skipped * 10 <= all,
            "{functions:?}: {} of {all} parameters skipped for kinks",
            check.skipped
        );
        assert!(
            check.worst < tolerance,
            "{functions:?}, dropout {dropout}, smoothing {smoothing}, seed {seed}: difference {:e} > {tolerance:e} at {}",
            check.worst,
            check.at
        );
    }
}

#[test]
fn backprop_matches_finite_differences_for_the_original_network() {
    assert_gradients_match(Functions::ORIGINAL, 0.0, 0.0);
}

#[test]
fn backprop_matches_finite_differences_for_every_activation_output_and_loss() {
    for hidden in Activation::ALL {
        for (output, loss) in HEADS {
            let functions = Functions {
                hidden,
                output,
                loss,
            };
            // One-hot and smoothed targets: `dZ = A − Y` needs targets that sum to 1 under
            // softmax, and smoothed ones do.
            for smoothing in [0.0, 0.2] {
                assert_gradients_match(functions, 0.0, smoothing);
            }
        }
    }
}

#[test]
fn backprop_matches_finite_differences_through_dropout_masks() {
    for hidden in Activation::ALL {
        let functions = Functions {
            hidden,
            output: Output::Softmax,
            loss: Loss::CrossEntropy,
        };
        assert_gradients_match(functions, 0.4, 0.0);
    }
}

/// The one-hot `(3, N)` targets `y` as [`smoothed_one_hot`] columns.
fn smoothed(y: &[f32], smoothing: f32) -> Vec<f32> {
    let mut out = vec![0.0; y.len()];
    for col in 0..N {
        let label = (0..3).find(|&c| y[c * N + col] == 1.0).unwrap();
        let mut column = [0.0; 3];
        smoothed_one_hot(label as u8, smoothing, &mut column);
        for (c, &v) in column.iter().enumerate() {
            out[c * N + col] = v;
        }
    }
    out
}

#[test]
fn dropout_masks_are_zero_or_the_inverse_keep_rate_and_drop_about_p() {
    let (net, _, _) = small_problem(Functions::ORIGINAL, 1);
    let mut mask = vec![0.0; 10_000];
    ziffer::nn::dropout::dropout_mask(0.25, &mut ChaCha8Rng::seed_from_u64(3), &mut mask);
    let dropped = mask.iter().filter(|&&m| m == 0.0).count();
    assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
    assert!(
        (2300..2700).contains(&dropped),
        "{dropped} of 10,000 dropped"
    );
    // Without masks drawn, a training workspace gives the plain forward pass.
    let x = vec![0.5; SIZES[0] * N];
    let plain = net.forward(input(&x), &mut net.workspace(N)).to_vec();
    let mut ws = net.training_workspace(N, 0.5);
    assert_eq!(net.forward(input(&x), &mut ws), plain);
}

/// Trains the problem's network on its one batch with `optimizer` and returns the loss before
/// and after.
fn train_fixed_batch(optimizer: Optimizer, eta: f32, lambda: f32, steps: usize) -> (f32, f32) {
    let functions = Functions {
        hidden: Activation::Relu,
        output: Output::Softmax,
        loss: Loss::CrossEntropy,
    };
    let (mut net, x, y) = small_problem(functions, 3);
    let mut ws = net.workspace(N);
    let mut grads = net.gradients();
    let mut state = optimizer.new_state(&net);
    let before = net.loss(input(&x), &y, &mut ws);
    for _ in 0..steps {
        net.loss_and_gradients(input(&x), &y, &mut ws, &mut grads);
        optimizer.step(&mut net, &grads, &mut state, eta, lambda);
    }
    (before, net.loss(input(&x), &y, &mut ws))
}

#[test]
fn every_optimizer_reduces_the_loss_on_a_fixed_batch() {
    for (optimizer, eta) in [
        ("sgd", 0.3),
        ("momentum", 0.05),
        ("nesterov", 0.05),
        ("adam", 0.01),
    ] {
        let optimizer: Optimizer = optimizer.parse().unwrap();
        for lambda in [0.0, 1e-3] {
            let (before, after) = train_fixed_batch(optimizer, eta, lambda, 300);
            assert!(
                after < 0.2 * before,
                "{optimizer}, λ = {lambda}: loss went from {before} to {after}"
            );
        }
    }
}

#[test]
fn the_original_network_with_sgd_learns_the_fixed_batch() {
    let (mut net, x, y) = small_problem(Functions::ORIGINAL, 3);
    let mut ws = net.workspace(N);
    let before = net.loss(input(&x), &y, &mut ws);
    let mut grads = net.gradients();
    let mut state = Optimizer::Sgd.new_state(&net);
    for _ in 0..2000 {
        net.loss_and_gradients(input(&x), &y, &mut ws, &mut grads);
        Optimizer::Sgd.step(&mut net, &grads, &mut state, 3.0, 0.0);
    }
    let after = net.loss(input(&x), &y, &mut ws);
    assert!(after < before * 0.5, "loss went from {before} to {after}");
}
