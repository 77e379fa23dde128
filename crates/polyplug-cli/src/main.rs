//! The `polyplug` command.
//!
//! ```text
//! polyplug inspect <bundle-dir>                               what a bundle is and provides, in WIT
//! polyplug call <bundle-dir> <contract> <function> [<json>]   call any function with JSON arguments
//! polyplug check <bundle-dir>                                 bundle.toml, WIT and library agree
//! polyplug demo [--calls N] [--output FILE]                   the log pipeline: C and Rust plugins filter a log
//! polyplug new --lang rust|c <dir>                            a new plugin, its contract and its test
//!
//! global options:
//!   -v, --verbose        print the runtime's log records to stderr
//!   --loader <PATH>      add the loader library at PATH (one exporting `pp_loader_entry`)
//!                        before the bundle loads; repeatable (inspect, call, check)
//! ```
//!
//! Each command loads the bundle into a fresh runtime of its own, with the built-in native
//! loader and every `--loader` library (e.g. `polyplug --loader libmy_loader.so call ...` for a
//! bundle whose `loader` is the one that library provides). Failures are one line on
//! stderr, `polyplug: error: ...`, and a non-zero exit status (2 for a command line that does
//! not parse); `check` prints one such line per problem it finds. A panic inside the command is
//! caught and reported the same way, never as a backtrace.

mod call;
mod check;
mod demo;
mod inspect;
mod load;
mod new;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Load plugins written in any language and call them through one stable C ABI.
#[derive(Parser)]
#[command(name = "polyplug", version, about)]
struct Cli {
    /// Print the runtime's log records (loads, unloads, warnings) to stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Add the loader library at PATH (it exports `pp_loader_entry`) before the bundle loads,
    /// for bundles of the loader it provides. Repeatable; for inspect, call and check.
    #[arg(long = "loader", value_name = "PATH", global = true)]
    loaders: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a bundle's manifest and the WIT of every contract it provides.
    Inspect {
        /// The bundle directory (with `bundle.toml`).
        bundle: PathBuf,
    },
    /// Call a function of a contract a bundle provides, with JSON arguments; prints the result
    /// as JSON.
    Call {
        /// The bundle directory (with `bundle.toml`).
        bundle: PathBuf,
        /// The contract: `namespace:package/interface`, optionally with `@version`.
        contract: String,
        /// The function's name.
        function: String,
        /// The arguments: a JSON array in parameter order, or an object keyed by parameter
        /// name. Defaults to `[]`.
        #[arg(default_value = "[]")]
        args: String,
    },
    /// Check a bundle: its bundle.toml, its WIT against `provides`, and what its library
    /// registers against the WIT. Reports every problem.
    Check {
        /// The bundle directory (with `bundle.toml`).
        bundle: PathBuf,
    },
    /// Run the log pipeline (examples/log-pipeline): four plugins in C and Rust filter a sample
    /// log, one is hot-reloaded mid-stream; then every call path is timed.
    Demo {
        /// Calls per measured call path (0 skips them).
        #[arg(long, default_value_t = 1_000_000)]
        calls: u32,
        /// Also write every output line of the pipeline to this file.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Create a plugin that builds and passes its test: a provider of a starter contract, its WIT,
    /// bundle.toml and a test that loads the bundle and calls it.
    New {
        /// The plugin's language.
        #[arg(long, value_enum)]
        lang: new::Lang,
        /// The directory to create (absent or empty); its last component is the plugin's name,
        /// in lowercase kebab-case (`my-plugin`).
        dir: PathBuf,
        /// The polyplug checkout the plugin builds against [default: the one this polyplug was
        /// built from].
        #[arg(long, value_name = "DIR")]
        polyplug_path: Option<PathBuf>,
    },
    /// Panics on purpose: the tests' way to check that a panic is one line, not a backtrace.
    #[command(hide = true, name = "internal-panic-test")]
    PanicTest,
}

/// What a command failed with: shown as one line.
pub(crate) type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A message on one line: inner line breaks become `; `.
pub(crate) fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

pub(crate) fn error_line(message: &str) {
    eprintln!("polyplug: error: {}", one_line(message));
}

fn run(cli: Cli) -> CliResult<ExitCode> {
    let setup = load::Setup {
        verbose: cli.verbose,
        loaders: cli.loaders,
    };
    if !setup.loaders.is_empty()
        && matches!(cli.command, Command::Demo { .. } | Command::New { .. })
    {
        return Err("--loader applies to inspect, call and check only".into());
    }
    match cli.command {
        Command::Inspect { bundle } => inspect::run(&bundle, &setup).map(|()| ExitCode::SUCCESS),
        Command::Call {
            bundle,
            contract,
            function,
            args,
        } => call::run(&bundle, &contract, &function, &args, &setup).map(|()| ExitCode::SUCCESS),
        Command::Check { bundle } => check::run(&bundle, &setup),
        Command::Demo { calls, output } => {
            demo::run(calls, output.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        Command::New {
            lang,
            dir,
            polyplug_path,
        } => new::run(lang, &dir, polyplug_path.as_deref()).map(|()| ExitCode::SUCCESS),
        Command::PanicTest => panic!("panic requested\nover two lines"),
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, which turns a closed stdout (`polyplug demo | head`) into a panic
    // in `println!`; a command-line tool should just stop, as `cat` does.
    #[cfg(unix)]
    // SAFETY: resetting a signal to its default disposition at start-up, before any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A panic is a bug in polyplug or a plugin: one line, no backtrace.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown panic");
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        error_line(&format!("internal error{place}: {message}"));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message up to its usage block, on one line.
            let text = e.to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            error_line(&format!("{message} (see `polyplug --help`)"));
            return ExitCode::from(2);
        }
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            error_line(&e.to_string());
            ExitCode::FAILURE
        }
        // The hook has reported it.
        Err(_) => ExitCode::FAILURE,
    }
}
