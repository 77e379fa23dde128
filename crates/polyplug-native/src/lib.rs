//! The native loader: bundles whose code is a C, C++ or Rust shared library.
//!
//! It is written only with the loader kit's public API (`polyplug-loader`), like any loader in
//! a library of its own; the runtime registers it by default and reaches it through its
//! vtable, exactly as it reaches a loader library. Loading checks, in order: the library exists
//! and is a complete ELF shared object; `dlopen` accepts it (immediate binding); it exports
//! `pp_plugin_abi_version` with our ABI major; it exports `pp_plugin_init`; init succeeds (its
//! registrations go straight to the runtime through the host table). Each failure is a status
//! and a message that names the file and what is wrong. A reload maps a fresh copy of the
//! library, so the code now on disk runs even at the same path.

#![deny(missing_docs)]

use polyplug_abi::{
    abi_major_of, HostApi, PluginFiniFn, PluginInitFn, Status, ABI_MAJOR, ABI_VERSION,
    PLUGIN_ABI_VERSION_SYMBOL, PLUGIN_FINI_SYMBOL, PLUGIN_INIT_SYMBOL,
};
use polyplug_loader::library::{self, Library};
use polyplug_loader::{LoadContext, LoadError, Loader, LoaderTable};

/// The native loader's name in `bundle.toml`.
pub const NAME: &str = "native";

/// The native loader.
#[derive(Debug, Default)]
pub struct NativeLoader;

/// The native loader's vtable.
pub fn table() -> LoaderTable {
    LoaderTable::new(NativeLoader)
}

/// A loaded native bundle: its library and its optional shutdown hook.
pub struct NativeBundle {
    fini: Option<PluginFiniFn>,
    host: *const HostApi,
    // Dropped last: closing the library unmaps the code `fini` points to.
    _library: Library,
}

// SAFETY: the host table is usable from any thread, and `fini` is called once, from whichever
// thread unloads the bundle (the ABI allows it).
unsafe impl Send for NativeBundle {}

impl NativeLoader {
    /// Maps the bundle's library (a fresh copy for a reload) and runs its init.
    fn open(&self, cx: &mut LoadContext<'_>, fresh: bool) -> Result<NativeBundle, LoadError> {
        let path = cx.entry();
        let lib = if fresh {
            library::open_fresh_copy(path)?
        } else {
            library::open(path)?
        };
        // SAFETY: the ABI declares this symbol as a `u32` static.
        let version: *const u32 =
            unsafe { library::symbol(&lib, path, PLUGIN_ABI_VERSION_SYMBOL) }?;
        // SAFETY: the symbol's address is a `u32` static inside the mapped library.
        let found = unsafe { version.read() };
        if abi_major_of(found) != ABI_MAJOR {
            return Err(LoadError::new(
                Status::AbiMismatch,
                format!(
                    "{} was built for ABI {found:#x}, but this runtime speaks ABI {ABI_VERSION:#x}",
                    path.display()
                ),
            ));
        }
        // SAFETY: the ABI declares this symbol with this signature.
        let init: PluginInitFn = unsafe { library::symbol(&lib, path, PLUGIN_INIT_SYMBOL) }?;
        // SAFETY: as above; the symbol is optional.
        let fini: Option<PluginFiniFn> =
            unsafe { library::symbol(&lib, path, PLUGIN_FINI_SYMBOL) }.ok();
        let raw = cx.raw();
        // SAFETY: the plugin's entry, called with the runtime's tables for this load.
        let status =
            Status::from_raw(unsafe { init(raw.host, raw.bundle, raw.registrar, raw.ctx) });
        if status == Status::Ok {
            return Ok(NativeBundle {
                fini,
                host: raw.host,
                _library: lib,
            });
        }
        // SAFETY: the runtime's context for this load; its arena holds what init left.
        let said = unsafe { raw.ctx.as_ref().and_then(|c| c.error_bytes()) }
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| status.description().to_string_lossy().into_owned());
        Err(match status {
            Status::Panic => LoadError::new(
                Status::Panic,
                format!("{PLUGIN_INIT_SYMBOL} panicked: {said}"),
            ),
            s => LoadError::new(
                Status::InitFailed,
                format!("{PLUGIN_INIT_SYMBOL} failed ({s:?}): {said}"),
            ),
        })
    }
}

impl Loader for NativeLoader {
    type Bundle = NativeBundle;

    fn name(&self) -> &str {
        NAME
    }

    fn file_kinds(&self) -> &str {
        "so,dylib,dll"
    }

    fn load(&self, cx: &mut LoadContext<'_>) -> Result<NativeBundle, LoadError> {
        self.open(cx, false)
    }

    /// Maps a fresh copy of the library; the old one is released (through `unload`) once no
    /// call is inside it.
    fn reload(
        &self,
        cx: &mut LoadContext<'_>,
        _old: &NativeBundle,
    ) -> Result<NativeBundle, LoadError> {
        self.open(cx, true)
    }

    fn unload(&self, bundle: NativeBundle) -> Result<(), LoadError> {
        if let Some(fini) = bundle.fini {
            // SAFETY: the plugin's shutdown hook, called once while its library is mapped.
            unsafe { fini(bundle.host) };
        }
        drop(bundle);
        Ok(())
    }
}
