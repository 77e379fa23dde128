//! Builds the fixture plugins once per build of the testkit, into `OUT_DIR/fixtures`:
//!
//! * the Rust fixtures (`tests/fixtures/rust-plugin`, raw ABI; `tests/fixtures/guest-plugin`,
//!   written with `polyplug-guest`; `tests/fixtures/table-loader`, a loader library written
//!   with `polyplug-loader`) and the runtime's cdylib, by a nested
//!   `cargo build` (profile `fixture`) with its own target directory, because a cdylib cannot
//!   be a normal dependency of a test;
//! * every `tests/fixtures/c/*.c`, as a shared library `lib<stem>.so`.
//!
//! The directory is passed to the crate as `POLYPLUG_FIXTURE_DIR`, and the directory of the
//! runtime's cdylib (with its pkg-config files) as `POLYPLUG_CDYLIB_DIR`.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("the testkit lives at <workspace>/tests/testkit")
        .to_path_buf();
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    let fixtures = out_dir.join("fixtures");
    fs::create_dir_all(&fixtures)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", fixtures.display()));

    build_rust_fixture(&workspace, &out_dir, &fixtures);
    build_c_fixtures(&workspace, &fixtures);

    println!(
        "cargo:rustc-env=POLYPLUG_FIXTURE_DIR={}",
        fixtures.display()
    );
}

fn env_var(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name} for the build script"))
}

/// The file name of a shared library for the target being built.
fn dll_name(stem: &str) -> String {
    match env_var("CARGO_CFG_TARGET_OS").as_str() {
        "macos" | "ios" => format!("lib{stem}.dylib"),
        "windows" => format!("{stem}.dll"),
        _ => format!("lib{stem}.so"),
    }
}

/// Variables cargo sets for this build script (or that `cargo clippy` sets for the whole build)
/// which a nested cargo would wrongly take as its own configuration.
const STRIP_VARS: &[&str] = &[
    // `cargo clippy` runs every workspace crate through clippy-driver via this wrapper; the
    // nested build must compile the fixture normally.
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    // The nested build has its own target directory (the command line would win anyway).
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    // The outer build's flags, already encoded for this build script's profile; the nested
    // cargo reads `RUSTFLAGS` (still inherited) itself.
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "OUT_DIR",
];

/// Prefixes of per-package variables cargo sets for this build script.
const STRIP_PREFIXES: &[&str] = &["CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "DEP_"];

fn build_rust_fixture(workspace: &Path, out_dir: &Path, fixtures: &Path) {
    let fixture_src = workspace.join("tests/fixtures/rust-plugin");
    let guest_src = workspace.join("tests/fixtures/guest-plugin");
    let table_src = workspace.join("tests/fixtures/table-loader");
    for watched in [
        fixture_src.join("src"),
        fixture_src.join("Cargo.toml"),
        // The guest fixture, its contract and everything that generates or runs its glue.
        guest_src.join("src"),
        guest_src.join("build.rs"),
        guest_src.join("Cargo.toml"),
        table_src.join("src"),
        table_src.join("Cargo.toml"),
        workspace.join("tests/fixtures/wit"),
        workspace.join("crates/polyplug-guest/src"),
        workspace.join("crates/polyplug-guest/Cargo.toml"),
        workspace.join("crates/polyplugc/src"),
        workspace.join("crates/polyplugc/Cargo.toml"),
        workspace.join("crates/polyplug-contract/src"),
        workspace.join("crates/polyplug-contract/Cargo.toml"),
        workspace.join("crates/polyplug-abi/src"),
        workspace.join("crates/polyplug-abi/Cargo.toml"),
        workspace.join("crates/polyplug-loader/src"),
        workspace.join("crates/polyplug-loader/Cargo.toml"),
        workspace.join("crates/polyplug-native/src"),
        workspace.join("crates/polyplug-native/Cargo.toml"),
        workspace.join("crates/polyplug/src"),
        workspace.join("crates/polyplug/build.rs"),
        workspace.join("crates/polyplug/Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }

    let target = env_var("TARGET");
    let target_dir = out_dir.join("fixture-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The runtime's cdylib is built here too: `cargo test` builds only the rlib of a crate
    // its tests depend on, and the C and C++ host tests link the shared library.
    cmd.arg("build")
        .args(["--profile", PROFILE])
        .args([
            "-p",
            "polyplug-fixture-rust",
            "-p",
            "polyplug-fixture-guest",
            "-p",
            "polyplug-fixture-table-loader",
            "-p",
            "polyplug",
        ])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // An explicit target keeps the outer build's `RUSTFLAGS` semantics (not applied to
        // build scripts) and builds for the same target as the tests that load the fixture.
        .args(["--target", &target])
        // The outer cargo already resolved the lock file; the nested one must not rewrite it.
        .arg("--locked");
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if STRIP_VARS.contains(&key) || STRIP_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the nested cargo build of the Rust fixture: {e}"));
    if !output.status.success() {
        panic!(
            "building the Rust fixture (polyplug-fixture-rust) failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let profile_dir = target_dir.join(&target).join(PROFILE);
    for stem in [
        "polyplug_fixture_rust",
        "polyplug_fixture_guest",
        "polyplug_fixture_table_loader",
    ] {
        let lib = dll_name(stem);
        install(&profile_dir.join(&lib), &fixtures.join(&lib));
    }
    // The runtime's shared library stays beside its pkg-config files (written by its build
    // script into the same directory), which point at it.
    println!(
        "cargo:rustc-env=POLYPLUG_CDYLIB_DIR={}",
        profile_dir.display()
    );
}

/// The workspace profile the nested build uses: optimised like release, without LTO, so a
/// change to the runtime rebuilds quickly.
const PROFILE: &str = "fixture";

/// Copies `from` to `to` through a temporary name, so a process that has the old library
/// mapped keeps a consistent file.
fn install(from: &Path, to: &Path) {
    let tmp = to.with_extension("tmp");
    fs::copy(from, &tmp)
        .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", from.display(), tmp.display()));
    fs::rename(&tmp, to)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), to.display()));
}

fn build_c_fixtures(workspace: &Path, fixtures: &Path) {
    let c_dir = workspace.join("tests/fixtures/c");
    let include = workspace.join("include");
    // A missing path would make cargo rerun this script on every build; until the directory
    // exists, watch its parent so that creating it triggers a rerun.
    for watched in [&c_dir, &include] {
        let existing = if watched.exists() {
            watched.as_path()
        } else {
            watched.parent().unwrap_or(workspace)
        };
        println!("cargo:rerun-if-changed={}", existing.display());
    }

    // No C fixtures yet is fine: the directory arrives with the C header.
    let Ok(entries) = fs::read_dir(&c_dir) else {
        return;
    };
    let mut sources: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension() == Some(OsStr::new("c")))
        .collect();
    sources.sort();
    if sources.is_empty() {
        return;
    }

    // `cc` also reports the CC/CFLAGS variables it read as rerun triggers.
    let compiler = cc::Build::new().get_compiler();
    for src in sources {
        let stem = src
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or_else(|| panic!("C fixture {} has a non-UTF-8 name", src.display()));
        let out = fixtures.join(dll_name(stem));
        let output = compiler
            .to_command()
            .args([
                "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c11",
            ])
            .arg("-I")
            .arg(&include)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .output()
            .unwrap_or_else(|e| panic!("cannot run the C compiler for {}: {e}", src.display()));
        if !output.status.success() {
            panic!(
                "compiling C fixture {} failed with {}:\n{}{}",
                src.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
