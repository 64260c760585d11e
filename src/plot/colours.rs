//! Colours: the named colours of the pictures and the colour maps that turn a value into one.
//!
//! What it is: constants (ink, grid lines, the series' blue, orange and green, ...), colour maps
//! sampled at evenly spaced stops and interpolated (viridis, blue-white-red, blues, oranges), and
//! how a pixel or a weight becomes a colour. What it is not: drawing; nothing here touches a
//! canvas.

use plotters::prelude::*;

/// Text and axes.
pub(super) const INK: RGBColor = RGBColor(33, 37, 41);
/// Secondary text: subtitles, tick labels.
pub(super) const MUTED: RGBColor = RGBColor(108, 117, 125);
/// Grid lines and tile borders.
pub(super) const GRID: RGBColor = RGBColor(226, 230, 234);
/// Shaded bands behind a chart.
pub(super) const BAND: RGBColor = RGBColor(240, 242, 246);
/// The background around digit tiles.
pub(super) const PAPER: RGBColor = RGBColor(244, 245, 247);
/// The first series (tab:blue).
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
/// The second series and highlights (tab:orange).
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
/// Accuracy (tab:green).
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
/// A wrong answer.
pub(super) const WRONG: RGBColor = RGBColor(200, 30, 45);

/// Viridis (matplotlib's default colour map) at 0, 1/8, ..., 1: dark purple to yellow, in
/// evenly bright steps, readable in grey and by colour-blind readers.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// ColorBrewer RdBu reversed, from −1 (dark blue) through 0 (near white) to +1 (dark red).
const BLUE_WHITE_RED: [(u8, u8, u8); 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// ColorBrewer Blues, light to dark.
pub(super) const BLUES: [(u8, u8, u8); 9] = [
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
];

/// ColorBrewer Oranges, light to dark.
pub(super) const ORANGES: [(u8, u8, u8); 9] = [
    (255, 245, 235),
    (254, 230, 206),
    (253, 208, 162),
    (253, 174, 107),
    (253, 141, 60),
    (241, 105, 19),
    (217, 72, 1),
    (166, 54, 3),
    (127, 39, 4),
];

/// The colour at `t` in `0..=1` along evenly spaced `stops`, linearly interpolated.
pub(super) fn colour_map(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis at `t` in `0..=1`.
pub(super) fn viridis(t: f64) -> RGBColor {
    colour_map(&VIRIDIS, t)
}

/// Blue for negative, white for 0, red for positive: `t` in `−1..=1`, in 41 steps (the eye
/// sees no finer, and flat colour keeps the PNG small).
pub(super) fn diverging(t: f64) -> RGBColor {
    let t = (t.clamp(-1.0, 1.0) * 20.0).round() / 20.0;
    colour_map(&BLUE_WHITE_RED, (t + 1.0) / 2.0)
}

/// A pixel `0..=255` (0 = background, 255 = ink) as dark ink on white paper.
pub(super) fn ink(p: u8) -> RGBColor {
    let t = p as f64 / 255.0;
    let mix = |paper: f64, ink: f64| (paper + (ink - paper) * t).round() as u8;
    RGBColor(mix(255.0, 17.0), mix(255.0, 20.0), mix(255.0, 28.0))
}

/// Whether text on `c` should be white rather than dark (by the colour's perceived lightness).
pub(super) fn is_dark(c: RGBColor) -> bool {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2) < 150.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_maps_hit_their_end_stops_and_clamp() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(diverging(0.0), RGBColor(247, 247, 247));
        assert_eq!(diverging(-1.0), RGBColor(5, 48, 97));
        assert_eq!(ink(0), RGBColor(255, 255, 255));
    }
}
