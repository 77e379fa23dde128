//! Reload events: what the host is told of each reload's phases, and where they go.

use crate::error::Error;
use crate::registry::BundleId;
use polyplug_abi::{ReloadPhase, Str};
use std::ffi::c_void;

/// One phase of a reload, as [`crate::RuntimeBuilder::on_reload`] reports it.
#[derive(Debug)]
pub struct ReloadEvent<'a> {
    /// The bundle.
    pub bundle: BundleId,
    /// Its name.
    pub name: &'a str,
    /// The phase.
    pub phase: ReloadPhase,
    /// Why it failed (only with [`ReloadPhase::Failed`]).
    pub error: Option<&'a Error>,
}

/// A Rust reload observer.
pub type ReloadCallback = Box<dyn Fn(&ReloadEvent<'_>) + Send + Sync>;

/// Where reload phases go.
#[derive(Default)]
pub(crate) enum ReloadSink {
    #[default]
    None,
    Rust(ReloadCallback),
    C {
        f: unsafe extern "C" fn(*mut c_void, u64, *const Str, u32, *const Str),
        user: *mut c_void,
    },
}

// SAFETY: a C host hands us `user` for calls from any thread (documented on RuntimeConfig).
unsafe impl Send for ReloadSink {}
// SAFETY: as above.
unsafe impl Sync for ReloadSink {}

impl ReloadSink {
    pub(crate) fn emit(&self, e: &ReloadEvent<'_>) {
        match self {
            ReloadSink::None => {}
            ReloadSink::Rust(f) => f(e),
            ReloadSink::C { f, user } => {
                let message = e.error.map(|e| e.to_string()).unwrap_or_default();
                let (name, message) = (Str::new(e.name), Str::new(&message));
                // A panic cannot unwind out of an `extern "C"` callback; nothing to catch here.
                // SAFETY: the host's callback, with views valid for the call.
                unsafe { f(*user, e.bundle, &name, e.phase as u32, &message) };
            }
        }
    }
}
