//! The `ziffer` command: a thin layer over the library. Each subcommand turns its arguments into
//! library calls and decides what to show; no maths lives here.

mod args;
mod cli;
mod commands;
mod data_args;
mod interrupt;
mod live;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The server must outlive clients that hang up, so it keeps Rust's default.
    if !matches!(cli.command, cli::Command::Serve(_)) {
        restore_default_sigpipe();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // Not a failure: what was saved and how to resume, with the exit status that shells
        // give a program stopped by Ctrl-C (128 + SIGINT).
        Err(err) if matches!(err.downcast_ref(), Some(ziffer::Error::Interrupted { .. })) => {
            eprintln!("ziffer: {err}");
            ExitCode::from(130)
        }
        Err(err) => {
            output::print_error(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        cli::Command::Train(args) => commands::train::run(args),
        cli::Command::Eval(args) => commands::eval::run(args),
        cli::Command::Info(args) => commands::info::run(args),
        cli::Command::Export(args) => commands::export::run(args),
        cli::Command::Predict(args) => commands::predict::run(args),
        cli::Command::Show(args) => commands::show::run(args),
        cli::Command::Plot(args) => commands::plot::run(args),
        cli::Command::Bench(args) => commands::bench::run(args),
        cli::Command::Serve(args) => commands::serve::run(args),
        cli::Command::Sweep(args) => commands::sweep::run(args),
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`ziffer info | head -3`, once `head` has
/// exited) fails, and `println!` panics. Command-line tools instead end quietly when their reader
/// goes away: the default action of SIGPIPE, restored here.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's action to its default, before any other thread exists (clap
    // has parsed the arguments on this one thread).
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
