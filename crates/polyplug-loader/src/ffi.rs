//! What every `extern "C"` function on either side of the ABI needs: reading a peer's string
//! views, and never letting a panic unwind into foreign code.

use polyplug_abi::{CallCtx, Status, Str};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A peer's string view as UTF-8, with a readable error for a malformed view.
///
/// # Safety
/// The view must be null/empty or point to `len` bytes readable for `'a`.
pub unsafe fn view_str<'a>(v: &Str) -> Result<&'a str, String> {
    if v.is_malformed() {
        return Err("string view has a null pointer and a non-zero length".into());
    }
    // SAFETY: forwarded to the caller.
    unsafe { v.to_str() }.map_err(|e| format!("string is not UTF-8: {e}"))
}

/// Runs `f`, turning a panic into [`Status::Panic`] so it never unwinds into foreign code.
/// `on_panic` receives the panic's message, to record it where the caller can read it.
#[inline]
pub fn guard(f: impl FnOnce() -> u32, on_panic: impl FnOnce(&str)) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(payload) => {
            on_panic(panic_message(&*payload));
            drop_payload(payload);
            Status::Panic.raw()
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a generic one.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic with a non-string payload"
    }
}

/// Drops a panic payload without letting a panicking destructor unwind further.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// Records `message` as the error of the call `ctx` belongs to (in its arena). A null context
/// drops it.
///
/// # Safety
/// `ctx` must be null or a live call context whose arena is null or live.
pub unsafe fn set_error(ctx: *mut CallCtx, message: &str) {
    // SAFETY: forwarded to the caller.
    if let Some(ctx) = unsafe { ctx.as_mut() } {
        // SAFETY: as above.
        unsafe { ctx.set_error(message.as_bytes()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views() {
        // SAFETY: views of live data, or malformed views refused unread.
        unsafe {
            assert_eq!(view_str(&Str::new("ok")), Ok("ok"));
            assert!(view_str(&Str {
                ptr: std::ptr::null(),
                len: 2
            })
            .unwrap_err()
            .contains("null pointer"));
            let bad = [0xFFu8];
            assert!(view_str(&Str {
                ptr: bad.as_ptr(),
                len: 1
            })
            .unwrap_err()
            .contains("not UTF-8"));
        }
    }

    #[test]
    fn panics_become_a_status_with_their_message() {
        let mut seen = String::new();
        let code = guard(|| panic!("kaboom {}", 7), |m| seen = m.to_owned());
        assert_eq!(code, Status::Panic.raw());
        assert_eq!(seen, "kaboom 7");
        assert_eq!(guard(|| 3, |_| unreachable!()), 3);
    }
}
