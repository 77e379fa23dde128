//! The runtime: owns the registry, the loaders and the loaded bundles.

use crate::call::{CachedProvider, CallContext, CallGuard, GuardedProvider};
use crate::config::RuntimeBuilder;
use crate::contract::{ContractInfo, ContractKey, ContractRef};
use crate::error::{ErrorKind, Result};
use crate::guard;
use crate::host_api::{self, Transaction};
use crate::lifecycle::ReloadSink;
use crate::loader::LoaderEntry;
use crate::log::LogFunnel;
use crate::registry::{Registration, Registry, HOST_OWNER};
use crossbeam_epoch as epoch;
use polyplug_abi::{
    BundleInfo, Handle, HostApi, Interface, LoaderVtable, LogLevel, Status, Str, Version,
};
use polyplug_loader::{LoaderTable, Manifest};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// Identifies a loaded bundle. Never reused within one runtime.
pub type BundleId = u64;

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
        let mut inner = Box::new(Inner {
            host_api: host_api::table(b.max_log_level),
            registry: Registry::new(),
            log: LogFunnel::new(b.max_log_level, b.sink),
            hot_reload: b.hot_reload,
            call_arena_size: b.call_arena_size,
            reload_sink: b.reload_sink,
            lifecycle: Mutex::new(Lifecycle::default()),
        });
        // The table reaches the runtime through `context`; the box gives it a stable address.
        inner.host_api.context = &*inner as *const Inner as *mut c_void;
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

    /// Adds a loader by its vtable. The runtime copies the table.
    ///
    /// # Safety
    /// `vtable` must be null or valid, and the functions and state it names must stay valid
    /// until the runtime is dropped.
    pub unsafe fn add_loader(&self, vtable: *const LoaderVtable) -> Result<()> {
        // SAFETY: forwarded to the caller.
        let entry = unsafe { LoaderEntry::new(vtable, None) }?;
        // A refused table stays the caller's (it may share its state with a registered one,
        // the same loader added twice): it must not be destroyed here.
        self.insert_loader(entry, LoaderEntry::disown)
    }

    /// Adds a loader built with the loader kit (`polyplug-loader`), taking ownership of it:
    /// the runtime destroys it when dropped, or at once if it is refused.
    pub fn add_loader_table(&self, table: LoaderTable) -> Result<()> {
        // SAFETY: the kit's table and its state live until `destroy`, which now only the
        // runtime calls (or `table`'s drop, if the table is refused).
        let entry = unsafe { LoaderEntry::new(table.as_ptr(), None) }?;
        // Refused, the entry gives the table back and `table`'s drop destroys it, once.
        self.insert_loader(entry, LoaderEntry::disown)?;
        let _ = table.into_raw();
        Ok(())
    }

    /// Adds a loader from a library exporting `pp_loader_entry`. The table the entry hands out
    /// belongs to the runtime: it is destroyed when the runtime is dropped, or at once if the
    /// loader is refused (an invalid table, or a name already taken).
    pub fn add_loader_library(&self, path: impl AsRef<Path>) -> Result<()> {
        let entry = LoaderEntry::from_library(path.as_ref())?;
        self.insert_loader(entry, drop)
    }

    /// Registers a validated loader, or hands it to `refused` (which disowns or destroys it)
    /// and says why.
    fn insert_loader(&self, entry: LoaderEntry, refused: impl FnOnce(LoaderEntry)) -> Result<()> {
        let mut lc = match self.inner.lifecycle() {
            Ok(lc) => lc,
            Err(e) => {
                refused(entry);
                return Err(e);
            }
        };
        if lc.state.loaders.contains_key(&entry.name) {
            let e = ErrorKind::LoaderAlreadyExists {
                name: entry.name.clone(),
            };
            refused(entry);
            return Err(e.into());
        }
        self.inner
            .log_with(LogLevel::Debug, || format!("loader `{}` added", entry.name));
        lc.state.loaders.insert(entry.name.clone(), Arc::new(entry));
        Ok(())
    }

    /// Names of the registered loaders.
    pub fn loaders(&self) -> Vec<String> {
        match self.inner.lifecycle() {
            Ok(lc) => lc.state.loaders.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Loads the bundle in directory `dir`: reads `bundle.toml`, checks its requirements, runs
    /// its loader, checks that what it registered is what it declared, and registers all its
    /// providers at once. On any failure nothing stays registered or loaded.
    pub fn load_bundle(&self, dir: impl AsRef<Path>) -> Result<BundleId> {
        let manifest = Manifest::read(dir.as_ref())?;
        let mut lc = self.inner.lifecycle()?;
        if lc
            .state
            .bundles
            .values()
            .any(|b| b.manifest.name == manifest.name)
        {
            return Err(ErrorKind::BundleAlreadyLoaded {
                name: manifest.name,
            }
            .into());
        }
        if lc.state.unloading.contains(&manifest.name) {
            return Err(ErrorKind::BundleUnloading {
                name: manifest.name,
            }
            .into());
        }
        let loader = lc
            .state
            .loaders
            .get(&manifest.loader)
            .cloned()
            .ok_or_else(|| ErrorKind::UnknownLoader {
                bundle: manifest.name.clone(),
                loader: manifest.loader.clone(),
            })?;
        self.check_requirements(&manifest)?;
        let (state, mut txn) = self.run_loader(&loader, &manifest, None)?;
        let unload = |state| unload_with(&self.inner, &loader, &manifest.name, state);
        if let Err(e) = check_declared(&manifest, &txn) {
            unload(state);
            return Err(e);
        }
        let id = lc.state.next_bundle + 1;
        let regs = std::mem::take(&mut txn.pending)
            .into_iter()
            .map(|provider| Registration {
                provider,
                priority: manifest.priority,
            })
            .collect();
        let handles = match self.inner.registry.commit(id, &manifest.name, regs) {
            Ok(h) => h,
            Err(e) => {
                unload(state);
                return Err(e);
            }
        };
        lc.state.next_bundle = id;
        self.inner.log_with(LogLevel::Info, || {
            format!(
                "bundle `{}` {} loaded with {} provider(s)",
                manifest.name,
                manifest.version,
                handles.len()
            )
        });
        lc.state.bundles.insert(
            id,
            BundleRecord {
                manifest,
                loader,
                state,
                handles,
            },
        );
        Ok(id)
    }

    /// Fails unless every contract the manifest requires has a provider.
    pub(crate) fn check_requirements(&self, manifest: &Manifest) -> Result<()> {
        let guard = epoch::pin();
        for r in &manifest.requires {
            if self
                .inner
                .registry
                .find(r.key(), &r.version, &guard)
                .is_none()
            {
                return Err(ErrorKind::MissingDependency {
                    bundle: manifest.name.clone(),
                    contract: r.to_string(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Runs a loader's `load` (or, with the old bundle state, its `reload` when it has one)
    /// through its vtable; returns its new bundle state and the transaction.
    pub(crate) fn run_loader(
        &self,
        loader: &LoaderEntry,
        m: &Manifest,
        old: Option<*mut c_void>,
    ) -> Result<(*mut c_void, Transaction)> {
        let utf8 = |p: &Path| {
            p.to_str().map(str::to_owned).ok_or_else(|| {
                ErrorKind::InvalidArgument(format!("path {} is not UTF-8", p.display()))
            })
        };
        let (dir, entry) = (utf8(&m.dir)?, utf8(&m.entry)?);
        let info = BundleInfo {
            struct_size: std::mem::size_of::<BundleInfo>() as u32,
            flags: 0,
            name: Str::new(&m.name),
            version: m.version,
            dir: Str::new(&dir),
            entry: Str::new(&entry),
            manifest: Str::new(&m.text),
        };
        let mut txn = Transaction::new(&m.name);
        let mut cx = CallContext::new(self.inner.call_arena_size, self.host_api())?;
        let mut state: *mut c_void = std::ptr::null_mut();
        let vt = &loader.vtable;
        let raw = match (old, vt.reload, vt.load) {
            // SAFETY: the loader's validated vtable, called with pointers that live for the
            // call; `old` is this loader's state for the bundle.
            (Some(old), Some(reload), _) => unsafe {
                reload(
                    vt.state,
                    self.host_api(),
                    &info,
                    old,
                    txn.as_registrar(),
                    &mut state,
                    cx.begin(),
                )
            },
            // A loader without `reload` reloads by loading the bundle afresh.
            // SAFETY: as above.
            (_, _, Some(load)) => unsafe {
                load(
                    vt.state,
                    self.host_api(),
                    &info,
                    txn.as_registrar(),
                    &mut state,
                    cx.begin(),
                )
            },
            _ => return Err(ErrorKind::InvalidArgument("loader without load".into()).into()),
        };
        let status = Status::from_raw(raw);
        let failed = match (status, txn.error.take()) {
            (Status::Ok, None) => None,
            (_, Some(e)) => Some(e),
            (s, None) => Some(
                ErrorKind::LoaderFailed {
                    loader: loader.name.clone(),
                    bundle: m.name.clone(),
                    status: s,
                    message: cx
                        .error_message()
                        .unwrap_or_else(|| s.description().to_string_lossy().into_owned()),
                }
                .into(),
            ),
        };
        if let Some(e) = failed {
            if status == Status::Ok {
                // The loader succeeded but a registration was refused: release what it loaded.
                unload_with(&self.inner, loader, &m.name, state);
            }
            self.inner.log_with(LogLevel::Warn, || {
                format!("bundle `{}` failed to load: {e}", m.name)
            });
            return Err(e);
        }
        Ok((state, txn))
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

/// Checks that a transaction registered exactly the contracts the manifest declares.
pub(crate) fn check_declared(m: &Manifest, txn: &Transaction) -> Result<()> {
    let registered: Vec<ContractRef> = txn.pending.iter().map(|p| p.contract.as_ref()).collect();
    let missing: Vec<String> = m
        .provides
        .iter()
        .filter(|d| !registered.contains(d))
        .map(|d| d.to_string())
        .collect();
    let mut unexpected: Vec<String> = registered
        .iter()
        .filter(|r| !m.provides.contains(r))
        .map(|r| r.to_string())
        .collect();
    unexpected.dedup();
    if missing.is_empty() && unexpected.is_empty() {
        Ok(())
    } else {
        Err(ErrorKind::ProvidersMismatch {
            bundle: m.name.clone(),
            missing,
            unexpected,
        }
        .into())
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
