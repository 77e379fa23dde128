//! The guarded path: every call pins the provider, so a concurrent reload or unload never frees
//! the code or table a call is running.

use super::instance::ProviderInstance;
use super::typed::{invoke_on, stale, CallSite, Invoke};
use super::{CachedProvider, CallContext};
use crate::error::{Error, ErrorKind, Result};
use polyplug_abi::{CallCtx, Interface};
use std::ffi::c_void;

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

    /// True when the cached interface is the current occupant's, re-resolving it if the
    /// revision moved; false once the provider is gone. Must be called inside a guarded
    /// section. (A `bool` rather than an `Option<&Interface>`: the caller then reads the
    /// interface without a null test.)
    #[inline(always)]
    fn is_live(&mut self) -> bool {
        self.cached.is_current() || self.follow()
    }

    /// Re-resolves after the revision moved (a reload: follow the new code); false once the
    /// provider is gone. Out of line: it runs once per reload, not per call.
    #[cold]
    #[inline(never)]
    fn follow(&mut self) -> bool {
        let Some((iface, revision, seen)) = self.registry.resolve_cached(self.handle) else {
            return false;
        };
        self.cached.iface = iface;
        self.cached.revision = revision;
        self.cached.seen = seen;
        true
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
        if !self.is_live() {
            return polyplug_abi::Status::StaleHandle.raw();
        }
        let iface = self.cached.interface();
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
        if !self.is_live() {
            return polyplug_abi::Status::StaleHandle.raw();
        }
        let iface = self.cached.interface();
        // SAFETY: the runtime's validated copy, alive for the section.
        match unsafe { iface.func(index) } {
            // SAFETY: forwarded to the caller.
            Some(f) => unsafe { f(iface.provider, args, ret, ctx) },
            None => polyplug_abi::Status::InvalidArgument.raw(),
        }
    }
}

impl Invoke for GuardedProvider<'_> {
    #[inline(always)]
    unsafe fn invoke(
        &mut self,
        index: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        site: &CallSite,
    ) -> Result<()> {
        let status = {
            let _section = crate::guard::enter();
            if !self.is_live() {
                return Err(stale(self.handle));
            }
            let iface = self.cached.interface();
            let provider = iface.provider;
            // SAFETY: the section keeps the current table alive; the rest is the caller's promise.
            unsafe { invoke_on(iface, provider, index, args, ret, cx) }
        };
        site.check(status, cx)
    }
}

impl<'rt> GuardedProvider<'rt> {
    /// Makes an instance of a stateful provider (`create_instance`); for a stateless provider,
    /// an instance that is simply the provider. Calls through it are guarded like the
    /// provider's.
    pub fn create_instance(&mut self, cx: &mut CallContext) -> Result<ProviderInstance<'rt>> {
        let _section = crate::guard::enter();
        if !self.is_live() {
            return Err(stale(self.handle));
        }
        let iface = self.cached.interface();
        let (provider, create) = (iface.provider, iface.create_instance);
        let contract = contract_name(iface);
        let instance = match create {
            None => provider,
            Some(create) => {
                let mut out = std::ptr::null_mut();
                // SAFETY: the runtime's validated table, kept alive by the section.
                let status = unsafe { create(provider, &mut out, cx.begin()) };
                if status != 0 || out.is_null() {
                    let status = if status == 0 {
                        polyplug_abi::Status::NullPointer.raw()
                    } else {
                        status
                    };
                    return Err(CallSite {
                        contract: "",
                        function: "create-instance",
                    }
                    .failed(status, cx)
                    .with_contract(contract));
                }
                out
            }
        };
        Ok(ProviderInstance {
            handle: self.handle,
            cached: self.cached,
            instance,
            owned: create.is_some(),
        })
    }
}

/// The contract name of an interface, for messages.
fn contract_name(iface: &Interface) -> String {
    // SAFETY: the contract descriptor stays valid while the provider is registered, which the
    // caller's guarded section ensures.
    unsafe { iface.contract.as_ref() }
        .map(|c| {
            // SAFETY: validated at registration.
            String::from_utf8_lossy(unsafe { c.name.as_bytes() }).into_owned()
        })
        .unwrap_or_default()
}

impl Error {
    fn with_contract(mut self, name: String) -> Error {
        if let ErrorKind::CallFailed { contract, .. } = self.kind_mut() {
            *contract = name;
        }
        self
    }
}
