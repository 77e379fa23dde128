//! The state a runtime shares with its host table: the registry, the log funnel, the loaders
//! and the loaded bundles behind the lifecycle lock. Everything above it (the runtime's API,
//! the host table's functions, loading, unloading) works on an `Inner`; it knows none of them.

use crate::contract::ContractKey;
use crate::error::{ErrorKind, Result};
use crate::events::ReloadSink;
use crate::guard;
use crate::loader::LoaderEntry;
use crate::log::LogFunnel;
use crate::registry::Registry;
use crossbeam_epoch as epoch;
use polyplug_abi::{Handle, HostApi, Interface, LogLevel, Status, Version};
use polyplug_loader::Manifest;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard};

pub use crate::registry::BundleId;

pub(crate) struct BundleRecord {
    pub(crate) manifest: Manifest,
    pub(crate) loader: Arc<LoaderEntry>,
    pub(crate) state: *mut c_void,
    pub(crate) handles: Vec<Handle>,
}

// SAFETY: `state` is the loader's per-bundle pointer; loaders promise it may be released from
// any thread (docs/ABI.md).
unsafe impl Send for BundleRecord {}

#[derive(Default)]
pub(crate) struct Lifecycle {
    pub(crate) loaders: HashMap<String, Arc<LoaderEntry>>,
    pub(crate) bundles: BTreeMap<BundleId, BundleRecord>,
    /// Names of bundles unpublished but not yet released (an unload waiting for calls).
    pub(crate) unloading: HashSet<String>,
    pub(crate) next_bundle: BundleId,
}

/// The shared state behind a [`Runtime`] and its host table.
pub(crate) struct Inner {
    pub(crate) host_api: HostApi,
    pub(crate) registry: Registry,
    pub(crate) log: LogFunnel,
    pub(crate) hot_reload: bool,
    pub(crate) call_arena_size: usize,
    pub(crate) reload_sink: ReloadSink,
    lifecycle: Mutex<Lifecycle>,
}

thread_local! {
    /// The runtime whose lifecycle lock this thread holds, to refuse re-entrant loads from a
    /// plugin's init instead of deadlocking.
    static HOLDING: Cell<usize> = const { Cell::new(0) };
}

pub(crate) struct LifecycleGuard<'a> {
    pub(crate) state: MutexGuard<'a, Lifecycle>,
}

impl Drop for LifecycleGuard<'_> {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(0));
    }
}

impl Inner {
    /// The state of a new runtime whose host table is `host_api`; the table's `context` is
    /// pointed at it (the box gives it a stable address).
    pub(crate) fn new(
        host_api: HostApi,
        log: LogFunnel,
        hot_reload: bool,
        call_arena_size: usize,
        reload_sink: ReloadSink,
    ) -> Box<Inner> {
        let mut inner = Box::new(Inner {
            host_api,
            registry: Registry::new(),
            log,
            hot_reload,
            call_arena_size,
            reload_sink,
            lifecycle: Mutex::new(Lifecycle::default()),
        });
        inner.host_api.context = &*inner as *const Inner as *mut c_void;
        inner
    }

    pub(crate) fn lifecycle(&self) -> Result<LifecycleGuard<'_>> {
        let me = self as *const Inner as usize;
        if HOLDING.with(|h| h.get()) == me {
            return Err(ErrorKind::InvalidArgument(
                "bundles and loaders cannot be added from inside a plugin's init".into(),
            )
            .into());
        }
        // A panic in a loader is caught at the vtable boundary, so a poisoned lock still
        // guards consistent state.
        let state = self.lifecycle.lock().unwrap_or_else(|p| p.into_inner());
        HOLDING.with(|h| h.set(me));
        Ok(LifecycleGuard { state })
    }

    /// The interface and revision word of a live provider: the cached path's raw material.
    /// Takes no lock and does not pin the epoch.
    #[inline]
    pub(crate) fn cached(&self, h: Handle) -> Option<(*const Interface, *const u32)> {
        let (iface, revision, _) = self.registry.resolve_cached(h)?;
        Some((iface, revision.as_ptr() as *const u32))
    }

    /// Writes a live provider's interface (and, when asked, its revision word) to
    /// out-parameters: `resolve` of the host table and of the C API. Returns `Ok` or
    /// `StaleHandle`, leaving the out-parameters untouched on failure.
    ///
    /// # Safety
    /// `out_iface` must be writable; `out_revision` null or writable.
    pub(crate) unsafe fn write_cached(
        &self,
        h: Handle,
        out_iface: *mut *const Interface,
        out_revision: *mut *const u32,
    ) -> Status {
        let Some((iface, revision)) = self.cached(h) else {
            return Status::StaleHandle;
        };
        // SAFETY: writable, as the caller guarantees; `out_revision` is optional.
        unsafe {
            out_iface.write(iface);
            if !out_revision.is_null() {
                out_revision.write(revision);
            }
        }
        Status::Ok
    }

    /// The guarded call by handle: pins the provider for the call (safe against a concurrent
    /// reload or unload) and calls function `func`. Pin-free lookup; no lock.
    ///
    /// # Safety
    /// `args`, `ret` and `ctx` must be valid for that function, as for any contract call.
    #[inline]
    pub(crate) unsafe fn call_guarded(
        &self,
        h: Handle,
        func: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut polyplug_abi::CallCtx,
    ) -> u32 {
        let _section = guard::enter();
        let Some((iface, _, _)) = self.registry.resolve_cached(h) else {
            return Status::StaleHandle.raw();
        };
        // SAFETY: inside the section the retired interface is not freed (see `guard`).
        let iface = unsafe { &*iface };
        // SAFETY: the runtime's validated copy; `func` is range-checked by `func`.
        match unsafe { iface.func(func) } {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(iface.provider, args, ret, ctx) },
            None => Status::InvalidArgument.raw(),
        }
    }

    pub(crate) fn log_with(&self, level: LogLevel, message: impl FnOnce() -> String) {
        if self.log.enabled(level as u32) {
            self.log.deliver(level, "polyplug", &message());
        }
    }
}

/// Writes a `find_all` answer into a caller's buffer (shared by the host table and the C API).
///
/// # Safety
/// `out` must hold `capacity` handles (or be null with `capacity == 0`) and `count` must be
/// writable.
pub(crate) unsafe fn write_find_all(
    rt: &Inner,
    key: ContractKey<'_>,
    min: &Version,
    out: *mut Handle,
    capacity: usize,
    count: *mut usize,
) -> u32 {
    let guard = epoch::pin();
    // `out == NULL && capacity == 0` asks only for the count: not a failure.
    let counting = out.is_null() && capacity == 0;
    let mut n = 0usize;
    rt.registry.find_all_with(key, min, &guard, |h| {
        if n < capacity {
            // SAFETY: `n < capacity` slots of `out` are writable.
            unsafe { out.add(n).write(h) };
        }
        n += 1;
    });
    // SAFETY: `count` is writable.
    unsafe { count.write(n) };
    if n > capacity && !counting {
        Status::BufferTooSmall.raw()
    } else {
        Status::Ok.raw()
    }
}

/// Releases a bundle through its loader, logging (not propagating) a failure.
pub(crate) fn unload_with(inner: &Inner, loader: &LoaderEntry, bundle: &str, state: *mut c_void) {
    let Some(unload) = loader.vtable.unload else {
        return;
    };
    // SAFETY: `state` came from this loader's `load` and is released exactly once.
    let status = Status::from_raw(unsafe { unload(loader.vtable.state, state) });
    if status != Status::Ok {
        inner.log_with(LogLevel::Warn, || {
            format!(
                "loader `{}` failed to unload `{bundle}`: {status:?}",
                loader.name
            )
        });
    }
}
