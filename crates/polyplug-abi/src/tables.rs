//! The function tables and config structs of the ABI.
//!
//! Every table starts with `uint32_t struct_size` and only grows at its end. Function pointers
//! are nullable (`Option`) so that a zero-filled tail reads as "absent"; a reader checks the
//! size (see [`crate::ext`]) and the pointer before calling.

use crate::ctx::CallCtx;
use crate::handle::Handle;
use crate::types::ContractDesc;
use crate::version::Version;
use crate::views::Str;
use core::ffi::c_void;

/// The one calling convention of every contract function.
///
/// `args` points to the C struct of the parameters, `ret` to the result struct (unused when the
/// function has no result); both are laid out by [`crate::layout`]. Variable-size results are
/// views into `ctx.arena`. Returns a [`crate::Status`] code; on failure the callee may leave a
/// message in `ctx.error` and must leave `ret` in an unspecified but harmless state.
pub type ContractFn = unsafe extern "C" fn(
    instance: *mut c_void,
    args: *const c_void,
    ret: *mut c_void,
    ctx: *mut CallCtx,
) -> u32;

/// Log levels, as in the `log` crate. `Off` disables logging.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// No records.
    Off = 0,
    /// Errors.
    Error = 1,
    /// Warnings.
    Warn = 2,
    /// Information.
    Info = 3,
    /// Debugging detail.
    Debug = 4,
    /// Very verbose detail.
    Trace = 5,
}

impl LogLevel {
    /// Total conversion: codes above `Trace` clamp to `Trace`.
    pub const fn from_raw(code: u32) -> LogLevel {
        match code {
            0 => LogLevel::Off,
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// Capabilities a host may offer, queried with [`HostApi::capability`]. The answer is the
/// capability's version, or 0 when absent. Codes are never reused.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// `log` delivers records to the host's sink.
    Log = 1,
    /// `find`, `find_all` and `resolve` reach other providers.
    Registry = 2,
    /// The host registers host contracts that plugins can find.
    HostContracts = 3,
    /// Call contexts carry a growable arena.
    CallArena = 4,
    /// Bundles may be reloaded while the host runs (the runtime was configured for it).
    HotReload = 5,
    /// `call`, `guard_enter` and `guard_exit`: calls safe against concurrent reload/unload.
    GuardedCall = 6,
}

/// A sink for log records: `level` is a [`LogLevel`] code; `target` and `message` are views
/// valid for the duration of the call.
pub type LogFn =
    unsafe extern "C" fn(user: *mut c_void, level: u32, target: *const Str, message: *const Str);

/// The function table of one provider: what hosts and other plugins call through.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Interface {
    /// `size_of::<Interface>()` as the provider knew it.
    pub struct_size: u32,
    /// Number of entries in `funcs`; must equal the contract's function count.
    pub func_count: u32,
    /// The contract this table implements.
    pub contract: *const ContractDesc,
    /// `func_count` function pointers, in the contract's function order; none may be null.
    /// (Spelled out rather than `Option<ContractFn>` so cbindgen sees a nullable fn pointer.)
    pub funcs: *const Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            args: *const c_void,
            ret: *mut c_void,
            ctx: *mut CallCtx,
        ) -> u32,
    >,
    /// Passed as `instance` to calls without an explicit instance, and to `create_instance`.
    pub provider: *mut c_void,
    /// Optional: creates per-caller state for a stateful provider.
    pub create_instance: Option<
        unsafe extern "C" fn(
            provider: *mut c_void,
            out: *mut *mut c_void,
            ctx: *mut CallCtx,
        ) -> u32,
    >,
    /// Optional: destroys an instance made by `create_instance`.
    pub destroy_instance:
        Option<unsafe extern "C" fn(provider: *mut c_void, instance: *mut c_void)>,
}

// SAFETY: an interface is immutable once registered; providers promise thread-safe functions.
unsafe impl Send for Interface {}
// SAFETY: as above.
unsafe impl Sync for Interface {}

impl Interface {
    /// The function at `index`, or `None` when out of range or null.
    ///
    /// # Safety
    /// `funcs` must point to `func_count` entries.
    #[inline]
    pub unsafe fn func(&self, index: u32) -> Option<ContractFn> {
        if index >= self.func_count || self.funcs.is_null() {
            return None;
        }
        // SAFETY: `index` is in range of the table the caller vouches for.
        unsafe { *self.funcs.add(index as usize) }
    }
}

/// Opaque: the transaction a bundle's providers are registered into during its init.
/// Only ever handled by pointer; its contents belong to the runtime.
pub struct Registrar {
    _private: [u8; 0],
}

/// The table the runtime hands to every plugin and loader.
///
/// Fields after the first published size are read only after checking `struct_size`
/// (see [`crate::ext::has_field`]). Every function takes the table itself as `host`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostApi {
    /// `size_of::<HostApi>()` as the runtime knew it.
    pub struct_size: u32,
    /// The runtime's [`crate::ABI_VERSION`].
    pub abi_version: u32,
    /// Records above this [`LogLevel`] are dropped; check it before formatting a message.
    pub max_log_level: u32,
    /// Reserved flags; zero.
    pub flags: u32,
    /// The runtime's private context.
    pub context: *mut c_void,
    /// The version of a [`Capability`] (by code), or 0 when absent.
    pub capability: Option<unsafe extern "C" fn(host: *const HostApi, cap: u32) -> u32>,
    /// Delivers a log record (`level` is a [`LogLevel`] code).
    pub log: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            level: u32,
            target: *const Str,
            message: *const Str,
        ),
    >,
    /// Adds a provider to the bundle's registration transaction. Valid only during init.
    /// The runtime copies `iface` and its function table; `iface.contract` must stay valid
    /// until the bundle is unloaded.
    pub register_provider: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            reg: *mut Registrar,
            iface: *const Interface,
        ) -> u32,
    >,
    /// Finds the highest-priority provider of `contract` compatible with `min_version`.
    pub find: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            contract: *const Str,
            min_version: *const Version,
            out: *mut Handle,
        ) -> u32,
    >,
    /// Writes up to `capacity` compatible providers, highest priority first, and their total
    /// count to `count`; returns `BufferTooSmall` if `capacity` was short. With `out` null and
    /// `capacity` 0 it only counts (and returns `Ok`).
    pub find_all: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            contract: *const Str,
            min_version: *const Version,
            out: *mut Handle,
            capacity: usize,
            count: *mut usize,
        ) -> u32,
    >,
    /// Resolves a handle to its interface, and optionally to its slot's revision word (read it
    /// with an atomic acquire load; it changes when the provider is reloaded or unloaded).
    pub resolve: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            handle: *const Handle,
            out_iface: *mut *const Interface,
            out_revision: *mut *const u32,
        ) -> u32,
    >,
    /// Copies a message into the call's arena and records it as the call's error.
    pub set_error: Option<unsafe extern "C" fn(ctx: *mut CallCtx, message: *const u8, len: usize)>,
    /// The guarded call: resolves `handle`, pins the provider for the call, and calls function
    /// `func`. Safe against a concurrent reload or unload; a stale handle returns `StaleHandle`,
    /// an index past the end `InvalidArgument`.
    pub call: Option<
        unsafe extern "C" fn(
            host: *const HostApi,
            handle: *const Handle,
            func: u32,
            args: *const c_void,
            ret: *mut c_void,
            ctx: *mut CallCtx,
        ) -> u32,
    >,
    /// Opens a guarded section on the calling thread (sections nest). Inside it, an interface
    /// from `resolve` whose revision word still reads as when resolved stays callable until
    /// `guard_exit`, whatever other threads reload or unload: the cheap guarded path.
    pub guard_enter: Option<unsafe extern "C" fn()>,
    /// Closes the section `guard_enter` opened.
    pub guard_exit: Option<unsafe extern "C" fn()>,
}

// SAFETY: the table is immutable after creation and its functions are thread-safe.
unsafe impl Send for HostApi {}
// SAFETY: as above.
unsafe impl Sync for HostApi {}

/// Runtime creation options for C hosts. Zero in any field means the default.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuntimeConfig {
    /// `size_of::<RuntimeConfig>()` as the host knew it.
    pub struct_size: u32,
    /// [`RuntimeConfig::FLAG_HOT_RELOAD`], [`RuntimeConfig::FLAG_LOG_OFF`] and future flags.
    pub flags: u32,
    /// Most verbose [`LogLevel`] delivered; 0 means `Info`.
    pub log_max_level: u32,
    /// First-block size of call arenas the runtime creates; 0 means 4096.
    pub call_arena_size: u32,
    /// Log sink (a [`LogFn`]); null means the runtime's default (the `log` crate).
    pub log: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            level: u32,
            target: *const Str,
            message: *const Str,
        ),
    >,
    /// Passed to `log`.
    pub log_user: *mut c_void,
    /// Called with `log_user` when the runtime is destroyed.
    pub log_user_free: Option<unsafe extern "C" fn(user: *mut c_void)>,
    /// Told of each reload's phases (a [`ReloadPhase`] code); `message` says why a reload
    /// failed and is empty otherwise. Null: no reports.
    pub reload_event: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            bundle: u64,
            name: *const Str,
            phase: u32,
            message: *const Str,
        ),
    >,
    /// Passed to `reload_event`; the host keeps it alive as long as the runtime.
    pub reload_user: *mut c_void,
}

/// A phase of a bundle reload, as reported to the host.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReloadPhase {
    /// The new code is about to be loaded; the old version keeps serving.
    Preparing = 1,
    /// Every provider now runs the new code; the old code has been released.
    Reloaded = 2,
    /// The reload failed; the old version keeps serving.
    Failed = 3,
}

impl RuntimeConfig {
    /// Allows `reload_bundle`.
    pub const FLAG_HOT_RELOAD: u32 = 1;
    /// Delivers no log records at all (`log_max_level` 0 means the default, `Info`).
    pub const FLAG_LOG_OFF: u32 = 2;
}

/// What a loader is told about the bundle it loads.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BundleInfo {
    /// `size_of::<BundleInfo>()` as the runtime knew it.
    pub struct_size: u32,
    /// Reserved flags; zero.
    pub flags: u32,
    /// The bundle's name from `bundle.toml`.
    pub name: Str,
    /// The bundle's version.
    pub version: Version,
    /// The bundle's directory (absolute).
    pub dir: Str,
    /// The code file to load (absolute): the library, or the script.
    pub entry: Str,
    /// The full text of `bundle.toml`, for loader-specific keys.
    pub manifest: Str,
}

// SAFETY: a read-only description, valid for the call it is passed to.
unsafe impl Send for BundleInfo {}
// SAFETY: as above.
unsafe impl Sync for BundleInfo {}

/// A loader: turns bundles of one kind into registered providers.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LoaderVtable {
    /// `size_of::<LoaderVtable>()` as the loader knew it.
    pub struct_size: u32,
    /// The [`crate::ABI_VERSION`] the loader was built for.
    pub abi_version: u32,
    /// The name bundles use in `loader = "..."`.
    pub name: Str,
    /// Comma-separated file extensions the loader handles (`so,dylib,dll`).
    pub file_kinds: Str,
    /// The loader's private state, passed to every function.
    pub state: *mut c_void,
    /// Loads a bundle: registers its providers into `reg` and returns the loader's per-bundle
    /// state in `out_bundle`.
    pub load: Option<
        unsafe extern "C" fn(
            state: *mut c_void,
            host: *const HostApi,
            bundle: *const BundleInfo,
            reg: *mut Registrar,
            out_bundle: *mut *mut c_void,
            ctx: *mut CallCtx,
        ) -> u32,
    >,
    /// Releases a bundle after its providers were unregistered and no call is in flight.
    pub unload: Option<unsafe extern "C" fn(state: *mut c_void, bundle: *mut c_void) -> u32>,
    /// Destroys the loader (after every bundle was unloaded). Optional.
    pub destroy: Option<unsafe extern "C" fn(state: *mut c_void)>,
    /// Optional: loads new code for a loaded bundle, registering its providers into `reg`.
    pub reload: Option<
        unsafe extern "C" fn(
            state: *mut c_void,
            host: *const HostApi,
            bundle: *const BundleInfo,
            old_bundle: *mut c_void,
            reg: *mut Registrar,
            out_bundle: *mut *mut c_void,
            ctx: *mut CallCtx,
        ) -> u32,
    >,
}

// SAFETY: loaders promise thread-safe functions; the table is immutable.
unsafe impl Send for LoaderVtable {}
// SAFETY: as above.
unsafe impl Sync for LoaderVtable {}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    const W: usize = size_of::<usize>();

    #[test]
    fn interface_layout() {
        assert_eq!(
            (size_of::<Interface>(), align_of::<Interface>()),
            (8 + 5 * W, W)
        );
        assert_eq!(offset_of!(Interface, struct_size), 0);
        assert_eq!(offset_of!(Interface, func_count), 4);
        assert_eq!(offset_of!(Interface, contract), 8);
        assert_eq!(offset_of!(Interface, funcs), 8 + W);
        assert_eq!(offset_of!(Interface, provider), 8 + 2 * W);
        assert_eq!(offset_of!(Interface, create_instance), 8 + 3 * W);
        assert_eq!(offset_of!(Interface, destroy_instance), 8 + 4 * W);
        assert_eq!(size_of::<Option<ContractFn>>(), W);
    }

    #[test]
    fn host_api_layout() {
        assert_eq!(
            (size_of::<HostApi>(), align_of::<HostApi>()),
            (16 + 11 * W, W)
        );
        assert_eq!(offset_of!(HostApi, struct_size), 0);
        assert_eq!(offset_of!(HostApi, abi_version), 4);
        assert_eq!(offset_of!(HostApi, max_log_level), 8);
        assert_eq!(offset_of!(HostApi, flags), 12);
        assert_eq!(offset_of!(HostApi, context), 16);
        assert_eq!(offset_of!(HostApi, capability), 16 + W);
        assert_eq!(offset_of!(HostApi, log), 16 + 2 * W);
        assert_eq!(offset_of!(HostApi, register_provider), 16 + 3 * W);
        assert_eq!(offset_of!(HostApi, find), 16 + 4 * W);
        assert_eq!(offset_of!(HostApi, find_all), 16 + 5 * W);
        assert_eq!(offset_of!(HostApi, resolve), 16 + 6 * W);
        assert_eq!(offset_of!(HostApi, set_error), 16 + 7 * W);
        assert_eq!(offset_of!(HostApi, call), 16 + 8 * W);
        assert_eq!(offset_of!(HostApi, guard_enter), 16 + 9 * W);
        assert_eq!(offset_of!(HostApi, guard_exit), 16 + 10 * W);
    }

    #[test]
    fn runtime_config_layout() {
        assert_eq!(
            (size_of::<RuntimeConfig>(), align_of::<RuntimeConfig>()),
            (16 + 5 * W, W)
        );
        assert_eq!(offset_of!(RuntimeConfig, struct_size), 0);
        assert_eq!(offset_of!(RuntimeConfig, flags), 4);
        assert_eq!(offset_of!(RuntimeConfig, log_max_level), 8);
        assert_eq!(offset_of!(RuntimeConfig, call_arena_size), 12);
        assert_eq!(offset_of!(RuntimeConfig, log), 16);
        assert_eq!(offset_of!(RuntimeConfig, log_user), 16 + W);
        assert_eq!(offset_of!(RuntimeConfig, log_user_free), 16 + 2 * W);
        assert_eq!(offset_of!(RuntimeConfig, reload_event), 16 + 3 * W);
        assert_eq!(offset_of!(RuntimeConfig, reload_user), 16 + 4 * W);
    }

    #[test]
    fn bundle_info_layout() {
        let version_end = 8 + 2 * W + 12;
        let dir = version_end.next_multiple_of(W);
        assert_eq!(offset_of!(BundleInfo, struct_size), 0);
        assert_eq!(offset_of!(BundleInfo, flags), 4);
        assert_eq!(offset_of!(BundleInfo, name), 8);
        assert_eq!(offset_of!(BundleInfo, version), 8 + 2 * W);
        assert_eq!(offset_of!(BundleInfo, dir), dir);
        assert_eq!(offset_of!(BundleInfo, entry), dir + 2 * W);
        assert_eq!(offset_of!(BundleInfo, manifest), dir + 4 * W);
        assert_eq!(
            (size_of::<BundleInfo>(), align_of::<BundleInfo>()),
            (dir + 6 * W, W)
        );
    }

    #[test]
    fn loader_vtable_layout() {
        assert_eq!(offset_of!(LoaderVtable, struct_size), 0);
        assert_eq!(offset_of!(LoaderVtable, abi_version), 4);
        assert_eq!(offset_of!(LoaderVtable, name), 8);
        assert_eq!(offset_of!(LoaderVtable, file_kinds), 8 + 2 * W);
        assert_eq!(offset_of!(LoaderVtable, state), 8 + 4 * W);
        assert_eq!(offset_of!(LoaderVtable, load), 8 + 5 * W);
        assert_eq!(offset_of!(LoaderVtable, unload), 8 + 6 * W);
        assert_eq!(offset_of!(LoaderVtable, destroy), 8 + 7 * W);
        assert_eq!(offset_of!(LoaderVtable, reload), 8 + 8 * W);
        assert_eq!(
            (size_of::<LoaderVtable>(), align_of::<LoaderVtable>()),
            (8 + 9 * W, W)
        );
    }

    #[test]
    fn small_types() {
        assert_eq!(size_of::<LogLevel>(), 4);
        assert_eq!(size_of::<Capability>(), 4);
        assert_eq!(size_of::<ReloadPhase>(), 4);
        assert_eq!(size_of::<Registrar>(), 0);
        assert_eq!(LogLevel::from_raw(77), LogLevel::Trace);
        assert_eq!(LogLevel::from_raw(0), LogLevel::Off);
    }
}
