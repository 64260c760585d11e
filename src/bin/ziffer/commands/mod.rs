//! One file per subcommand: arguments in, library calls, output out.

pub mod bench;
pub mod eval;
pub mod export;
pub mod info;
pub mod plot;
pub mod predict;
pub mod serve;
pub mod show;
pub mod sweep;
pub mod train;
