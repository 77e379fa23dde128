//! The C API from real C and C++ programs: builds `tests/hosts/c/host.c` (C11) and
//! `tests/hosts/cpp/host.cpp` (C++17) against the libpolyplug the testkit built, with the flags
//! `polyplug-uninstalled.pc` gives (so this is also the pkg-config test), and runs each on a
//! Rust and a C counter bundle; and `tests/hosts/c/loader_host.c` on the table loader library
//! and one of its bundles. The hosts check everything themselves; here only their exit status
//! counts, and their output is shown when it is not 0.
//!
//! `POLYPLUG_HOST_RUNNER`, when set, is a command the hosts run under, e.g.
//! `valgrind --error-exitcode=99` (`scripts/valgrind.sh`).

use polyplug_testkit::{counter, fixture_lib, make_bundle, table, table_loader, BundleSpec};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// A host that has not finished by then is stuck (the whole run takes well under a second).
const HOST_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the runtime's shared library and its pkg-config files are: the testkit builds them,
/// because `cargo test` builds only the rlib of the crate under test.
fn profile_dir() -> PathBuf {
    polyplug_testkit::cdylib_dir().to_path_buf()
}

/// The built shared library. The testkit's build script fails when it cannot build it, so a
/// missing file is a broken build, never a reason to skip.
fn libpolyplug() -> PathBuf {
    let lib = profile_dir().join(polyplug_testkit::lib_file_name("polyplug"));
    assert!(
        lib.is_file(),
        "{} is missing: the testkit build script should have built it",
        lib.display()
    );
    lib
}

/// The fields of a `.pc` file, with `${var}` references expanded. Enough of pkg-config's
/// format for the files build.rs writes: `name=value` variables and `Field: value` lines.
fn parse_pc(text: &str) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut fields = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The first character that cannot be part of a name says what the line is.
        let Some(at) = line.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)))
        else {
            continue;
        };
        let (name, value) = (&line[..at], expand(line[at + 1..].trim(), &vars));
        match line.as_bytes()[at] {
            b'=' => {
                vars.insert(name.to_owned(), value);
            }
            b':' => {
                fields.insert(name.to_owned(), value);
            }
            _ => {}
        }
    }
    fields
}

fn expand(value: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let end = rest[start..]
            .find('}')
            .unwrap_or_else(|| panic!("unterminated ${{ in `{value}`"))
            + start;
        let name = &rest[start + 2..end];
        let var = vars
            .get(name)
            .unwrap_or_else(|| panic!("`{value}` uses undefined variable `{name}`"));
        out.push_str(&rest[..start]);
        out.push_str(var);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Compiler and linker flags for a host, from `polyplug-uninstalled.pc`.
struct Flags {
    cflags: Vec<String>,
    libs: Vec<String>,
}

fn uninstalled_pc() -> Flags {
    let pc = profile_dir().join("polyplug-uninstalled.pc");
    let text = fs::read_to_string(&pc).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); crates/polyplug/build.rs writes it next to libpolyplug",
            pc.display()
        )
    });
    let fields = parse_pc(&text);
    let field = |name: &str| {
        fields
            .get(name)
            .unwrap_or_else(|| panic!("{} has no `{name}:` line:\n{text}", pc.display()))
    };
    assert_eq!(
        field("Version"),
        env!("CARGO_PKG_VERSION"),
        "{}",
        pc.display()
    );
    let split = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    Flags {
        cflags: split(field("Cflags")),
        libs: split(field("Libs")),
    }
}

#[test]
fn uninstalled_pc_points_at_this_build() {
    let flags = uninstalled_pc();
    let include = flags
        .cflags
        .iter()
        .find_map(|f| f.strip_prefix("-I"))
        .expect("Cflags has -I<include dir>");
    assert!(
        Path::new(include).join("polyplug.h").is_file(),
        "Cflags' -I{include} holds no polyplug.h"
    );
    let lib_dir = flags
        .libs
        .iter()
        .find_map(|f| f.strip_prefix("-L"))
        .expect("Libs has -L<lib dir>");
    let same = |a: &Path, b: &Path| fs::canonicalize(a).ok() == fs::canonicalize(b).ok();
    assert!(
        same(Path::new(lib_dir), &profile_dir()),
        "Libs' -L{lib_dir} is not this build's profile dir {}",
        profile_dir().display()
    );
    assert!(
        flags.libs.iter().any(|f| f == "-lpolyplug"),
        "Libs lacks -lpolyplug"
    );
    assert!(
        flags
            .libs
            .iter()
            .any(|f| f == &format!("-Wl,-rpath,{lib_dir}")),
        "Libs lacks an rpath to {lib_dir}"
    );
    libpolyplug();
}

/// A command from a compiler variable such as `CC="ccache gcc"`, or `default`.
fn compiler(var: &str, default: &str) -> Command {
    let value = std::env::var(var).unwrap_or_default();
    let mut words = value.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or(default));
    cmd.args(words);
    cmd
}

/// Compiles one host source file into `out_dir`, failing with the compiler's output.
fn build_host(compiler: Command, std: &str, source: &str, out_dir: &Path) -> PathBuf {
    let flags = uninstalled_pc();
    libpolyplug();
    let source = workspace().join(source);
    let exe = out_dir.join("host");
    let mut cmd = compiler;
    cmd.args([std, "-Wall", "-Wextra", "-Werror", "-g"])
        .args(&flags.cflags)
        .arg("-o")
        .arg(&exe)
        .arg(&source)
        // Libraries after the source, as single-pass linkers need.
        .args(&flags.libs);
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "compiling {} failed ({}):\n{cmd:?}\n{}{}",
        source.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// Runs a host on a fresh Rust counter bundle (priority 5) and C counter + relay bundle
/// (priority 10), and fails with its output unless it exits with 0.
fn run_host(exe: &Path, out_dir: &Path) {
    let rust = make_bundle(&BundleSpec::counter("rust-counter").priority(5));
    let c = make_bundle(
        &BundleSpec::new("c-counter")
            .library(fixture_lib("counter_c"))
            .provides(counter::PROVIDES)
            .provides("test:relay/relay@1.0.0")
            .priority(10),
    );
    run(exe, [rust.path(), c.path()], out_dir);
}

/// The command that runs `exe`: under `POLYPLUG_HOST_RUNNER`'s command when it is set.
fn host_command(exe: &Path) -> Command {
    let runner = std::env::var("POLYPLUG_HOST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(words).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}

/// Runs a host with `args` and fails with its output unless it exits with 0.
fn run<I: IntoIterator<Item = A>, A: AsRef<OsStr>>(exe: &Path, args: I, out_dir: &Path) {
    // Output goes to files, so the host can never block on a full pipe while we wait.
    let (stdout_path, stderr_path) = (out_dir.join("stdout"), out_dir.join("stderr"));
    let create = |p: &Path| File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut cmd = host_command(exe);
    cmd.args(args)
        // The rpath from the .pc file must find libpolyplug, not cargo's library path.
        .env_remove("LD_LIBRARY_PATH")
        // The Rust fixture's boom() panics on purpose; a backtrace would bury real failures.
        .env("RUST_BACKTRACE", "0")
        .stdout(create(&stdout_path))
        .stderr(create(&stderr_path));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let status = wait_with_timeout(&mut child, HOST_TIMEOUT);
    // Lossy: a host's output is shown even when a bug made it print garbage.
    let read = |p: &Path| {
        fs::read(p).map_or_else(
            |e| format!("<{e}>"),
            |b| String::from_utf8_lossy(&b).into_owned(),
        )
    };
    let (stdout, stderr) = (read(&stdout_path), read(&stderr_path));
    match status {
        Some(s) if s.success() => {
            // Shown with --nocapture: one line per check.
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

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory for the host build")
}

#[test]
fn c_host_drives_rust_and_c_plugins() {
    let dir = temp_dir("polyplug-c-host-");
    let exe = build_host(
        compiler("CC", "gcc"),
        "-std=c11",
        "tests/hosts/c/host.c",
        dir.path(),
    );
    run_host(&exe, dir.path());
}

#[test]
fn cpp_host_drives_rust_and_c_plugins() {
    let dir = temp_dir("polyplug-cpp-host-");
    let exe = build_host(
        compiler("CXX", "g++"),
        "-std=c++17",
        "tests/hosts/cpp/host.cpp",
        dir.path(),
    );
    run_host(&exe, dir.path());
}

#[test]
fn c_host_drives_a_loader_library() {
    let dir = temp_dir("polyplug-c-loader-host-");
    let exe = build_host(
        compiler("CC", "gcc"),
        "-std=c11",
        "tests/hosts/c/loader_host.c",
        dir.path(),
    );
    // The host renames answers-next.toml over answers.toml before it reloads.
    let bundle = make_bundle(
        &table::spec("answers", &table::answers(1)).file("answers-next.toml", table::answers(2)),
    );
    run(&exe, [table_loader().as_path(), bundle.path()], dir.path());
}

#[test]
fn pc_parser_expands_variables() {
    let fields = parse_pc(
        "# comment\nprefix=/opt/pp\nlibdir=${prefix}/lib\n\nName: polyplug\n\
         Libs: -L${libdir} -lpolyplug\nCflags: -I${prefix}/include\n",
    );
    assert_eq!(fields["Libs"], "-L/opt/pp/lib -lpolyplug");
    assert_eq!(fields["Cflags"], "-I/opt/pp/include");
    assert_eq!(fields["Name"], "polyplug");
    assert!(!fields.contains_key("prefix"));
}
