//! The safe trait behind a loader's C vtable.
//!
//! A loader implements [`Loader`]; [`LoaderTable::new`] turns it into a
//! [`polyplug_abi::LoaderVtable`] whose functions parse the bundle's manifest, call the trait
//! inside a panic guard, register the providers the loader built, map a [`LoadError`] to a status
//! plus the call's error message, and keep each bundle's state (and its providers) alive until
//! the runtime unloads it. [`crate::export_loader!`] exports `pp_loader_entry` from a loader
//! library. No Rust type crosses the vtable: a loader built separately from the runtime is
//! reached exactly like a built-in one.

use crate::ffi::{guard, set_error, view_str};
use crate::host::Host;
use crate::manifest::{Manifest, ManifestError};
use crate::provider::Provider;
use polyplug_abi::{
    BundleInfo, CallCtx, HostApi, LoaderVtable, Registrar, Status, Str, ABI_VERSION,
};
use std::ffi::c_void;
use std::fmt;
use std::path::PathBuf;

/// A loader's failure: a status and a message for the runtime's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The status the vtable function returns.
    pub status: Status,
    /// What went wrong, for the runtime's error and the host's log.
    pub message: String,
}

impl LoadError {
    /// A failure with `status`.
    #[cold]
    pub fn new(status: Status, message: impl Into<String>) -> LoadError {
        LoadError {
            status,
            message: message.into(),
        }
    }

    /// Code that could not be loaded ([`Status::LoadFailed`]).
    #[cold]
    pub fn load_failed(message: impl Into<String>) -> LoadError {
        LoadError::new(Status::LoadFailed, message)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.status)
    }
}

impl std::error::Error for LoadError {}

impl From<ManifestError> for LoadError {
    fn from(e: ManifestError) -> LoadError {
        LoadError::new(e.status(), e.to_string())
    }
}

impl From<crate::library::LibraryError> for LoadError {
    fn from(e: crate::library::LibraryError) -> LoadError {
        LoadError::new(e.status(), e.to_string())
    }
}

impl From<crate::provider::BuildError> for LoadError {
    fn from(e: crate::provider::BuildError) -> LoadError {
        LoadError::new(Status::ContractMismatch, e.to_string())
    }
}

/// A loader: turns bundles of one kind into registered providers. Calls may come from any
/// thread; the runtime serialises loads and reloads, but an unload may run beside the load of
/// another bundle.
pub trait Loader: Send + Sync + 'static {
    /// What the loader keeps per loaded bundle (a library, a VM pool...). Dropped after
    /// [`Loader::unload`], once no call is inside the bundle's providers.
    type Bundle: Send + 'static;

    /// The name bundles use in `loader = "..."`.
    fn name(&self) -> &str;

    /// Comma-separated extensions of the code files it loads (`so,dylib,dll`, `lua`).
    fn file_kinds(&self) -> &str {
        ""
    }

    /// Loads a bundle: builds its providers and registers them with
    /// [`LoadContext::register`] (or has its code register them through
    /// [`LoadContext::raw`]). All registrations appear together once the runtime checked them
    /// against the manifest's `provides`, or none does.
    fn load(&self, cx: &mut LoadContext<'_>) -> Result<Self::Bundle, LoadError>;

    /// Loads new code for a loaded bundle, registering its providers into a fresh transaction;
    /// the runtime swaps them in, then unloads `old` once no call is inside it. Loads afresh
    /// by default.
    fn reload(
        &self,
        cx: &mut LoadContext<'_>,
        old: &Self::Bundle,
    ) -> Result<Self::Bundle, LoadError> {
        let _ = old;
        self.load(cx)
    }

    /// Releases a bundle. Its providers are unregistered and no call is inside them.
    fn unload(&self, bundle: Self::Bundle) -> Result<(), LoadError> {
        drop(bundle);
        Ok(())
    }
}

/// The raw pointers of one `load` or `reload`, for a loader whose code registers its providers
/// itself through the host table (a native plugin's `pp_plugin_init`).
#[derive(Clone, Copy, Debug)]
pub struct RawLoad {
    /// The host table.
    pub host: *const HostApi,
    /// What the runtime says about the bundle.
    pub bundle: *const BundleInfo,
    /// The bundle's registration transaction.
    pub registrar: *mut Registrar,
    /// The call context of this load: an error message left here reaches the runtime.
    pub ctx: *mut CallCtx,
}

/// What a loader's `load` and `reload` see: the bundle's parsed manifest, the host, and where to
/// register providers.
pub struct LoadContext<'a> {
    host: Host,
    manifest: &'a Manifest,
    raw: RawLoad,
    providers: &'a mut Vec<Provider>,
}

impl<'a> LoadContext<'a> {
    /// The bundle's manifest, parsed by the one `bundle.toml` parser.
    pub fn manifest(&self) -> &'a Manifest {
        self.manifest
    }

    /// The host, to log, find and call.
    pub fn host(&self) -> Host {
        self.host
    }

    /// The bundle's code file (the manifest's `library` or `entry`), absolute.
    pub fn entry(&self) -> &'a PathBuf {
        &self.manifest.entry
    }

    /// The raw pointers, for code that registers through the host table itself.
    pub fn raw(&self) -> RawLoad {
        self.raw
    }

    /// Registers a provider built from Rust closures; the kit keeps it alive until the bundle
    /// is unloaded (or the load fails).
    pub fn register(&mut self, provider: Provider) -> Result<(), LoadError> {
        // SAFETY: the host table checked in `LoadContext`'s construction.
        let Some(f) = (unsafe { (*self.host.as_raw()).register_provider }) else {
            return Err(LoadError::new(
                Status::Unsupported,
                "the host table has no register_provider",
            ));
        };
        // SAFETY: the runtime's registrar for this load; the interface stays valid while the
        // provider is kept, which is until the bundle is unloaded.
        let status = Status::from_raw(unsafe {
            f(self.host.as_raw(), self.raw.registrar, provider.interface())
        });
        // Kept even when refused: the runtime may hold a copy of the table until it drops
        // the failed transaction.
        self.providers.push(provider);
        match status {
            Status::Ok => Ok(()),
            s => Err(LoadError::new(
                s,
                format!(
                    "the runtime refused the provider of `{}`",
                    self.providers
                        .last()
                        .map(|p| p.contract().contract().to_string())
                        .unwrap_or_default()
                ),
            )),
        }
    }

    /// The contracts the bundle provides, each read from its WIT (the manifest's `wit` key,
    /// or its `wit/` directory) and compiled, in `provides` order.
    #[cfg(feature = "wit")]
    pub fn provided_contracts(
        &self,
    ) -> Result<Vec<std::sync::Arc<polyplug_contract::CompiledContract>>, LoadError> {
        crate::wit::Wit::load(self.manifest)
            .and_then(|w| w.provided(self.manifest))
            .map_err(|e| LoadError::new(Status::InvalidManifest, e.to_string()))
    }
}

/// A loaded bundle as the kit keeps it: the loader's state, then the providers it registered.
struct KitBundle<B> {
    state: B,
    /// Dropped after `state`: nothing may call into them once the bundle is unloaded.
    providers: Vec<Provider>,
}

/// A loader behind its vtable. The vtable's `state` points here.
struct Shim<L: Loader> {
    vtable: LoaderVtable,
    /// Stable copies the vtable's `name` and `file_kinds` views point into.
    name: String,
    kinds: String,
    loader: L,
}

/// A loader's vtable, owning the loader. Dropping it destroys the loader; a runtime that
/// accepted the table destroys it instead, through its `destroy` entry (see
/// [`LoaderTable::into_raw`]).
pub struct LoaderTable {
    vtable: *mut LoaderVtable,
}

// SAFETY: the loader is `Send + Sync`, and the table is immutable once built.
unsafe impl Send for LoaderTable {}

impl fmt::Debug for LoaderTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoaderTable").finish()
    }
}

impl LoaderTable {
    /// The vtable of `loader`.
    pub fn new<L: Loader>(loader: L) -> LoaderTable {
        let name = loader.name().to_owned();
        let kinds = loader.file_kinds().to_owned();
        let shim = Box::into_raw(Box::new(Shim {
            vtable: LoaderVtable {
                struct_size: size_of::<LoaderVtable>() as u32,
                abi_version: ABI_VERSION,
                name: Str::EMPTY,
                file_kinds: Str::EMPTY,
                state: std::ptr::null_mut(),
                load: Some(load::<L>),
                unload: Some(unload::<L>),
                destroy: Some(destroy::<L>),
                reload: Some(reload::<L>),
            },
            name,
            kinds,
            loader,
        }));
        // SAFETY: just allocated; the views point into the box's strings, which never move.
        unsafe {
            (*shim).vtable.name = Str::new(&(*shim).name);
            (*shim).vtable.file_kinds = Str::new(&(*shim).kinds);
            (*shim).vtable.state = shim.cast();
        }
        LoaderTable {
            // SAFETY: the shim just allocated; the table lives in it until `destroy`.
            vtable: unsafe { &raw mut (*shim).vtable },
        }
    }

    /// The vtable, to pass to `pp_add_loader` or `Runtime::add_loader` (which copy it).
    pub fn as_ptr(&self) -> *const LoaderVtable {
        self.vtable
    }

    /// Gives up ownership: whoever took the table calls its `destroy` once, with its `state`,
    /// when done (a runtime that accepted it does so when it is dropped).
    pub fn into_raw(self) -> *const LoaderVtable {
        let p = self.vtable;
        std::mem::forget(self);
        p
    }
}

impl Drop for LoaderTable {
    fn drop(&mut self) {
        // SAFETY: the table is ours; read before `destroy` frees the shim it lives in.
        let (destroy, state) = unsafe { ((*self.vtable).destroy, (*self.vtable).state) };
        if let Some(destroy) = destroy {
            // SAFETY: the loader's own destructor, called once with its own state.
            unsafe { destroy(state) };
        }
    }
}

/// Runs `f` behind the ABI's rules: a panic becomes [`Status::Panic`] with its message in
/// `ctx`, and an `Err` its status with its message.
fn shielded(ctx: *mut CallCtx, f: impl FnOnce() -> Result<(), LoadError>) -> u32 {
    guard(
        || match f() {
            Ok(()) => Status::Ok.raw(),
            Err(e) => {
                // SAFETY: the runtime's context for this call (or null).
                unsafe { set_error(ctx, &e.message) };
                e.status.raw()
            }
        },
        // SAFETY: as above.
        |message| unsafe { set_error(ctx, message) },
    )
}

/// The shared body of `load` and `reload`.
///
/// # Safety
/// The runtime's pointers for one load; `old` is this loader's bundle state or null.
unsafe fn run<L: Loader>(
    state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    old: *mut c_void,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    if state.is_null() || bundle.is_null() || out_bundle.is_null() {
        return Status::NullPointer.raw();
    }
    shielded(ctx, || {
        // SAFETY: our own shim, alive until `destroy`.
        let shim = unsafe { &*state.cast::<Shim<L>>() };
        // SAFETY: the runtime's host table, valid while the bundle is loaded.
        let host_handle =
            unsafe { Host::from_raw(host) }.map_err(|m| LoadError::new(Status::AbiMismatch, m))?;
        // SAFETY: checked non-null; the runtime's description, valid for the call.
        let info = unsafe { &*bundle };
        let text = |v: &Str, what: &str| {
            // SAFETY: the runtime's views, valid for the call.
            unsafe { view_str(v) }
                .map(str::to_owned)
                .map_err(|m| LoadError::new(Status::InvalidArgument, format!("{what}: {m}")))
        };
        let dir = text(&info.dir, "bundle directory")?;
        let manifest = Manifest::parse(dir.as_ref(), text(&info.manifest, "manifest")?)?;
        let mut providers = Vec::new();
        let mut cx = LoadContext {
            host: host_handle,
            manifest: &manifest,
            raw: RawLoad {
                host,
                bundle,
                registrar: reg,
                ctx,
            },
            providers: &mut providers,
        };
        let loaded = if old.is_null() {
            shim.loader.load(&mut cx)
        } else {
            // SAFETY: the bundle state this loader made for the bundle, still loaded.
            let old = unsafe { &*old.cast::<KitBundle<L::Bundle>>() };
            shim.loader.reload(&mut cx, &old.state)
        }?;
        let kept = Box::new(KitBundle {
            state: loaded,
            providers,
        });
        // SAFETY: checked non-null.
        unsafe { out_bundle.write(Box::into_raw(kept).cast()) };
        Ok(())
    })
}

unsafe extern "C" fn load<L: Loader>(
    state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: forwarded from the runtime.
    unsafe {
        run::<L>(
            state,
            host,
            bundle,
            std::ptr::null_mut(),
            reg,
            out_bundle,
            ctx,
        )
    }
}

unsafe extern "C" fn reload<L: Loader>(
    state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    old_bundle: *mut c_void,
    reg: *mut Registrar,
    out_bundle: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    if old_bundle.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: forwarded from the runtime.
    unsafe { run::<L>(state, host, bundle, old_bundle, reg, out_bundle, ctx) }
}

unsafe extern "C" fn unload<L: Loader>(state: *mut c_void, bundle: *mut c_void) -> u32 {
    if state.is_null() || bundle.is_null() {
        return Status::NullPointer.raw();
    }
    guard(
        || {
            // SAFETY: our own shim, alive until `destroy`.
            let shim = unsafe { &*state.cast::<Shim<L>>() };
            // SAFETY: the state `run` made, handed back exactly once.
            let kept = unsafe { Box::from_raw(bundle.cast::<KitBundle<L::Bundle>>()) };
            let KitBundle { state, providers } = *kept;
            let status = match shim.loader.unload(state) {
                Ok(()) => Status::Ok,
                Err(e) => e.status,
            };
            drop(providers);
            status.raw()
        },
        |_| {},
    )
}

unsafe extern "C" fn destroy<L: Loader>(state: *mut c_void) {
    if state.is_null() {
        return;
    }
    // SAFETY: the shim `LoaderTable::new` made, destroyed exactly once.
    let shim = unsafe { Box::from_raw(state.cast::<Shim<L>>()) };
    guard(
        || {
            drop(shim);
            0
        },
        |_| {},
    );
}

/// The body of a loader library's `pp_loader_entry`: builds the loader (inside a panic guard)
/// and hands its vtable to the caller, who owns it (and calls `destroy` once). Used by
/// [`crate::export_loader!`].
///
/// # Safety
/// `out` must be null or writable.
pub unsafe fn entry<L: Loader>(out: *mut *const LoaderVtable, make: impl FnOnce() -> L) -> u32 {
    if out.is_null() {
        return Status::NullPointer.raw();
    }
    guard(
        || {
            let table = LoaderTable::new(make());
            // SAFETY: checked non-null.
            unsafe { out.write(table.into_raw()) };
            Status::Ok.raw()
        },
        |_| {},
    )
}

/// Exports `pp_loader_entry` from a loader library (a `cdylib`): each call builds a fresh
/// loader with the given expression and hands its vtable to the runtime, which calls
/// `destroy` when it is done with it.
///
/// ```
/// use polyplug_loader::{LoadContext, LoadError, Loader};
///
/// #[derive(Default)]
/// struct MyLoader;
///
/// impl Loader for MyLoader {
///     type Bundle = ();
///     fn name(&self) -> &str {
///         "mine"
///     }
///     fn load(&self, _cx: &mut LoadContext<'_>) -> Result<(), LoadError> {
///         Ok(())
///     }
/// }
///
/// polyplug_loader::export_loader!(MyLoader::default());
///
/// // What the runtime does with the library's entry symbol:
/// let mut vt = std::ptr::null();
/// // SAFETY: a valid out-pointer.
/// assert_eq!(unsafe { pp_loader_entry(&mut vt) }, 0);
/// // SAFETY: the table the entry handed over, destroyed once by its new owner.
/// unsafe {
///     assert_eq!((*vt).name.to_str(), Ok("mine"));
///     ((*vt).destroy.expect("the kit's tables have destroy"))((*vt).state);
/// }
/// ```
#[macro_export]
macro_rules! export_loader {
    ($make:expr) => {
        /// The loader library's entry point (see `polyplug_loader::export_loader!`).
        ///
        /// # Safety
        /// `out` must be null or writable.
        #[no_mangle]
        pub unsafe extern "C" fn pp_loader_entry(
            out: *mut *const $crate::abi::LoaderVtable,
        ) -> u32 {
            // SAFETY: forwarded from the runtime.
            unsafe { $crate::loader::entry(out, || $make) }
        }
    };
}
