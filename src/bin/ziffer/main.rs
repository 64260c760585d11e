//! The `ziffer` command: a thin layer over the library. Each subcommand turns its arguments into
//! library calls and decides what to show; no maths lives here.

mod cli;
mod commands;
mod data_args;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
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
        cli::Command::Predict(args) => commands::predict::run(args),
        cli::Command::Show(args) => commands::show::run(args),
        cli::Command::Plot(args) => commands::plot::run(args),
        cli::Command::Bench(args) => commands::bench::run(args),
        cli::Command::Serve(args) => commands::serve::run(args),
        cli::Command::Sweep(args) => commands::sweep::run(args),
    }
}
