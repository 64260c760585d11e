//! Stochastic weight averaging (Izmailov, Podoprikhin, Garipov, Vetrov and Wilson, "Averaging
//! Weights Leads to Wider Optima and Better Generalization", UAI 2018).
//!
//! What it is: the running mean of the weights that training passes through, one point per
//! epoch (the paper's cycle length of one epoch), kept beside the weights training goes on
//! from. With a learning rate that stays high enough for the weights to keep moving, each epoch
//! ends at another point around the same low valley of the loss; their mean lies nearer its
//! middle, where the loss is flatter and the network generalises better than at any one of the
//! points. What it is not: an update rule (the optimizer's steps are unchanged) or a committee
//! of networks (one network, the mean of the weights, is what is saved and used).

use super::network::Network;

/// The running mean after one more point: `θ̄ ← (θ̄·n + θ) / (n + 1)`, where `θ̄` is the mean of
/// the `n` points so far (Izmailov et al., Algorithm 1).
///
/// For example the mean 2 of the two points 1 and 3, with the point 5, becomes `(2·2 + 5)/3 = 3`.
pub fn average_update(mean: &mut [f32], theta: &[f32], n: usize) {
    debug_assert_eq!(mean.len(), theta.len());
    let (n, next) = (n as f32, (n + 1) as f32);
    for (m, &t) in mean.iter_mut().zip(theta) {
        *m = (*m * n + t) / next;
    }
}

/// [`average_update`] for every weight and bias of `mean`, the mean of `n` networks of the same
/// shape as `theta`.
pub fn fold_into_average(mean: &mut Network, theta: &Network, n: usize) {
    for (m, t) in mean.layers_mut().iter_mut().zip(theta.layers()) {
        average_update(&mut m.weight, &t.weight, n);
        average_update(&mut m.bias, &t.bias, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_doc_example() {
        let mut mean = [2.0];
        average_update(&mut mean, &[5.0], 2);
        assert_eq!(mean, [3.0]);
    }

    #[test]
    fn folding_points_in_one_at_a_time_gives_their_mean() {
        let points = [[1.0, -4.0], [3.0, 0.0], [8.0, 1.0], [0.0, 7.0]];
        let mut mean = points[0];
        for (n, point) in points.iter().enumerate().skip(1) {
            average_update(&mut mean, point, n);
        }
        assert_eq!(mean, [3.0, 1.0]);
        // The first point alone is its own mean.
        let mut one = [5.5];
        average_update(&mut one, &[5.5], 1);
        assert_eq!(one, [5.5]);
    }
}
