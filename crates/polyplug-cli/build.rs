//! Builds the demo's native plugin (the C counter fixture) into a shared library and tells the
//! binary where it is, so `polyplug demo` works on a fresh clone with only gcc installed.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    let source = root.join("tests/fixtures/c/counter_c.c");
    let include = root.join("include");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("libdemo_counter.so");
    println!("cargo:rerun-if-changed={}", source.display());
    println!(
        "cargo:rerun-if-changed={}",
        include.join("polyplug.h").display()
    );
    let compiler = cc::Build::new().get_compiler();
    let status = Command::new(compiler.path())
        .args([
            "-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror",
        ])
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&out)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the C compiler {}: {e}",
                compiler.path().display()
            )
        });
    assert!(
        status.success(),
        "compiling the demo plugin {} failed",
        source.display()
    );
    println!("cargo:rustc-env=POLYPLUG_DEMO_PLUGIN={}", out.display());
}
