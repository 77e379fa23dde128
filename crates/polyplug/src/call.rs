//! Call contexts and cached providers: the host's side of a contract call.

use crate::error::{Error, Result};
use polyplug_abi::{CallArena, CallCtx, ContractFn, Interface, Str};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

/// A caller's call context: the arena for variable-size results, plus the error slot.
///
/// Each call through [`CallContext::begin`] resets the arena, so results of a call stay valid
/// until the next call on the same context (the ABI's one lifetime rule). Keep one context per
/// thread; it is `Send` but not `Sync`.
pub struct CallContext {
    ctx: CallCtx,
    arena: CallArena,
}

impl CallContext {
    /// A context whose arena's first block holds `arena_size` bytes. `host` may be null.
    pub fn new(arena_size: usize, host: *const polyplug_abi::HostApi) -> Result<CallContext> {
        let mut arena = CallArena::new(arena_size).ok_or(Error::OutOfMemory)?;
        let ctx = CallCtx::new(arena.as_raw(), host);
        Ok(CallContext { ctx, arena })
    }

    /// Starts a call: resets the arena, clears the error, and returns the raw context.
    #[inline]
    pub fn begin(&mut self) -> *mut CallCtx {
        self.arena.reset();
        self.ctx.arena = self.arena.as_raw();
        self.ctx.error = Str::EMPTY;
        &mut self.ctx
    }

    /// The error message the last call left, if any.
    pub fn error_message(&self) -> Option<String> {
        // SAFETY: the message lives in this context's arena (not reset since) or static memory.
        unsafe { self.ctx.error_bytes() }.map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The raw view of the last call's error message (empty if none), valid until the next call.
    pub fn error_view(&self) -> Str {
        self.ctx.error
    }

    /// The arena, e.g. to build arguments that the callee reads.
    pub fn arena(&mut self) -> &mut CallArena {
        &mut self.arena
    }
}

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

/// An open guarded section (see [`crate::Runtime::call_guard`]). Not `Send`: a section belongs
/// to the thread that opened it.
pub struct CallGuard {
    _section: crate::guard::ReadSection,
}

impl CallGuard {
    #[inline]
    pub(crate) fn new() -> CallGuard {
        CallGuard {
            _section: crate::guard::enter(),
        }
    }
}

impl std::fmt::Debug for CallGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallGuard")
    }
}

/// A provider called through the guarded path: every call pins the provider for its duration,
/// so a reload or unload on another thread can never free the code or table it is running.
///
/// It caches the interface and its slot's revision like [`CachedProvider`]; a call first
/// opens a guarded section, then compares the revision word (one acquire load). After a reload
/// it follows the new code transparently; after an unload calls return
/// [`polyplug_abi::Status::StaleHandle`].
pub struct GuardedProvider<'rt> {
    handle: polyplug_abi::Handle,
    cached: CachedProvider<'rt>,
    registry: &'rt crate::registry::Registry,
}

impl std::fmt::Debug for GuardedProvider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedProvider")
            .field("handle", &self.handle)
            .field("revision", &self.cached.seen)
            .finish()
    }
}

// SAFETY: as for `CachedProvider`; the registry is `Sync`.
unsafe impl Send for GuardedProvider<'_> {}

impl<'rt> GuardedProvider<'rt> {
    pub(crate) fn new(
        handle: polyplug_abi::Handle,
        cached: CachedProvider<'rt>,
        registry: &'rt crate::registry::Registry,
    ) -> GuardedProvider<'rt> {
        GuardedProvider {
            handle,
            cached,
            registry,
        }
    }

    /// The handle this provider was resolved from.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// The interface of the current occupant, re-resolved if the revision moved; `None` once
    /// the provider is gone. Must be called inside a guarded section.
    #[inline(always)]
    fn current(&mut self) -> Option<&Interface> {
        if !self.cached.is_current() {
            let (iface, revision, seen) = self.registry.resolve_cached(self.handle)?;
            self.cached.iface = iface;
            self.cached.revision = revision;
            self.cached.seen = seen;
        }
        Some(self.cached.interface())
    }

    /// Calls function `index` without a range check: what a generated caller does (a reload
    /// may only append functions, so a valid index stays valid).
    ///
    /// # Safety
    /// `index` must be below the contract's function count; `args`, `ret` and `ctx` as for
    /// [`CachedProvider::call_raw`].
    #[inline(always)]
    pub unsafe fn call_unchecked(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let _section = crate::guard::enter();
        let Some(iface) = self.current() else {
            return polyplug_abi::Status::StaleHandle.raw();
        };
        // SAFETY: `index < func_count` (the caller's promise); the runtime's copy holds no null
        // entry, and the section keeps it alive for the call.
        unsafe {
            let f = (*iface.funcs.add(index as usize)).unwrap_unchecked();
            f(iface.provider, args, ret, ctx)
        }
    }

    /// Calls function `index`; an index past the end returns `InvalidArgument`.
    ///
    /// # Safety
    /// As for [`CachedProvider::call_raw`].
    #[inline]
    pub unsafe fn call_raw(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        ctx: *mut CallCtx,
    ) -> u32 {
        let _section = crate::guard::enter();
        let Some(iface) = self.current() else {
            return polyplug_abi::Status::StaleHandle.raw();
        };
        // SAFETY: the runtime's validated copy, alive for the section.
        match unsafe { iface.func(index) } {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(iface.provider, args, ret, ctx) },
            None => polyplug_abi::Status::InvalidArgument.raw(),
        }
    }
}
