//! C API: call contexts and calls.

use super::{fail, fail_with, guarded};
use crate::call::CallContext;
use crate::runtime::Runtime;
use polyplug_abi::{CallCtx, Handle, Status, Str};
use std::ffi::c_void;

/// Creates a call context (an arena for results plus an error slot). Use one per thread.
///
/// # Safety
/// `rt` null or live; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pp_context_new(rt: *const Runtime, out: *mut *mut CallContext) -> u32 {
    guarded(|| {
        // SAFETY: null or live.
        let Some(rt) = (unsafe { rt.as_ref() }) else {
            return fail_with(Status::NullPointer, "rt is NULL");
        };
        if out.is_null() {
            return fail_with(Status::NullPointer, "out is NULL");
        }
        match rt.call_context() {
            Ok(cx) => {
                // SAFETY: non-null, writable.
                unsafe { out.write(Box::into_raw(Box::new(cx))) };
                Status::Ok.raw()
            }
            Err(e) => fail(&e),
        }
    })
}

/// Frees a call context. NULL is a no-op.
///
/// # Safety
/// `cx` null or from `pp_context_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pp_context_free(cx: *mut CallContext) {
    if !cx.is_null() {
        // SAFETY: from `pp_context_new`, freed once.
        drop(unsafe { Box::from_raw(cx) });
    }
}

/// Resets the context's arena (invalidating earlier results) and returns the raw `pp_call_ctx`
/// to pass when calling an interface's functions directly. NULL for a NULL context.
///
/// # Safety
/// `cx` null or live.
#[no_mangle]
pub unsafe extern "C" fn pp_context_begin(cx: *mut CallContext) -> *mut CallCtx {
    // SAFETY: null or live.
    unsafe { cx.as_mut() }.map_or(std::ptr::null_mut(), CallContext::begin)
}

/// The error message the last call on this context left (empty view if none). The view lives
/// in the context's arena: valid until its next call or reset.
///
/// # Safety
/// `cx` null or live; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn pp_context_error(cx: *const CallContext, out: *mut Str) -> u32 {
    // SAFETY: null or live / writable.
    let (Some(cx), false) = (unsafe { cx.as_ref() }, out.is_null()) else {
        return fail_with(Status::NullPointer, "cx or out is NULL");
    };
    // SAFETY: `out` is writable.
    unsafe { out.write(cx.error_view()) };
    Status::Ok.raw()
}

/// Calls function `func` of the provider `handle` names, with the argument struct `args` and
/// the result struct `ret` laid out as the contract's C layout says. The context's arena is
/// reset first, so results of the previous call on `cx` become invalid. A failing provider's
/// status is returned; its message is in `pp_context_error(cx)` and `pp_errmsg()`.
///
/// This is the guarded path: the provider is pinned for the call, so a concurrent reload or
/// unload on another thread is safe (a handle gone stale returns `PP_STATUS_STALE_HANDLE`).
///
/// # Safety
/// `rt` null or live; `handle` null or valid; `args`/`ret` as the function requires; `cx` null
/// or live and not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn pp_call(
    rt: *const Runtime,
    handle: *const Handle,
    func: u32,
    args: *const c_void,
    ret: *mut c_void,
    cx: *mut CallContext,
) -> u32 {
    guarded(|| {
        // SAFETY: null or live / valid.
        let (Some(rt), Some(h), Some(cx)) =
            (unsafe { rt.as_ref() }, unsafe { handle.as_ref() }, unsafe {
                cx.as_mut()
            })
        else {
            return fail_with(Status::NullPointer, "rt, handle or cx is NULL");
        };
        // SAFETY: forwarded to the caller.
        match unsafe { rt.call(*h, func, args, ret, cx) } {
            Ok(()) => Status::Ok.raw(),
            Err(e) => fail(&e),
        }
    })
}

/// Opens a guarded section on the calling thread (sections nest). Inside it, an interface from
/// `pp_resolve` whose revision word (`pp_revision_load`) still equals the value seen at resolve
/// time stays callable until `pp_guard_exit`, even if another thread reloads or unloads its
/// bundle: the cheap guarded path. Do not load, unload or reload inside a section.
#[no_mangle]
pub extern "C" fn pp_guard_enter() {
    crate::guard::enter_raw();
}

/// Closes the innermost section opened by `pp_guard_enter` (an unpaired call is ignored).
#[no_mangle]
pub extern "C" fn pp_guard_exit() {
    crate::guard::exit_raw();
}
