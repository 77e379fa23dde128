//! The `polyplugc` command: `polyplugc --lang rust --out gen/ contracts/`.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generates typed callers and guest glue from WIT contracts.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Target language (rust, c).
    #[arg(long)]
    lang: String,
    /// Output directory.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// A `.wit` file or a directory of them.
    wit: PathBuf,
    /// Print every file, including unchanged ones.
    #[arg(long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match polyplugc::generate(&args.wit, &args.lang, &args.out) {
        Ok(written) => {
            for w in written.iter().filter(|w| w.changed || args.verbose) {
                let what = if w.changed { "wrote" } else { "unchanged" };
                println!("{what} {}", w.path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("polyplugc: {e}");
            ExitCode::FAILURE
        }
    }
}
