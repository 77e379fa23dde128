//! Loaders, reached only through their C vtable.
//!
//! The native loader (`polyplug-native`, built on the loader kit like any other loader) is
//! registered by default and called exactly like a loader from another library: the runtime
//! never sees a Rust trait object or a Rust type across the boundary, and a loader reports a
//! failure only as a status plus the message it left in the call context.

use crate::error::{Error, ErrorKind};
use polyplug_abi::{
    abi_major_of, ext, LoaderEntryFn, LoaderVtable, Status, ABI_MAJOR, ABI_VERSION,
    LOADER_ENTRY_SYMBOL,
};
use polyplug_loader::ffi::view_str;
use polyplug_loader::library::{self, Library};
use std::path::Path;

/// A registered loader: a reconciled copy of its vtable, and the library it came from.
pub(crate) struct LoaderEntry {
    pub(crate) name: String,
    pub(crate) vtable: LoaderVtable,
    // Declared last so it is dropped after `Drop::drop` called `destroy`.
    _library: Option<Library>,
}

// SAFETY: loaders promise their vtable functions and state are usable from any thread
// (docs/ABI.md); the copy is immutable.
unsafe impl Send for LoaderEntry {}
// SAFETY: as above.
unsafe impl Sync for LoaderEntry {}

impl LoaderEntry {
    /// Validates a loader's vtable. On failure the table is not destroyed: it still belongs to
    /// whoever passed it.
    ///
    /// # Safety
    /// `vtable` must be null or valid, and its functions and state must stay valid while the
    /// entry (and `library`, which keeps them mapped) lives.
    pub(crate) unsafe fn new(
        vtable: *const LoaderVtable,
        library: Option<Library>,
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

    /// Opens a loader library and asks its entry symbol for a vtable, which it hands over: a
    /// table the runtime refuses is destroyed here, before the library closes.
    pub(crate) fn from_library(path: &Path) -> Result<LoaderEntry, Error> {
        let lib = library::open(path).map_err(ErrorKind::LoaderLibrary)?;
        // SAFETY: the ABI declares this symbol with this signature.
        let entry: LoaderEntryFn = unsafe { library::symbol(&lib, path, LOADER_ENTRY_SYMBOL) }
            .map_err(ErrorKind::LoaderLibrary)?;
        let mut vt: *const LoaderVtable = std::ptr::null();
        // SAFETY: calling the loader's entry point with a valid out-pointer.
        let status = Status::from_raw(unsafe { entry(&mut vt) });
        if status != Status::Ok || vt.is_null() {
            return Err(ErrorKind::LoaderFailed {
                loader: path.display().to_string(),
                bundle: String::new(),
                status: if status == Status::Ok {
                    Status::NullPointer
                } else {
                    status
                },
                message: format!("`{LOADER_ENTRY_SYMBOL}` gave no loader"),
            }
            .into());
        }
        // SAFETY: the vtable lives in the library, which the entry keeps open.
        match unsafe { LoaderEntry::new(vt, None) } {
            Ok(mut entry) => {
                entry._library = Some(lib);
                Ok(entry)
            }
            Err(e) => {
                // The entry handed us this table: release it while its code is mapped.
                // SAFETY: a non-null table from the loader's entry, read only if its size
                // covers the fields (the validation failed, so trust nothing else).
                unsafe { destroy_refused(vt) };
                Err(e)
            }
        }
    }

    /// Gives the table back without destroying it (a host's refused table stays the host's).
    pub(crate) fn disown(mut self) {
        self.vtable.destroy = None;
    }
}

/// Calls `destroy` of a table that failed validation, when its size says it has the field.
///
/// # Safety
/// `vt` must be non-null and readable for its `struct_size` bytes.
unsafe fn destroy_refused(vt: *const LoaderVtable) {
    let end = std::mem::offset_of!(LoaderVtable, destroy) + std::mem::size_of::<usize>();
    // SAFETY: the caller's promise; `struct_size` is the first field of every table.
    let size = unsafe { (*vt).struct_size } as usize;
    if size >= end {
        // SAFETY: the field is within the table.
        if let Some(destroy) = unsafe { (*vt).destroy } {
            // SAFETY: the loader's own destructor for the state it handed out.
            unsafe { destroy((*vt).state) };
        }
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
