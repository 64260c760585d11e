//! What several test modules share: data sets and images the tests make themselves.

pub mod mnist_folder;
pub mod user_style;
