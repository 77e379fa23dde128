//! Build-script helpers: generate Rust glue for a WIT contract into `OUT_DIR` and tell cargo
//! when to run the build script again.
//!
//! ```ignore
//! // build.rs of a plugin (with `polyplugc` as a build dependency):
//! fn main() {
//!     polyplugc::build::rust_guest("wit/geometry.wit");
//! }
//! // src/lib.rs:
//! mod geometry {
//!     polyplug_guest::include_contract!("test_shapes_geometry");
//! }
//! ```
//!
//! Files land in `$OUT_DIR/polyplug/` and are rewritten only when their content changes. The
//! helpers print `cargo:rerun-if-changed` for the WIT file (or every `.wit` file of a WIT
//! directory, and the directory itself). Errors panic with the file, line and column: a build
//! script has no better way to report them.

use crate::emit::rust::{guest_file, host_file};
use crate::emit::GeneratedFile;
use crate::{load_contracts, write_files, Written};
use polyplug_contract::CompiledContract;
use std::path::{Path, PathBuf};

/// Generates the guest glue (`<stem>_guest.rs`) of every contract in `wit`.
pub fn rust_guest(wit: impl AsRef<Path>) -> Vec<Written> {
    generate(wit.as_ref(), &[guest_file])
}

/// Generates the typed host caller (`<stem>_host.rs`) of every contract in `wit`.
pub fn rust_host(wit: impl AsRef<Path>) -> Vec<Written> {
    generate(wit.as_ref(), &[host_file])
}

/// Generates both Rust files of every contract in `wit`.
pub fn rust(wit: impl AsRef<Path>) -> Vec<Written> {
    generate(wit.as_ref(), &[guest_file, host_file])
}

/// The directory the helpers write into: `$OUT_DIR/polyplug`.
pub fn out_dir() -> PathBuf {
    let out = std::env::var_os("OUT_DIR")
        .expect("polyplugc::build runs in a build script, where cargo sets OUT_DIR");
    PathBuf::from(out).join("polyplug")
}

fn generate(wit: &Path, emitters: &[fn(&CompiledContract) -> GeneratedFile]) -> Vec<Written> {
    rerun_if_changed(wit);
    let contracts = load_contracts(wit).unwrap_or_else(|e| panic!("polyplugc: {e}"));
    let files: Vec<GeneratedFile> = contracts
        .iter()
        .flat_map(|c| emitters.iter().map(move |emit| emit(c)))
        .collect();
    write_files(&out_dir(), &files).unwrap_or_else(|e| panic!("polyplugc: {e}"))
}

fn rerun_if_changed(wit: &Path) {
    println!("cargo:rerun-if-changed={}", wit.display());
    if let Ok(entries) = std::fs::read_dir(wit) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wit"))
            .collect();
        files.sort();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
        }
    }
}
