//! The polyplug loader kit: what every loader is built on, the native one included.
//!
//! A loader turns bundles of one kind (native libraries, Lua, JavaScript, Python...) into
//! registered providers. The runtime reaches a loader only through its C vtable
//! ([`polyplug_abi::LoaderVtable`]), so a loader may live in its own library; this crate is what
//! makes writing one small:
//!
//! * [`Loader`], a safe trait (load, reload, unload, with a per-bundle state type), and
//!   [`LoaderTable`], which turns it into the vtable: a panic guard around every call, errors
//!   mapped to a status and the call's message, the bundle's manifest parsed, and the bundle's
//!   state and providers kept alive until the runtime unloads it. [`export_loader!`] exports
//!   `pp_loader_entry` from a loader library.
//! * [`manifest`], the one `bundle.toml` parser (the runtime and the CLI use it too), and with
//!   the `wit` feature, [`wit`]: finding a bundle's WIT and compiling the contracts it provides.
//! * [`provider`]: a compiled contract plus one Rust closure per function becomes an
//!   [`polyplug_abi::Interface`], stateless or with instances, with one C entry point per
//!   function index and no libffi.
//! * [`walk`] (re-exported from `polyplug-contract`): the value walker that reads and writes
//!   values in the C layout, guided by the contract's types. Loaders marshal between their VM's
//!   values and the C layout through it, never through JSON.
//! * [`host::Host`], the host table as a safe handle (log, find, call); [`library`], opening a
//!   shared library after a structural check; [`ffi`], what every `extern "C"` function needs.
//!
//! `docs/LOADERS.md` ("Writing a loader") walks through a complete loader built only with this
//! crate (`tests/fixtures/table-loader`).
//!
//! ```
//! use polyplug_loader::{LoadContext, LoadError, Loader, LoaderTable};
//!
//! /// A loader whose bundles register nothing (the runtime then refuses them, since
//! /// `provides` lists at least one contract).
//! struct Empty;
//!
//! impl Loader for Empty {
//!     type Bundle = ();
//!     fn name(&self) -> &str {
//!         "empty"
//!     }
//!     fn load(&self, _cx: &mut LoadContext<'_>) -> Result<(), LoadError> {
//!         Ok(())
//!     }
//! }
//!
//! let table = LoaderTable::new(Empty);
//! // `table.as_ptr()` goes to `Runtime::add_loader` or `pp_add_loader`.
//! assert_eq!(unsafe { (*table.as_ptr()).name.to_str() }, Ok("empty"));
//! ```
#![deny(missing_docs)]

pub mod ffi;
pub mod host;
pub mod library;
pub mod loader;
pub mod manifest;
pub mod provider;
#[cfg(feature = "wit")]
pub mod wit;

pub use host::Host;
pub use loader::{LoadContext, LoadError, Loader, LoaderTable, RawLoad};
pub use manifest::{Manifest, ManifestError, MANIFEST_FILE};
pub use polyplug_abi as abi;
pub use polyplug_contract as contract;
pub use polyplug_contract::walk;
pub use provider::{BuildError, Call, CallError, Provider, ProviderBuilder};
