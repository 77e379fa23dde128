//! The code `polyplugc` generates for the shared test contract `test:shapes/geometry`
//! (`tests/fixtures/wit/geometry.wit`), compiled under the workspace's lints:
//!
//! * [`host`]: the typed host caller (`GeometryCaller`, `GeometryCachedCaller`,
//!   `GeometryInstance`), what the tests in `tests/` drive against the guest fixture plugin
//!   (`tests/fixtures/guest-plugin`);
//! * [`guest`]: the guest glue (the `Geometry` trait, `provider`, `stateful_provider`), which the
//!   tests also register in process as a host provider.

/// The typed host caller of `test:shapes/geometry`.
pub mod host {
    polyplug::include_caller!("test_shapes_geometry");
}

/// The guest glue of `test:shapes/geometry`.
pub mod guest {
    polyplug_guest::include_contract!("test_shapes_geometry");
}
