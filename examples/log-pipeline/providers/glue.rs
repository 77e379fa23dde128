//! The build script of both Rust providers (`redact`, `count`; their `Cargo.toml` names it):
//! generates the guest glue of `demo:logs/filter` into `OUT_DIR/polyplug` (feature `codegen`, on
//! by default), or copies it from `$POLYPLUG_GUEST_GLUE`, where a driver generated it already.

#[cfg(feature = "codegen")]
fn main() {
    polyplugc::build::rust_guest("../../wit/filter.wit");
}

#[cfg(not(feature = "codegen"))]
fn main() {
    use std::path::PathBuf;
    const FILE: &str = "demo_logs_filter_guest.rs";
    println!("cargo:rerun-if-env-changed=POLYPLUG_GUEST_GLUE");
    let dir = std::env::var_os("POLYPLUG_GUEST_GLUE").unwrap_or_else(|| {
        panic!("without the `codegen` feature, POLYPLUG_GUEST_GLUE must name the directory holding {FILE}")
    });
    let from = PathBuf::from(dir).join(FILE);
    println!("cargo:rerun-if-changed={}", from.display());
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("polyplug");
    std::fs::create_dir_all(&out)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    let glue =
        std::fs::read(&from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    let to = out.join(FILE);
    if std::fs::read(&to).ok().as_deref() != Some(&glue[..]) {
        std::fs::write(&to, glue).unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
    }
}
