//! The C emitter (being written).

use super::{GeneratedFile, Language};
use polyplug_contract::CompiledContract;

/// C: a header per contract.
pub struct C;

impl Language for C {
    fn name(&self) -> &'static str {
        "c"
    }

    fn files(&self, _contract: &CompiledContract) -> Vec<GeneratedFile> {
        Vec::new()
    }
}
