//! The network maths: what a dense network computes, forward and backward, and how it learns.
//!
//! What it is: one concept a file, each formula in one named function beside its formula, over
//! whole layers on the calling thread. What it is not: an engine. Nothing here starts a thread or
//! knows where it runs; the CPU engine ([`crate::cpu`]) takes these layers and decides how to
//! split them between threads, calling the same functions on each block.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`layer`] | the dense layer: `Z = W·A + B` forward, `dW`, `dB`, `dA_prev` backward; initialisation |
//! | [`activation`] | `A = f(Z)` and `dZ = dA ⊙ f'(Z)`: sigmoid, tanh, ReLU, leaky ReLU, softmax |
//! | [`exp`] | `e^x` in operations that vectorise, for the sigmoid |
//! | [`loss`] | `½‖A − Y‖²` and the cross-entropy, and `dZ[L]` for each |
//! | [`dropout`] | `Ã = A ⊙ M` forward, `dA = dÃ ⊙ M` backward, and the masks |
//! | [`network`] | the layers stacked: forward and backward through all of them |
//! | [`workspace`] | what forward keeps for backward, allocated once per run |
//! | [`optimizer`] | the update: SGD `W := W − η·dW`, momentum, Nesterov, Adam, weight decay |
//! | [`averaging`] | stochastic weight averaging: `θ̄ ← (θ̄·n + θ)/(n + 1)` once per epoch |

pub mod activation;
pub mod averaging;
pub mod dropout;
pub mod exp;
pub mod layer;
pub mod loss;
pub mod network;
pub mod optimizer;
pub mod workspace;
