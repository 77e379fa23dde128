//! The polyplug runtime.
//!
//! A host creates a [`Runtime`], loads **bundles** (a directory with `bundle.toml` and code),
//! finds the **providers** of typed **contracts** they register, and calls them through one
//! stable C ABI ([`polyplug_abi`]). Lookups and calls take no lock: the registry is an
//! immutable snapshot behind an epoch-managed pointer (`registry`), and a resolved provider
//! ([`CachedProvider`]) costs one indirect call.
//!
//! ```no_run
//! use polyplug::{ContractKey, Runtime, Version};
//! # fn main() -> Result<(), polyplug::Error> {
//! let rt = Runtime::new()?;
//! rt.load_bundle("bundles/counter")?;
//! const COUNTER: ContractKey<'static> = ContractKey::new("test:counter/counter", 1);
//! let handle = rt.find(COUNTER, &Version::new(1, 0, 0))?;
//! let (mut cx, mut out) = (rt.call_context()?, 0u32);
//! // Function 0 is `inc(x: u32) -> u32`.
//! unsafe { rt.call_typed(handle, 0, &41u32, &mut out, &mut cx)? };
//! assert_eq!(out, 42);
//! # Ok(()) }
//! ```
//!
//! Where things live: the registry in `registry`, the ABI tables handed to plugins in
//! `host_api`, loaders in `loader` (the native one is the `polyplug-native` crate, built on the
//! loader kit `polyplug-loader`), the C API in [`capi`].
#![deny(missing_docs)]

mod call;
pub mod capi;
mod config;
mod contract;
mod dynamic;
mod error;
mod events;
mod ffi;
mod guard;
mod host_api;
mod inner;
mod lifecycle;
mod load;
mod loader;
mod log;
mod registry;
mod runtime;

pub use call::{
    codec, CachedProvider, CallContext, CallGuard, CallSite, GuardedProvider, Invoke,
    ProviderInstance, ResolvedProvider,
};
pub use config::RuntimeBuilder;
pub use contract::{validate_name, ContractInfo, ContractKey, ContractRef, FuncInfo};
pub use error::{Error, ErrorKind, Result};
pub use events::{ReloadCallback, ReloadEvent};
pub use guard::uses_membarrier;
pub use lifecycle::UnloadOptions;
pub use log::LogCallback;
pub use polyplug_abi::{self as abi, Handle, LogLevel, ReloadPhase, Status, Version};
/// The contract model ([`ContractInfo::model`], [`Runtime::contract_model`]): types,
/// signatures, layouts, and with the `json` feature the JSON marshalling.
pub use polyplug_contract as model;
/// `bundle.toml`: the loader kit's one parser.
pub use polyplug_loader::manifest;
pub use polyplug_loader::{Manifest, ManifestError};
pub use runtime::{BundleId, LoadedBundle, ProviderSummary, Runtime};
#[cfg(feature = "json")]
pub use serde_json;

/// The name bundles use for the built-in native loader.
pub const NATIVE_LOADER: &str = polyplug_native::NAME;
