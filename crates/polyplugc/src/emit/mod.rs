//! The emitters: one module per language, each a [`Language`].
//!
//! An emitter is data-driven: it walks the contract model and asks its own small tables how to
//! spell each type, name and call in its language. Adding a language means adding a module
//! and a line in [`language`], nothing else.

pub mod c;
pub mod rust;

use polyplug_contract::CompiledContract;
use std::path::PathBuf;

/// One generated file, relative to the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output directory.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}

/// A target language.
pub trait Language {
    /// The name used on the command line (`rust`, `c`).
    fn name(&self) -> &'static str;
    /// The files for one contract.
    fn files(&self, contract: &CompiledContract) -> Vec<GeneratedFile>;
}

/// Every language `polyplugc` knows, by command-line name.
pub const LANGUAGES: &[&str] = &["rust", "c"];

/// The emitter for `name`, if known.
pub fn language(name: &str) -> Option<Box<dyn Language>> {
    match name {
        "rust" => Some(Box::new(rust::Rust)),
        "c" => Some(Box::new(c::C)),
        _ => None,
    }
}
