//! Test support shared by polyplug's integration tests and benches.
//!
//! * **Fixture libraries.** The build script compiles the Rust fixture plugin
//!   (`tests/fixtures/rust-plugin`), the table loader library (`tests/fixtures/table-loader`)
//!   and every C fixture (`tests/fixtures/c/*.c`) into one directory; [`fixture_lib`],
//!   [`rust_fixture`] and [`table_loader`] find them there.
//! * **Bundles.** [`BundleSpec`] describes a bundle and [`make_bundle`] writes it to a fresh
//!   temporary directory: a private copy of the library plus a `bundle.toml`. Malformed
//!   manifests and broken libraries can be written on purpose.
//! * **What the Rust fixture does**: its contract and init modes, as constants ([`counter`],
//!   [`other`], [`modes`]), so tests do not repeat string literals; and what the guest fixture
//!   ([`guest_fixture`]) answers ([`geometry`]).
//! * **Table bundles** ([`table`]): bundles of the table loader, whose `answers.toml` says what
//!   each function returns.
//! * **Memory**: [`rss_kib`] for leak tests.
//!
//! This crate deliberately does not depend on the `polyplug` runtime, so that the runtime's
//! own tests can use it.

use std::fs;
use std::path::{Path, PathBuf};

mod bundle;
mod fixture;
pub mod table;

pub use bundle::{make_bundle, write_bundle, Bundle, BundleSpec, MANIFEST_FILE};
pub use fixture::{counter, geometry, modes, other, reload};

/// The directory holding every built fixture library (set by the build script).
pub const FIXTURE_DIR: &str = env!("POLYPLUG_FIXTURE_DIR");

/// Where the build script's nested build put the runtime's cdylib (`libpolyplug.so`) and the
/// pkg-config files its build script writes beside it.
pub const CDYLIB_DIR: &str = env!("POLYPLUG_CDYLIB_DIR");

/// [`CDYLIB_DIR`] as a path.
pub fn cdylib_dir() -> &'static Path {
    Path::new(CDYLIB_DIR)
}

/// The library name (without prefix and suffix) of the Rust fixture plugin.
pub const RUST_FIXTURE: &str = "polyplug_fixture_rust";

/// The directory holding every built fixture library.
pub fn fixture_dir() -> &'static Path {
    Path::new(FIXTURE_DIR)
}

/// The platform's file name for the shared library `name`, e.g. `libcounter_c.so` on Linux.
pub fn lib_file_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The path of fixture library `name` (e.g. `"polyplug_fixture_rust"` or `"counter_c"`, the
/// stem of a C fixture's source file).
///
/// # Panics
/// When the library was not built, listing the libraries that were.
pub fn fixture_lib(name: &str) -> PathBuf {
    let path = fixture_dir().join(lib_file_name(name));
    if !path.is_file() {
        let built: Vec<String> = fs::read_dir(fixture_dir())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        panic!(
            "fixture library {} is missing (built fixtures: {built:?}); C fixtures come from \
             tests/fixtures/c/<name>.c",
            path.display()
        );
    }
    path
}

/// The path of the Rust fixture plugin's library.
pub fn rust_fixture() -> PathBuf {
    fixture_lib(RUST_FIXTURE)
}

/// The library name of the guest fixture plugin (`tests/fixtures/guest-plugin`), written with
/// `polyplug-guest`; it provides [`geometry`].
pub const GUEST_FIXTURE: &str = "polyplug_fixture_guest";

/// The path of the guest fixture plugin's library.
pub fn guest_fixture() -> PathBuf {
    fixture_lib(GUEST_FIXTURE)
}

/// The library name of the table loader (`tests/fixtures/table-loader`), a loader library
/// exporting `pp_loader_entry`; see [`table`].
pub const TABLE_LOADER: &str = "polyplug_fixture_table_loader";

/// The path of the table loader's library, for `Runtime::add_loader_library` or
/// `pp_add_loader_library`.
pub fn table_loader() -> PathBuf {
    fixture_lib(TABLE_LOADER)
}

/// The resident set size of this process in KiB, from `VmRSS` in `/proc/self/status`.
///
/// # Panics
/// When `/proc/self/status` cannot be read or has no `VmRSS` line (not Linux).
pub fn rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| panic!("cannot read /proc/self/status: {e}"));
    parse_vm_rss(&status).expect("/proc/self/status has a numeric VmRSS line")
}

/// The value of the `VmRSS:` line of a `/proc/<pid>/status` text, in KiB.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let value = line.trim().strip_suffix("kB")?;
    value.trim().parse().ok()
}

/// A bundle named `name` of reloadable fixture build `build` (`reload::V1`, `reload::V2`...),
/// declaring `test:reload/value@1.0.0`.
pub fn reload_bundle(name: &str, build: &str) -> Bundle {
    make_bundle(
        &BundleSpec::new(name)
            .library(fixture_lib(build))
            .provides(reload::PROVIDES),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_line_is_parsed() {
        let status = "Name:\tx\nVmPeak:\t  10 kB\nVmRSS:\t    1234 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(status), Some(1234));
        assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None);
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_kib() > 0);
    }

    #[test]
    fn library_names_follow_the_platform() {
        if cfg!(target_os = "linux") {
            assert_eq!(lib_file_name("counter_c"), "libcounter_c.so");
        }
    }
}
