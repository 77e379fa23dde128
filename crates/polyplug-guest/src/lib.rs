//! The Rust guest SDK of polyplug: write a native plugin in safe Rust.
//!
//! A plugin author writes three things:
//!
//! 1. **The contract**, in WIT (`wit/geometry.wit`):
//!    ```wit
//!    package test:shapes@1.0.0;
//!    interface geometry {
//!        record point { x: s32, y: s32 }
//!        translate: func(p: point, by: point) -> point;
//!        echo: func(s: string) -> string;
//!    }
//!    ```
//! 2. **One build-script line** (`build.rs`, with `polyplugc` as a build dependency), which
//!    generates the guest glue into `OUT_DIR/polyplug/<stem>_guest.rs` and tells cargo to rerun
//!    when the WIT changes:
//!    ```ignore
//!    // build.rs
//!    fn main() {
//!        polyplugc::build::rust_guest("wit/geometry.wit");
//!    }
//!    ```
//! 3. **The implementation**: include the generated module, implement its trait, register it:
//!    ```ignore
//!    // `pub`: a plugin uses only part of the generated API (a private module would warn about
//!    // the rest being unused).
//!    pub mod geometry {
//!        polyplug_guest::include_contract!("test_shapes_geometry");
//!    }
//!    use geometry::{Geometry, Point};
//!    use polyplug_guest::{Error, Registrar};
//!
//!    struct Shapes;
//!
//!    impl Geometry for Shapes {
//!        fn translate(&self, p: Point, by: Point) -> Result<Point, Error> {
//!            Ok(Point { x: p.x + by.x, y: p.y + by.y })
//!        }
//!        fn echo(&self, s: &str) -> Result<String, Error> {
//!            Ok(s.to_owned())
//!        }
//!    }
//!
//!    fn init(reg: &mut Registrar) -> Result<(), Error> {
//!        reg.register(geometry::provider(Shapes))
//!    }
//!
//!    polyplug_guest::export_plugin!(init);
//!    ```
//!    with `crate-type = ["cdylib"]`, and a `bundle.toml` that declares
//!    `provides = ["test:shapes/geometry@1.0.0"]`.
//!
//! # What the generated module holds
//!
//! For a contract `test:shapes/geometry` (file stem `test_shapes_geometry`, see
//! `polyplugc::names::file_stem`):
//!
//! * Rust types for the contract's records, enums and flags. A record of plain data (integers,
//!   floats, flags and such records) is one `#[repr(C)]` struct used both in the API and on the
//!   wire, with no conversion. Other records get a raw twin in the `raw` module.
//! * `CONTRACT`, the contract's static descriptor, and `NAME`/`VERSION`.
//! * The trait (`Geometry`), one method per function, taking `&self`: `&str` for `string`
//!   arguments, `&[u8]` for `list<u8>`, `&[T]` for lists of plain data, owned values otherwise;
//!   each returns `Result<T, polyplug_guest::Error>`.
//! * `provider(imp)`: a stateless [`Provider`] (every call reaches `imp`), and
//!   `stateful_provider(factory)`: one implementation per instance (`create_instance` calls
//!   `factory`), calls without an instance reaching a default one made at registration.
//!
//! For per-caller state, register `geometry::stateful_provider(MyType::default)` instead: each
//! instance a host creates gets its own `MyType`.
//!
//! # Calling it from a host
//!
//! The same WIT gives a Rust host a typed caller: `polyplugc::build::rust_host(wit)` in the
//! host's `build.rs`, then
//!
//! ```ignore
//! pub mod geometry {
//!     polyplug::include_caller!("test_shapes_geometry");
//! }
//! let rt = polyplug::Runtime::new()?;
//! rt.load_bundle("bundles/shapes")?;
//! let mut cx = rt.call_context()?;
//! // Guarded (the default): safe against a concurrent reload or unload.
//! let mut shapes = geometry::GeometryCaller::find(&rt)?;
//! let moved = shapes.translate(&mut cx, &rect, &geometry::Point { x: 1, y: 2 })?;
//! let text: String = shapes.echo(&mut cx, "hi")?;
//! // Per-instance state of a stateful provider:
//! let mut mine = shapes.create_instance(&mut cx)?;
//! // Opt-in cached path (the host quiesces callers before reloading or unloading):
//! let mut fast = geometry::GeometryCachedCaller::find(&rt)?;
//! ```
//!
//! # What the SDK guarantees
//!
//! * **Panics never cross the boundary.** Every call runs inside `catch_unwind`; a panic is
//!   [`Status::Panic`](abi::Status::Panic) with the panic's message. So does init.
//! * **Malformed input is an error, never undefined behaviour**: a bad `bool`, `char`, enum case,
//!   option or result tag, a null or misaligned view, invalid UTF-8 are
//!   [`InvalidArgument`](abi::Status::InvalidArgument) with a message naming the argument.
//! * **Results follow the ABI's lifetime rule**: strings and lists are copied into the caller's
//!   call arena; an arena that cannot hold them is `OutOfMemory`.
//! * **Errors are per call**: an `Err(Error)` becomes its status and message in the caller's
//!   context.
//! * **Providers live until fini**: [`Registrar::register`] keeps each provider; the exported
//!   `pp_plugin_fini` drops them all (a failed init drops what it registered at once).
#![deny(missing_docs)]

mod error;
mod provider;
pub mod rt;

pub use error::Error;
pub use polyplug_abi as abi;
pub use provider::{live_providers, Provider, Registrar};

#[doc(hidden)]
pub use provider::{plugin_fini, plugin_init};

/// Includes the guest glue that `polyplugc::build::rust_guest` generated for a contract, by
/// its file stem: `include_contract!("test_shapes_geometry")` includes
/// `$OUT_DIR/polyplug/test_shapes_geometry_guest.rs`. Use it inside a module of its own (a
/// `pub mod`, or one with `#[allow(dead_code)]`: a plugin rarely uses all of the generated API).
#[macro_export]
macro_rules! include_contract {
    ($stem:literal) => {
        include!(concat!(env!("OUT_DIR"), "/polyplug/", $stem, "_guest.rs"));
    };
}

/// Exports the symbols of a native plugin: `pp_plugin_abi_version`, `pp_plugin_init` (which
/// calls `$init`, a `fn(&mut Registrar) -> Result<(), Error>`, inside `catch_unwind`) and
/// `pp_plugin_fini` (which drops every registered provider). Use it once per library.
#[macro_export]
macro_rules! export_plugin {
    ($init:path) => {
        /// The ABI version this plugin was built for.
        #[no_mangle]
        #[allow(non_upper_case_globals)] // the symbol name is fixed by the ABI
        pub static pp_plugin_abi_version: u32 = $crate::abi::ABI_VERSION;

        /// The plugin's entry point: registers its providers.
        ///
        /// # Safety
        /// The runtime's contract for a plugin init: every pointer valid (or null) for the call.
        #[no_mangle]
        pub unsafe extern "C" fn pp_plugin_init(
            host: *const $crate::abi::HostApi,
            bundle: *const $crate::abi::BundleInfo,
            reg: *mut $crate::abi::Registrar,
            ctx: *mut $crate::abi::CallCtx,
        ) -> u32 {
            // SAFETY: forwarded from the runtime's guarantees.
            unsafe { $crate::plugin_init(host, bundle, reg, ctx, $init) }
        }

        /// The plugin's shutdown hook: drops every provider its init registered.
        ///
        /// # Safety
        /// Called once by the runtime, after the providers were unregistered.
        #[no_mangle]
        pub unsafe extern "C" fn pp_plugin_fini(_host: *const $crate::abi::HostApi) {
            $crate::plugin_fini()
        }
    };
}
