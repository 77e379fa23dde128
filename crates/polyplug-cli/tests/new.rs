//! `polyplug new`: a scaffolded plugin builds, passes its own test, and `polyplug check` and
//! `polyplug call` accept it, in Rust (cargo) and in C (its Makefile, with gcc); and every
//! refusal is one `polyplug: error: ...` line with a non-zero exit.
//!
//! The scaffolds' builds use this workspace's target directory (the parent of
//! `CARGO_TARGET_TMPDIR`): their dependencies are this checkout's crates at the versions of its
//! Cargo.lock, so cargo reuses what the workspace build compiled, and a run only compiles the
//! scaffold itself. The Rust scaffold's `target` is a symbolic link to that directory, so the
//! library lands where its bundle.toml says.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;
use tempfile::TempDir;

/// This checkout: what `polyplug new` points a scaffold at by default.
fn workspace() -> PathBuf {
    fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .expect("the workspace directory exists")
}

/// The workspace's target directory, where the scaffolds' builds go.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("polyplug-new-")
        .tempdir()
        .expect("a temporary directory")
}

fn polyplug_in<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_polyplug"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the polyplug binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a failure reported as exactly one `polyplug: error: ...` line containing `needle`.
fn assert_one_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "must fail; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr, got: {err}");
    assert!(err.starts_with("polyplug: error: "), "{err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(stdout(o), "", "nothing on stdout on failure");
}

/// Asserts success, and returns stdout.
fn assert_ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed with {}:\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Variables `cargo test` sets for this test that would configure a nested cargo, make or the
/// test host.
const STRIP_VARS: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_CRATE_NAME",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "OUT_DIR",
    // The C test host must find libpolyplug through its rpath, not cargo's library path.
    "LD_LIBRARY_PATH",
];
const STRIP_PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_", "CARGO_CFG_", "CARGO_FEATURE_"];

/// A command for a scaffold's build: this test's cargo, the workspace's target directory.
fn build_command(program: impl AsRef<OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if STRIP_VARS.contains(&key) || STRIP_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARGO", env!("CARGO"))
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

/// Runs `cmd`, asserts success, returns stdout; prints how long it took.
fn run_timed(mut cmd: Command, what: &str) -> String {
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    eprintln!("{what}: {:.1} s", start.elapsed().as_secs_f64());
    assert_ok(&out, what)
}

#[test]
fn rust_scaffold_builds_checks_calls_and_passes_its_test() {
    let tmp = temp_dir();
    // Inside another workspace's directory: the scaffold must be a workspace of its own.
    fs::write(tmp.path().join("Cargo.toml"), "[workspace]\n").expect("writable");

    let out = assert_ok(
        &polyplug_in(tmp.path(), ["new", "--lang", "rust", "x"]),
        "polyplug new",
    );
    assert!(
        out.starts_with("Created the Rust plugin `x` in x, providing local:x/api@0.1.0:\n"),
        "{out}"
    );
    assert!(out.contains("\n  cd x\n"), "{out}");
    assert!(
        out.contains("polyplug call . local:x/api greet '[\"world\"]'"),
        "{out}"
    );
    let x = tmp.path().join("x");
    let manifest = fs::read_to_string(x.join("Cargo.toml")).expect("Cargo.toml");
    let guest = format!(
        "polyplug-guest = {{ path = \"{}/crates/polyplug-guest\" }}",
        workspace().display()
    );
    assert!(manifest.contains(&guest), "`{guest}` not in:\n{manifest}");
    assert!(
        x.join("Cargo.lock").is_file(),
        "the checkout's lock is copied"
    );

    #[cfg(unix)]
    std::os::unix::fs::symlink(target_dir(), x.join("target")).expect("a symbolic link");
    let mut build = build_command(env!("CARGO"), &x);
    build.arg("build");
    run_timed(build, "cargo build of the Rust scaffold");

    // The acceptance test of the issue: `polyplug new --lang rust x && polyplug check x`.
    let check = assert_ok(&polyplug_in(tmp.path(), ["check", "x"]), "polyplug check x");
    assert!(
        check.contains("local:x/api@0.1.0: the library's 2 functions match the WIT"),
        "{check}"
    );
    assert!(check.ends_with("ok: no problems\n"), "{check}");

    let call = polyplug_in(
        tmp.path(),
        ["call", "x", "local:x/api", "greet", r#"["w"]"#],
    );
    assert_eq!(assert_ok(&call, "polyplug call greet"), "\"Hello, w!\"\n");
    let call = polyplug_in(tmp.path(), ["call", "x", "local:x/api", "add", "[2, 40]"]);
    assert_eq!(assert_ok(&call, "polyplug call add"), "42\n");
    assert_one_error(
        &polyplug_in(
            tmp.path(),
            ["call", "x", "local:x/api", "add", "[2147483647, 1]"],
        ),
        "call to local:x/api.add failed (InvalidArgument): 2147483647 + 1 overflows s32",
    );

    // The scaffold's own test loads the bundle through the runtime.
    let mut test = build_command(env!("CARGO"), &x);
    test.arg("test");
    let out = run_timed(test, "cargo test of the Rust scaffold");
    for line in ["test typed_calls ... ok", "test dynamic_calls ... ok"] {
        assert!(out.contains(line), "`{line}` not in:\n{out}");
    }
}

#[test]
fn c_scaffold_builds_checks_calls_and_passes_its_test() {
    let tmp = temp_dir();
    let out = assert_ok(
        &polyplug_in(tmp.path(), ["new", "--lang", "c", "my-plugin"]),
        "polyplug new",
    );
    assert!(
        out.starts_with(
            "Created the C plugin `my-plugin` in my-plugin, providing local:my-plugin/api@0.1.0:\n"
        ),
        "{out}"
    );
    assert!(out.contains("\n  make test "), "{out}");
    let dir = tmp.path().join("my-plugin");
    for file in [
        "my_plugin.c",
        "test_host.c",
        "Makefile",
        "wit/my-plugin.wit",
        "bundle.toml",
    ] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }

    // `make test` as a user runs it: polyplugc from the checkout generates the header, gcc
    // builds the plugin and the test host (warnings are errors here), and the host calls the
    // plugin through the runtime.
    let mut make = build_command("make", &dir);
    make.arg("test").arg("CFLAGS=-O2 -g -Werror");
    let out = run_timed(make, "make test of the C scaffold");
    for line in ["ok greet", "ok add", "all checks passed"] {
        assert!(out.contains(line), "`{line}` not in:\n{out}");
    }
    assert!(dir.join("build/local_my_plugin_api.h").is_file());

    let check = assert_ok(
        &polyplug_in(tmp.path(), ["check", "my-plugin"]),
        "polyplug check my-plugin",
    );
    assert!(
        check.contains("local:my-plugin/api@0.1.0: the library's 2 functions match the WIT"),
        "{check}"
    );
    assert!(check.ends_with("ok: no problems\n"), "{check}");
    let call = polyplug_in(
        tmp.path(),
        [
            "call",
            "my-plugin",
            "local:my-plugin/api",
            "greet",
            r#"["w"]"#,
        ],
    );
    assert_eq!(assert_ok(&call, "polyplug call greet"), "\"Hello, w!\"\n");
    let call = polyplug_in(
        tmp.path(),
        [
            "call",
            "my-plugin",
            "local:my-plugin/api",
            "add",
            r#"{"a": -5, "b": 3}"#,
        ],
    );
    assert_eq!(assert_ok(&call, "polyplug call add"), "-2\n");
    assert_one_error(
        &polyplug_in(
            tmp.path(),
            [
                "call",
                "my-plugin",
                "local:my-plugin/api",
                "add",
                "[-2147483648, -1]",
            ],
        ),
        "call to local:my-plugin/api.add failed (InvalidArgument): -2147483648 + -1 overflows s32",
    );
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn an_existing_directory_is_refused_unless_empty() {
    let tmp = temp_dir();
    let x = tmp.path().join("x");
    fs::create_dir(&x).expect("writable");
    fs::write(x.join("notes.txt"), "mine").expect("writable");
    for lang in ["rust", "c"] {
        assert_one_error(
            &polyplug_in(tmp.path(), ["new", "--lang", lang, "x"]),
            "`x` already exists and is not empty",
        );
    }
    assert_eq!(entries(&x), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(x.join("notes.txt")).expect("kept"),
        "mine"
    );

    fs::write(tmp.path().join("f"), "a file").expect("writable");
    assert_one_error(
        &polyplug_in(tmp.path(), ["new", "--lang", "c", "f"]),
        "`f` already exists and is not a directory",
    );
    // Nothing was left behind, not even the staging directory.
    assert_eq!(entries(tmp.path()), ["f", "x"]);

    // An empty directory is filled; a path's last component is the name.
    fs::create_dir_all(tmp.path().join("plugins/empty")).expect("writable");
    let out = polyplug_in(tmp.path(), ["new", "--lang", "c", "plugins/empty"]);
    let out = assert_ok(&out, "polyplug new into an empty directory");
    assert!(out.contains("\n  cd plugins/empty\n"), "{out}");
    assert_eq!(
        entries(&tmp.path().join("plugins/empty")),
        [
            ".gitignore",
            "Makefile",
            "bundle.toml",
            "empty.c",
            "test_host.c",
            "wit"
        ]
    );
    assert_eq!(entries(&tmp.path().join("plugins")), ["empty"]);
}

#[test]
fn bad_names_are_refused() {
    let tmp = temp_dir();
    for (name, why) in [
        ("My-Plugin", "`My-Plugin` is not a valid plugin name: `M` is not a lowercase ASCII letter, a digit or `-`"),
        ("my_plugin", "`my_plugin` is not a valid plugin name: `_` is not"),
        ("2x", "`2x` is not a valid plugin name: it must start with a letter"),
        ("a--b", "`a--b` is not a valid plugin name: `-` must join two words"),
        ("-x", "`-` must join two words"),
    ] {
        let o = polyplug_in(tmp.path(), ["new", "--lang", "rust", "--", name]);
        assert_one_error(&o, why);
        assert!(stderr(&o).contains("use lowercase kebab-case"), "{}", stderr(&o));
    }
    assert_one_error(
        &polyplug_in(tmp.path(), ["new", "--lang", "rust", "polyplug-guest"]),
        "a Rust plugin cannot be named `polyplug-guest`",
    );
    assert_one_error(
        &polyplug_in(tmp.path(), ["new", "--lang", "c", "/"]),
        "does not end in a directory name",
    );
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[test]
fn an_unknown_or_missing_language_is_a_usage_error() {
    let tmp = temp_dir();
    let o = polyplug_in(tmp.path(), ["new", "--lang", "go", "x"]);
    assert_one_error(&o, "invalid value 'go' for '--lang <LANG>'");
    assert!(
        stderr(&o).contains("[possible values: rust, c]"),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(2));
    let o = polyplug_in(tmp.path(), ["new", "x"]);
    assert_one_error(
        &o,
        "the following required arguments were not provided: --lang <LANG>",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn the_polyplug_path_must_be_a_checkout() {
    let tmp = temp_dir();
    let not_checkout = tmp.path().join("elsewhere");
    fs::create_dir(&not_checkout).expect("writable");
    let o = polyplug_in(
        tmp.path(),
        [
            OsStr::new("new"),
            OsStr::new("--lang"),
            OsStr::new("rust"),
            OsStr::new("--polyplug-path"),
            not_checkout.as_os_str(),
            OsStr::new("x"),
        ],
    );
    assert_one_error(
        &o,
        "is not a polyplug checkout: it has no crates/polyplug-guest/Cargo.toml (--polyplug-path must name a polyplug checkout)",
    );
    let o = polyplug_in(
        tmp.path(),
        [
            "new",
            "--lang",
            "c",
            "--polyplug-path",
            "/nonexistent/polyplug",
            "x",
        ],
    );
    assert_one_error(&o, "polyplug checkout `/nonexistent/polyplug`: ");
    assert_eq!(entries(tmp.path()), ["elsewhere"]);

    // A link to the checkout is written as the checkout's own path.
    #[cfg(unix)]
    {
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(workspace(), &link).expect("a symbolic link");
        let o = polyplug_in(
            tmp.path(),
            [
                OsStr::new("new"),
                OsStr::new("--lang"),
                OsStr::new("c"),
                OsStr::new("--polyplug-path"),
                link.as_os_str(),
                OsStr::new("y"),
            ],
        );
        assert_ok(&o, "polyplug new --polyplug-path");
        let makefile = fs::read_to_string(tmp.path().join("y/Makefile")).expect("a Makefile");
        let line = format!("\nPOLYPLUG ?= {}\n", workspace().display());
        assert!(makefile.contains(&line), "`{line}` not in:\n{makefile}");
    }
}
