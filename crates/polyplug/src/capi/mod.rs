//! The C API: `pp_*` functions over the Rust runtime, declared in `include/polyplug.h`
//! (generated from this module by cbindgen; a test fails when the checked-in header is stale).
//!
//! Conventions, as in SQLite's API:
//! * Objects are opaque handles with one constructor and one destructor; destroying NULL is a
//!   no-op.
//! * Every fallible function returns a `pp_status` code (`uint32_t`); results go through
//!   out-parameters, which are left untouched on failure.
//! * `pp_errmsg()` returns the message of the most recent failed `pp_*` call **on the calling
//!   thread** (thread-local, so it never races), valid until that thread's next failed call.
//!   `pp_errstr(code)` describes any code without a call.
//! * Null or invalid arguments return `PP_STATUS_NULL_POINTER` / `PP_STATUS_INVALID_ARGUMENT`;
//!   a panic inside the runtime returns `PP_STATUS_PANIC`. Nothing unwinds into C.

mod call;
mod registry;
mod runtime;

pub use call::*;
pub use registry::*;
pub use runtime::*;

use crate::error::Error;
use crate::ffi;
use polyplug_abi::{Status, Version, ABI_VERSION};
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error and returns `status`.
pub(crate) fn fail_with(status: Status, message: &str) -> u32 {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|m| *m.borrow_mut() = c);
    status.raw()
}

/// Records an error's message and returns its status.
pub(crate) fn fail(e: &Error) -> u32 {
    fail_with(e.status(), &e.to_string())
}

/// Runs a C API body: a panic becomes `Panic` with its message recorded.
#[inline]
pub(crate) fn guarded(f: impl FnOnce() -> u32) -> u32 {
    ffi::guard(f, |m: &str| {
        fail_with(Status::Panic, &format!("panic inside polyplug: {m}"));
    })
}

/// A C string argument as UTF-8, or the status to return.
///
/// # Safety
/// `s` must be null or a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(s: *const c_char, what: &str) -> Result<&'a str, u32> {
    if s.is_null() {
        return Err(fail_with(Status::NullPointer, &format!("{what} is NULL")));
    }
    // SAFETY: non-null and NUL-terminated, as the caller guarantees.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| fail_with(Status::InvalidArgument, &format!("{what} is not UTF-8")))
}

/// A required pointer argument, or `NullPointer` with a message naming it.
pub(crate) fn non_null<T>(p: *const T, what: &str) -> Result<*const T, u32> {
    if p.is_null() {
        Err(fail_with(Status::NullPointer, &format!("{what} is NULL")))
    } else {
        Ok(p)
    }
}

/// The ABI version of this library (`major << 16 | minor`); compare with `PP_ABI_VERSION`.
#[no_mangle]
pub extern "C" fn pp_abi_version() -> u32 {
    ABI_VERSION
}

/// A static description of a status code (never NULL; unknown codes get a generic text).
#[no_mangle]
pub extern "C" fn pp_errstr(code: u32) -> *const c_char {
    Status::from_raw(code).description().as_ptr()
}

/// The message of the most recent failed `pp_*` call on this thread ("" if none). Owned by the
/// library; valid until this thread's next failed call.
#[no_mangle]
pub extern "C" fn pp_errmsg() -> *const c_char {
    // The CString's buffer stays put until the next `fail_with` on this thread replaces it.
    LAST_ERROR.with(|m| m.borrow().as_ptr())
}

/// True when a provider of version `have` satisfies a request for at least `want`
/// (same major, and minor.patch not older). Null arguments give false.
///
/// # Safety
/// Both pointers must be null or valid.
#[no_mangle]
pub unsafe extern "C" fn pp_version_satisfies(have: *const Version, want: *const Version) -> bool {
    // SAFETY: null or valid, as the caller guarantees.
    match unsafe { (have.as_ref(), want.as_ref()) } {
        (Some(h), Some(w)) => h.satisfies(w),
        _ => false,
    }
}
