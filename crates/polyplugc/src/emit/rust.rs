//! The Rust emitter (being written).

use super::{GeneratedFile, Language};
use polyplug_contract::CompiledContract;

/// Rust: a module per contract.
pub struct Rust;

impl Language for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn files(&self, _contract: &CompiledContract) -> Vec<GeneratedFile> {
        Vec::new()
    }
}
