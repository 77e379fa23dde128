//! The `polyplug` command.
//!
//! `polyplug demo` loads a native plugin written in C as a bundle and calls it through the
//! runtime's paths: the cached interface, a runtime call that resolves every time, and a
//! plugin calling another plugin through the host API, with the measured cost of each.

mod demo;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Load plugins written in any language and call them through one stable C ABI.
#[derive(Parser)]
#[command(name = "polyplug", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the demo plugin and call it every way the runtime offers, with timings.
    Demo {
        /// Calls per measured path.
        #[arg(long, default_value_t = 1_000_000)]
        calls: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { calls } => demo::run(calls),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polyplug: {e}");
            ExitCode::FAILURE
        }
    }
}
