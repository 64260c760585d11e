//! What several test modules share: data sets and images the tests make themselves, and a
//! `ziffer serve` child process with a small HTTP client.

pub mod mnist_folder;
pub mod server;
pub mod user_style;
