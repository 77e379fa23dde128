//! The native loader: bundles whose code is a C, C++ or Rust shared library.
//!
//! Loading checks, in order: the file exists; it is a complete ELF shared object; `dlopen`
//! accepts it; it exports `pp_plugin_abi_version` with our ABI major; it exports
//! `pp_plugin_init`; init succeeds. Each failure has its own [`Error`] variant.

use super::elf;
use crate::contract::view_str;
use crate::error::{Error, ErrorKind};
use crate::ffi;
use crate::host_api::Transaction;
use polyplug_abi::{
    abi_major_of, BundleInfo, CallCtx, HostApi, LoaderVtable, PluginFiniFn, PluginInitFn,
    Registrar, Status, Str, ABI_MAJOR, ABI_VERSION, PLUGIN_ABI_VERSION_SYMBOL, PLUGIN_FINI_SYMBOL,
    PLUGIN_INIT_SYMBOL,
};
use std::ffi::c_void;
use std::path::{Path, PathBuf};

/// The native loader's name in `bundle.toml`.
pub const NAME: &str = "native";

/// The native loader's vtable. It has no state.
pub(crate) fn vtable() -> LoaderVtable {
    LoaderVtable {
        struct_size: std::mem::size_of::<LoaderVtable>() as u32,
        abi_version: ABI_VERSION,
        name: Str::new(NAME),
        file_kinds: Str::new("so,dylib,dll"),
        state: std::ptr::null_mut(),
        load: Some(native_load),
        unload: Some(native_unload),
        destroy: None,
        reload: Some(native_reload),
    }
}

/// A loaded native bundle: its library and its optional shutdown hook.
struct NativeBundle {
    fini: Option<PluginFiniFn>,
    host: *const HostApi,
    // Dropped last: closing the library unmaps the code `fini` points to.
    _library: libloading::Library,
}

/// Checks that `path` is a complete shared library before anything maps it.
pub(crate) fn check_library(bundle: &str, path: &Path) -> Result<(), Error> {
    if !path.is_file() {
        return Err(ErrorKind::LibraryNotFound {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
        }
        .into());
    }
    #[cfg(target_os = "linux")]
    match elf::check(path) {
        Ok(()) => {}
        Err(elf::Problem::NotLibrary(reason)) => {
            return Err(ErrorKind::NotSharedLibrary {
                bundle: bundle.to_owned(),
                path: path.to_owned(),
                reason,
            }
            .into())
        }
        Err(elf::Problem::Truncated(reason)) => {
            return Err(ErrorKind::TruncatedLibrary {
                bundle: bundle.to_owned(),
                path: path.to_owned(),
                reason,
            }
            .into())
        }
    }
    Ok(())
}

/// `dlopen`s a library with immediate binding, so a missing dependency fails here and not
/// in the middle of a call.
pub(crate) fn open(bundle: &str, path: &Path) -> Result<libloading::Library, Error> {
    let failed = |e: libloading::Error| -> Error {
        ErrorKind::LibraryLoad {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            message: e.to_string(),
        }
        .into()
    };
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: loading a library runs its constructors; that is what loading a native
        // plugin means, and the file was checked to be a complete shared object.
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
            .map(Into::into)
            .map_err(failed)
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        unsafe { libloading::Library::new(path) }.map_err(failed)
    }
}

/// Maps a private copy of the library, so a reload gets the code now on disk even when the
/// path is the one already loaded (`dlopen` would hand back the mapped image by name). The copy
/// has a unique name (a stale image `dlclose` could not unload never matches it) and is
/// unlinked as soon as it is mapped: nothing is left behind, even after a crash. It goes to a
/// memory-backed directory when there is one, since creating and unlinking a file on a
/// journaled disk costs more than the rest of a reload.
fn open_fresh_copy(bundle: &str, path: &Path) -> Result<libloading::Library, Error> {
    let mut last = None;
    for dir in reload_dirs() {
        match open_copy_in(bundle, path, &dir) {
            Ok(lib) => return Ok(lib),
            // A memory-backed directory may be mounted `noexec`; the next one may work.
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        ErrorKind::LibraryLoad {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            message: "no directory to copy it to for reloading".into(),
        }
        .into()
    }))
}

fn open_copy_in(bundle: &str, path: &Path, dir: &Path) -> Result<libloading::Library, Error> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let copy = dir.join(format!(
        "polyplug-{}-{}-{file}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::copy(path, &copy).map_err(|e| ErrorKind::LibraryLoad {
        bundle: bundle.to_owned(),
        path: path.to_owned(),
        message: format!("cannot copy it to {} for reloading: {e}", copy.display()),
    })?;
    let opened = open(bundle, &copy).map_err(|e| match e.into_kind() {
        ErrorKind::LibraryLoad { message, .. } => ErrorKind::LibraryLoad {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            message,
        }
        .into(),
        other => other.into(),
    });
    let _ = std::fs::remove_file(&copy);
    opened
}

/// Where reload copies go, in order of preference: `POLYPLUG_RELOAD_DIR` if set; else
/// `/dev/shm` (tmpfs, on Linux) when it is a writable directory, then the system's temporary
/// directory.
fn reload_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("POLYPLUG_RELOAD_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = Vec::with_capacity(2);
    let shm = Path::new("/dev/shm");
    if cfg!(target_os = "linux")
        && std::fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly())
    {
        dirs.push(shm.to_owned());
    }
    dirs.push(std::env::temp_dir());
    dirs
}

/// The message a failed init left in its context, or the status's description.
fn init_message(ctx: &CallCtx, status: Status) -> String {
    // SAFETY: the arena the message lives in belongs to the runtime and was not reset.
    match unsafe { ctx.error_bytes() } {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => status.description().to_string_lossy().into_owned(),
    }
}

/// # Safety
/// All pointers are the runtime's own, valid for the call.
unsafe fn load(
    host: *const HostApi,
    info: &BundleInfo,
    reg: *mut Registrar,
    ctx: *mut CallCtx,
    fresh: bool,
) -> Result<NativeBundle, Error> {
    // SAFETY: the runtime built `info` from strings it owns.
    let (name, entry) = unsafe { (view_str(&info.name), view_str(&info.entry)) };
    let name = name.map_err(ErrorKind::InvalidArgument)?.to_owned();
    let path = PathBuf::from(entry.map_err(ErrorKind::InvalidArgument)?);
    check_library(&name, &path)?;
    let library = if fresh {
        open_fresh_copy(&name, &path)?
    } else {
        open(&name, &path)?
    };
    let missing = |symbol: &'static str| ErrorKind::MissingSymbol {
        bundle: name.clone(),
        path: path.clone(),
        symbol,
    };
    // SAFETY: the ABI declares this symbol as a `u32` static.
    let version = unsafe { library.get::<*const u32>(PLUGIN_ABI_VERSION_SYMBOL.as_bytes()) }
        .map_err(|_| missing(PLUGIN_ABI_VERSION_SYMBOL))?;
    // SAFETY: the symbol's address is a `u32` static inside the mapped library.
    let found = unsafe { version.read() };
    if abi_major_of(found) != ABI_MAJOR {
        return Err(ErrorKind::AbiMismatch {
            name,
            found,
            expected: ABI_VERSION,
        }
        .into());
    }
    // SAFETY: the ABI declares this symbol with this signature.
    let init = *unsafe { library.get::<PluginInitFn>(PLUGIN_INIT_SYMBOL.as_bytes()) }
        .map_err(|_| missing(PLUGIN_INIT_SYMBOL))?;
    // SAFETY: as above; the symbol is optional.
    let fini = unsafe { library.get::<PluginFiniFn>(PLUGIN_FINI_SYMBOL.as_bytes()) }
        .ok()
        .map(|s| *s);
    // SAFETY: the plugin's entry, called with the runtime's valid tables.
    let status = Status::from_raw(unsafe { init(host, info, reg, ctx) });
    // SAFETY: `ctx` is the runtime's context for this load.
    let ctx = unsafe { &*ctx };
    match status {
        Status::Ok => Ok(NativeBundle {
            fini,
            host,
            _library: library,
        }),
        Status::Panic => Err(ErrorKind::InitPanicked {
            bundle: name,
            message: init_message(ctx, status),
        }
        .into()),
        s => Err(ErrorKind::InitFailed {
            bundle: name,
            status: s,
            message: init_message(ctx, s),
        }
        .into()),
    }
}

unsafe extern "C" fn native_load(
    _state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: forwarded from the runtime.
    unsafe { load_entry(host, bundle, reg, out_bundle, ctx, false) }
}

/// A reload maps a fresh copy of the library; the old bundle state is released by the
/// runtime (through `unload`) once no call is inside it.
unsafe extern "C" fn native_reload(
    _state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    _old_bundle: *mut c_void,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: forwarded from the runtime.
    unsafe { load_entry(host, bundle, reg, out_bundle, ctx, true) }
}

/// # Safety
/// The runtime's pointers for one load (null ones are refused).
unsafe fn load_entry(
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
    fresh: bool,
) -> u32 {
    if host.is_null() || bundle.is_null() || out_bundle.is_null() || ctx.is_null() {
        return Status::NullPointer.raw();
    }
    ffi::guard(
        || {
            // SAFETY: the runtime passes its own valid pointers (checked non-null above).
            match unsafe { load(host, &*bundle, reg, ctx, fresh) } {
                Ok(b) => {
                    // SAFETY: checked non-null.
                    unsafe { out_bundle.write(Box::into_raw(Box::new(b)) as *mut c_void) };
                    Status::Ok.raw()
                }
                Err(e) => {
                    let message = e.to_string();
                    // SAFETY: the runtime's context for this load.
                    unsafe { (*ctx).set_error(message.as_bytes()) };
                    // The runtime's own transaction keeps the typed error for the Rust API.
                    // SAFETY: a registrar from the runtime (checked by its magic).
                    match unsafe { Transaction::from_registrar(reg) } {
                        Some(txn) => txn.fail(e),
                        None => e.status().raw(),
                    }
                }
            }
        },
        |_| {},
    )
}

unsafe extern "C" fn native_unload(_state: *mut c_void, bundle: *mut c_void) -> u32 {
    if bundle.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: `bundle` is the pointer `native_load` produced, handed back exactly once.
    let b = unsafe { Box::from_raw(bundle as *mut NativeBundle) };
    if let Some(fini) = b.fini {
        // SAFETY: the plugin's shutdown hook, called once while its library is still mapped.
        unsafe { fini(b.host) };
    }
    drop(b);
    Status::Ok.raw()
}
