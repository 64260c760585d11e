//! The text form of [`Augment`]: the presets `none`, `affine`, `elastic` and `ciresan`, the list
//! such as `shift=2,rotate=10,scale=0.1,elastic=10/4` (and `stretch=0.15/0.2`, `crop=2`,
//! `erase=0.5`, `flip`, `mixup=0.2`) parsed with its checks (every number finite and 0 or more,
//! the scale and stretches below 1, the erasing probability at most 1, the mixup `α` at most 10,
//! `σ` at most 100 and above 0 when `α` is, no key twice), and `Display`, which writes the same text back; a model file stores an
//! `Augment` as that text.
//!
//! What it is not: what the numbers do to an image; that is `warp.rs`, `elastic.rs` and
//! `erase.rs`.

use super::Augment;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

impl Augment {
    /// No augmentation: every image as it is.
    pub const NONE: Augment = Augment {
        shift: 0.0,
        rotate_degrees: 0.0,
        scale: 0.0,
        elastic_alpha: 0.0,
        elastic_sigma: 0.0,
        stretch_x: 0.0,
        stretch_y: 0.0,
        flip: false,
        crop: 0,
        erase: 0.0,
        mixup: 0.0,
    };

    /// The preset `affine`: `shift=2,rotate=10,scale=0.1`.
    ///
    /// Moves of up to 2 pixels, turns of up to 10° and sizes ±10%: about the spread among MNIST's
    /// own writers (its digits are centred by centre of mass, so the shift also covers that
    /// centring's error), and small enough that a 6 stays a 6 and a 1 does not become a 7.
    pub const AFFINE: Augment = Augment {
        shift: 2.0,
        rotate_degrees: 10.0,
        scale: 0.1,
        ..Augment::NONE
    };

    /// The preset `elastic`: [`Augment::AFFINE`] plus `elastic=10/4` (`α = 10`, `σ = 4`).
    ///
    /// Simard et al. used `σ = 4`, `α = 34`, with the elastic distortion *on its own*. With
    /// `σ = 4` the field's standard deviation is `α · 0.0409` pixels per axis (the test
    /// `the_elastic_field_has_the_documented_size` checks it), so their `α = 34` moves the ink by
    /// 1.4 pixels on average, about as far as this whole affine preset does. Drawn on MNIST
    /// digits with one field at growing strength, strokes keep a natural look up to `α` of about
    /// 20 to 24; at 34, round loops turn pointed and straight strokes bend. Here the elastic part
    /// comes on top of the affine one, for a small fully connected network trained for a few
    /// dozen epochs, which has less capacity to spare for invariances than networks trained for
    /// hundreds; so about half that ceiling: `α = 10` moves the ink by 0.41 pixels on average and
    /// one part of a digit against a distant other by about 0.6, a quarter of a stroke's width.
    /// The change of shape is visible, the movement small beside the affine part's. `σ = 4` is
    /// Simard's: smaller and the field turns to noise that roughens strokes, larger and it
    /// becomes one more affine map. A starting point, to be tuned on real runs.
    pub const ELASTIC: Augment = Augment {
        elastic_alpha: 10.0,
        elastic_sigma: 4.0,
        ..Augment::AFFINE
    };

    /// The preset `ciresan`: `rotate=15,stretch=0.15,elastic=36/6`, the deformations of Cireşan,
    /// Meier, Gambardella and Schmidhuber, "Deep, big, simple neural nets for handwritten digit
    /// recognition" (Neural Computation 22(12), 2010; arXiv:1003.0358), §2.
    ///
    /// They deform every training digit afresh in every epoch with an elastic distortion
    /// (Simard's, with `σ` from 5.0 to 6.0 and `α` from 36.0 to 38.0), a rotation of up to
    /// `β` = 7.5° to 15.0° and separate horizontal and vertical scalings `γ_x`, `γ_y` of up to
    /// 15% to 20%, the exact values depending on the network. This preset takes `σ = 6`, `α = 36`
    /// (ziffer's field is Simard's: a uniform field in `(−1, 1)` smoothed by a normalised
    /// Gaussian, times `α`, so the same numbers mean the same displacements: about 0.98 pixels
    /// per axis on average), `β = 15°` and 15% each way. They use no shift: MNIST's digits are
    /// centred, and the elastic field moves them by a pixel or so anyway. Much stronger than
    /// [`Augment::ELASTIC`]: made for big networks trained for hundreds of epochs.
    pub const CIRESAN: Augment = Augment {
        rotate_degrees: 15.0,
        elastic_alpha: 36.0,
        elastic_sigma: 6.0,
        stretch_x: 0.15,
        stretch_y: 0.15,
        ..Augment::NONE
    };
}

/// The widest smoothing `σ` that parses, in pixels: the kernel and the buffers grow with it.
const MAX_SIGMA: f32 = 100.0;

/// The largest shift, in pixels: half of MNIST's 28, past which a digit leaves its image.
pub const MAX_SHIFT: f32 = 14.0;

/// The largest rotation, in degrees: beyond ±180° the same angles come round again.
pub const MAX_ROTATION: f32 = 180.0;

/// The largest mixup `α`: Beta(α, α) is already close to ½ everywhere at 10 (standard deviation
/// 0.11), and the paper's gains come from 0.1 to 0.4.
pub const MAX_MIXUP: f32 = 10.0;

/// A valid example, for error messages.
const EXAMPLE: &str = "none, affine, elastic, ciresan, or a list such as \
     shift=2,rotate=10,scale=0.1,elastic=10/4 (also stretch=0.15/0.2, crop=2, erase=0.5, \
     mixup=0.2 and flip)";

impl FromStr for Augment {
    type Err = Error;

    /// Parses `none`, the presets `affine` ([`Augment::AFFINE`]), `elastic`
    /// ([`Augment::ELASTIC`]) and `ciresan` ([`Augment::CIRESAN`]), or a comma-separated list of
    /// any of `shift=PIXELS`, `rotate=DEGREES`, `scale=FRACTION`, `elastic=ALPHA/SIGMA`,
    /// `stretch=FRACTION` (the same range for width and height, drawn separately) or
    /// `stretch=X/Y`, `crop=PIXELS` (whole-pixel shifts, a whole number), `erase=PROBABILITY`
    /// (random erasing, from 0 to 1), `mixup=ALPHA` (mixup's `Beta(α, α)`, at most
    /// [`MAX_MIXUP`]) and `flip` (mirror left to right), each at most once; what
    /// is not given is 0 (no flip). For example `shift=2,elastic=10/4` or `crop=2,flip`.
    fn from_str(text: &str) -> Result<Self> {
        let bad = |message: String| Error::config("augment", message);
        match text.trim() {
            "none" => return Ok(Augment::NONE),
            "affine" => return Ok(Augment::AFFINE),
            "elastic" => return Ok(Augment::ELASTIC),
            "ciresan" => return Ok(Augment::CIRESAN),
            "" => return Err(bad(format!("the text is empty; write {EXAMPLE}"))),
            _ => {}
        }
        let mut augment = Augment::NONE;
        let mut seen: Vec<&str> = Vec::new();
        for piece in text.split(',').map(str::trim) {
            if piece == "flip" {
                if augment.flip {
                    return Err(bad(format!("'flip' is given twice in '{text}'")));
                }
                augment.flip = true;
                continue;
            }
            let Some((key, value)) = piece.split_once('=') else {
                return Err(bad(format!(
                    "'{piece}' in '{text}' is neither a preset nor key=value; write {EXAMPLE}"
                )));
            };
            let key = key.trim();
            if seen.contains(&key) {
                return Err(bad(format!("'{key}' is given twice in '{text}'")));
            }
            let number = |value: &str, what: &str| -> Result<f32> {
                let value = value.trim();
                match value.parse::<f32>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    Ok(_) => Err(bad(format!(
                        "{what} '{value}' in '{piece}' must be a finite number, 0 or more; write {EXAMPLE}"
                    ))),
                    Err(_) => Err(bad(format!(
                        "{what} '{value}' in '{piece}' is not a number; write {EXAMPLE}"
                    ))),
                }
            };
            match key {
                "shift" => {
                    augment.shift = number(value, "the shift")?;
                    if augment.shift > MAX_SHIFT {
                        return Err(bad(format!(
                            "the shift in '{piece}' must be from 0 to {MAX_SHIFT} pixels (half a \
                             28-pixel image; more moves the digit out of it); write e.g. shift=2"
                        )));
                    }
                }
                "rotate" => {
                    augment.rotate_degrees = number(value, "the rotation")?;
                    if augment.rotate_degrees > MAX_ROTATION {
                        return Err(bad(format!(
                            "the rotation in '{piece}' must be from 0 to {MAX_ROTATION} degrees \
                             (the angle is drawn from ±rotate); write e.g. rotate=10"
                        )));
                    }
                }
                "scale" => {
                    augment.scale = number(value, "the scale")?;
                    if augment.scale >= 1.0 {
                        return Err(bad(format!(
                            "the scale in '{piece}' must be below 1, as the factor ranges over \
                             1 ± scale; write e.g. scale=0.1 for ±10%"
                        )));
                    }
                }
                "crop" => {
                    augment.crop = match value.trim().parse::<u32>() {
                        Ok(c) if c as f32 <= MAX_SHIFT => c,
                        _ => {
                            return Err(bad(format!(
                                "the crop in '{piece}' must be a whole number of pixels from 0 \
                                 to {MAX_SHIFT}; write e.g. crop=2"
                            )));
                        }
                    };
                }
                "erase" => {
                    augment.erase = number(value, "the erasing probability")?;
                    if augment.erase > 1.0 {
                        return Err(bad(format!(
                            "the erasing probability in '{piece}' must be from 0 to 1 (the \
                             chance that an image gets a rectangle of noise); write e.g. erase=0.5"
                        )));
                    }
                }
                "mixup" => {
                    augment.mixup = number(value, "the mixup α")?;
                    if augment.mixup > MAX_MIXUP {
                        return Err(bad(format!(
                            "the mixup α in '{piece}' must be from 0 to {MAX_MIXUP} (λ is drawn \
                             from Beta(α, α); the paper uses 0.1 to 0.4); write e.g. mixup=0.2"
                        )));
                    }
                }
                "stretch" => {
                    let (x, y) = value.split_once('/').unwrap_or((value, value));
                    augment.stretch_x = number(x, "the horizontal stretch")?;
                    augment.stretch_y = number(y, "the vertical stretch")?;
                    if augment.stretch_x >= 1.0 || augment.stretch_y >= 1.0 {
                        return Err(bad(format!(
                            "the stretches in '{piece}' must be below 1, as each factor ranges \
                             over 1 ± stretch; write e.g. stretch=0.15 or stretch=0.15/0.2"
                        )));
                    }
                }
                "elastic" => {
                    let Some((alpha, sigma)) = value.split_once('/') else {
                        return Err(bad(format!(
                            "'{piece}' needs a strength and a smoothing, ALPHA/SIGMA in pixels, \
                             such as elastic=10/4"
                        )));
                    };
                    augment.elastic_alpha = number(alpha, "the elastic strength α")?;
                    augment.elastic_sigma = number(sigma, "the elastic smoothing σ")?;
                    if augment.elastic_sigma > MAX_SIGMA {
                        return Err(bad(format!(
                            "the elastic smoothing σ in '{piece}' must be at most {MAX_SIGMA} \
                             pixels (a wider field is one more shift); write e.g. elastic=10/4"
                        )));
                    }
                    if augment.elastic_alpha > 0.0 && augment.elastic_sigma == 0.0 {
                        return Err(bad(format!(
                            "the elastic smoothing σ in '{piece}' must be above 0, or every pixel \
                             moves on its own; write e.g. elastic=10/4"
                        )));
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "unknown key '{key}' in '{text}'; the keys are shift, rotate, scale, \
                         elastic, stretch, crop, erase and mixup (and flip, alone); write \
                         {EXAMPLE}"
                    )));
                }
            }
            seen.push(key);
        }
        Ok(augment)
    }
}

impl fmt::Display for Augment {
    /// `none`, or the explicit list of what is not 0 (`shift=2,rotate=10,scale=0.1,elastic=10/4`),
    /// which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Augment::NONE {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if self.shift != 0.0 {
            parts.push(format!("shift={}", self.shift));
        }
        if self.rotate_degrees != 0.0 {
            parts.push(format!("rotate={}", self.rotate_degrees));
        }
        if self.scale != 0.0 {
            parts.push(format!("scale={}", self.scale));
        }
        if self.elastic_alpha != 0.0 || self.elastic_sigma != 0.0 {
            parts.push(format!(
                "elastic={}/{}",
                self.elastic_alpha, self.elastic_sigma
            ));
        }
        if self.stretch_x == self.stretch_y && self.stretch_x != 0.0 {
            parts.push(format!("stretch={}", self.stretch_x));
        } else if self.stretch_x != self.stretch_y {
            parts.push(format!("stretch={}/{}", self.stretch_x, self.stretch_y));
        }
        if self.crop != 0 {
            parts.push(format!("crop={}", self.crop));
        }
        if self.erase != 0.0 {
            parts.push(format!("erase={}", self.erase));
        }
        if self.mixup != 0.0 {
            parts.push(format!("mixup={}", self.mixup));
        }
        if self.flip {
            parts.push("flip".to_string());
        }
        f.write_str(&parts.join(","))
    }
}

serde_as_text!(Augment);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_lists_parse() {
        assert_eq!("none".parse::<Augment>().unwrap(), Augment::NONE);
        assert_eq!(" affine ".parse::<Augment>().unwrap(), Augment::AFFINE);
        assert_eq!("elastic".parse::<Augment>().unwrap(), Augment::ELASTIC);
        assert_eq!("ciresan".parse::<Augment>().unwrap(), Augment::CIRESAN);
        let ciresan: Augment = "rotate=15,stretch=0.15/0.15,elastic=36/6".parse().unwrap();
        assert_eq!(ciresan, Augment::CIRESAN);
        let clothes: Augment = "shift=2,flip".parse().unwrap();
        assert!(clothes.flip && clothes.shift == 2.0 && clothes.stretch_x == 0.0);
        assert!(!clothes.is_none());
        assert!(!"flip".parse::<Augment>().unwrap().is_none());
        let list: Augment = "shift=2, rotate=10,scale=0.1,elastic=10/4".parse().unwrap();
        assert_eq!(list, Augment::ELASTIC);
        let some: Augment = "rotate=15".parse().unwrap();
        assert_eq!(
            some,
            Augment {
                rotate_degrees: 15.0,
                ..Augment::NONE
            }
        );
    }

    #[test]
    fn text_round_trips() {
        for text in [
            "none",
            "shift=2,rotate=10,scale=0.1",
            "shift=2,rotate=10,scale=0.1,elastic=10/4",
            "shift=0.5,elastic=8/3.5",
            "shift=1.5",
            "elastic=34/4",
            "elastic=0/4",
            "rotate=15,elastic=36/6,stretch=0.15",
            "stretch=0.1/0.2",
            "stretch=0/0.2",
            "shift=2,flip",
            "flip",
            "crop=2,flip",
            "rotate=5,crop=1",
            "erase=0.5",
            "crop=1,erase=0.25,flip",
            "mixup=0.2",
            "erase=0.5,mixup=0.4,flip",
        ] {
            let augment: Augment = text.parse().unwrap();
            assert_eq!(augment.to_string(), text);
        }
        assert_eq!(Augment::AFFINE.to_string(), "shift=2,rotate=10,scale=0.1");
        assert_eq!(
            Augment::CIRESAN.to_string(),
            "rotate=15,elastic=36/6,stretch=0.15"
        );
        let json = serde_json::to_string(&Augment::ELASTIC).unwrap();
        assert_eq!(json, "\"shift=2,rotate=10,scale=0.1,elastic=10/4\"");
        assert_eq!(
            serde_json::from_str::<Augment>(&json).unwrap(),
            Augment::ELASTIC
        );
        assert!(serde_json::from_str::<Augment>("\"shift=-1\"").is_err());
    }

    #[test]
    fn bad_text_is_refused_with_the_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("affinee", "neither a preset nor key=value"),
            ("shift", "neither a preset nor key=value"),
            ("shift=2,tilt=3", "unknown key 'tilt'"),
            ("shift=-1", "0 or more"),
            ("rotate=nan", "finite"),
            ("rotate=inf", "finite"),
            ("shift=two", "'two' in 'shift=two' is not a number"),
            ("scale=1", "below 1"),
            ("shift=100", "from 0 to 14 pixels"),
            ("rotate=181", "from 0 to 180 degrees"),
            ("elastic=8", "ALPHA/SIGMA"),
            ("elastic=8/0", "σ in 'elastic=8/0' must be above 0"),
            ("elastic=x/4", "α 'x'"),
            ("elastic=10/1000", "at most 100 pixels"),
            ("shift=1,shift=2", "given twice"),
            ("shift=1,", "neither a preset nor key=value"),
            ("stretch=1", "below 1"),
            ("stretch=0.1/1.5", "below 1"),
            ("stretch=0.1/x", "the vertical stretch 'x'"),
            ("flip,flip", "'flip' is given twice"),
            ("flip=1", "unknown key 'flip'"),
            ("crop=1.5", "whole number of pixels"),
            ("crop=15", "from 0 to 14"),
            ("crop=-1", "whole number"),
            ("erase=1.5", "from 0 to 1"),
            ("erase=-0.5", "0 or more"),
            ("erase=x", "the erasing probability 'x'"),
            ("mixup=11", "from 0 to 10"),
            ("mixup=-0.2", "0 or more"),
            ("mixup=a", "the mixup α 'a'"),
            ("mixup=0.2,mixup=0.3", "given twice"),
        ] {
            let err = text.parse::<Augment>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
            assert!(err.starts_with("invalid augment: "), "'{text}': {err}");
        }
        let err = "tilt=3".parse::<Augment>().unwrap_err().to_string();
        assert!(
            err.contains("shift=2,rotate=10,scale=0.1,elastic=10/4"),
            "{err}"
        );
    }
}
