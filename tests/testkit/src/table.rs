//! The table loader (`tests/fixtures/table-loader`, a loader library built only with the loader
//! kit) and the bundles it loads: a `bundle.toml` with `loader = "table"`, the contract's WIT in
//! `wit/`, and `answers.toml`, the fixed answer of each function.

use crate::bundle::{make_bundle, Bundle, BundleSpec};

/// The loader's name, for `loader = "..."`.
pub const LOADER: &str = "table";
/// The contract every table bundle here provides (`tests/fixtures/wit/table.wit`).
pub const CONTRACT: &str = "test:table/answers";
/// [`CONTRACT`] with its version, for `provides`.
pub const PROVIDES: &str = "test:table/answers@1.0.0";
/// The bundle's code file: its answers.
pub const ANSWERS_FILE: &str = "answers.toml";
/// The contract's WIT.
pub const WIT: &str = include_str!("../../fixtures/wit/table.wit");
/// Where a table bundle keeps [`WIT`].
pub const WIT_FILE: &str = "wit/table.wit";
/// The target of the loader's log records.
pub const LOG_TARGET: &str = "table";

/// Function indices, in the contract's (WIT declaration) order.
pub mod func {
    /// `greet() -> string`.
    pub const GREET: u32 = 0;
    /// `origin() -> point`.
    pub const ORIGIN: u32 = 1;
    /// `primes() -> list<u32>`.
    pub const PRIMES: u32 = 2;
    /// `nickname() -> option<string>`.
    pub const NICKNAME: u32 = 3;
    /// `lookup() -> result<u64, string>`.
    pub const LOOKUP: u32 = 4;
    /// `big() -> u64`.
    pub const BIG: u32 = 5;
    /// `mix() -> medley`.
    pub const MIX: u32 = 6;
    /// `weigh(name: string, at: point, tags: list<string>) -> u32`.
    pub const WEIGH: u32 = 7;
    /// `ping()`.
    pub const PING: u32 = 8;
}

/// A complete `answers.toml` for [`CONTRACT`], numbered `generation`: `greet` answers
/// `hello <generation>`, `big` and `weigh` answer `generation`, `origin` answers
/// `{ x = generation, y = -generation }`, `lookup` answers `{ ok = generation }`; the others
/// are fixed (`primes` [2, 3, 5, 7], `nickname` `"nick"`, `mix` as written below).
pub fn answers(generation: u32) -> String {
    format!(
        r#"["{CONTRACT}"]
greet = "hello {generation}"
origin = {{ x = {generation}, y = -{generation} }}
primes = [2, 3, 5, 7]
nickname = "nick"
lookup = {{ ok = {generation} }}
big = {generation}
mix = {{ initial = "π", ratio = 0.5, on = true, color = "green", perms = ["read", "exec"], pair = [7, -7], raw = [1, 2, 3] }}
weigh = {generation}
"#
    )
}

/// A table bundle named `name` answering with `answers` (the text of `answers.toml`).
pub fn spec(name: &str, answers: &str) -> BundleSpec {
    BundleSpec::new(name)
        .loader(LOADER)
        .script(ANSWERS_FILE, answers)
        .file(WIT_FILE, WIT)
        .provides(PROVIDES)
}

/// Writes [`spec`] into a fresh temporary directory.
pub fn bundle(name: &str, answers: &str) -> Bundle {
    make_bundle(&spec(name, answers))
}
