//! The learning rate `η` of each epoch: the schedule a training run follows.
//!
//! What it is: [`Schedule`], its text form (the same on the command line and in model files), and
//! each kind's formula in its function ([`stage_lr`], [`step_decay_lr`], [`exponential_lr`],
//! [`cosine_lr`]). What it
//! is not: the training loop ([`crate::train`]), which asks [`Schedule::lr_at`] once per epoch.

use crate::error::{Error, Result};
use crate::nn::optimizer::Optimizer;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The default learning-rate schedule: 3.0 for 20 epochs, then 0.3 for 5, then 0.03 for 3.
///
/// Chosen by measurement (see the README's results): the gradient of the squared error through an
/// output sigmoid is small (`σ' ≤ 0.25`), so this network needs rates 30 times the original's
/// 0.1/0.01/0.001 to learn in a few epochs.
pub const DEFAULT_SCHEDULE: &str = "3x25,0.3x5,0.03x3";

/// Epochs to train when the schedule is one open-ended rate and no count is given.
pub const DEFAULT_EPOCHS_FOR_ONE_RATE: usize = 10;

/// The default schedule for `optimizer`: [`DEFAULT_SCHEDULE`] for SGD; for momentum the same
/// stages at a tenth of the rate (with `μ = 0.9` a step is about `η/(1 − μ) = 10η`); for Adam,
/// its paper's 0.001, then a tenth, then a hundredth.
pub fn default_schedule(optimizer: Optimizer) -> Schedule {
    let text = match optimizer {
        Optimizer::Sgd => DEFAULT_SCHEDULE,
        Optimizer::Momentum { .. } => "0.3x25,0.03x5,0.003x3",
        Optimizer::Adam { .. } => "0.001x25,0.0001x5,0.00001x3",
    };
    text.parse().expect("the default schedules parse")
}

/// One stretch of a learning-rate schedule: rate `lr` for `epochs` epochs (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub lr: f32,
    pub epochs: Option<usize>,
}

/// The learning rate `η` for each epoch. Three kinds, each with its text form:
///
/// - stages, the original's: `"0.1"` is 0.1 throughout; `"0.1x3,0.01x3,0.001x2"` is 0.1 for
///   three epochs, then 0.01 for three, then 0.001 for two (and for any epoch after those);
/// - step decay: `"step:0.1x30,every=10,factor=0.5"` is `η = 0.1·0.5^⌊e/10⌋` for epochs
///   `e = 0..30`;
/// - exponential decay per epoch, Cireşan et al.'s (2010): `"exp:0.001x300,factor=0.97"` is
///   `η = 0.001·0.97^e`, and `"exp:0.001x300,factor=0.97,min=0.000001"` stops falling at `min`;
/// - cosine (Loshchilov and Hutter, 2017): `"cosine:0.1x30"` falls from 0.1 towards
///   `min` (default 0) along half a cosine over 30 epochs, `"cosine:0.1x30,min=0.001"`.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Stages(Vec<Stage>),
    Step {
        lr: f32,
        epochs: Option<usize>,
        every: usize,
        factor: f32,
    },
    Exponential {
        lr: f32,
        epochs: Option<usize>,
        factor: f32,
        min: f32,
    },
    Cosine {
        lr: f32,
        epochs: usize,
        min: f32,
    },
}

impl Schedule {
    /// One rate for every epoch.
    pub fn constant(lr: f32) -> Result<Self> {
        check_lr(lr, &lr.to_string())?;
        Ok(Schedule::Stages(vec![Stage { lr, epochs: None }]))
    }

    /// The rate for epoch `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f32 {
        match self {
            Schedule::Stages(stages) => stage_lr(stages, epoch),
            Schedule::Step {
                lr, every, factor, ..
            } => step_decay_lr(*lr, *factor, *every, epoch),
            Schedule::Exponential {
                lr, factor, min, ..
            } => exponential_lr(*lr, *factor, *min, epoch),
            Schedule::Cosine { lr, epochs, min } => cosine_lr(*lr, *min, *epochs, epoch),
        }
    }

    /// The number of epochs the schedule is written for, if it says.
    pub fn total_epochs(&self) -> Option<usize> {
        match self {
            // Saturating, for stages built by hand: parsed ones are checked to fit.
            Schedule::Stages(stages) => stages
                .iter()
                .try_fold(0usize, |total, s| Some(total.saturating_add(s.epochs?))),
            Schedule::Step { epochs, .. } | Schedule::Exponential { epochs, .. } => *epochs,
            Schedule::Cosine { epochs, .. } => Some(*epochs),
        }
    }
}

/// Stages: the rate of the stage `epoch` falls in; past the last stage, the last rate.
pub fn stage_lr(stages: &[Stage], epoch: usize) -> f32 {
    let mut start: usize = 0;
    for stage in stages {
        match stage.epochs {
            Some(n) if epoch >= start.saturating_add(n) => start = start.saturating_add(n),
            _ => return stage.lr,
        }
    }
    stages[stages.len() - 1].lr
}

/// Step decay: `η = η₀·γ^⌊e/k⌋`, the rate multiplied by `γ` every `k` epochs.
pub fn step_decay_lr(lr: f32, factor: f32, every: usize, epoch: usize) -> f32 {
    lr * factor.powi((epoch / every).min(i32::MAX as usize) as i32)
}

/// Exponential decay: `η = max(η_min, η₀·γ^e)`, the rate multiplied by `γ` after every epoch
/// until it reaches `η_min`. Cireşan et al. (2010, §3) start at `10⁻³` and multiply by 0.97 per
/// epoch down to `10⁻⁶`.
pub fn exponential_lr(lr: f32, factor: f32, min: f32, epoch: usize) -> f32 {
    let decayed = lr as f64 * (factor as f64).powf(epoch as f64);
    (decayed as f32).max(min)
}

/// Cosine annealing: `η = η_min + ½(η₀ − η_min)·(1 + cos(π·e/T))` for epoch `e` of `T`, so
/// `η₀` at the start, falling slowly, then fast, then slowly towards `η_min`; `η_min` after.
pub fn cosine_lr(lr: f32, min: f32, epochs: usize, epoch: usize) -> f32 {
    if epoch >= epochs {
        return min;
    }
    let progress = epoch as f64 / epochs as f64;
    (min as f64 + 0.5 * (lr - min) as f64 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
}

fn check_lr(lr: f32, text: &str) -> Result<()> {
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::config(
            "learning rate",
            format!("'{text}' must be a positive number such as 0.1"),
        ));
    }
    Ok(())
}

/// An error about the schedule `text`, with the forms it may take.
fn schedule_error(text: &str, why: String) -> Error {
    Error::config(
        "learning rate",
        format!(
            "{why} in '{text}'; write e.g. 0.1, 0.1x3,0.01x2, step:0.1x30,every=10,factor=0.5, \
             exp:0.001x300,factor=0.97,min=0.000001 or cosine:0.1x30"
        ),
    )
}

/// Parses `"0.1"` (no count) or `"0.1x3"`: a rate and, if `x` follows, a count of epochs.
fn parse_rate_and_epochs(part: &str, text: &str) -> Result<(f32, Option<usize>)> {
    let (lr_text, epochs_text) = match part.split_once(['x', 'X']) {
        Some((lr, epochs)) => (lr.trim(), Some(epochs.trim())),
        None => (part.trim(), None),
    };
    let lr: f32 = lr_text
        .parse()
        .map_err(|_| schedule_error(text, format!("'{lr_text}' is not a number")))?;
    check_lr(lr, lr_text)?;
    let epochs = match epochs_text {
        Some(e) => match e.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(schedule_error(
                    text,
                    format!("'{e}' must be a whole number of epochs, at least 1"),
                ));
            }
        },
        None => None,
    };
    Ok((lr, epochs))
}

/// Parses the `key=value` options after a step or cosine schedule's rate.
fn parse_options<'t>(
    options: &[&'t str],
    allowed: &[&str],
    text: &str,
) -> Result<Vec<(&'t str, f32)>> {
    options
        .iter()
        .map(|option| {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| schedule_error(text, format!("'{option}' should be key=value")))?;
            let key = key.trim();
            if !allowed.contains(&key) {
                return Err(schedule_error(
                    text,
                    format!("unknown option '{key}' (known: {})", allowed.join(", ")),
                ));
            }
            let value: f32 = value.trim().parse().map_err(|_| {
                schedule_error(text, format!("'{}' of {key} is not a number", value.trim()))
            })?;
            Ok((key, value))
        })
        .collect()
}

impl FromStr for Schedule {
    type Err = Error;

    /// Parses the text forms listed at [`Schedule`].
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("step:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let (lr, epochs) = parse_rate_and_epochs(parts[0], text)?;
            let (mut every, mut factor) = (None, 0.1f32);
            for (key, value) in parse_options(&parts[1..], &["every", "factor"], text)? {
                match key {
                    "every" if value >= 1.0 && value.fract() == 0.0 => every = Some(value as usize),
                    "every" => {
                        return Err(schedule_error(
                            text,
                            "every must be a whole number of epochs, at least 1".to_string(),
                        ));
                    }
                    _ if value > 0.0 && value <= 1.0 => factor = value,
                    _ => {
                        return Err(schedule_error(
                            text,
                            format!("factor {value} must be above 0 and at most 1"),
                        ));
                    }
                }
            }
            let every = every.ok_or_else(|| {
                schedule_error(text, "a step schedule needs every=N epochs".to_string())
            })?;
            return Ok(Schedule::Step {
                lr,
                epochs,
                every,
                factor,
            });
        }
        if let Some(rest) = text.strip_prefix("exp:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let (lr, epochs) = parse_rate_and_epochs(parts[0], text)?;
            let (mut factor, mut min) = (None, 0.0);
            for (key, value) in parse_options(&parts[1..], &["factor", "min"], text)? {
                match key {
                    "factor" if value > 0.0 && value < 1.0 => factor = Some(value),
                    "factor" => {
                        return Err(schedule_error(
                            text,
                            format!("factor {value} must be above 0 and below 1"),
                        ));
                    }
                    _ if value >= 0.0 && value < lr => min = value,
                    _ => {
                        return Err(schedule_error(
                            text,
                            format!("min {value} must be at least 0 and below the rate {lr}"),
                        ));
                    }
                }
            }
            let factor = factor.ok_or_else(|| {
                schedule_error(
                    text,
                    "an exponential schedule needs factor=F, the rate's multiplier per epoch"
                        .to_string(),
                )
            })?;
            return Ok(Schedule::Exponential {
                lr,
                epochs,
                factor,
                min,
            });
        }
        if let Some(rest) = text.strip_prefix("cosine:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let (lr, epochs) = parse_rate_and_epochs(parts[0], text)?;
            let epochs = epochs.ok_or_else(|| {
                schedule_error(
                    text,
                    "a cosine schedule needs its length, e.g. cosine:0.1x30".to_string(),
                )
            })?;
            let mut min = 0.0;
            for (_, value) in parse_options(&parts[1..], &["min"], text)? {
                if !(value >= 0.0 && value < lr) {
                    return Err(schedule_error(
                        text,
                        format!("min {value} must be at least 0 and below the rate {lr}"),
                    ));
                }
                min = value;
            }
            return Ok(Schedule::Cosine { lr, epochs, min });
        }
        if let Some((kind, _)) = text.split_once(':') {
            return Err(schedule_error(text, format!("unknown schedule '{kind}'")));
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let mut stages = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let (lr, epochs) = parse_rate_and_epochs(part, text)?;
            if epochs.is_none() && i + 1 < parts.len() {
                return Err(schedule_error(
                    text,
                    format!(
                        "stage '{part}' needs an epoch count (e.g. {part}x3); only the last may go without"
                    ),
                ));
            }
            stages.push(Stage { lr, epochs });
        }
        // The stages' epochs must add up to a count, so that `total_epochs` and `stage_lr`
        // (which adds them up as it goes) cannot overflow.
        if stages
            .iter()
            .try_fold(0usize, |total, s| total.checked_add(s.epochs.unwrap_or(0)))
            .is_none()
        {
            return Err(schedule_error(
                text,
                "the stages add up to more epochs than can be counted".to_string(),
            ));
        }
        Ok(Schedule::Stages(stages))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |epochs: Option<usize>| epochs.map(|n| format!("x{n}")).unwrap_or_default();
        match self {
            Schedule::Stages(stages) => {
                for (i, stage) in stages.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}{}", stage.lr, count(stage.epochs))?;
                }
                Ok(())
            }
            Schedule::Step {
                lr,
                epochs,
                every,
                factor,
            } => write!(
                f,
                "step:{lr}{},every={every},factor={factor}",
                count(*epochs)
            ),
            Schedule::Exponential {
                lr,
                epochs,
                factor,
                min,
            } => {
                write!(f, "exp:{lr}{},factor={factor}", count(*epochs))?;
                if *min > 0.0 {
                    write!(f, ",min={min}")?;
                }
                Ok(())
            }
            Schedule::Cosine { lr, epochs, min } => {
                write!(f, "cosine:{lr}x{epochs}")?;
                if *min > 0.0 {
                    write!(f, ",min={min}")?;
                }
                Ok(())
            }
        }
    }
}

serde_as_text!(Schedule);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_schedule_gives_each_epoch_its_rate() {
        let s: Schedule = "0.1x3,0.01x3,0.001x2".parse().unwrap();
        let rates: Vec<f32> = (0..10).map(|e| s.lr_at(e)).collect();
        assert_eq!(
            rates,
            [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001]
        );
        assert_eq!(s.total_epochs(), Some(8));
        assert_eq!(s.to_string(), "0.1x3,0.01x3,0.001x2");
    }

    #[test]
    fn stages_whose_epochs_add_up_past_the_largest_count_are_refused() {
        // Found by reading while writing the fuzz target: the sum and `start + n` overflowed
        // (a panic in debug builds, a wrong total in release ones).
        let text = format!("0.1x{},0.01x2", usize::MAX - 1);
        let err = text.parse::<Schedule>().unwrap_err().to_string();
        assert!(
            err.contains("add up to more epochs than can be counted"),
            "{err}"
        );
        let fits = format!("0.1x{},0.01x1", usize::MAX - 1);
        let s: Schedule = fits.parse().unwrap();
        assert_eq!(s.total_epochs(), Some(usize::MAX));
        assert_eq!(s.lr_at(usize::MAX - 1), 0.01);
    }

    #[test]
    fn a_single_rate_lasts_for_ever() {
        let s: Schedule = "0.5".parse().unwrap();
        assert_eq!(s.lr_at(1000), 0.5);
        assert_eq!(s.total_epochs(), None);
    }

    #[test]
    fn bad_schedules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("-1", "positive"),
            ("nan", "positive"),
            ("inf", "positive"),
            ("0", "positive"),
            ("abc", "not a number"),
            ("0.1x0", "at least 1"),
            ("0.1x", "whole number"),
            ("0.1,0.01x2", "needs an epoch count"),
            ("", "not a number"),
        ] {
            let err = text.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
        }
    }

    #[test]
    fn step_decay_multiplies_the_rate_every_k_epochs() {
        let s: Schedule = "step:0.1x30,every=10,factor=0.5".parse().unwrap();
        assert_eq!(
            [s.lr_at(0), s.lr_at(9), s.lr_at(10), s.lr_at(25)],
            [0.1, 0.1, 0.05, 0.025]
        );
        assert_eq!(s.total_epochs(), Some(30));
        assert_eq!(s.to_string(), "step:0.1x30,every=10,factor=0.5");
        let open: Schedule = "step:1,every=2".parse().unwrap();
        assert_eq!(open.total_epochs(), None);
        assert!((open.lr_at(2) - 0.1).abs() < 1e-7, "factor 0.1 by default");
    }

    #[test]
    fn cosine_falls_from_the_rate_to_the_minimum_along_half_a_cosine() {
        let s: Schedule = "cosine:0.1x10".parse().unwrap();
        assert_eq!(s.lr_at(0), 0.1);
        assert!((s.lr_at(5) - 0.05).abs() < 1e-7, "halfway is the mean");
        assert!(s.lr_at(9) > 0.0 && s.lr_at(9) < 0.003);
        assert_eq!(s.lr_at(10), 0.0);
        let rates: Vec<f32> = (0..10).map(|e| s.lr_at(e)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
        let with_min: Schedule = "cosine:0.1x10,min=0.001".parse().unwrap();
        assert_eq!(with_min.to_string(), "cosine:0.1x10,min=0.001");
        assert_eq!(with_min.lr_at(10), 0.001);
        assert_eq!(with_min.total_epochs(), Some(10));
    }

    #[test]
    fn exponential_decay_multiplies_the_rate_every_epoch_down_to_the_minimum() {
        let exp: Schedule = "exp:0.001x300,factor=0.97,min=0.000001".parse().unwrap();
        assert_eq!(exp.to_string(), "exp:0.001x300,factor=0.97,min=0.000001");
        assert_eq!(exp.total_epochs(), Some(300));
        assert_eq!(exp.lr_at(0), 0.001);
        assert!((exp.lr_at(1) - 0.00097).abs() < 1e-9);
        assert!((exp.lr_at(10) - 0.001 * 0.97f32.powi(10)).abs() < 1e-9);
        // 0.97^e falls below 10⁻³ after 227 epochs: from there on the rate is the minimum.
        assert!(exp.lr_at(226) > 0.000001);
        assert_eq!(exp.lr_at(227), 0.000001);
        assert_eq!(exp.lr_at(1_000_000), 0.000001);
        let open: Schedule = "exp:0.1,factor=0.5".parse().unwrap();
        assert_eq!(open.to_string(), "exp:0.1,factor=0.5");
        assert_eq!(open.total_epochs(), None);
        assert_eq!(open.lr_at(3), 0.0125);
        assert_eq!(open.lr_at(usize::MAX), 0.0);
    }

    #[test]
    fn bad_step_and_cosine_schedules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("step:0.1x30", "needs every=N"),
            ("step:0.1,every=0", "at least 1"),
            ("step:0.1,every=2.5", "whole number"),
            ("step:0.1,every=2,factor=2", "at most 1"),
            ("step:0.1,every=2,gamma=0.5", "unknown option 'gamma'"),
            ("step:0.1,every", "key=value"),
            ("cosine:0.1", "needs its length"),
            ("cosine:0.1x10,min=0.5", "below the rate"),
            ("cosine:-1x10", "positive"),
            ("linear:0.1x10", "unknown schedule 'linear'"),
            ("exp:0.001x300", "needs factor=F"),
            ("exp:0.001,factor=1", "below 1"),
            ("exp:0.001,factor=0", "above 0"),
            ("exp:0.001,factor=0.9,min=0.01", "below the rate"),
            ("exp:0.001,factor=0.9,every=2", "unknown option 'every'"),
            ("exp:0x10,factor=0.9", "positive"),
        ] {
            let err = text.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
        }
    }

    #[test]
    fn each_optimizer_has_a_default_schedule() {
        assert_eq!(
            default_schedule(Optimizer::Sgd).to_string(),
            DEFAULT_SCHEDULE
        );
        assert_eq!(default_schedule(Optimizer::ADAM).lr_at(0), 0.001);
        assert_eq!(default_schedule(Optimizer::ADAM).total_epochs(), Some(33));
    }
}
