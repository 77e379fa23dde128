//! The cached path: a provider resolved once, called with one indirect call.

use super::typed::{invoke_on, CallSite, Invoke};
use super::CallContext;
use crate::error::Result;
use polyplug_abi::{CallCtx, ContractFn, Interface};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

/// A provider resolved once for repeated calls: the fastest path.
///
/// It holds the provider's interface and the revision its slot had when resolved. While the
/// provider stays registered, calls go straight through the interface; after an unload or
/// reload [`CachedProvider::is_current`] turns false and the caller resolves again. The host must
/// not call through a stale cache (it quiesces such callers before unloading).
#[derive(Clone, Copy, Debug)]
pub struct CachedProvider<'rt> {
    pub(crate) iface: *const Interface,
    pub(crate) revision: *const AtomicU32,
    pub(crate) seen: u32,
    pub(crate) _rt: PhantomData<&'rt crate::Runtime>,
}

// SAFETY: the interface and revision word live in the runtime, which outlives `'rt`, and
// providers promise thread-safe functions.
unsafe impl Send for CachedProvider<'_> {}
// SAFETY: as above.
unsafe impl Sync for CachedProvider<'_> {}

impl CachedProvider<'_> {
    /// True while the provider this was resolved from is still the slot's occupant:
    /// one acquire load and a compare.
    #[inline]
    pub fn is_current(&self) -> bool {
        // SAFETY: the revision word lives in the runtime's slot table for its whole life.
        unsafe { &*self.revision }.load(Ordering::Acquire) == self.seen
    }

    /// The provider's interface (the runtime's validated copy).
    #[inline]
    pub fn interface(&self) -> &Interface {
        // SAFETY: the copy lives as long as the registration, which the caller keeps alive.
        unsafe { &*self.iface }
    }

    /// Function `index`, or `None` past the end.
    #[inline]
    pub fn func(&self, index: u32) -> Option<ContractFn> {
        // SAFETY: the runtime's copy has `func_count` non-null entries.
        unsafe { self.interface().func(index) }
    }

    /// Calls function `index` without the range check of [`CachedProvider::call_raw`]: what a
    /// generated caller does, since the contract fixes its indices. Still one load of the
    /// function pointer from the interface per call, so it follows the table it resolved.
    ///
    /// # Safety
    /// `index` must be below the contract's function count; otherwise as for `call_raw`.
    #[inline(always)]
    pub unsafe fn call_unchecked(
        &self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let iface = self.interface();
        // SAFETY: `index < func_count` (the caller's promise) and the runtime's copy of the
        // table holds no null entry.
        unsafe {
            let f = (*iface.funcs.add(index as usize)).unwrap_unchecked();
            f(iface.provider, args, ret, ctx)
        }
    }

    /// Calls function `index` with the provider's default instance.
    ///
    /// # Safety
    /// `args` and `ret` must point to the argument and result structs of that function, laid
    /// out by the contract's C layout, and `ctx` must be a live call context.
    #[inline]
    pub unsafe fn call_raw(
        &self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        match self.func(index) {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(self.interface().provider, args, ret, ctx) },
            None => polyplug_abi::Status::InvalidArgument.raw(),
        }
    }
}

/// The cached path for typed callers: a [`CachedProvider`] that re-resolves its handle when the
/// revision word moved. **Opt-in**: a call is not safe against a concurrent reload or unload;
/// the host quiesces these callers first (see `docs/LIFECYCLE.md`). After an unload, calls
/// return [`crate::ErrorKind::StaleHandle`].
pub struct ResolvedProvider<'rt> {
    rt: &'rt crate::Runtime,
    handle: polyplug_abi::Handle,
    cached: CachedProvider<'rt>,
}

impl std::fmt::Debug for ResolvedProvider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedProvider")
            .field("handle", &self.handle)
            .field("revision", &self.cached.seen)
            .finish()
    }
}

impl<'rt> ResolvedProvider<'rt> {
    /// Resolves `handle` for cached calls.
    pub fn new(rt: &'rt crate::Runtime, handle: polyplug_abi::Handle) -> Result<Self> {
        Ok(ResolvedProvider {
            rt,
            handle,
            cached: rt.resolve(handle)?,
        })
    }

    /// The handle it resolves.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// Re-resolves after the revision moved. Out of line: once per reload, not per call.
    #[cold]
    #[inline(never)]
    fn follow(&mut self) -> Result<()> {
        self.cached = self.rt.resolve(self.handle)?;
        Ok(())
    }
}

impl Invoke for ResolvedProvider<'_> {
    #[inline(always)]
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()> {
        if !self.cached.is_current() {
            self.follow()?;
        }
        let iface = self.cached.interface();
        // SAFETY: current (the host quiesces cached callers before unloading); the rest is the
        // caller's promise.
        let status = unsafe { invoke_on(iface, iface.provider, index, args, ret, cx) };
        site.check(status, cx)
    }
}
