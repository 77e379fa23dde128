//! The runtime: owns the registry, the loaders and the loaded bundles.

use crate::call::{CachedProvider, CallContext, CallGuard, GuardedProvider};
use crate::config::RuntimeBuilder;
use crate::contract::{ContractInfo, ContractKey, ContractRef};
use crate::error::{ErrorKind, Result};
use crate::guard;
use crate::host_api;
pub use crate::inner::BundleId;
use crate::inner::{unload_with, Inner};
use crate::log::LogFunnel;
use crate::registry::{Registration, HOST_OWNER};
use crossbeam_epoch as epoch;
use polyplug_abi::{Handle, HostApi, Interface, LogLevel, Status, Version};
use polyplug_loader::Manifest;
use std::ffi::c_void;
use std::marker::PhantomData;

/// A registered provider, as [`Runtime::providers`] reports it.
#[derive(Clone, Debug)]
pub struct ProviderSummary {
    /// Its handle.
    pub handle: Handle,
    /// The contract it implements.
    pub contract: ContractInfo,
    /// Its priority (higher first).
    pub priority: i32,
    /// The bundle that registered it, or `None` for a host provider.
    pub bundle: Option<BundleId>,
}

/// A loaded bundle, as [`Runtime::bundles`] reports it.
#[derive(Clone, Debug)]
pub struct LoadedBundle {
    /// Its id.
    pub id: BundleId,
    /// Its parsed manifest.
    pub manifest: Manifest,
    /// Its providers, in registration order.
    pub providers: Vec<Handle>,
}

impl RuntimeBuilder {
    /// Creates the runtime.
    pub fn build(self) -> Result<Runtime> {
        Runtime::from_builder(self)
    }
}

/// A polyplug runtime: load bundles, find providers, call them.
///
/// `Runtime` is `Send + Sync`; lookups and calls take no lock. Dropping it unloads every
/// bundle (in reverse load order) and destroys every loader.
pub struct Runtime {
    inner: Box<Inner>,
}

impl Runtime {
    /// A runtime with the default configuration.
    pub fn new() -> Result<Runtime> {
        RuntimeBuilder::new().build()
    }

    /// A builder for a configured runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::new()
    }

    pub(crate) fn from_builder(b: RuntimeBuilder) -> Result<Runtime> {
        let inner = Inner::new(
            host_api::table(b.max_log_level),
            LogFunnel::new(b.max_log_level, b.sink),
            b.hot_reload,
            b.call_arena_size,
            b.reload_sink,
        );
        let rt = Runtime { inner };
        if b.native_loader {
            rt.add_loader_table(polyplug_native::table())?;
        }
        Ok(rt)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The host table this runtime hands to plugins (valid while the runtime lives).
    pub fn host_api(&self) -> *const HostApi {
        &self.inner.host_api
    }

    /// Whether `reload_bundle` is allowed by the configuration.
    pub fn hot_reload_enabled(&self) -> bool {
        self.inner.hot_reload
    }

    /// The most verbose log level delivered.
    pub fn max_log_level(&self) -> LogLevel {
        self.inner.log.max_level()
    }

    /// Sends a record through the runtime's log funnel.
    pub fn log(&self, level: LogLevel, target: &str, message: &str) {
        self.inner.log.log(level, target, message);
    }

    /// Number of loaded bundles.
    pub fn bundle_count(&self) -> usize {
        self.inner
            .lifecycle()
            .map(|lc| lc.state.bundles.len())
            .unwrap_or(0)
    }

    /// Every loaded bundle, in load order.
    pub fn bundles(&self) -> Vec<LoadedBundle> {
        match self.inner.lifecycle() {
            Ok(lc) => lc
                .state
                .bundles
                .iter()
                .map(|(&id, b)| LoadedBundle {
                    id,
                    manifest: b.manifest.clone(),
                    providers: b.handles.clone(),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Registers a host contract provider that plugins find and call like any other.
    pub fn register_host_provider(
        &self,
        iface: &'static Interface,
        priority: i32,
    ) -> Result<Handle> {
        // SAFETY: a `'static` interface outlives the runtime; its function table must be too,
        // which `Interface` cannot express, so that part is the caller's promise as in C.
        let mut handles =
            unsafe { self.register_host_providers_raw(&[(iface as *const Interface, priority)]) }?;
        handles
            .pop()
            .ok_or_else(|| ErrorKind::InvalidArgument("no provider registered".into()).into())
    }

    /// Registers several host providers in one transaction (all or none).
    ///
    /// # Safety
    /// Each interface must be valid, and its function table, contract description and
    /// provider state must stay valid until it is unregistered or the runtime is dropped.
    pub unsafe fn register_host_providers_raw(
        &self,
        ifaces: &[(*const Interface, i32)],
    ) -> Result<Vec<Handle>> {
        let mut regs = Vec::with_capacity(ifaces.len());
        for &(iface, priority) in ifaces {
            // SAFETY: forwarded to the caller.
            let provider = unsafe { crate::registry::PendingProvider::from_peer(iface, "host") }?;
            regs.push(Registration { provider, priority });
        }
        self.inner.registry.commit(HOST_OWNER, "host", regs)
    }

    /// Removes a host provider. Its handles become stale at once; the call returns after every
    /// guarded call still inside the provider has returned, so the host may then free its table.
    pub fn unregister_host_provider(&self, handle: Handle) -> Result<()> {
        if guard::inside_call() {
            return Err(ErrorKind::InsideGuardedCall {
                operation: "unregister a host provider",
            }
            .into());
        }
        let owner = {
            let guard = epoch::pin();
            self.inner.registry.resolve(handle, &guard).map(|e| e.owner)
        };
        match owner {
            Some(HOST_OWNER) => {
                self.inner.registry.remove(&[handle]).release();
                Ok(())
            }
            Some(_) => Err(ErrorKind::InvalidArgument(
                "the handle names a bundle's provider, not the host's".into(),
            )
            .into()),
            None => Err(ErrorKind::StaleHandle { handle }.into()),
        }
    }

    /// The highest-priority provider of `key` whose version satisfies `min`. Lock-free.
    #[inline]
    pub fn find(&self, key: ContractKey<'_>, min: &Version) -> Result<Handle> {
        let guard = epoch::pin();
        self.inner.registry.find(key, min, &guard).ok_or_else(|| {
            ErrorKind::NotFound {
                contract: key.name.to_owned(),
                min_version: *min,
            }
            .into()
        })
    }

    /// Like [`Runtime::find`], by `name@version` text.
    pub fn find_ref(&self, contract: &str) -> Result<Handle> {
        let r: ContractRef = contract.parse().map_err(ErrorKind::InvalidArgument)?;
        self.find(r.key(), &r.version)
    }

    /// Every provider of `key` whose version satisfies `min`, highest priority first.
    pub fn find_all(&self, key: ContractKey<'_>, min: &Version) -> Vec<Handle> {
        let guard = epoch::pin();
        let mut out = Vec::new();
        self.inner
            .registry
            .find_all_with(key, min, &guard, |h| out.push(h));
        out
    }

    /// A guarded provider for repeated calls that stay safe against a concurrent reload or
    /// unload: each call pins the provider for its duration (a few nanoseconds more than the
    /// cached path). The default way to call.
    #[inline]
    pub fn guarded(&self, handle: Handle) -> Result<GuardedProvider<'_>> {
        let cached = self.resolve(handle)?;
        Ok(GuardedProvider::new(handle, cached, &self.inner.registry))
    }

    /// Opens a guarded section on this thread: until the [`CallGuard`] drops, a
    /// [`CachedProvider`] that [`CachedProvider::is_current`] inside the section stays
    /// callable, whatever other threads reload or unload. Sections nest.
    #[inline]
    pub fn call_guard(&self) -> CallGuard {
        CallGuard::new()
    }

    /// The id of the loaded bundle named `name`.
    pub fn bundle_id(&self, name: &str) -> Option<BundleId> {
        let lc = self.inner.lifecycle().ok()?;
        lc.state
            .bundles
            .iter()
            .find(|(_, b)| b.manifest.name == name)
            .map(|(&id, _)| id)
    }

    /// Resolves a handle for repeated calls. O(1) and lock-free; fails for a stale handle.
    #[inline]
    pub fn resolve(&self, handle: Handle) -> Result<CachedProvider<'_>> {
        match self.inner.registry.resolve_cached(handle) {
            Some((iface, revision, seen)) => Ok(CachedProvider {
                iface,
                revision,
                seen,
                _rt: PhantomData,
            }),
            None => Err(ErrorKind::StaleHandle { handle }.into()),
        }
    }

    /// The contract a provider implements (a copy).
    pub fn contract(&self, handle: Handle) -> Result<ContractInfo> {
        let guard = epoch::pin();
        let Some(e) = self.inner.registry.resolve(handle, &guard) else {
            return Err(ErrorKind::StaleHandle { handle }.into());
        };
        Ok(e.contract.clone())
    }

    /// Every registered provider, in slot order.
    pub fn providers(&self) -> Vec<ProviderSummary> {
        let mut out = Vec::new();
        self.inner.registry.for_each_provider(|e| {
            out.push(ProviderSummary {
                handle: e.handle,
                contract: e.contract.clone(),
                priority: e.priority,
                bundle: (e.owner != HOST_OWNER).then_some(e.owner),
            })
        });
        out
    }

    /// The number of registered providers (bundles' and the host's).
    pub fn provider_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// A call context for this runtime (one per calling thread).
    pub fn call_context(&self) -> Result<CallContext> {
        CallContext::new(self.inner.call_arena_size, self.host_api())
    }

    /// Calls function `func` of the provider `handle` names: resolve, call, and turn a failure
    /// status into [`ErrorKind::CallFailed`] with the provider's message.
    ///
    /// # Safety
    /// `args` and `ret` must point to the argument and result structs of that function, laid
    /// out by the contract's C layout (see [`Runtime::call_typed`] for a size-checked form).
    pub unsafe fn call(
        &self,
        handle: Handle,
        func: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
    ) -> Result<()> {
        // SAFETY: forwarded to the caller.
        unsafe { self.dispatch(handle, func, args, ret, cx, None) }
    }

    /// Like [`Runtime::call`], but checks that `A` and `R` have the sizes the contract's layout
    /// says (use `()` for no arguments or no result).
    ///
    /// # Safety
    /// `A` and `R` must be `repr(C)` types matching the function's argument and result layout
    /// field by field; the size check catches only a size mismatch.
    pub unsafe fn call_typed<A, R>(
        &self,
        handle: Handle,
        func: u32,
        args: &A,
        ret: &mut R,
        cx: &mut CallContext,
    ) -> Result<()> {
        let sizes = (std::mem::size_of::<A>(), std::mem::size_of::<R>());
        let (args, ret) = (
            args as *const A as *const c_void,
            ret as *mut R as *mut c_void,
        );
        // SAFETY: sizes are checked against the layout; the field match is the caller's promise.
        unsafe { self.dispatch(handle, func, args, ret, cx, Some(sizes)) }
    }

    /// Resolve, optionally check argument/result sizes, call, and map a failure status.
    unsafe fn dispatch(
        &self,
        handle: Handle,
        func: u32,
        args: *const c_void,
        ret: *mut c_void,
        cx: &mut CallContext,
        sizes: Option<(usize, usize)>,
    ) -> Result<()> {
        // The section keeps the provider's code and table alive through a concurrent unload.
        let _section = guard::enter();
        let guard = epoch::pin();
        let Some(e) = self.inner.registry.resolve(handle, &guard) else {
            return Err(ErrorKind::StaleHandle { handle }.into());
        };
        let info = e.contract.funcs.get(func as usize).ok_or_else(|| {
            ErrorKind::InvalidArgument(format!("`{}` has no function {func}", e.contract.name))
        })?;
        if let Some((a, r)) = sizes {
            if a != info.args.size as usize || r != info.ret.size as usize {
                return Err(ErrorKind::InvalidArgument(format!(
                    "`{}.{}` takes {} argument bytes and returns {}, but the call passes {a} and {r}",
                    e.contract.name, info.name, info.args.size, info.ret.size
                )).into());
            }
        }
        // SAFETY: `func` is in range (checked above) of the runtime's non-null table copy.
        let f = unsafe { e.iface.func(func) }.ok_or_else(|| {
            ErrorKind::InvalidArgument(format!("`{}` has no function {func}", e.contract.name))
        })?;
        // SAFETY: forwarded to the caller; the entry stays alive while `guard` is pinned.
        let status = Status::from_raw(unsafe { f(e.iface.provider, args, ret, cx.begin()) });
        if status == Status::Ok {
            return Ok(());
        }
        Err(ErrorKind::CallFailed {
            contract: e.contract.name.clone(),
            function: info.name.clone(),
            status,
            message: cx
                .error_message()
                .unwrap_or_else(|| status.description().to_string_lossy().into_owned()),
        }
        .into())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let bundles = match self.inner.lifecycle() {
            Ok(mut lc) => std::mem::take(&mut lc.state.bundles),
            Err(_) => return,
        };
        for (_, b) in bundles.into_iter().rev() {
            // Unregistered before the library closes, so a later bundle's `fini` cannot reach it.
            self.inner.registry.remove_now(&b.handles);
            unload_with(&self.inner, &b.loader, &b.manifest.name, b.state);
        }
        if let Ok(mut lc) = self.inner.lifecycle() {
            lc.state.loaders.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn runtime_is_send_and_sync() {
        assert_send_sync::<Runtime>();
        assert_send_sync::<CachedProvider<'static>>();
    }

    #[test]
    fn native_loader_is_registered_by_default() {
        let rt = Runtime::new().expect("runtime");
        assert_eq!(rt.loaders(), vec!["native".to_owned()]);
        let bare = Runtime::builder()
            .native_loader(false)
            .build()
            .expect("runtime");
        assert!(bare.loaders().is_empty());
    }
}
