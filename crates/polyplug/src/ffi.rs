//! Helpers shared by every `extern "C"` entry point of the runtime.

use polyplug_abi::Status;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into [`Status::Panic`] so it never unwinds into foreign code.
/// `on_panic` receives the panic message (to record it where the caller can read it).
#[inline]
pub(crate) fn guard(f: impl FnOnce() -> u32, on_panic: impl FnOnce(String)) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(payload) => {
            on_panic(panic_message(&*payload));
            Status::Panic.raw()
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
