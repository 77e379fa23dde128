//! Builds what `polyplug demo` runs: the four bundles of the log pipeline
//! (`examples/log-pipeline`) and the typed caller of their contract, so that
//! `cargo run --release -p polyplug-cli -- demo` works on a fresh clone with only Rust and a C
//! compiler.
//!
//! From `examples/log-pipeline/wit/filter.wit` (`demo:logs/filter@1.0.0`), polyplugc generates:
//!
//! * the Rust host caller, into `$OUT_DIR/polyplug` (`polyplug::include_caller!` in `demo.rs`);
//! * the C header `demo_logs_filter.h`, into `$OUT_DIR/include`, which the C providers include;
//! * the Rust guest glue, into `<shared>/glue`, which the Rust providers include.
//!
//! Then it builds the providers:
//!
//! * `levels` and `drop-debug` (C): compiled with the `cc` crate's compiler against `include/`
//!   and the generated header;
//! * `redact` and `count` (Rust, workspace members): a nested `cargo build --release` with its
//!   own target directory, `<shared>`, because a cdylib cannot be a dependency of a binary. The
//!   nested cargo must not share the outer one's target directory: the outer build holds its
//!   lock while this script runs.
//!
//! `<shared>` is `<target>/log-pipeline-providers` (`<target>` being the outer build's target
//! directory, found from `OUT_DIR`), the same for every profile of the outer build, so
//! `cargo clippy`, `cargo test` and `cargo build --release` build the providers once between
//! them and later runs are a no-op check. The nested build compiles the providers without the
//! `codegen` feature: they take the guest glue generated here instead of running polyplugc
//! themselves, so the contract compiler and its WIT parser are not compiled a second time. It
//! turns off LTO, which only slows the link of two small libraries. Concurrent outer builds
//! (say `cargo clippy` and `cargo test`) queue on the nested build's lock.
//!
//! Each bundle is written to `$OUT_DIR/bundles/<name>/`: the provider's `bundle.toml` template
//! (from `examples/log-pipeline/providers/<name>/`), the library it names, and the contract as
//! `wit/filter.wit` (so `polyplug check` and `polyplug inspect` work on it). The directory is
//! passed to the binary as `POLYPLUG_DEMO_BUNDLES`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a provider is built.
enum Source {
    /// A C file in the provider's directory.
    C(&'static str),
    /// A workspace package.
    Rust(&'static str),
}

/// One stage of the pipeline: its bundle (and provider directory) name, its source, and the
/// stem of its library (`lib<stem>.so`, as its `bundle.toml` names it).
struct Stage {
    name: &'static str,
    source: Source,
    lib: &'static str,
}

const STAGES: [Stage; 4] = [
    Stage {
        name: "redact",
        source: Source::Rust("log-pipeline-redact"),
        lib: "log_pipeline_redact",
    },
    Stage {
        name: "levels",
        source: Source::C("levels.c"),
        lib: "log_pipeline_levels",
    },
    Stage {
        name: "count",
        source: Source::Rust("log-pipeline-count"),
        lib: "log_pipeline_count",
    },
    Stage {
        name: "drop-debug",
        source: Source::C("drop_debug.c"),
        lib: "log_pipeline_drop_debug",
    },
];

/// The name of the directory, under the outer target directory, of the nested build.
const SHARED_DIR: &str = "log-pipeline-providers";

fn main() {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("the CLI lives at <workspace>/crates/polyplug-cli")
        .to_path_buf();
    let example = workspace.join("examples/log-pipeline");
    let wit = example.join("wit/filter.wit");
    let providers = example.join("providers");
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    let shared = shared_dir(&out_dir);
    // What the providers are built from. Not the workspace's Cargo.toml and Cargo.lock: they
    // change often, the providers depend on no registry crate, and each rerun of this script
    // relinks the CLI (over a minute in release, with LTO).
    for watched in [
        providers.clone(),
        workspace.join("include/polyplug.h"),
        workspace.join("crates/polyplug-guest/src"),
        workspace.join("crates/polyplug-guest/Cargo.toml"),
        workspace.join("crates/polyplug-abi/src"),
        workspace.join("crates/polyplug-abi/Cargo.toml"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }

    // The demo's typed caller (also watches the WIT).
    polyplugc::build::rust_host(&wit);
    let header_dir = out_dir.join("include");
    polyplugc::generate(&wit, "c", &header_dir).unwrap_or_else(|e| panic!("polyplugc: {e}"));
    // The Rust providers' glue: generated here, then installed where every outer build points
    // the nested one, so its environment (and so its fingerprint) stays the same.
    let glue_out = out_dir.join("guest-glue");
    let glue_dir = shared.join("glue");
    for written in
        polyplugc::generate(&wit, "rust", &glue_out).unwrap_or_else(|e| panic!("polyplugc: {e}"))
    {
        let name = written
            .path
            .file_name()
            .expect("a generated file has a name");
        install(&written.path, &glue_dir.join(name));
    }

    let bundles = out_dir.join("bundles");
    let rust_libs = build_rust(&workspace, &shared, &glue_dir);
    for stage in &STAGES {
        let src_dir = providers.join(stage.name);
        let dir = bundles.join(stage.name);
        fs::create_dir_all(dir.join("wit"))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let template = src_dir.join("bundle.toml");
        let lib = dll_name(stage.lib);
        let text = fs::read_to_string(&template)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", template.display()));
        assert!(
            text.contains(&format!("library = \"{lib}\"")),
            "{} must name the library `{lib}`",
            template.display()
        );
        match stage.source {
            Source::C(file) => build_c(
                &workspace,
                &header_dir,
                &src_dir.join(file),
                &dir.join(&lib),
            ),
            Source::Rust(_) => install(&rust_libs.join(&lib), &dir.join(&lib)),
        }
        install(&template, &dir.join("bundle.toml"));
        install(&wit, &dir.join("wit/filter.wit"));
    }
    println!(
        "cargo:rustc-env=POLYPLUG_DEMO_BUNDLES={}",
        bundles.display()
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

/// `<target>/log-pipeline-providers`: the outer build's target directory is the nearest
/// ancestor of `OUT_DIR` (`<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`) that holds
/// cargo's `CACHEDIR.TAG`. Without one, a directory under `OUT_DIR` (then each profile of the
/// outer build has its own nested build).
fn shared_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .skip(3)
        .take(4)
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map_or_else(|| out_dir.join(SHARED_DIR), |t| t.join(SHARED_DIR))
}

/// Variables cargo sets for this build script (or that `cargo clippy` sets for the whole build)
/// which a nested cargo would wrongly take as its own configuration.
const STRIP_VARS: &[&str] = &[
    // `cargo clippy` runs every workspace crate through clippy-driver via this wrapper; the
    // nested build compiles the providers normally.
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    // The nested build has its own target directory.
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    // The outer build's flags, encoded for this build script's profile; the nested cargo reads
    // `RUSTFLAGS` (still inherited) itself.
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "OUT_DIR",
];

/// Prefixes of per-package variables cargo sets for this build script.
const STRIP_PREFIXES: &[&str] = &["CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "DEP_"];

/// Builds the Rust providers with a nested cargo; returns the directory of their libraries.
fn build_rust(workspace: &Path, shared: &Path, glue_dir: &Path) -> PathBuf {
    let target = env_var("TARGET");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--no-default-features"]);
    for stage in &STAGES {
        if let Source::Rust(package) = stage.source {
            cmd.args(["-p", package]);
        }
    }
    cmd.arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(shared)
        // An explicit target keeps the outer build's `RUSTFLAGS` semantics (not applied to
        // build scripts) and builds for the target the demo runs on.
        .args(["--target", &target])
        // Thin LTO across crates costs seconds per library and buys nothing for a provider
        // that is only ever called through a function pointer.
        .args(["--config", "profile.release.lto=false"])
        // The outer cargo already resolved the lock file; the nested one must not rewrite it.
        .arg("--locked")
        .env("POLYPLUG_GUEST_GLUE", glue_dir);
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if STRIP_VARS.contains(&key) || STRIP_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the nested cargo build of the Rust providers: {e}"));
    if !output.status.success() {
        panic!(
            "building the log pipeline's Rust providers failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    shared.join(&target).join("release")
}

/// Compiles one C provider into the shared library `out`.
fn build_c(workspace: &Path, header_dir: &Path, source: &Path, out: &Path) {
    // `cc` also reports the CC/CFLAGS variables it read as rerun triggers.
    let compiler = cc::Build::new().get_compiler();
    let tmp = out.with_extension("tmp");
    let output = compiler
        .to_command()
        .args([
            "-shared",
            "-fPIC",
            "-O2",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-pedantic",
            "-Werror",
        ])
        .arg("-I")
        .arg(workspace.join("include"))
        .arg("-I")
        .arg(header_dir)
        .arg("-o")
        .arg(&tmp)
        .arg(source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler for {}: {e}", source.display()));
    if !output.status.success() {
        panic!(
            "compiling the C provider {} failed with {}:\n{}{}",
            source.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    fs::rename(&tmp, out)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), out.display()));
}

/// Copies `from` to `to` unless `to` already has that content, through a temporary name: a
/// process that has the old library mapped keeps a consistent file, and a concurrent reader
/// never sees half a file.
fn install(from: &Path, to: &Path) {
    let data = fs::read(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    if fs::read(to).is_ok_and(|old| old == data) {
        return;
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
    }
    let tmp = to.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, &data).unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
    fs::rename(&tmp, to)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), to.display()));
}
