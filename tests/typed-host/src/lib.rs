//! The code `polyplugc` generates, compiled under the workspace's lints, for:
//!
//! * the shared test contract `test:shapes/geometry` (`tests/fixtures/wit/geometry.wit`):
//!   [`host`], the typed host caller (`GeometryCaller`, `GeometryCachedCaller`,
//!   `GeometryInstance`) that `tests/geometry.rs` drives against the guest fixture plugin
//!   (`tests/fixtures/guest-plugin`), and [`guest`], the guest glue (`Geometry`, `provider`,
//!   `stateful_provider`) that `tests/in_process.rs` registers in process;
//! * `test:kinds/everything` (`wit/kinds.wit`): every supported kind, nested, and names that
//!   collide with Rust keywords or with the generated code's own ([`kinds_host`],
//!   [`kinds_guest`], round-tripped by `tests/kinds.rs`).

/// The typed host caller of `test:shapes/geometry`.
pub mod host {
    polyplug::include_caller!("test_shapes_geometry");
}

/// The guest glue of `test:shapes/geometry`.
pub mod guest {
    polyplug_guest::include_contract!("test_shapes_geometry");
}

/// The typed host caller of `test:kinds/everything`.
pub mod kinds_host {
    polyplug::include_caller!("test_kinds_everything");
}

/// The guest glue of `test:kinds/everything`.
pub mod kinds_guest {
    polyplug_guest::include_contract!("test_kinds_everything");
}
