//! Loading one bundle into a fresh runtime, as every bundle command does.

use crate::CliResult;
use polyplug::{ContractInfo, Error, ErrorKind, Handle, LoadedBundle, LogLevel, Runtime};
use std::path::{Path, PathBuf};

/// How the bundle commands set up their runtime: the global options.
pub(crate) struct Setup {
    /// Log records to stderr.
    pub(crate) verbose: bool,
    /// Loader libraries to add (`--loader`), in order.
    pub(crate) loaders: Vec<PathBuf>,
}

/// A runtime holding exactly one loaded bundle.
pub(crate) struct Loaded {
    pub(crate) rt: Runtime,
    pub(crate) bundle: LoadedBundle,
}

impl Loaded {
    /// The bundle's providers with their contracts, in registration order.
    pub(crate) fn providers(&self) -> CliResult<Vec<(Handle, ContractInfo)>> {
        self.bundle
            .providers
            .iter()
            .map(|&h| Ok((h, self.rt.contract(h)?)))
            .collect()
    }
}

/// A runtime with the native loader and every `--loader` library; with `verbose`, its log
/// records go to stderr.
pub(crate) fn runtime(setup: &Setup) -> CliResult<Runtime> {
    let builder = Runtime::builder();
    let builder = if setup.verbose {
        builder
            .max_log_level(LogLevel::Debug)
            .log_callback(|level, target, message| {
                eprintln!("polyplug: [{level:?}] {target}: {message}")
            })
    } else {
        builder
    };
    let rt = builder.build()?;
    for path in &setup.loaders {
        rt.add_loader_library(path)
            .map_err(|e| format!("--loader {}: {e}", path.display()))?;
    }
    Ok(rt)
}

/// A load failure as the user reads it: a bundle of a loader nobody registered says how to add
/// one.
pub(crate) fn explain(e: Error) -> String {
    match e.kind() {
        ErrorKind::UnknownLoader { .. } => {
            format!("{e} (add its loader library with --loader <PATH>)")
        }
        _ => e.to_string(),
    }
}

/// Loads the bundle in `dir` into a fresh runtime.
pub(crate) fn load(dir: &Path, setup: &Setup) -> CliResult<Loaded> {
    let rt = runtime(setup)?;
    let id = rt.load_bundle(dir).map_err(explain)?;
    let bundle = rt
        .bundles()
        .into_iter()
        .find(|b| b.id == id)
        .ok_or("the bundle vanished right after it was loaded")?;
    Ok(Loaded { rt, bundle })
}
