//! The stable C ABI of polyplug.
//!
//! This crate holds every `#[repr(C)]` type that crosses the boundary between a host, the
//! runtime, loaders and plugins, plus the rules that make the boundary last:
//!
//! * **Only scalars and pointers cross by value.** Every table entry and exported function
//!   takes pointers to these structs and returns a `u32` [`Status`] code.
//! * **Every table starts with `struct_size`** (and [`HostApi`] with the ABI version). Tables are
//!   append-only; [`ext::reconcile`] reads a peer's table the way Linux reads `clone3` args:
//!   smaller tables are zero-extended, larger ones are accepted only when the unknown tail is zero.
//! * **One calling convention** for every contract function ([`ContractFn`]): an instance,
//!   a pointer to the argument struct, a pointer to the result struct, and a [`CallCtx`] that
//!   carries the call [`Arena`] and the per-call error message.
//! * **Contracts are described by data** ([`TypeDesc`], [`FuncDesc`], [`ContractDesc`]) and
//!   [`layout`] computes the C layout of each type in exactly one place.
//!
//! The crate is `no_std` and has no dependencies. The optional `alloc` feature (on by default)
//! adds [`CallArena`], the host-side owner of an arena's memory; guests only need [`Arena`].
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod arena;
#[cfg(feature = "alloc")]
pub mod check;
pub mod ctx;
pub mod ext;
pub mod handle;
pub mod id;
pub mod layout;
pub mod status;
pub mod tables;
pub mod tagged;
pub mod types;
pub mod version;
pub mod views;

pub use arena::Arena;
#[cfg(feature = "alloc")]
pub use arena::CallArena;
pub use ctx::CallCtx;
pub use handle::Handle;
pub use id::contract_id;
pub use layout::Layout;
pub use status::Status;
pub use tables::{
    BundleInfo, Capability, ContractFn, HostApi, Interface, LoaderVtable, LogFn, LogLevel,
    Registrar, ReloadPhase, RuntimeConfig,
};
pub use tagged::{RawOption, RawPayload, RawResult};
pub use types::{ContractDesc, FieldDesc, FuncDesc, TypeDesc, TypeKind};
pub use version::Version;
pub use views::{Bytes, List, Str};

/// Major version of the ABI. A plugin or loader built against another major is refused.
pub const ABI_MAJOR: u16 = 1;
/// Minor version of the ABI. Minors only append fields and capabilities.
pub const ABI_MINOR: u16 = 0;
/// The ABI version as one word: `major << 16 | minor`.
pub const ABI_VERSION: u32 = abi_version(ABI_MAJOR, ABI_MINOR);

/// Packs a major and minor ABI version into one word.
pub const fn abi_version(major: u16, minor: u16) -> u32 {
    ((major as u32) << 16) | minor as u32
}

/// The major part of a packed ABI version.
pub const fn abi_major_of(version: u32) -> u16 {
    (version >> 16) as u16
}

/// Symbol every native plugin exports: a `u32` static holding the [`ABI_VERSION`] it was built for.
pub const PLUGIN_ABI_VERSION_SYMBOL: &str = "pp_plugin_abi_version";
/// Symbol every native plugin exports: its [`PluginInitFn`] entry point.
pub const PLUGIN_INIT_SYMBOL: &str = "pp_plugin_init";
/// Optional symbol a native plugin may export: its [`PluginFiniFn`], called before its library closes.
pub const PLUGIN_FINI_SYMBOL: &str = "pp_plugin_fini";
/// Symbol a loader library exports: a [`LoaderEntryFn`] returning its [`LoaderVtable`].
pub const LOADER_ENTRY_SYMBOL: &str = "pp_loader_entry";

/// A plugin's entry point.
///
/// The plugin registers each of its providers with `host.register_provider(reg, ...)` and returns
/// [`Status::Ok`]; on failure it returns another status and may describe the failure with
/// `host.set_error(ctx, ...)`. `bundle` describes the bundle being loaded. All pointers are valid
/// for the duration of the call only, except `host`, which stays valid until the plugin's
/// [`PluginFiniFn`] has returned.
pub type PluginInitFn = unsafe extern "C" fn(
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut Registrar,
    ctx: *mut CallCtx,
) -> u32;

/// A plugin's optional shutdown hook, called once after its providers were unregistered and
/// before its library is closed.
pub type PluginFiniFn = unsafe extern "C" fn(host: *const HostApi);

/// The entry symbol of a loader library: writes its vtable to `out`.
pub type LoaderEntryFn = unsafe extern "C" fn(out: *mut *const LoaderVtable) -> u32;
