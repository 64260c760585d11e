//! The update rule: how the gradients change the parameters.
//!
//! What it is: the optimizers, each update written out as one function over a slice of
//! parameters, with its formula, and [`Optimizer::step`], which applies one to every layer.
//! With `θ` a parameter, `g = dθ` its gradient on the batch and `η` the learning rate:
//!
//! | optimizer | update | kept between steps |
//! | --- | --- | --- |
//! | SGD | `θ ← θ − η·g` | nothing |
//! | momentum | `v ← μ·v + g`, `θ ← θ − η·v` | the velocity `v` |
//! | Nesterov | `v ← μ·v + g`, `θ ← θ − η·(g + μ·v)` | the velocity `v` |
//! | Adam | `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`, `θ ← θ − η·m̂ / (√v̂ + ε)` | the moments `m`, `v` and the step count `t` |
//!
//! L2 weight decay adds `½λ‖W‖²` to the loss, so `λ·W` to each weight's gradient
//! ([`l2_gradient`]) before the update; biases are not decayed. What is kept between steps is
//! flushed to 0 where it would become subnormal ([`flush_subnormal`]).
//!
//! What it is not: the gradients themselves (see [`super::network::Network::backward`]) or the
//! learning rate's schedule (see [`crate::schedule::Schedule`]).

use super::network::{Gradients, Network};
use crate::error::{Error, Result};
use multiversion::multiversion;
use smallvec::SmallVec;
use std::fmt;
use std::str::FromStr;

/// How the parameters follow their gradients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// Plain stochastic gradient descent, the original network's.
    Sgd,
    /// SGD with momentum `μ` (Polyak's heavy ball, or Nesterov's look-ahead form): the step is a
    /// running sum of past gradients, which speeds up along directions they agree on.
    Momentum { momentum: f32, nesterov: bool },
    /// Adam (Kingma and Ba, 2015): each parameter's step is scaled by a running estimate of its
    /// gradient's size, so that every parameter moves about `η` per step at most.
    Adam {
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
}

/// Values an optimizer keeps for one layer between steps, shaped like the layer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Shaped like `W`, `(O, I)` row-major.
    pub weight: Vec<f32>,
    /// Shaped like `B`, `(O)`.
    pub bias: Vec<f32>,
}

/// Everything an optimizer keeps between steps: saved with the model, so that a resumed run
/// continues exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerState {
    /// Updates made so far (Adam's `t` before the next step).
    pub steps: u64,
    /// `slots[l][s]`: slot `s` (named by [`Optimizer::slot_names`]) of layer `l`.
    pub slots: Vec<Vec<Slot>>,
}

impl Optimizer {
    /// The default momentum `μ`.
    pub const MOMENTUM: f32 = 0.9;
    /// Adam with the paper's defaults: `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAM: Optimizer = Optimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    /// Every update rule, each with its default constants.
    pub const ALL: [Optimizer; 4] = [
        Optimizer::Sgd,
        Optimizer::Momentum {
            momentum: Optimizer::MOMENTUM,
            nesterov: false,
        },
        Optimizer::Momentum {
            momentum: Optimizer::MOMENTUM,
            nesterov: true,
        },
        Optimizer::ADAM,
    ];

    /// The names of the values kept per parameter: none for SGD, `velocity` for momentum,
    /// `m` and `v` for Adam.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self {
            Optimizer::Sgd => &[],
            Optimizer::Momentum { .. } => &["velocity"],
            Optimizer::Adam { .. } => &["m", "v"],
        }
    }

    /// The state before the first step: every slot zero.
    pub fn new_state(&self, network: &Network) -> OptimizerState {
        let slots = network
            .layers()
            .iter()
            .map(|layer| {
                self.slot_names()
                    .iter()
                    .map(|_| Slot {
                        weight: vec![0.0; layer.weight.len()],
                        bias: vec![0.0; layer.bias.len()],
                    })
                    .collect()
            })
            .collect();
        OptimizerState { steps: 0, slots }
    }

    /// Checks that `state` was made by this optimizer for `network`.
    pub fn check_state(&self, network: &Network, state: &OptimizerState) -> Result<()> {
        let fits = state.slots.len() == network.layers().len()
            && state
                .slots
                .iter()
                .zip(network.layers())
                .all(|(slots, layer)| {
                    slots.len() == self.slot_names().len()
                        && slots.iter().all(|s| {
                            s.weight.len() == layer.weight.len() && s.bias.len() == layer.bias.len()
                        })
                });
        if fits {
            Ok(())
        } else {
            let found = match state.slots.first() {
                Some(first) => format!("{} layers of {} slot(s)", state.slots.len(), first.len()),
                None => "no layer".to_string(),
            };
            Err(Error::OptimizerStateMismatch {
                optimizer: self.to_string(),
                layers: network.layers().len(),
                slots: self.slot_names().len(),
                found,
            })
        }
    }

    /// One update of every layer of `network` with the gradients of [`Network::backward`],
    /// learning rate `eta` and L2 weight decay `lambda` (weights only, not biases).
    pub fn step(
        &self,
        network: &mut Network,
        grads: &Gradients,
        state: &mut OptimizerState,
        eta: f32,
        lambda: f32,
    ) {
        state.steps += 1;
        let t = state.steps;
        let layers = network.layers_mut().iter_mut();
        for ((layer, g), slots) in layers.zip(&grads.layers).zip(&mut state.slots) {
            let (slots_w, slots_b) = slots
                .iter_mut()
                .map(|s| (&mut s.weight[..], &mut s.bias[..]))
                .unzip();
            // W := update(W, dW), B := update(B, dB)
            self.update(&mut layer.weight, &g.dweight, slots_w, eta, lambda, t);
            self.update(&mut layer.bias, &g.dbias, slots_b, eta, 0.0, t);
        }
    }

    /// The update of some parameters `theta` with gradients `g` and this optimizer's slots for
    /// them, at step `t` (1-based). Each parameter's update reads only its own values, so an
    /// engine may split the parameters into blocks and update each apart.
    pub fn update(
        &self,
        theta: &mut [f32],
        g: &[f32],
        mut slots: SmallVec<[&mut [f32]; 2]>,
        eta: f32,
        lambda: f32,
        t: u64,
    ) {
        match *self {
            Optimizer::Sgd => sgd_update(theta, g, eta, lambda),
            Optimizer::Momentum {
                momentum,
                nesterov: false,
            } => momentum_update(theta, &mut *slots[0], g, eta, momentum, lambda),
            Optimizer::Momentum {
                momentum,
                nesterov: true,
            } => nesterov_update(theta, &mut *slots[0], g, eta, momentum, lambda),
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let (m, v) = slots.split_at_mut(1);
                let hyper = AdamStep::new(beta1, beta2, epsilon, t);
                adam_update(theta, &mut *m[0], &mut *v[0], g, eta, &hyper, lambda)
            }
        }
    }
}

/// The gradient with L2 weight decay: `g + λ·θ` (the gradient of `L + ½λ‖θ‖²`).
#[inline]
pub fn l2_gradient(g: f32, theta: f32, lambda: f32) -> f32 {
    g + lambda * theta
}

/// `x`, or 0 where `x` is subnormal (`0 < |x| < 2⁻¹²⁶`, [`f32::MIN_POSITIVE`]).
///
/// A neuron that no longer fires has a zero gradient, so its velocity decays by `μ` each step
/// (`0.9⁷⁶⁰ ≈ 10⁻³⁵`) and passes, for a hundred steps or so, through the subnormal numbers, where
/// every floating-point operation on an Intel core takes a microcode assist of about a hundred
/// cycles: on a 784-1600-1600-10 ReLU network, enough of them to make each epoch twice as long.
/// The value dropped is below `2⁻¹²⁶`, so no parameter changes by it: `θ − η·v` rounds to `θ`
/// whether `v` is flushed or not, unless `|θ|` itself is below about `η·2⁻¹⁰⁰`.
#[inline]
pub fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// SGD: `θ ← θ − η·g`, e.g. `W := W − η·dW`.
#[multiversion(targets = "simd")]
pub fn sgd_update(theta: &mut [f32], g: &[f32], eta: f32, lambda: f32) {
    debug_assert_eq!(theta.len(), g.len());
    for (p, &g) in theta.iter_mut().zip(g) {
        *p -= eta * l2_gradient(g, *p, lambda);
    }
}

/// Momentum: `v ← μ·v + g`, then `θ ← θ − η·v`.
#[multiversion(targets = "simd")]
pub fn momentum_update(
    theta: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    eta: f32,
    mu: f32,
    lambda: f32,
) {
    for ((p, v), &g) in theta.iter_mut().zip(v).zip(g) {
        *v = flush_subnormal(mu * *v + l2_gradient(g, *p, lambda));
        *p -= eta * *v;
    }
}

/// Nesterov momentum: `v ← μ·v + g`, then `θ ← θ − η·(g + μ·v)`: the step taken is the one
/// the velocity is about to take, looked ahead (Sutskever et al., 2013, in the form PyTorch uses).
#[multiversion(targets = "simd")]
pub fn nesterov_update(
    theta: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    eta: f32,
    mu: f32,
    lambda: f32,
) {
    for ((p, v), &g) in theta.iter_mut().zip(v).zip(g) {
        let g = l2_gradient(g, *p, lambda);
        *v = flush_subnormal(mu * *v + g);
        *p -= eta * (g + mu * *v);
    }
}

/// Adam's constants for step `t`: `β₁`, `β₂`, `ε` and the bias corrections `1 − β₁ᵗ`, `1 − β₂ᵗ`.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    correction1: f32,
    correction2: f32,
}

impl AdamStep {
    /// The constants of step `t` (1-based).
    pub fn new(beta1: f32, beta2: f32, epsilon: f32, t: u64) -> Self {
        let t = t.min(i32::MAX as u64) as i32;
        AdamStep {
            beta1,
            beta2,
            epsilon,
            correction1: 1.0 - (beta1 as f64).powi(t) as f32,
            correction2: 1.0 - (beta2 as f64).powi(t) as f32,
        }
    }
}

/// Adam: `m ← β₁·m + (1 − β₁)·g` and `v ← β₂·v + (1 − β₂)·g²` (running means of the gradient and
/// of its square), corrected for starting at 0: `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`; then
/// `θ ← θ − η·m̂ / (√v̂ + ε)`.
#[multiversion(targets = "simd")]
pub fn adam_update(
    theta: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    eta: f32,
    step: &AdamStep,
    lambda: f32,
) {
    let AdamStep {
        beta1,
        beta2,
        epsilon,
        correction1,
        correction2,
    } = *step;
    for (((p, m), v), &g) in theta.iter_mut().zip(m).zip(v).zip(g) {
        let g = l2_gradient(g, *p, lambda);
        *m = flush_subnormal(beta1 * *m + (1.0 - beta1) * g);
        *v = flush_subnormal(beta2 * *v + (1.0 - beta2) * g * g);
        let m_hat = *m / correction1;
        let v_hat = *v / correction2;
        *p -= eta * m_hat / (v_hat.sqrt() + epsilon);
    }
}

impl fmt::Display for Optimizer {
    /// `sgd`, `momentum=0.9`, `nesterov=0.9` or `adam=0.9/0.999/1e-8`: what [`FromStr`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Optimizer::Sgd => f.write_str("sgd"),
            Optimizer::Momentum { momentum, nesterov } => {
                let name = if *nesterov { "nesterov" } else { "momentum" };
                write!(f, "{name}={momentum}")
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => write!(f, "adam={beta1}/{beta2}/{epsilon:e}"),
        }
    }
}

impl FromStr for Optimizer {
    type Err = Error;

    /// Parses `sgd`, `momentum`, `momentum=0.95`, `nesterov`, `nesterov=0.9`, `adam` or
    /// `adam=0.9/0.999` (`β₁/β₂`, optionally `/ε`).
    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: String| {
            Error::config(
                "optimizer",
                format!(
                    "'{text}': {why}; write e.g. sgd, momentum=0.9, nesterov or adam=0.9/0.999"
                ),
            )
        };
        let (name, values) = match text.trim().split_once('=') {
            Some((name, values)) => (name.trim(), Some(values.trim())),
            None => (text.trim(), None),
        };
        let numbers: Vec<f32> = match values {
            None => Vec::new(),
            Some(v) => v
                .split('/')
                .map(|x| {
                    x.trim()
                        .parse::<f32>()
                        .map_err(|_| bad(format!("'{x}' is not a number")))
                })
                .collect::<Result<_>>()?,
        };
        let fraction = |x: f32, what: &str| {
            if x.is_finite() && (0.0..1.0).contains(&x) {
                Ok(x)
            } else {
                Err(bad(format!(
                    "{what} must be at least 0 and below 1, got {x}"
                )))
            }
        };
        match name {
            "sgd" if numbers.is_empty() => Ok(Optimizer::Sgd),
            "sgd" => Err(bad("plain SGD takes no values".to_string())),
            "momentum" | "nesterov" => {
                let momentum = match numbers[..] {
                    [] => Optimizer::MOMENTUM,
                    [mu] => fraction(mu, "the momentum")?,
                    _ => return Err(bad("momentum takes one value, μ".to_string())),
                };
                Ok(Optimizer::Momentum {
                    momentum,
                    nesterov: name == "nesterov",
                })
            }
            "adam" => {
                let Optimizer::Adam {
                    mut beta1,
                    mut beta2,
                    mut epsilon,
                } = Optimizer::ADAM
                else {
                    unreachable!("ADAM is Adam")
                };
                match numbers[..] {
                    [] => {}
                    [b1, b2] => (beta1, beta2) = (fraction(b1, "β₁")?, fraction(b2, "β₂")?),
                    [b1, b2, e] => {
                        (beta1, beta2) = (fraction(b1, "β₁")?, fraction(b2, "β₂")?);
                        if !(e.is_finite() && e > 0.0) {
                            return Err(bad(format!("ε must be a positive number, got {e}")));
                        }
                        epsilon = e;
                    }
                    _ => return Err(bad("Adam takes β₁/β₂ or β₁/β₂/ε".to_string())),
                }
                Ok(Optimizer::Adam {
                    beta1,
                    beta2,
                    epsilon,
                })
            }
            _ => Err(bad(format!("unknown optimizer '{name}'"))),
        }
    }
}

serde_as_text!(Optimizer);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layer::{Dense, DenseGrads};
    use crate::nn::network::Functions;

    fn one_layer(weight: [f32; 2]) -> Network {
        let layer = Dense {
            inputs: 1,
            outputs: 2,
            weight: weight.to_vec(),
            bias: vec![0.0, 0.0],
        };
        Network::from_layers(vec![layer], Functions::ORIGINAL).unwrap()
    }

    fn grads(dweight: [f32; 2], dbias: [f32; 2]) -> Gradients {
        Gradients {
            layers: vec![DenseGrads {
                dweight: dweight.to_vec(),
                dbias: dbias.to_vec(),
            }],
        }
    }

    #[test]
    fn an_sgd_step_moves_against_the_gradient() {
        let mut network = one_layer([1.0, 1.0]);
        let mut state = Optimizer::Sgd.new_state(&network);
        let g = grads([2.0, -4.0], [1.0, 0.0]);
        Optimizer::Sgd.step(&mut network, &g, &mut state, 0.5, 0.0);
        assert_eq!(network.layers()[0].weight, [0.0, 3.0]);
        assert_eq!(network.layers()[0].bias, [-0.5, 0.0]);
    }

    #[test]
    fn weight_decay_shrinks_weights_but_not_biases() {
        let mut network = one_layer([2.0, -2.0]);
        network.layers_mut()[0].bias = vec![1.0, 1.0];
        let mut state = Optimizer::Sgd.new_state(&network);
        Optimizer::Sgd.step(
            &mut network,
            &grads([0.0; 2], [0.0; 2]),
            &mut state,
            0.5,
            0.1,
        );
        // W ← W − η·λ·W = 0.95·W
        assert_eq!(network.layers()[0].weight, [1.9, -1.9]);
        assert_eq!(network.layers()[0].bias, [1.0, 1.0]);
    }

    #[test]
    fn momentum_accumulates_a_constant_gradient() {
        let opt = Optimizer::Momentum {
            momentum: 0.5,
            nesterov: false,
        };
        let mut network = one_layer([0.0, 0.0]);
        let mut state = opt.new_state(&network);
        let g = grads([1.0, 1.0], [0.0, 0.0]);
        // v = 1, then 1.5: the steps are η·1 and η·1.5.
        opt.step(&mut network, &g, &mut state, 0.1, 0.0);
        opt.step(&mut network, &g, &mut state, 0.1, 0.0);
        assert!((network.layers()[0].weight[0] + 0.25).abs() < 1e-6);
        assert_eq!(state.steps, 2);
        assert_eq!(state.slots[0][0].weight, [1.5, 1.5]);
    }

    #[test]
    fn adams_first_step_is_eta_in_the_gradients_direction() {
        let mut network = one_layer([0.0, 0.0]);
        let mut state = Optimizer::ADAM.new_state(&network);
        // Whatever the gradient's size, m̂/√v̂ = g/|g| on the first step.
        let g = grads([1000.0, -0.001], [0.0, 0.0]);
        Optimizer::ADAM.step(&mut network, &g, &mut state, 0.01, 0.0);
        let w = &network.layers()[0].weight;
        assert!(
            (w[0] + 0.01).abs() < 1e-5 && (w[1] - 0.01).abs() < 1e-4,
            "{w:?}"
        );
    }

    /// A neuron that no longer fires (a ReLU whose input stays below 0) has a zero gradient, so
    /// its velocity and Adam's moments decay by `μ` (or `β`) a step: without a flush they pass
    /// through the subnormal floats, which cost Intel cores about a hundred cycles an operation
    /// and made a 784-1600-1600-10 run's epochs twice as long.
    #[test]
    fn decaying_optimizer_state_flushes_to_zero_instead_of_going_subnormal() {
        for opt in Optimizer::ALL {
            let mut network = one_layer([0.5, -0.5]);
            let mut state = opt.new_state(&network);
            opt.step(
                &mut network,
                &grads([1.0, -1e-3], [1e-2, 0.0]),
                &mut state,
                0.01,
                0.0,
            );
            let zero = grads([0.0; 2], [0.0; 2]);
            for step in 0..100_000 {
                opt.step(&mut network, &zero, &mut state, 0.01, 0.0);
                for slot in &state.slots[0] {
                    for &x in slot.weight.iter().chain(&slot.bias) {
                        assert!(
                            !x.is_subnormal(),
                            "{opt}: {x:e} after {step} steps without a gradient"
                        );
                    }
                }
            }
            for slot in &state.slots[0] {
                assert!(slot.weight.iter().chain(&slot.bias).all(|&x| x == 0.0));
            }
        }
    }

    #[test]
    fn optimizers_parse_and_print_back() {
        for text in [
            "sgd",
            "momentum=0.9",
            "nesterov=0.95",
            "adam=0.9/0.999/1e-8",
        ] {
            let opt: Optimizer = text.parse().unwrap();
            assert_eq!(opt.to_string(), text);
        }
        assert_eq!(
            "momentum".parse::<Optimizer>().unwrap().to_string(),
            "momentum=0.9"
        );
        assert_eq!("adam".parse::<Optimizer>().unwrap(), Optimizer::ADAM);
        for (bad, reason) in [
            ("rmsprop", "unknown optimizer"),
            ("momentum=1.5", "below 1"),
            ("momentum=x", "not a number"),
            ("adam=0.9", "β₁/β₂"),
            ("adam=0.9/0.999/-1", "positive"),
            ("sgd=0.1", "no values"),
        ] {
            let err = bad.parse::<Optimizer>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{bad}': {err}");
        }
    }
}
