//! The built `polyplug` binary on fixture bundles: `inspect`, `call` and `check`, and that every
//! failure is one `polyplug: error: ...` line on stderr with a non-zero exit, never a panic
//! message or a backtrace.

use polyplug::serde_json::{self, json, Value};
use polyplug_testkit::{counter, fixture_lib, make_bundle, Bundle, BundleSpec};
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const COUNTER_WIT: &str = include_str!("../../../tests/fixtures/wit/counter.wit");
const RELAY_WIT: &str = include_str!("../../../tests/fixtures/wit/relay.wit");
const RELAY: &str = "test:relay/relay@1.0.0";

fn polyplug<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_polyplug"))
        .args(args)
        // A backtrace must not appear even when one is asked for.
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

/// A bundle of the C counter fixture, which provides the counter and the relay.
fn c_bundle(spec: BundleSpec) -> Bundle {
    make_bundle(&spec.library(fixture_lib("counter_c")))
}

fn c_counter() -> Bundle {
    c_bundle(
        BundleSpec::new("c-counter")
            .priority(5)
            .provides(counter::PROVIDES)
            .provides(RELAY),
    )
}

/// Writes `files` (name, text) into `dir` inside the bundle.
fn write_wit(bundle: &Bundle, dir: &str, files: &[(&str, &str)]) {
    let dir = bundle.path().join(dir);
    fs::create_dir_all(&dir).expect("a temporary directory is writable");
    for (name, text) in files {
        fs::write(dir.join(name), text).expect("a temporary directory is writable");
    }
}

/// Asserts a failure reported as exactly one `polyplug: error: ...` line containing `needle`.
fn assert_one_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "must fail; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr, got: {err}");
    assert!(err.starts_with("polyplug: error: "), "{err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
    assert_no_panic(o);
}

fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
}

fn call(bundle: &Path, contract: &str, function: &str, args: &str) -> Output {
    polyplug([
        OsStr::new("call"),
        bundle.as_os_str(),
        OsStr::new(contract),
        OsStr::new(function),
        OsStr::new(args),
    ])
}

// ---- inspect ----

#[test]
fn inspect_shows_the_manifest_and_every_signature() {
    let b = c_counter();
    let o = polyplug([OsStr::new("inspect"), b.path().as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    let library = b.path().join("libcounter_c.so");
    let library = fs::canonicalize(library).expect("the library was copied into the bundle");
    for line in [
        "bundle:      c-counter 1.0.0".to_owned(),
        "loader:      native".to_owned(),
        format!("library:     {}", library.display()),
        "priority:    5".to_owned(),
        "requires:    (nothing)".to_owned(),
        "provides test:counter/counter@1.2.0".to_owned(),
        "    record point {\n        x: s32,\n        y: s32,\n    }".to_owned(),
        "    inc: func(x: u32) -> u32;".to_owned(),
        "    noop: func();".to_owned(),
        "    sum-len: func(data: list<u8>) -> u64;".to_owned(),
        "    add-points: func(a: point, b: point) -> point;".to_owned(),
        "    greet: func(name: string) -> string;".to_owned(),
        "    whoami: func() -> string;".to_owned(),
        "provides test:relay/relay@1.0.0".to_owned(),
        "    inc-via: func(x: u32) -> u32;".to_owned(),
        "    count-counters: func() -> u32;".to_owned(),
    ] {
        assert!(out.contains(&line), "`{line}` not in:\n{out}");
    }
}

#[test]
fn inspect_of_a_missing_bundle_is_one_error_line() {
    let o = polyplug(["inspect", "/nonexistent/polyplug/bundle"]);
    assert_one_error(&o, "cannot read bundle at /nonexistent/polyplug/bundle");
    assert_eq!(stdout(&o), "");
}

// ---- call ----

#[test]
fn call_inc_prints_the_result() {
    let b = c_counter();
    let o = call(b.path(), "test:counter/counter", "inc", "[41]");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "42\n");
    assert_eq!(stderr(&o), "");
    // By name, with a version the provider satisfies.
    let o = call(b.path(), "test:counter/counter@1.1.0", "inc", r#"{"x": 1}"#);
    assert_eq!(stdout(&o), "2\n", "{}", stderr(&o));
}

#[test]
fn call_greet_and_records() {
    let b = c_counter();
    let o = call(b.path(), "test:counter/counter", "greet", r#"["cli"]"#);
    assert_eq!(stdout(&o), "\"hello, cli from c\"\n", "{}", stderr(&o));
    let o = call(
        b.path(),
        "test:counter/counter",
        "add-points",
        r#"[{"x": 1, "y": 2}, {"x": 3, "y": -4}]"#,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("the result is JSON");
    assert_eq!(v, json!({"x": 4, "y": -2}));
    assert!(stdout(&o).contains("\n  \"x\": 4"), "pretty-printed");
    // No arguments by default; a function without a result prints null.
    let o = polyplug([
        OsStr::new("call"),
        b.path().as_os_str(),
        OsStr::new("test:counter/counter"),
        OsStr::new("noop"),
    ]);
    assert_eq!(stdout(&o), "null\n", "{}", stderr(&o));
    // The relay calls the counter through the host.
    let o = call(b.path(), "test:relay/relay", "inc-via", "[9]");
    assert_eq!(stdout(&o), "10\n", "{}", stderr(&o));
}

#[test]
fn call_errors_are_one_line() {
    let b = c_counter();
    assert_one_error(
        &call(
            Path::new("/nonexistent/polyplug/bundle"),
            "test:counter/counter",
            "inc",
            "[1]",
        ),
        "cannot read bundle at /nonexistent/polyplug/bundle",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter", "inc", "[41"),
        "the arguments are not valid JSON: EOF while parsing a list at line 1 column 3",
    );
    assert_one_error(
        &call(b.path(), "test:nope/thing", "inc", "[1]"),
        "bundle `c-counter` does not provide `test:nope/thing`; it provides: \
         test:counter/counter@1.2.0, test:relay/relay@1.0.0",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter@2.0.0", "inc", "[1]"),
        "does not provide `test:counter/counter@2.0.0`",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter@x", "inc", "[1]"),
        "is not a version",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter", "nope", "[]"),
        "`test:counter/counter@1.2.0` has no function `nope`; its functions are: inc, noop, \
         sum-len, add-points, greet, fail, whoami, boom",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter", "inc", r#"["41"]"#),
        "test:counter/counter.inc: `x`: expected an integer (u32), found the string \"41\"",
    );
    assert_one_error(
        &call(b.path(), "test:counter/counter", "fail", "[]"),
        "call to test:counter/counter.fail failed (Error): fixture failure requested",
    );
    let o = polyplug(["call"]);
    assert_one_error(&o, "the following required arguments were not provided");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_panic_is_one_line_without_a_backtrace() {
    let o = polyplug(["internal-panic-test"]);
    assert_one_error(&o, "internal error at ");
    assert!(
        stderr(&o).contains("panic requested; over two lines"),
        "{}",
        stderr(&o)
    );
}

// ---- check ----

#[test]
fn check_passes_when_manifest_wit_and_library_agree() {
    let b = c_counter();
    write_wit(
        &b,
        "wit",
        &[("counter.wit", COUNTER_WIT), ("relay.wit", RELAY_WIT)],
    );
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    assert!(
        out.contains("test:counter/counter@1.2.0: the library's 8 functions match the WIT"),
        "{out}"
    );
    assert!(
        out.contains("test:relay/relay@1.0.0: the library's 2 functions match the WIT"),
        "{out}"
    );
    assert!(out.ends_with("ok: no problems\n"), "{out}");
}

#[test]
fn check_reads_the_wit_named_in_the_manifest() {
    let b = c_bundle(
        BundleSpec::new("c-counter")
            .provides(counter::PROVIDES)
            .provides(RELAY)
            .extra_toml("wit = [\"contracts/counter.wit\", \"contracts/relay.wit\"]"),
    );
    write_wit(
        &b,
        "contracts",
        &[("counter.wit", COUNTER_WIT), ("relay.wit", RELAY_WIT)],
    );
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("contracts/counter.wit"),
        "{}",
        stdout(&o)
    );

    // A path the key names that does not exist is a problem, named as written.
    let b = c_bundle(
        BundleSpec::new("c-counter")
            .provides(counter::PROVIDES)
            .provides(RELAY)
            .extra_toml("wit = \"contracts/nope.wit\""),
    );
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert!(!o.status.success());
    assert_no_panic(&o);
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "polyplug: error: bundle.toml: the WIT path `contracts/nope.wit` does not exist ("
        ),
        "{err}"
    );
}

/// The counter's WIT with one change of every kind `check` reports.
const MISMATCHED_COUNTER: &str = "package test:counter@1.2.0;

interface counter {
    record point {
        x: s64,
        y: s32,
    }

    inc: func(x: u64) -> u32;
    sum-len: func(data: list<u8>) -> u64;
    noop: func();
    add-points: func(a: point, b: point) -> point;
    greet: func(name: string) -> string;
    fail: func();
    whoami: func() -> string;
    reset: func();
}
";

#[test]
fn check_lists_every_mismatch() {
    let b = c_counter();
    write_wit(
        &b,
        "wit",
        &[
            ("counter.wit", MISMATCHED_COUNTER),
            ("relay.wit", &RELAY_WIT.replace("1.0.0", "1.1.0")),
        ],
    );
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert!(!o.status.success());
    assert_no_panic(&o);
    assert_eq!(stdout(&o), "");
    let c = "polyplug: error: test:counter/counter@1.2.0: ";
    let expected = [
        "polyplug: error: bundle.toml provides `test:relay/relay@1.0.0`, but the WIT declares `test:relay/relay@1.1.0`".to_owned(),
        format!("{c}function `inc`: the library registers `inc: func(x: u32) -> u32` but the WIT declares `inc: func(x: u64) -> u32`"),
        format!("{c}function `inc`: the arguments take 4 bytes (align 4) in the library but 8 bytes (align 8) per the WIT"),
        format!("{c}function `sum-len` is entry 2 of the library's table but function 1 in the WIT: callers index the table in WIT order"),
        format!("{c}function `noop` is entry 1 of the library's table but function 2 in the WIT: callers index the table in WIT order"),
        format!("{c}function `add-points`: type `point` is `record point {{ x: s32, y: s32 }}` in the library but `record point {{ x: s64, y: s32 }}` in the WIT"),
        format!("{c}function `add-points`: the arguments take 16 bytes (align 4) in the library but 32 bytes (align 8) per the WIT; parameter offsets [0, 8] vs [0, 16]"),
        format!("{c}function `add-points`: the result takes 8 bytes (align 4) in the library but 16 bytes (align 8) per the WIT"),
        format!("{c}the library does not implement `reset: func()` (the WIT's function 7)"),
        format!("{c}the library registers `boom: func()`, which the WIT does not declare"),
        "polyplug: check failed: 10 problems".to_owned(),
    ];
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines, expected, "\n{err}");
}

#[test]
fn check_reports_missing_wit_and_contracts_and_load_failures_together() {
    // No WIT at all, and a manifest that does not declare the relay the library registers.
    let b = c_bundle(BundleSpec::new("half").provides(counter::PROVIDES));
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert_no_panic(&o);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].starts_with(
            "polyplug: error: no WIT to check against: put the contracts' .wit files in "
        ),
        "{err}"
    );
    assert!(
        lines[0].ends_with(" or name them with `wit = \"path\"` in bundle.toml"),
        "{err}"
    );
    assert_eq!(
        lines[1],
        "polyplug: error: bundle.toml provides `test:counter/counter@1.2.0`, but no WIT interface defines `test:counter/counter` (the WIT defines no interface)"
    );
    assert!(
        lines[2].starts_with("polyplug: error: the bundle does not load: bundle `half`: registered providers differ from bundle.toml"),
        "{err}"
    );
    assert_eq!(lines[3], "polyplug: check failed: 3 problems");

    // A WIT that does not parse names the file, line and column.
    let b = c_counter();
    write_wit(
        &b,
        "wit",
        &[
            ("counter.wit", COUNTER_WIT),
            (
                "relay.wit",
                "package test:relay@1.0.0;\ninterface relay {\n    f: func(s: stream<u8>);\n}\n",
            ),
        ],
    );
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert_no_panic(&o);
    let err = stderr(&o);
    assert!(
        err.contains("relay.wit:3:16: `stream<T>` is not supported"),
        "{err}"
    );
    assert!(
        err.contains("bundle.toml provides `test:relay/relay@1.0.0`, but no WIT interface defines `test:relay/relay`"),
        "{err}"
    );
    assert!(
        err.ends_with("polyplug: check failed: 2 problems\n"),
        "{err}"
    );

    // A malformed manifest stops the check at once, in one line.
    let b = c_bundle(BundleSpec::new("x").raw_manifest("name = \"x\"\nversion = "));
    assert_one_error(
        &polyplug([OsStr::new("check"), b.path().as_os_str()]),
        "malformed bundle.toml",
    );
}

// ---- the guest fixture: every kind of the geometry contract ----

fn shapes() -> Bundle {
    use polyplug_testkit::{geometry, guest_fixture};
    let b = make_bundle(
        &BundleSpec::new("shapes")
            .library(guest_fixture())
            .provides(geometry::PROVIDES),
    );
    write_wit(
        &b,
        "wit",
        &[(
            "geometry.wit",
            include_str!("../../../tests/fixtures/wit/geometry.wit"),
        )],
    );
    b
}

#[test]
fn geometry_calls_and_checks_through_the_cli() {
    let b = shapes();
    let o = call(
        b.path(),
        "test:shapes/geometry",
        "describe",
        r#"{"r": {"origin": {"x": 0, "y": 0}, "size": {"x": 2, "y": 2}}, "name": "sq"}"#,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("the result is JSON");
    assert_eq!(
        v,
        json!({"text": "sq: 2x2 at (0, 0)", "tags": ["sq", "square"], "style": ["filled"], "kind": "square", "area": 4})
    );
    let o = call(b.path(), "test:shapes/geometry", "parse-point", r#"["x"]"#);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("the result is JSON");
    assert_eq!(v, json!({"err": "`x` is not `x,y`"}));
    let o = polyplug([OsStr::new("inspect"), b.path().as_os_str()]);
    assert!(
        stdout(&o).contains("    describe: func(r: rect, name: string) -> label;"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("    flags style {"), "{}", stdout(&o));
    let o = polyplug([OsStr::new("check"), b.path().as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("test:shapes/geometry@1.0.0: the library's 11 functions match the WIT"),
        "{}",
        stdout(&o)
    );
}
