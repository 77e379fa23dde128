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

/// The reloadable C fixtures (`tests/fixtures/c/reloadable.h`, built as `reload_*`): contract
/// `test:reload/value`, whose `get(x)` answers `x * 10 + variant` so a test can tell which
/// build served a call.
pub mod reload {
    /// Contract name.
    pub const NAME: &str = "test:reload/value";
    /// The `provides` entry of builds 1 and 2 (and of the failing builds' manifests).
    pub const PROVIDES: &str = "test:reload/value@1.0.0";
    /// The `provides` entry of the compatible upgrade ([`V3_MINOR`]).
    pub const PROVIDES_MINOR: &str = "test:reload/value@1.1.0";
    /// The `provides` entry of the incompatible major upgrade ([`MAJOR`]).
    pub const PROVIDES_MAJOR: &str = "test:reload/value@2.0.0";
    /// `get(x: u32) -> u32`: `x * 10 + variant`.
    pub const GET: u32 = 0;
    /// `hold(ms: u32) -> u32`: sleeps inside the call, returns the variant.
    pub const HOLD: u32 = 1;
    /// `in-flight() -> u32`: calls of this library inside `hold` right now.
    pub const IN_FLIGHT: u32 = 2;
    /// `extra() -> u32` (only in [`V3_MINOR`]): `1000 + variant`.
    pub const EXTRA: u32 = 3;
    /// Build 1 (variant 1).
    pub const V1: &str = "reload_v1";
    /// Build 2 (variant 2), same contract as build 1.
    pub const V2: &str = "reload_v2";
    /// Variant 3: version 1.1.0 with `extra` appended (a compatible reload of 1 or 2).
    pub const V3_MINOR: &str = "reload_v3_minor";
    /// Variant 4: version 2.0.0 (an incompatible reload).
    pub const MAJOR: &str = "reload_major";
    /// Variant 5: drops `in-flight` (an incompatible reload).
    pub const FEWER: &str = "reload_fewer";
    /// Variant 6: init fails with [`INIT_FAILS_MESSAGE`].
    pub const INIT_FAILS: &str = "reload_init_fails";
    /// The init error of [`INIT_FAILS`].
    pub const INIT_FAILS_MESSAGE: &str = "reload fixture: init refused on purpose";
    /// What `pp_plugin_fini` logs (target `fixture`), followed by the in-flight count:
    /// `reload v1 fini in-flight=0`.
    pub const FINI_LOG_PREFIX: &str = "reload v";
}

/// The guest fixture (`tests/fixtures/guest-plugin`, built as [`crate::GUEST_FIXTURE`]): a
/// stateful provider of `test:shapes/geometry@1.0.0` (`tests/fixtures/wit/geometry.wit`)
/// written with `polyplug-guest`. What each function answers:
pub mod geometry {
    /// Contract name.
    pub const NAME: &str = "test:shapes/geometry";
    /// Contract version.
    pub const VERSION: &str = "1.0.0";
    /// The `provides` entry of a bundle that registers it.
    pub const PROVIDES: &str = "test:shapes/geometry@1.0.0";
    /// The WIT file the fixture and the generated callers come from, relative to the workspace.
    pub const WIT: &str = "tests/fixtures/wit/geometry.wit";
    /// Number of functions.
    pub const FUNC_COUNT: u32 = 11;

    /// `translate(r, by)`: `r` with its origin moved by `by` (wrapping), same size.
    pub const TRANSLATE: u32 = 0;
    /// `describe(r, name)`: text [`describe_text`]; tags `[name, kind]` (kind's WIT name, absent
    /// when the kind is); style `filled`, plus `bold` when the area exceeds 100 and `dashed`
    /// when `name` is empty; kind `square`/`wide`/`tall` by `size` (none when a side is 0);
    /// area `|w * h|`.
    pub const DESCRIBE: u32 = 1;
    /// `checksum(data)`: [`checksum`] (FNV-1a, 64 bits).
    pub const CHECKSUM: u32 = 2;
    /// `parse-point(text)`: `ok(point)` for `x,y` (integers, spaces trimmed), otherwise
    /// `err(`[`parse_error`]`)`.
    pub const PARSE_POINT: u32 = 3;
    /// `sum(values)`: their sum.
    pub const SUM: u32 = 4;
    /// `swap((a, b))`: `(b, a)`.
    pub const SWAP: u32 = 5;
    /// `initial(s)`: the first character, none for `""`.
    pub const INITIAL: u32 = 6;
    /// `echo(s)`: `s`.
    pub const ECHO: u32 = 7;
    /// `fail(message)`: fails with status `Error` and `message`.
    pub const FAIL: u32 = 8;
    /// `boom()`: panics with [`BOOM_MESSAGE`]; the SDK reports `Panic`.
    pub const BOOM: u32 = 9;
    /// `count()`: a counter per instance, 1 on an instance's first call.
    pub const COUNT: u32 = 10;

    /// The panic message of `boom()`.
    pub const BOOM_MESSAGE: &str = "boom requested";

    /// The `text` of `describe(r, name)` for a rectangle at `(x, y)` of size `w`×`h`.
    pub fn describe_text(name: &str, x: i32, y: i32, w: i32, h: i32) -> String {
        format!("{name}: {w}x{h} at ({x}, {y})")
    }

    /// The error of `parse-point(text)` for text that is not `x,y`.
    pub fn parse_error(text: &str) -> String {
        format!("`{text}` is not `x,y`")
    }

    /// What `checksum(data)` returns: FNV-1a, 64 bits.
    pub fn checksum(data: &[u8]) -> u64 {
        data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
}
