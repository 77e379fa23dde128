//! What the Rust fixture plugin provides and how its init behaves, mirrored as constants.
//!
//! The fixture's source (`tests/fixtures/rust-plugin`) is the truth; `tests/fixture_abi.rs`
//! checks these constants against the built library.

/// The counter contract, `test:counter/counter@1.2.0`.
pub mod counter {
    /// Contract name.
    pub const NAME: &str = "test:counter/counter";
    /// Contract version.
    pub const VERSION: &str = "1.2.0";
    /// The `provides` entry of a bundle that registers it.
    pub const PROVIDES: &str = "test:counter/counter@1.2.0";
    /// Number of functions.
    pub const FUNC_COUNT: u32 = 8;

    /// `inc(x: u32) -> u32`: `x.wrapping_add(1)`.
    pub const INC: u32 = 0;
    /// `noop()`.
    pub const NOOP: u32 = 1;
    /// `sum-len(data: list<u8>) -> u64`: the length plus the first byte (0 when empty).
    pub const SUM_LEN: u32 = 2;
    /// `add-points(a: point, b: point) -> point`, `record point { x: s32, y: s32 }`.
    pub const ADD_POINTS: u32 = 3;
    /// `greet(name: string) -> string`: `hello, <name> from rust`, in the caller's arena.
    pub const GREET: u32 = 4;
    /// `fail()`: fails with [`FAIL_MESSAGE`] and status `Error`.
    pub const FAIL: u32 = 5;
    /// `whoami() -> string`: `"rust"`, from static memory.
    pub const WHOAMI: u32 = 6;
    /// `boom()`: panics; the fixture reports `Panic` with [`BOOM_MESSAGE`].
    pub const BOOM: u32 = 7;

    /// The error message of `fail()`.
    pub const FAIL_MESSAGE: &str = "fixture failure requested";
    /// The error message of `boom()` (its panic message).
    pub const BOOM_MESSAGE: &str = "boom requested";
}

/// The second contract, `test:other/thing@1.0.0` (one function `ping()`).
pub mod other {
    /// Contract name.
    pub const NAME: &str = "test:other/thing";
    /// Contract version.
    pub const VERSION: &str = "1.0.0";
    /// The `provides` entry of a bundle that registers it.
    pub const PROVIDES: &str = "test:other/thing@1.0.0";
}

/// Bundle names that select a special init behaviour of the Rust fixture. Any other name
/// registers the counter once.
pub mod modes {
    /// Init fails with `InitFailed` and [`INIT_FAILS_MESSAGE`]; nothing is registered.
    pub const INIT_FAILS: &str = "init-fails";
    /// The error message of [`INIT_FAILS`].
    pub const INIT_FAILS_MESSAGE: &str = "refusing to start: init-fails requested";
    /// Init panics; the fixture returns `Panic` with [`INIT_PANICS_MESSAGE`].
    pub const INIT_PANICS: &str = "init-panics";
    /// The error message of [`INIT_PANICS`].
    pub const INIT_PANICS_MESSAGE: &str = "init-panics requested";
    /// Registers `test:other/thing@1.0.0` instead of the counter.
    pub const REGISTERS_OTHER: &str = "registers-other";
    /// Registers the counter twice and returns `Ok` whatever the second registration returned.
    pub const REGISTERS_TWICE: &str = "registers-twice";
    /// Registers the counter and `test:other/thing@1.0.0`.
    pub const REGISTERS_EXTRA: &str = "registers-extra";
    /// Registers the fixture's `COLLIDING_NAME_B` at 1.0.0, whose id collides with
    /// `COLLIDING_NAME_A`'s (see `tests/fixtures/rust-plugin/src/collision.rs`).
    pub const COLLIDES: &str = "collides";
    /// Registers the counter with a table that ends before `create_instance` (an older peer).
    pub const OLDER_PEER: &str = "older-peer";
    /// Registers the counter in a larger table whose unknown tail is zero (must be accepted).
    pub const NEWER_PEER: &str = "newer-peer";
    /// Registers the counter in a larger table whose unknown tail is `0xDEAD` (must be refused).
    pub const NEWER_PEER_DIRTY: &str = "newer-peer-dirty";
    /// Logs [`LOGS_MESSAGE`] at Info with target [`LOGS_TARGET`], then registers the counter.
    pub const LOGS: &str = "logs";
    /// The log target of [`LOGS`].
    pub const LOGS_TARGET: &str = "fixture";
    /// The log message of [`LOGS`].
    pub const LOGS_MESSAGE: &str = "hello from init";
    /// Calls `now()` of `test:host/clock@1.0.0` (readable afterwards through the library's
    /// `pp_fixture_clock_seen`), then registers the counter; `MissingDependency` without it.
    pub const FINDS_HOST: &str = "finds-host";
    /// The host contract [`FINDS_HOST`] looks for.
    pub const HOST_CLOCK: &str = "test:host/clock";
}
