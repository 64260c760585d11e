//! Class names in pictures: whether they need a legend, the legend, and the check that there is
//! one name per class.
//!
//! What it is: what the confusion matrix and the grids of images share about `classes`. What it
//! is not: where names come from; that is [`crate::data::classes`].

use super::write::plot_error;
use crate::data::CLASSES;
use crate::error::Result;
use std::path::Path;

/// Whether `classes` are names other than the digits, which then need a legend.
pub(super) fn named(classes: &[String]) -> bool {
    !crate::data::classes::are_digits(classes)
}

/// `0 T-shirt/top · 1 Trouser · ...`: what the class numbers under a grid's images mean.
pub(super) fn legend(classes: &[String]) -> String {
    let entries: Vec<String> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| format!("{c} {name}"))
        .collect();
    entries.join(" · ")
}

/// Checks that there is one class name per class.
pub(super) fn check_class_names(classes: &[String], path: &Path) -> Result<()> {
    if classes.len() != CLASSES {
        return Err(plot_error(
            path,
            format!("{} class names for {CLASSES} classes", classes.len()),
        ));
    }
    Ok(())
}
