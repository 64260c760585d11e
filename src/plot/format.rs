//! Numbers as text: counts with thousands separators and the labels of axis ticks.
//!
//! What it is: formatting shared by the pictures (and, for [`thousands`], by the command's
//! output). What it is not: where the ticks go; [`super::chart`] chooses them.

/// `1234567` as `1,234,567`: counts as people read them, in plots and in the command's output.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number as a tick label: as few decimals as a round value needs, and a true minus sign.
pub(super) fn tick_label(v: f64) -> String {
    let decimals = if v == 0.0 || v.abs() >= 1.0 {
        0
    } else {
        (-v.abs().log10().floor()) as usize
    };
    format!("{:.*}", decimals.min(6), v).replace('-', "−")
}

/// `v` with as many decimals as the tick step `step` needs.
pub(super) fn tick_label_step(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}").replace('-', "−")
}

/// `"s"` after a count other than one: `1 epoch`, `2 epochs`.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(109386), "109,386");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000000), "1,000,000");
    }

    #[test]
    fn tick_labels_are_short_and_use_a_true_minus() {
        assert_eq!(tick_label(-8.0), "−8");
        assert_eq!(tick_label(0.002), "0.002");
        assert_eq!(tick_label(0.05), "0.05");
        assert_eq!(tick_label(10.0), "10");
    }

    #[test]
    fn counts_other_than_one_take_a_plural() {
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
        assert_eq!(plural(2), "s");
    }
}
