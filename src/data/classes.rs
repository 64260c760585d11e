//! The names of a data set's classes: what eval, predict and the plots call each output.
//!
//! What it is: the names of MNIST's and Fashion-MNIST's ten classes, and the reading of a
//! `classes.txt` file (one name per line, in class order) that names any other data set's.
//! What it is not: the labels themselves, which stay class numbers `0..C` everywhere; names are
//! only for people.

use super::CLASSES;
use crate::error::{Error, Result};
use std::path::Path;

/// The file, next to a data set's images, that names its classes.
pub const CLASS_FILE: &str = "classes.txt";

/// Fashion-MNIST's classes (Xiao, Rasul and Vollgraf, 2017), label 0 to 9.
pub const FASHION: [&str; CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The longest class name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// The digits `"0"` to `"9"`: MNIST's classes.
pub fn digits() -> Vec<String> {
    (0..CLASSES).map(|c| c.to_string()).collect()
}

/// Fashion-MNIST's class names.
pub fn fashion() -> Vec<String> {
    FASHION.iter().map(|s| s.to_string()).collect()
}

/// Whether `names` are the digits, which need no legend.
pub fn are_digits(names: &[String]) -> bool {
    names == digits()
}

/// Checks names for a network with `outputs` classes: one per class, each non-empty, at most
/// [`MAX_NAME_CHARS`] long, printable and on one line, no two the same.
pub fn check(names: &[String], outputs: usize) -> Result<()> {
    let bad = |message: String| Error::config("class names", message);
    if names.len() != outputs {
        return Err(bad(format!(
            "the network has {outputs} outputs, but there are {} class names ({}); the last \
             layer needs one neuron per class",
            names.len(),
            names.join(", ")
        )));
    }
    for (c, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(bad(format!("class {c} has an empty name")));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(bad(format!(
                "class {c}'s name is longer than {MAX_NAME_CHARS} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(bad(format!("class {c}'s name has a control character")));
        }
        if let Some(other) = names[..c].iter().position(|n| n == name) {
            return Err(bad(format!(
                "classes {other} and {c} are both named '{name}'"
            )));
        }
    }
    Ok(())
}

/// Reads a class file: one name per line, class 0 first, surrounding spaces trimmed, blank lines
/// at the end ignored. Errors name the file and the line at fault.
pub fn read_class_file(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading the class names", e))?;
    let names: Vec<String> = text
        .trim_end()
        .lines()
        .map(|line| line.trim().to_string())
        .collect();
    check(&names, CLASSES).map_err(|e| {
        Error::config(
            "class names",
            format!(
                "{}: {e} (the file needs {CLASSES} lines, one name per class, class 0 first)",
                path.display()
            ),
        )
    })?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_fashion_have_ten_distinct_names() {
        check(&digits(), CLASSES).unwrap();
        check(&fashion(), CLASSES).unwrap();
        assert!(are_digits(&digits()));
        assert!(!are_digits(&fashion()));
        assert_eq!(fashion()[9], "Ankle boot");
    }

    #[test]
    fn bad_name_lists_are_refused_with_the_reason() {
        let mut names = digits();
        names[3] = " ".into();
        assert!(
            check(&names, 10)
                .unwrap_err()
                .to_string()
                .contains("class 3")
        );
        names[3] = "1".into();
        assert!(
            check(&names, 10)
                .unwrap_err()
                .to_string()
                .contains("both named")
        );
        assert!(
            check(&digits(), 9)
                .unwrap_err()
                .to_string()
                .contains("has 9 outputs")
        );
        names[3] = "a\nb".into();
        assert!(
            check(&names, 10)
                .unwrap_err()
                .to_string()
                .contains("control")
        );
    }

    #[test]
    fn a_class_file_is_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CLASS_FILE);
        std::fs::write(&path, FASHION.join("\n") + "\n\n").unwrap();
        assert_eq!(read_class_file(&path).unwrap(), fashion());
        std::fs::write(&path, "a\nb\n").unwrap();
        let err = read_class_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("classes.txt") && err.contains("2 class names"),
            "{err}"
        );
    }
}
