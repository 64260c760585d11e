//! `e^x` for the element-wise loops: the sigmoid's exponential, in operations that vectorise.
//!
//! What it is: [`exp`], the classic single-precision exponential of Cephes' `expf` (Moshier, 1984,
//! "Cephes Math Library"): a Cody–Waite reduction `x = n·ln 2 + r` and a degree-5 polynomial for
//! `e^r`, written with `+`, `×`, comparisons and integer operations on the bits only. A loop of
//! such calls compiles to vector instructions (4, 8 or 16 lanes), where the standard library's
//! `f32::exp` is a call into the C library for every value. Each operation is a single IEEE
//! rounding (no fused multiply-add), so the result is the same bits whichever instructions run it.
//!
//! What it is not: the reference. `f32::exp` stays what [`exp`] is tested against (within
//! [`MAX_RELATIVE_ERROR`], measured over every `f32` of the range in the tests), and what the
//! softmax and tanh use.

/// A bound on the relative error of [`exp`] against `e^x` computed in `f64`, for `x` in
/// `[EXP_MIN, 88.3]`: under one unit in the last place of an `f32` (`2⁻²³ ≈ 1.19·10⁻⁷`). The
/// largest error measured is `7.9·10⁻⁸`, at `x = 4.512308`.
pub const MAX_RELATIVE_ERROR: f64 = 1.0e-7;

/// Below this [`exp`] returns `e^EXP_MIN ≈ 1.6·10⁻³⁸` rather than going on to 0: the reduction
/// needs `2ⁿ` to stay a normal number. For a sigmoid, `1 + e^x` is 1 from `x < −17` already.
pub const EXP_MIN: f32 = -87.0;

/// Above this [`exp`] returns `+∞` (so does the exact `e^x` from 88.72).
const EXP_MAX: f32 = 88.5;

/// `1 / ln 2`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;

/// `ln 2` split in two, `LN2_HI + LN2_LO`: `LN2_HI` has only 9 significant bits, so `n·LN2_HI`
/// is exact for every `|n| < 2¹⁵` and the reduction `x − n·ln 2` loses nothing to rounding.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `1.5·2²³`: adding it to `|y| < 2²²` rounds `y` to the nearest integer (ties to even), which
/// then sits in the low bits of the sum.
const ROUND: f32 = 12_582_912.0;

/// Cephes' coefficients of `P` in `e^r ≈ 1 + r + r²·P(r)` for `|r| ≤ ln 2 / 2`, highest power
/// first (the last, 5.0000001201e-1, is 0.5 in `f32`).
const P: [f32; 6] = [
    1.987_569_2e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `e^x`, to within one unit in the last place ([`MAX_RELATIVE_ERROR`]); NaN stays NaN.
///
/// 1. Reduce: `n = round(x / ln 2)` and `r = x − n·ln 2`, so that `x = n·ln 2 + r`, `|r| ≤ ln 2 / 2`.
/// 2. Approximate: `e^r ≈ 1 + r + r²·P(r)`, `P` evaluated by Horner's rule.
/// 3. Scale: `e^x = 2ⁿ·e^r`, `2ⁿ` built from its bits (exponent field `n + 127`).
///
/// `x` is first clamped to `[EXP_MIN, 88.5]` ([`EXP_MIN`]); the top of that range gives `+∞`.
#[inline]
pub fn exp(x: f32) -> f32 {
    // NaN stays NaN through the clamp, and then through every step.
    let x = x.clamp(EXP_MIN, EXP_MAX);
    // 1. n = round(x / ln 2), r = x − n·ln 2
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // 2. e^r ≈ 1 + r + r²·P(r)
    let p = P[1..].iter().fold(P[0], |p, &c| p * r + c);
    let e_r = (p * (r * r) + r) + 1.0;
    // 3. 2ⁿ: n is the integer in the low bits of `shifted`, here in −126..=128 (128 gives ∞)
    let n_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let two_to_n = f32::from_bits(((n_int + 127) << 23) as u32);
    e_r * two_to_n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative_error(x: f32) -> f64 {
        let exact = (x as f64).exp();
        ((exp(x) as f64) - exact).abs() / exact
    }

    #[test]
    fn agrees_with_the_exact_exponential_on_every_float_of_its_range() {
        // Every f32 from EXP_MIN to 88.3, about 2.2 billion of them, is too many for a test;
        // every 97th bit pattern (odd, so it meets every last-bit residue) covers the range.
        let (mut worst, mut at) = (0.0f64, 0.0f32);
        for (lo, hi) in [(0.0f32, 88.3f32), (-0.0f32, EXP_MIN)] {
            let (a, b) = (lo.to_bits(), hi.to_bits());
            let mut bits = a;
            while bits <= b {
                let x = f32::from_bits(bits);
                let e = relative_error(x);
                if e > worst {
                    (worst, at) = (e, x);
                }
                bits += 97;
            }
        }
        assert!(
            worst <= MAX_RELATIVE_ERROR,
            "relative error {worst:e} at x = {at}"
        );
    }

    #[test]
    fn has_the_exponentials_landmarks() {
        assert_eq!(exp(0.0), 1.0);
        assert!((exp(1.0) - std::f32::consts::E).abs() <= f32::EPSILON * 3.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp(1000.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        // Far below the range: the value at its bottom, tiny and normal, not 0 or a NaN.
        let floor = exp(EXP_MIN);
        assert!(floor.is_normal() && floor < 2e-38, "{floor}");
        assert_eq!(exp(-1000.0), floor);
        assert_eq!(exp(f32::NEG_INFINITY), floor);
        // Whole multiples of ln 2 are powers of two, to within the rounding of n·ln 2 in f32.
        for n in [-100, -10, -1, 1, 10, 100] {
            let x = n as f32 * std::f32::consts::LN_2;
            assert!(relative_error(x) <= MAX_RELATIVE_ERROR, "x = {x}");
        }
    }
}
