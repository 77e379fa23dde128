//! Instances of stateful providers, called through the guarded path.

use super::typed::{invoke_on, stale, CallSite, Invoke};
use super::{CachedProvider, CallContext};
use crate::error::Result;
use std::ffi::c_void;

/// One instance of a stateful provider, made by [`super::GuardedProvider::create_instance`], and
/// destroyed (`destroy_instance`) when dropped.
///
/// An instance belongs to the code that made it: after its bundle is **reloaded** or
/// **unloaded**, calls through it return [`crate::ErrorKind::StaleHandle`] (make a new one), and dropping
/// it no longer calls `destroy_instance` (that code is gone; its state is abandoned).
pub struct ProviderInstance<'rt> {
    pub(super) handle: polyplug_abi::Handle,
    /// The table (and revision) the instance was made under.
    pub(super) cached: CachedProvider<'rt>,
    pub(super) instance: *mut c_void,
    /// False for a stateless provider's "instance" (the provider itself).
    pub(super) owned: bool,
}

// SAFETY: as for `CachedProvider`: providers promise thread-safe functions and instances.
unsafe impl Send for ProviderInstance<'_> {}

impl std::fmt::Debug for ProviderInstance<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInstance")
            .field("handle", &self.handle)
            .field("instance", &self.instance)
            .field("current", &self.cached.is_current())
            .finish()
    }
}

impl ProviderInstance<'_> {
    /// The handle of the provider the instance belongs to.
    pub fn handle(&self) -> polyplug_abi::Handle {
        self.handle
    }

    /// True while the code that made the instance still serves it (no reload or unload since).
    pub fn is_current(&self) -> bool {
        self.cached.is_current()
    }
}

impl Invoke for ProviderInstance<'_> {
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
            if !self.cached.is_current() {
                return Err(stale(self.handle));
            }
            // SAFETY: checked current inside the section, so the table it was made under is
            // alive for the call; the rest is the caller's promise.
            unsafe { invoke_on(self.cached.interface(), self.instance, index, args, ret, cx) }
        };
        site.check(status, cx)
    }
}

impl Drop for ProviderInstance<'_> {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let _section = crate::guard::enter();
        if !self.cached.is_current() {
            return;
        }
        let iface = self.cached.interface();
        if let Some(destroy) = iface.destroy_instance {
            // SAFETY: the code that made the instance is current and kept alive by the section;
            // the instance is destroyed once.
            unsafe { destroy(iface.provider, self.instance) };
        }
    }
}
