//! Loading one bundle into a fresh runtime, as every bundle command does.

use crate::CliResult;
use polyplug::{ContractInfo, Handle, LoadedBundle, LogLevel, Runtime};
use std::path::Path;

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

/// A runtime with the native loader; with `verbose`, its log records go to stderr.
pub(crate) fn runtime(verbose: bool) -> CliResult<Runtime> {
    let builder = Runtime::builder();
    let builder = if verbose {
        builder
            .max_log_level(LogLevel::Debug)
            .log_callback(|level, target, message| {
                eprintln!("polyplug: [{level:?}] {target}: {message}")
            })
    } else {
        builder
    };
    Ok(builder.build()?)
}

/// Loads the bundle in `dir` into a fresh runtime.
pub(crate) fn load(dir: &Path, verbose: bool) -> CliResult<Loaded> {
    let rt = runtime(verbose)?;
    let id = rt.load_bundle(dir)?;
    let bundle = rt
        .bundles()
        .into_iter()
        .find(|b| b.id == id)
        .ok_or("the bundle vanished right after it was loaded")?;
    Ok(Loaded { rt, bundle })
}
