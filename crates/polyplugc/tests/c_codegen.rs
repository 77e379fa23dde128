//! The generated C header, compiled and run.
//!
//! `polyplugc --lang c` writes `test_shapes_geometry.h` (from `tests/fixtures/wit/geometry.wit`)
//! and `demo_logs_filter.h` (from the log-pipeline example). These tests:
//!
//! * compile both headers warning-free as C11 (`-pedantic`) and C++17, alone, with the provider
//!   implementation and with a stateful one; likewise a contract using every supported kind
//!   (each layout checked by the header's static asserts), one without functions, and one with
//!   64-bit flags;
//! * prove the layout checks are live: a header whose struct disagrees with the ABI's layout
//!   fails to compile;
//! * build a provider (`tests/c/geometry_provider.c`, on the header's stubs) as a shared library
//!   that must link without libpolyplug (`-Wl,--no-undefined`), and a host
//!   (`tests/c/geometry_host.c`, on the typed caller) against the runtime's cdylib with the flags
//!   of its `polyplug-uninstalled.pc`; then run the host on a bundle of the provider. The host
//!   checks every function's result, an error with its message, a panic, the contract check,
//!   a hot reload and the stale handle after an unload, and exits 0 only if all hold. The pair
//!   is built once as C and once as C++ (where `boom` throws);
//! * run the same hosts on the Rust guest fixture (`tests/fixtures/guest-plugin`, written with
//!   polyplug-guest): a Rust plugin answers C and C++ hosts through the generated header.

use polyplug_contract::{Contract, Function, Param, Type, Version};
use polyplug_testkit::{
    cdylib_dir, geometry, guest_fixture, lib_file_name, make_bundle, BundleSpec,
};
use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// A host that has not finished by then is stuck (a run takes well under a second).
const HOST_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("polyplugc-c-")
        .tempdir()
        .expect("a temporary directory")
}

/// Generates the C headers of both test contracts into `dir`.
fn generate(dir: &Path) {
    for wit in [
        "tests/fixtures/wit/geometry.wit",
        "examples/log-pipeline/wit/filter.wit",
    ] {
        let written = polyplugc::generate(workspace().join(wit), "c", dir)
            .unwrap_or_else(|e| panic!("generating C from {wit}: {e}"));
        assert_eq!(written.len(), 1, "one header per contract: {written:?}");
    }
    for header in ["test_shapes_geometry.h", "demo_logs_filter.h"] {
        assert!(dir.join(header).is_file(), "{header} was not written");
    }
}

/// The language a source is compiled as.
#[derive(Clone, Copy, Debug)]
enum Lang {
    C,
    Cpp,
}

impl Lang {
    /// The compiler (from `CC`/`CXX`, which may hold a launcher such as `ccache gcc`) with the
    /// flags the generated headers must pass warning-free.
    fn compiler(self) -> Command {
        let (var, default, flags): (_, _, &[&str]) = match self {
            Lang::C => (
                "CC",
                "gcc",
                &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
            ),
            Lang::Cpp => (
                "CXX",
                "g++",
                &["-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror"],
            ),
        };
        let value = std::env::var(var).unwrap_or_default();
        let mut words = value.split_whitespace();
        let mut cmd = Command::new(words.next().unwrap_or(default));
        cmd.args(words).args(flags);
        cmd
    }
}

/// Runs a compiler command, failing with its output unless it succeeds.
fn run_compiler(mut cmd: Command, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{cmd:?}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The compiler's error output for a source that must not compile.
fn compile_error(mut cmd: Command) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(!output.status.success(), "{cmd:?} compiled, but must not");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Compiler and linker flags from the runtime's `polyplug-uninstalled.pc`.
struct PcFlags {
    cflags: Vec<String>,
    libs: Vec<String>,
}

/// Reads `polyplug-uninstalled.pc` beside the testkit's libpolyplug: `name=value` variables and
/// `Field: value` lines, with `${var}` expanded.
fn pc_flags() -> PcFlags {
    let lib = cdylib_dir().join(lib_file_name("polyplug"));
    assert!(
        lib.is_file(),
        "{} is missing: the testkit's build script builds it",
        lib.display()
    );
    let pc = cdylib_dir().join("polyplug-uninstalled.pc");
    let text = fs::read_to_string(&pc).unwrap_or_else(|e| panic!("{}: {e}", pc.display()));
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut fields: HashMap<String, String> = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        let Some(at) = line.find(['=', ':']) else {
            continue;
        };
        let (name, mut value) = (
            line[..at].trim().to_owned(),
            line[at + 1..].trim().to_owned(),
        );
        while let Some(start) = value.find("${") {
            let end = start
                + value[start..]
                    .find('}')
                    .unwrap_or_else(|| panic!("{}: unterminated ${{ in `{line}`", pc.display()));
            let var = vars
                .get(&value[start + 2..end])
                .unwrap_or_else(|| panic!("{}: undefined variable in `{line}`", pc.display()));
            value.replace_range(start..=end, var);
        }
        if line.as_bytes()[at] == b'=' {
            vars.insert(name, value);
        } else {
            fields.insert(name, value);
        }
    }
    let field = |name: &str| -> Vec<String> {
        fields
            .get(name)
            .unwrap_or_else(|| panic!("{} has no `{name}:` line:\n{text}", pc.display()))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    PcFlags {
        cflags: field("Cflags"),
        libs: field("Libs"),
    }
}

/// Compiles `source` (which includes the generated headers in `gen`) to an object file; the
/// generated code must compile warning-free.
fn compile_object(lang: Lang, gen: &Path, source: &Path) -> PathBuf {
    let obj = source.with_extension(match lang {
        Lang::C => "c.o",
        Lang::Cpp => "cpp.o",
    });
    let mut cmd = lang.compiler();
    cmd.args(&pc_flags().cflags)
        .arg("-I")
        .arg(gen)
        .arg("-c")
        .arg(source)
        .arg("-o")
        .arg(&obj);
    run_compiler(cmd, &format!("compiling {} as {lang:?}", source.display()));
    obj
}

/// Builds the geometry provider as a shared library. `--no-undefined` proves it references no
/// libpolyplug symbol: the caller half of the header is all `static inline`.
fn build_provider(lang: Lang, gen: &Path, out: &Path) -> PathBuf {
    let lib = out.join(lib_file_name(&format!("geometry_{lang:?}").to_lowercase()));
    let mut cmd = lang.compiler();
    cmd.args(&pc_flags().cflags)
        .arg("-I")
        .arg(gen)
        .args(["-g", "-fPIC", "-shared", "-Wl,--no-undefined"])
        .arg("-o")
        .arg(&lib)
        .arg(workspace().join("crates/polyplugc/tests/c/geometry_provider.c"));
    run_compiler(cmd, &format!("building the {lang:?} geometry provider"));
    lib
}

/// Builds the geometry host against libpolyplug, counting guarded sections through `--wrap`.
fn build_host(lang: Lang, gen: &Path, out: &Path) -> PathBuf {
    let flags = pc_flags();
    let exe = out.join(format!("geometry_host_{lang:?}").to_lowercase());
    let mut cmd = lang.compiler();
    cmd.args(&flags.cflags)
        .arg("-I")
        .arg(gen)
        .arg("-g")
        .arg("-o")
        .arg(&exe)
        .arg(workspace().join("crates/polyplugc/tests/c/geometry_host.c"))
        // Libraries after the source, as single-pass linkers need.
        .args(&flags.libs)
        .arg("-Wl,--wrap=pp_guard_enter,--wrap=pp_guard_exit");
    run_compiler(cmd, &format!("building the {lang:?} geometry host"));
    exe
}

/// Runs the host on the bundle in `bundle`; fails with its output unless it exits with 0.
fn run_host(exe: &Path, bundle: &Path, boom_message: &str, out: &Path) {
    let (stdout_path, stderr_path) = (out.join("stdout"), out.join("stderr"));
    let create = |p: &Path| File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut cmd = Command::new(exe);
    cmd.arg(bundle)
        .arg(boom_message)
        // The rpath from the .pc file must find libpolyplug, not cargo's library path.
        .env_remove("LD_LIBRARY_PATH")
        .env("RUST_BACKTRACE", "0")
        .stdout(create(&stdout_path))
        .stderr(create(&stderr_path));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let status = wait_with_timeout(&mut child, HOST_TIMEOUT);
    let read = |p: &Path| fs::read_to_string(p).unwrap_or_else(|e| format!("<{e}>"));
    let (stdout, stderr) = (read(&stdout_path), read(&stderr_path));
    match status {
        Some(s) if s.success() => {
            assert!(
                stdout.contains("checks passed"),
                "the host exited 0 without finishing:\n{stdout}"
            );
            print!("{stdout}");
        }
        other => panic!(
            "{cmd:?} {}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
            other.map_or_else(
                || format!("did not finish within {HOST_TIMEOUT:?}"),
                |s| format!("failed: {s}")
            ),
        ),
    }
}

/// The child's exit status, or `None` (after killing it) when it outlives `timeout`.
fn wait_with_timeout(child: &mut std::process::Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait().expect("waiting for the host") {
            Some(status) => return Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Which parts of a header a translation unit compiles.
#[derive(Clone, Copy, Debug)]
enum Part {
    /// The declarations and the host caller.
    Header,
    /// Plus the provider implementation (`<PREFIX>_IMPLEMENTATION`).
    Provider,
    /// Plus a stateful provider (`<PREFIX>_STATEFUL`).
    StatefulProvider,
}

const PARTS: [Part; 3] = [Part::Header, Part::Provider, Part::StatefulProvider];

/// Writes a source file that includes `header` with the macros `part` needs.
fn includer(dir: &Path, header: &str, part: Part) -> PathBuf {
    let stem = header.trim_end_matches(".h");
    let up = stem.to_ascii_uppercase();
    let mut text = String::new();
    if matches!(part, Part::Provider | Part::StatefulProvider) {
        text.push_str(&format!("#define {up}_IMPLEMENTATION\n"));
    }
    if matches!(part, Part::StatefulProvider) {
        text.push_str(&format!("#define {up}_STATEFUL\n"));
    }
    // Twice: the include guard and the implementation guard must both hold.
    text.push_str(&format!("#include \"{header}\"\n#include \"{header}\"\n"));
    let path = dir.join(format!("include_{stem}_{part:?}.c"));
    fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

#[test]
fn headers_compile_warning_free_as_c11_and_cpp17() {
    let dir = temp_dir();
    generate(dir.path());
    for header in ["test_shapes_geometry.h", "demo_logs_filter.h"] {
        for part in PARTS {
            let source = includer(dir.path(), header, part);
            for lang in [Lang::C, Lang::Cpp] {
                compile_object(lang, dir.path(), &source);
            }
        }
    }
}

/// Every kind polyplug supports, in argument and result position and nested, with names that
/// are C or C++ keywords or the generated code's own: the header must compile warning-free,
/// which means every layout check against the ABI's layouts holds.
const EVERY_KIND: &str = r#"
package test:sink@1.2.3;

interface every-kind {
    enum color { red, green, blue }
    flags perms { read, write, exec }
    record inner {
        b: bool,
        c: char,
        tiny: s8,
        short: s16,
        half: u16,
        f: f32,
    }
    record outer {
        i: inner,
        l: list<inner>,
        o: option<option<u16>>,
        t: tuple<u8, tuple<s64, bool>>,
        unit-err: result<_, color>,
        ok-only: result<list<string>>,
        bare: result,
        class: perms,
        bytes: list<u8>,
        nested: list<list<string>>,
        more-bytes: list<list<u8>>,
        double: f64,
        int: s32,
    }
    take: func(o: outer, default: option<inner>, out: list<tuple<u8, char>>) -> outer;
    nothing: func();
    give: func() -> result<f32, list<u8>>;
    bytes-in-out: func(b: list<u8>, caller: list<list<u8>>, cx: u64) -> list<u8>;
    flag-only: func(args: perms) -> color;
}

interface no-functions {
    record unused { x: u32 }
}
"#;

#[test]
fn every_kind_compiles_with_checked_layouts() {
    let dir = temp_dir();
    let wit = dir.path().join("every-kind.wit");
    fs::write(&wit, EVERY_KIND).expect("writing the WIT");
    let written = polyplugc::generate(&wit, "c", dir.path()).expect("generating C");
    let names: Vec<_> = written
        .iter()
        .map(|w| w.path.file_name().expect("a header name"))
        .collect();
    assert_eq!(
        names,
        ["test_sink_every_kind.h", "test_sink_no_functions.h"]
    );
    for w in &written {
        let text = fs::read_to_string(&w.path).expect("the header");
        assert!(!text.contains("#error"), "{text}");
    }
    // Flags beyond 32 bits exist only in contracts built in code (WIT stops at 32).
    let wide = Contract::new(
        "test:sink/wide",
        Version::new(1, 0, 0),
        vec![Function::new(
            "get",
            vec![Param::new("x", Type::option(Type::U8))],
            Some(Type::Flags {
                name: "many".into(),
                flags: (0..40).map(|i| format!("bit{i}")).collect(),
            }),
        )],
    )
    .compile()
    .expect("a valid contract");
    fs::write(
        dir.path().join("test_sink_wide.h"),
        polyplugc::emit::c::header(&wide),
    )
    .expect("writing the header");
    for header in [
        "test_sink_every_kind.h",
        "test_sink_no_functions.h",
        "test_sink_wide.h",
    ] {
        for part in PARTS {
            let source = includer(dir.path(), header, part);
            for lang in [Lang::C, Lang::Cpp] {
                compile_object(lang, dir.path(), &source);
            }
        }
    }
}

#[test]
fn a_layout_mismatch_fails_to_compile() {
    let dir = temp_dir();
    generate(dir.path());
    let path = dir.path().join("test_shapes_geometry.h");
    let good = fs::read_to_string(&path).expect("the generated header");
    let field = "    int32_t y;\n} test_shapes_geometry_point;";
    assert!(good.contains(field), "the point struct changed:\n{good}");
    // A wider field: the struct no longer has the ABI's size.
    fs::write(
        &path,
        good.replace(field, "    int64_t y;\n} test_shapes_geometry_point;"),
    )
    .expect("writing the header");
    let source = includer(dir.path(), "test_shapes_geometry.h", Part::Header);
    for lang in [Lang::C, Lang::Cpp] {
        let mut cmd = lang.compiler();
        cmd.args(&pc_flags().cflags)
            .arg("-I")
            .arg(dir.path())
            .arg("-fsyntax-only")
            .arg(&source);
        let err = compile_error(cmd);
        assert!(
            err.contains("test_shapes_geometry_point: size"),
            "{lang:?}: no size assert fired:\n{err}"
        );
    }
    // Reordered members: the sizes hold, the offsets do not.
    let (x, y) = ("    int32_t x;\n", "    int32_t y;\n");
    let swapped = good.replacen(&format!("{x}{y}"), &format!("{y}{x}"), 1);
    assert_ne!(swapped, good);
    fs::write(&path, swapped).expect("writing the header");
    let mut cmd = Lang::C.compiler();
    cmd.args(&pc_flags().cflags)
        .arg("-I")
        .arg(dir.path())
        .arg("-fsyntax-only")
        .arg(&source);
    let err = compile_error(cmd);
    assert!(
        err.contains("test_shapes_geometry_point: offset of x"),
        "no offset assert fired:\n{err}"
    );
}

/// Builds the provider and the host as `lang`, and runs the host on a bundle of the provider.
fn provider_and_host(lang: Lang) {
    let dir = temp_dir();
    let gen = dir.path().join("gen");
    generate(&gen);
    let provider = build_provider(lang, &gen, dir.path());
    let host = build_host(lang, &gen, dir.path());
    let bundle = make_bundle(
        &BundleSpec::new(format!("geometry-{lang:?}").to_lowercase())
            .library(provider)
            .provides(geometry::PROVIDES),
    );
    // As C++, boom() throws: the message proves the header's thunk caught the exception.
    let boom = match lang {
        Lang::C => "boom requested",
        Lang::Cpp => "boom requested (a C++ exception)",
    };
    run_host(&host, bundle.path(), boom, dir.path());
}

#[test]
fn c_host_calls_c_provider_through_the_generated_header() {
    provider_and_host(Lang::C);
}

#[test]
fn cpp_host_calls_cpp_provider_through_the_generated_header() {
    provider_and_host(Lang::Cpp);
}

/// The acceptance test of the C header: a plugin written with polyplug-guest (the Rust guest
/// fixture, `tests/fixtures/guest-plugin`) answers a C host, and a C++ host, that use only the
/// generated header. The hosts run every check they run against the C provider.
#[test]
fn c_and_cpp_hosts_call_the_rust_guest_fixture() {
    let dir = temp_dir();
    let gen = dir.path().join("gen");
    generate(&gen);
    let bundle = make_bundle(
        &BundleSpec::new("geometry-rust-guest")
            .library(guest_fixture())
            .provides(geometry::PROVIDES),
    );
    for lang in [Lang::C, Lang::Cpp] {
        let host = build_host(lang, &gen, dir.path());
        run_host(&host, bundle.path(), geometry::BOOM_MESSAGE, dir.path());
    }
}
