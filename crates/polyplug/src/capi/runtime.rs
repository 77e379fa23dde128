//! C API: runtime creation, loaders and bundles.

use super::{c_str, fail, fail_with, guarded, non_null};
use crate::events::ReloadSink;
use crate::lifecycle::UnloadOptions;
use crate::log::Sink;
use crate::runtime::Runtime;
use polyplug_abi::{ext, HostApi, LoaderVtable, LogLevel, RuntimeConfig, Status};
use std::ffi::c_char;

/// Fills `cfg` with the defaults (and its `struct_size`). Zero in any field also means the
/// default, so `pp_runtime_config cfg = {sizeof cfg};` is equivalent.
///
/// # Safety
/// `cfg` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn pp_config_init(cfg: *mut RuntimeConfig) -> u32 {
    if cfg.is_null() {
        return fail_with(Status::NullPointer, "cfg is NULL");
    }
    let defaults = RuntimeConfig {
        struct_size: std::mem::size_of::<RuntimeConfig>() as u32,
        flags: 0,
        log_max_level: LogLevel::Info as u32,
        call_arena_size: polyplug_abi::CallArena::DEFAULT_PRIMARY as u32,
        log: None,
        log_user: std::ptr::null_mut(),
        log_user_free: None,
        reload_event: None,
        reload_user: std::ptr::null_mut(),
    };
    // SAFETY: checked non-null; writable as the caller guarantees.
    unsafe { cfg.write(defaults) };
    Status::Ok.raw()
}

/// Creates a runtime (with the native loader registered). `cfg` may be NULL for the defaults.
/// On success `*out` owns the runtime; free it with `pp_runtime_free`.
///
/// # Safety
/// `cfg` must be null or a config whose `struct_size` bytes are readable; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn pp_runtime_new(cfg: *const RuntimeConfig, out: *mut *mut Runtime) -> u32 {
    guarded(|| {
        if out.is_null() {
            return fail_with(Status::NullPointer, "out is NULL");
        }
        let mut b = Runtime::builder();
        if !cfg.is_null() {
            // SAFETY: the host's config, `struct_size` bytes readable.
            let c = match unsafe { ext::reconcile(cfg) } {
                Ok(c) => c,
                Err(e) => {
                    return fail_with(Status::AbiMismatch, &format!("pp_runtime_config: {e}"))
                }
            };
            let level = if c.flags & RuntimeConfig::FLAG_LOG_OFF != 0 {
                LogLevel::Off
            } else if c.log_max_level == 0 {
                LogLevel::Info
            } else {
                LogLevel::from_raw(c.log_max_level)
            };
            b = b
                .max_log_level(level)
                .hot_reload(c.flags & RuntimeConfig::FLAG_HOT_RELOAD != 0);
            if c.call_arena_size != 0 {
                b = b.call_arena_size(c.call_arena_size as usize);
            }
            if let Some(f) = c.reload_event {
                b = b.c_reload_sink(ReloadSink::C {
                    f,
                    user: c.reload_user,
                });
            }
            if let Some(f) = c.log {
                b = b.c_log_sink(Sink::C {
                    f,
                    user: c.log_user,
                    free: c.log_user_free,
                });
            }
        }
        match b.build() {
            Ok(rt) => {
                // SAFETY: checked non-null.
                unsafe { out.write(Box::into_raw(Box::new(rt))) };
                Status::Ok.raw()
            }
            Err(e) => fail(&e),
        }
    })
}

/// Destroys a runtime: unloads every bundle (newest first) and every loader. NULL is a no-op.
/// No other thread may be using the runtime.
///
/// # Safety
/// `rt` must be null or a runtime from `pp_runtime_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pp_runtime_free(rt: *mut Runtime) {
    if !rt.is_null() {
        guarded(|| {
            // SAFETY: a runtime from `pp_runtime_new`, freed once.
            drop(unsafe { Box::from_raw(rt) });
            0
        });
    }
}

/// The host API table plugins receive (valid while the runtime lives). NULL for a NULL runtime.
///
/// # Safety
/// `rt` must be null or a live runtime.
#[no_mangle]
pub unsafe extern "C" fn pp_runtime_host_api(rt: *const Runtime) -> *const HostApi {
    // SAFETY: null or live.
    unsafe { rt.as_ref() }.map_or(std::ptr::null(), Runtime::host_api)
}

/// Adds a loader by vtable. The runtime copies the table; its functions and `state` must stay
/// valid until the runtime is freed.
///
/// # Safety
/// `rt` null or live; `vtable` null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_add_loader(rt: *const Runtime, vtable: *const LoaderVtable) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        if let Err(code) = non_null(vtable, "vtable") {
            return code;
        }
        // SAFETY: the host vouches for the vtable's validity and lifetime.
        match unsafe { rt.add_loader(vtable) } {
            Ok(()) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}

/// Adds a loader from a shared library exporting `pp_loader_entry`.
///
/// # Safety
/// `rt` null or live; `path` null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pp_add_loader_library(rt: *const Runtime, path: *const c_char) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        // SAFETY: null or NUL-terminated.
        let path = match unsafe { c_str(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        match rt.add_loader_library(path) {
            Ok(()) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}

/// Loads the bundle in directory `dir`. On success writes its id to `out_id` (may be NULL).
/// On failure nothing stays loaded and `pp_errmsg()` says exactly why.
///
/// # Safety
/// `rt` null or live; `dir` null or NUL-terminated; `out_id` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pp_load_bundle(
    rt: *const Runtime,
    dir: *const c_char,
    out_id: *mut u64,
) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        // SAFETY: null or NUL-terminated.
        let dir = match unsafe { c_str(dir, "dir") } {
            Ok(d) => d,
            Err(code) => return code,
        };
        match rt.load_bundle(dir) {
            Ok(id) => {
                if !out_id.is_null() {
                    // SAFETY: non-null and writable.
                    unsafe { out_id.write(id) };
                }
                Status::Ok.raw()
            }
            Err(e) => fail(&e),
        }
    })
}

/// Number of loaded bundles (0 for a NULL runtime).
///
/// # Safety
/// `rt` null or live.
#[no_mangle]
pub unsafe extern "C" fn pp_bundle_count(rt: *const Runtime) -> usize {
    // SAFETY: null or live.
    unsafe { rt.as_ref() }.map_or(0, Runtime::bundle_count)
}

/// `pp_unload_bundle` flag: unload the bundles that depend on this one first.
pub const PP_UNLOAD_CASCADE: u32 = 1;

/// Unloads bundle `id`. Its handles go stale at once; the call returns after every guarded
/// call still running its code has returned and its library is closed. Bundles depending on it
/// make this fail with `PP_STATUS_BUSY` unless `flags` has `PP_UNLOAD_CASCADE`. Unknown flag
/// bits are refused. Must not be called from inside a guarded call (`PP_STATUS_BUSY`).
///
/// # Safety
/// `rt` null or live.
#[no_mangle]
pub unsafe extern "C" fn pp_unload_bundle(rt: *const Runtime, id: u64, flags: u32) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        if flags & !PP_UNLOAD_CASCADE != 0 {
            return fail_with(
                Status::InvalidArgument,
                &format!("unknown pp_unload_bundle flags {flags:#x}"),
            );
        }
        let opts = UnloadOptions {
            cascade: flags & PP_UNLOAD_CASCADE != 0,
        };
        match rt.unload_bundle_with(id, opts) {
            Ok(_) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}

/// Reloads bundle `id` from disk (the runtime must have been created with
/// `PP_CONFIG_FLAG_HOT_RELOAD`, else `PP_STATUS_UNSUPPORTED`). On failure the old version keeps
/// serving and `pp_errmsg()` says why.
///
/// # Safety
/// `rt` null or live.
#[no_mangle]
pub unsafe extern "C" fn pp_reload_bundle(rt: *const Runtime, id: u64) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        match rt.reload_bundle(id) {
            Ok(()) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}
