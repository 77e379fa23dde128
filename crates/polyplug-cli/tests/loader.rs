//! `polyplug --loader <PATH>`: the commands on a bundle of a loader from a library of its own
//! (the table loader, `tests/fixtures/table-loader`), and a bad `--loader` as one error line.

use polyplug::serde_json::{self, json, Value};
use polyplug_testkit::table;
use polyplug_testkit::{table_loader, Bundle};
use std::ffi::OsString;
use std::process::{Command, Output};

/// Runs the built binary with `args` (anything that converts to an `OsString`).
fn polyplug(args: impl IntoIterator<Item = impl Into<OsString>>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyplug"))
        .args(args.into_iter().map(Into::into))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the polyplug binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A table bundle answering generation 3 (see `table::answers`).
fn bundle() -> Bundle {
    table::bundle("answers", &table::answers(3))
}

/// `polyplug --loader <loader> <command> <bundle> <rest...>`.
fn with_loader(
    loader: impl Into<OsString>,
    command: &str,
    bundle: &Bundle,
    rest: &[&str],
) -> Output {
    let head = [
        "--loader".into(),
        loader.into(),
        command.into(),
        bundle.path().into(),
    ];
    polyplug(head.into_iter().chain(rest.iter().map(OsString::from)))
}

/// What a command with the table loader printed; it must succeed.
fn stdout_of(command: &str, bundle: &Bundle, rest: &[&str]) -> String {
    let out = with_loader(table_loader(), command, bundle, rest);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// `polyplug --loader <table loader> call <bundle> test:table/answers <function> <args>`,
/// which must succeed; its output parsed as JSON.
fn call(bundle: &Bundle, function: &str, args: &str) -> Value {
    let out = stdout_of("call", bundle, &[table::CONTRACT, function, args]);
    serde_json::from_str(&out).expect("the result is JSON")
}

/// Asserts a failure told as one `polyplug: error: ...` line that contains `needle`.
fn assert_fails_with(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "must fail; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line, got: {err}");
    assert!(err.starts_with("polyplug: error: "), "{err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn call_prints_the_answers_as_json() {
    let b = bundle();
    assert_eq!(call(&b, "greet", "[]"), json!("hello 3"));
    assert_eq!(call(&b, "origin", "[]"), json!({"x": 3, "y": -3}));
    assert_eq!(call(&b, "primes", "[]"), json!([2, 3, 5, 7]));
    assert_eq!(
        call(&b, "weigh", r#"["box", {"x": 1, "y": 2}, ["a"]]"#),
        json!(3)
    );
    assert_eq!(call(&b, "ping", "[]"), json!(null));
}

#[test]
fn the_option_is_global_and_repeatable() {
    let b = bundle();
    // After the subcommand too, and twice: the second copy of the same loader is refused.
    let out = polyplug([
        "inspect".into(),
        "--loader".into(),
        table_loader().into_os_string(),
        b.path().into(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let twice = polyplug([
        "--loader".into(),
        table_loader().into_os_string(),
        "--loader".into(),
        table_loader().into_os_string(),
        "inspect".into(),
        b.path().into(),
    ]);
    assert_fails_with(&twice, "a loader named `table` is already registered");
}

#[test]
fn inspect_shows_the_contract() {
    let shown = stdout_of("inspect", &bundle(), &[]);
    for needle in [
        "bundle:      answers 1.0.0",
        "loader:      table",
        "provides test:table/answers@1.0.0",
        "origin: func() -> point;",
        "weigh: func(name: string, at: point, tags: list<string>) -> u32;",
    ] {
        assert!(shown.contains(needle), "`{needle}` not in:\n{shown}");
    }
}

#[test]
fn check_passes() {
    assert!(stdout_of("check", &bundle(), &[]).contains("ok: no problems"));
}

#[test]
fn bad_loaders_fail_cleanly() {
    let b = bundle();
    let with = |loader: OsString, command: &str| {
        polyplug(["--loader".into(), loader, command.into(), b.path().into()])
    };
    assert_fails_with(
        &with("/no/such/libloader.so".into(), "inspect"),
        "--loader /no/such/libloader.so: cannot use loader library",
    );
    // A file that is not a shared library.
    let answers = b.path().join(table::ANSWERS_FILE);
    assert_fails_with(
        &with_loader(&answers, "check", &b, &[]),
        &format!("--loader {}", answers.display()),
    );
    // Without the loader the bundle names a loader nobody provides, and the error says how.
    let out = polyplug([OsString::from("inspect"), b.path().into()]);
    assert_fails_with(
        &out,
        "needs loader `table`, which is not registered (add its loader library with --loader",
    );
    // The commands that load no bundle refuse it instead of ignoring it.
    let demo = polyplug([
        "--loader".into(),
        table_loader().into_os_string(),
        "demo".into(),
    ]);
    assert_fails_with(&demo, "--loader applies to inspect, call and check only");
}
