//! Loaders, reached only through their C vtable.
//!
//! The native loader (in [`native`]) is built into the runtime but is called exactly like a
//! loader from another library: the runtime never sees a Rust trait object across the boundary.

pub(crate) mod elf;
pub(crate) mod native;

use crate::contract::view_str;
use crate::error::{Error, ErrorKind};
use polyplug_abi::{
    abi_major_of, ext, LoaderEntryFn, LoaderVtable, Status, ABI_MAJOR, ABI_VERSION,
    LOADER_ENTRY_SYMBOL,
};
use std::path::Path;

/// A registered loader: a reconciled copy of its vtable, and the library it came from.
pub(crate) struct LoaderEntry {
    pub(crate) name: String,
    pub(crate) vtable: LoaderVtable,
    // Declared last so it is dropped after `Drop::drop` called `destroy`.
    _library: Option<libloading::Library>,
}

// SAFETY: loaders promise their vtable functions and state are usable from any thread
// (docs/ABI.md); the copy is immutable.
unsafe impl Send for LoaderEntry {}
// SAFETY: as above.
unsafe impl Sync for LoaderEntry {}

impl LoaderEntry {
    /// Validates a loader's vtable.
    ///
    /// # Safety
    /// `vtable` must be null or valid, and its functions and state must stay valid while the
    /// entry (and `library`, which keeps them mapped) lives.
    pub(crate) unsafe fn new(
        vtable: *const LoaderVtable,
        library: Option<libloading::Library>,
    ) -> Result<LoaderEntry, Error> {
        let bad = |name: &str, reason: String| ErrorKind::InvalidTable {
            name: name.to_owned(),
            table: "loader vtable",
            reason,
        };
        // SAFETY: forwarded to the caller.
        let vt = unsafe { ext::reconcile(vtable) }.map_err(|e| bad("<loader>", e.to_string()))?;
        // SAFETY: the loader's name view is valid while the loader lives.
        let name = unsafe { view_str(&vt.name) }
            .map_err(|e| bad("<loader>", e))?
            .to_owned();
        if name.is_empty() {
            return Err(bad("<loader>", "the loader name is empty".into()).into());
        }
        if abi_major_of(vt.abi_version) != ABI_MAJOR {
            return Err(ErrorKind::AbiMismatch {
                name,
                found: vt.abi_version,
                expected: ABI_VERSION,
            }
            .into());
        }
        if vt.load.is_none() || vt.unload.is_none() {
            return Err(bad(&name, "`load` and `unload` are required".into()).into());
        }
        Ok(LoaderEntry {
            name,
            vtable: vt,
            _library: library,
        })
    }

    /// Opens a loader library and asks its entry symbol for the vtable.
    pub(crate) fn from_library(path: &Path) -> Result<LoaderEntry, Error> {
        let who = path.display().to_string();
        native::check_library(&who, path)?;
        let lib = native::open(&who, path)?;
        // SAFETY: the symbol is declared by the ABI with this signature.
        let entry =
            unsafe { lib.get::<LoaderEntryFn>(LOADER_ENTRY_SYMBOL.as_bytes()) }.map_err(|_| {
                ErrorKind::MissingSymbol {
                    bundle: who.clone(),
                    path: path.to_owned(),
                    symbol: LOADER_ENTRY_SYMBOL,
                }
            })?;
        let mut vt: *const LoaderVtable = std::ptr::null();
        // SAFETY: calling the loader's entry point with a valid out-pointer.
        let status = Status::from_raw(unsafe { entry(&mut vt) });
        if status != Status::Ok {
            return Err(ErrorKind::LoaderFailed {
                loader: who,
                bundle: String::new(),
                status,
                message: "loader entry failed".into(),
            }
            .into());
        }
        // SAFETY: the vtable lives in the library, which the entry keeps open.
        unsafe { LoaderEntry::new(vt, Some(lib)) }
    }
}

impl Drop for LoaderEntry {
    fn drop(&mut self) {
        if let Some(destroy) = self.vtable.destroy {
            // SAFETY: every bundle of this loader was unloaded (bundles hold the entry alive).
            unsafe { destroy(self.vtable.state) };
        }
    }
}
