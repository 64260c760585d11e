//! Backprop checked against the definition of a derivative, and against a slow reference.
//!
//! Every parameter of a small network is nudged by ±h and the change of the loss,
//! `(L(θ + h) − L(θ − h)) / 2h`, is compared with the gradient backprop computed.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ziffer::activation::Activation;
use ziffer::matrix::MatRef;
use ziffer::network::Network;

/// A 6-5-4-3 network, a batch of 7 random inputs and one-hot targets.
fn small_problem(seed: u64) -> (Network, Vec<f32>, Vec<f32>, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = Network::new_random(&[6, 5, 4, 3], Activation::Sigmoid, &mut rng).unwrap();
    // Non-zero biases, so that their gradients are tested away from the starting point too.
    for layer in net.layers_mut() {
        for b in &mut layer.bias {
            *b = rng.random_range(-0.5..0.5);
        }
    }
    let n = 7;
    let x: Vec<f32> = (0..6 * n).map(|_| rng.random_range(0.0..1.0)).collect();
    // One-hot columns of the (3, n) target matrix, stored row-major like the network's output.
    let mut y = vec![0.0; 3 * n];
    for col in 0..n {
        y[rng.random_range(0..3usize) * n + col] = 1.0;
    }
    (net, x, y, n)
}

fn loss(net: &Network, x: &[f32], y: &[f32], n: usize) -> f64 {
    let mut ws = net.workspace(n);
    net.loss(MatRef::col_major(x, 6, n), y, &mut ws) as f64
}

#[test]
fn backprop_matches_finite_differences_for_every_parameter() {
    let (mut net, x, y, n) = small_problem(11);
    let mut ws = net.workspace(n);
    let mut grads = net.gradients();
    net.loss_and_gradients(MatRef::col_major(&x, 6, n), &y, &mut ws, &mut grads);

    let h = 1e-2f32;
    let tolerance = 2e-4f64;
    let mut worst = (0.0f64, String::new());
    let mut checked = 0;
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
                let plus = loss(&net, &x, &y, n);
                unsafe { *p = original - h };
                let minus = loss(&net, &x, &y, n);
                unsafe { *p = original };
                let numeric = (plus - minus) / (2.0 * h as f64);
                let analytic = if is_bias {
                    grads.layers[l].dbias[i]
                } else {
                    grads.layers[l].dweight[i]
                } as f64;
                let diff = (numeric - analytic).abs();
                if diff > worst.0 {
                    let name = if is_bias { "bias" } else { "weight" };
                    worst = (
                        diff,
                        format!(
                            "layer {l} {name} {i}: backprop {analytic:e}, finite difference {numeric:e}"
                        ),
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
    assert!(
        worst.0 < tolerance,
        "largest difference {:e} > {tolerance:e} at {}",
        worst.0,
        worst.1
    );
}

#[test]
fn the_loss_falls_on_a_tiny_fixed_batch() {
    let (mut net, x, y, n) = small_problem(3);
    let before = loss(&net, &x, &y, n);
    let mut ws = net.workspace(n);
    let mut grads = net.gradients();
    let sgd = ziffer::optimizer::Sgd { learning_rate: 3.0 };
    for _ in 0..2000 {
        net.loss_and_gradients(MatRef::col_major(&x, 6, n), &y, &mut ws, &mut grads);
        sgd.step(&mut net, &grads);
    }
    let after = loss(&net, &x, &y, n);
    assert!(after < before * 0.5, "loss went from {before} to {after}");
}
