//! Providers, their registration during init, and their release at fini.

use crate::error::Error;
use crate::rt::{drop_payload, panic_message, set_error};
use polyplug_abi::tables::Interface;
use polyplug_abi::{BundleInfo, CallCtx, ContractDesc, ContractFn, HostApi, Status, Str};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

/// One implementation of a contract, ready to register: the function table, the
/// implementation it calls, and (for a stateful provider) the factory of its instances.
///
/// Made by the generated `provider(imp)` or `stateful_provider(factory)`, handed to
/// [`Registrar::register`]. Once registered it is kept alive until the plugin's
/// `pp_plugin_fini`, which drops it (and the implementation with it).
pub struct Provider {
    iface: Interface,
    /// The table `iface.funcs` points to (a heap block: moving the provider keeps it in place).
    _funcs: Box<[Option<ContractFn>]>,
    /// Drops the state `iface.provider` points to.
    drop_state: unsafe fn(*mut c_void),
}

// SAFETY: the state is a `T: Send + Sync` (or a `Stateful<T>` of one), the rest is immutable
// data and function pointers.
unsafe impl Send for Provider {}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: the contract descriptor is `'static` (see the constructors).
        let name = unsafe { (*self.iface.contract).name.to_str() }.unwrap_or("<not UTF-8>");
        f.debug_struct("Provider")
            .field("contract", &name)
            .field("stateful", &self.iface.create_instance.is_some())
            .finish()
    }
}

/// The state of a stateful provider: its default instance first, so that a pointer to the
/// state is also a pointer to the default instance (what calls without an instance receive).
#[repr(C)]
struct Stateful<T> {
    default: T,
    factory: Box<dyn Fn() -> T + Send + Sync>,
}

unsafe fn drop_boxed<T>(state: *mut c_void) {
    // SAFETY: `state` came from `Box::into_raw` of a `T` in a constructor, dropped once.
    drop(unsafe { Box::from_raw(state.cast::<T>()) });
}

impl Provider {
    fn with_state(
        contract: &'static ContractDesc,
        funcs: &[ContractFn],
        state: *mut c_void,
        drop_state: unsafe fn(*mut c_void),
    ) -> Provider {
        let funcs: Box<[Option<ContractFn>]> = funcs.iter().map(|&f| Some(f)).collect();
        let iface = Interface {
            struct_size: size_of::<Interface>() as u32,
            func_count: funcs.len() as u32,
            contract,
            funcs: funcs.as_ptr(),
            provider: state,
            create_instance: None,
            destroy_instance: None,
        };
        Provider {
            iface,
            _funcs: funcs,
            drop_state,
        }
    }

    /// A stateless provider: every call receives `imp` (as the interface's `provider`).
    ///
    /// # Safety
    /// `funcs` must be `contract`'s functions in table order, each reading its `instance` as a
    /// `*const T` (the generated thunks for `T`).
    pub unsafe fn stateless<T: Send + Sync + 'static>(
        contract: &'static ContractDesc,
        funcs: &[ContractFn],
        imp: T,
    ) -> Provider {
        let state = Box::into_raw(Box::new(imp)).cast::<c_void>();
        Provider::with_state(contract, funcs, state, drop_boxed::<T>)
    }

    /// A stateful provider: `create_instance` makes a `T` per instance with `factory`, and
    /// calls without an instance use a default one, made here.
    ///
    /// # Safety
    /// As for [`Provider::stateless`].
    pub unsafe fn stateful<T: Send + Sync + 'static>(
        contract: &'static ContractDesc,
        funcs: &[ContractFn],
        factory: impl Fn() -> T + Send + Sync + 'static,
    ) -> Provider {
        let state = Box::new(Stateful {
            default: factory(),
            factory: Box::new(factory),
        });
        let state = Box::into_raw(state).cast::<c_void>();
        let mut p = Provider::with_state(contract, funcs, state, drop_boxed::<Stateful<T>>);
        p.iface.create_instance = Some(create_instance::<T>);
        p.iface.destroy_instance = Some(destroy_instance::<T>);
        p
    }

    /// The function table this provider registers.
    pub fn interface(&self) -> &Interface {
        &self.iface
    }

    /// The contract it implements.
    pub fn contract(&self) -> &'static ContractDesc {
        // SAFETY: the constructors take a `'static` descriptor.
        unsafe { &*self.iface.contract }
    }

    /// Keeps the provider alive for the rest of the process and returns its table: for a
    /// host that registers a Rust implementation as a host provider (`'static` interface).
    pub fn leak(self) -> &'static Interface {
        &Box::leak(Box::new(self)).iface
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        // SAFETY: the state was made by the constructor that chose `drop_state`, once.
        unsafe { (self.drop_state)(self.iface.provider) };
    }
}

unsafe extern "C" fn create_instance<T: Send + Sync + 'static>(
    provider: *mut c_void,
    out: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: `ctx` is the caller's context or null.
    unsafe {
        crate::rt::dispatch(ctx, |_| {
            if provider.is_null() || out.is_null() {
                return Err(Error::with_status(
                    Status::NullPointer,
                    "create_instance needs the provider and an out pointer",
                ));
            }
            // SAFETY: `provider` is the `Stateful<T>` `Provider::stateful` registered.
            let state = &*provider.cast::<Stateful<T>>();
            let instance = Box::into_raw(Box::new((state.factory)()));
            out.write(instance.cast());
            Ok(())
        })
    }
}

unsafe extern "C" fn destroy_instance<T: Send + Sync + 'static>(
    provider: *mut c_void,
    instance: *mut c_void,
) {
    // The default instance belongs to the provider and dies with it.
    if instance.is_null() || instance == provider {
        return;
    }
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `instance` came from `create_instance::<T>` and is destroyed once.
        drop(unsafe { Box::from_raw(instance.cast::<T>()) });
    }));
    if let Err(payload) = dropped {
        drop_payload(payload);
    }
}

/// The providers registered by this library's init, dropped by its fini. Each bundle loads its
/// own copy of the library, so this list is per bundle.
static PROVIDERS: Mutex<Vec<Provider>> = Mutex::new(Vec::new());

/// The registration transaction of one init: what the plugin's init function receives.
pub struct Registrar {
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut polyplug_abi::Registrar,
    registered: Vec<Provider>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("bundle", &self.bundle_name())
            .field("registered", &self.registered)
            .finish()
    }
}

impl Registrar {
    /// Adds `provider` to the bundle's transaction (`host->register_provider`). Every provider
    /// the bundle's manifest declares must be registered, and nothing else.
    pub fn register(&mut self, provider: Provider) -> Result<(), Error> {
        // SAFETY: `host` is the runtime's table, valid during init (checked non-null).
        let register = unsafe { (*self.host).register_provider }.ok_or_else(|| {
            Error::with_status(Status::Unsupported, "the host cannot register providers")
        })?;
        // SAFETY: the runtime's table and registrar for this init; the interface is valid and
        // its contract `'static`. The runtime copies the table.
        let status = unsafe { register(self.host, self.reg, provider.interface()) };
        match Status::from_raw(status) {
            Status::Ok => {
                self.registered.push(provider);
                Ok(())
            }
            s => Err(Error::with_status(
                s,
                format!(
                    "registering a provider of `{}` failed: {}",
                    // SAFETY: a `'static` descriptor.
                    unsafe { provider.contract().name.to_str() }.unwrap_or("<not UTF-8>"),
                    s.description().to_string_lossy()
                ),
            )),
        }
    }

    /// The bundle's name, from its `bundle.toml`.
    pub fn bundle_name(&self) -> &str {
        // SAFETY: the runtime's bundle info, valid during init (checked non-null).
        unsafe { view(&(*self.bundle).name) }
    }

    /// The bundle's directory (absolute).
    pub fn bundle_dir(&self) -> &str {
        // SAFETY: as above.
        unsafe { view(&(*self.bundle).dir) }
    }

    /// The runtime's host table (valid until the plugin's fini returned).
    pub fn host(&self) -> *const HostApi {
        self.host
    }
}

/// # Safety
/// `s` must be a valid view for `'a`.
unsafe fn view<'a>(s: &Str) -> &'a str {
    if s.is_malformed() {
        return "";
    }
    // SAFETY: the caller's promise.
    unsafe { s.to_str() }.unwrap_or("")
}

/// The body of the `pp_plugin_init` that [`crate::export_plugin!`] exports.
///
/// # Safety
/// The ABI's promises for a plugin init: every pointer valid (or null) for the call.
#[doc(hidden)]
pub unsafe fn plugin_init(
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut polyplug_abi::Registrar,
    ctx: *mut CallCtx,
    init: fn(&mut Registrar) -> Result<(), Error>,
) -> u32 {
    if host.is_null() || bundle.is_null() || reg.is_null() {
        // SAFETY: `ctx` is the runtime's or null.
        unsafe { set_error(ctx, "pp_plugin_init: null host, bundle or registrar") };
        return Status::NullPointer.raw();
    }
    let mut registrar = Registrar {
        host,
        bundle,
        reg,
        registered: Vec::new(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| init(&mut registrar)));
    match outcome {
        Ok(Ok(())) => {
            let mut providers = PROVIDERS.lock().unwrap_or_else(PoisonError::into_inner);
            providers.append(&mut registrar.registered);
            Status::Ok.raw()
        }
        // A failed init's transaction is discarded by the runtime, so no call can reach the
        // providers it registered: `registrar` drops them.
        Ok(Err(e)) => {
            // SAFETY: as above.
            unsafe { set_error(ctx, e.message()) };
            drop_all(std::mem::take(&mut registrar.registered));
            e.status().raw()
        }
        Err(payload) => {
            // SAFETY: as above.
            unsafe { set_error(ctx, panic_message(&*payload)) };
            drop_payload(payload);
            drop_all(std::mem::take(&mut registrar.registered));
            Status::Panic.raw()
        }
    }
}

/// The body of the `pp_plugin_fini` that [`crate::export_plugin!`] exports: drops every
/// provider (and implementation) the init registered.
#[doc(hidden)]
pub fn plugin_fini() {
    let providers = std::mem::take(&mut *PROVIDERS.lock().unwrap_or_else(PoisonError::into_inner));
    drop_all(providers);
}

/// Drops providers one by one; a panicking destructor stops at the boundary.
fn drop_all(providers: Vec<Provider>) {
    for p in providers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(p))) {
            drop_payload(payload);
        }
    }
}

/// How many providers this library's init registered and fini has not released yet.
pub fn live_providers() -> usize {
    PROVIDERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len()
}
