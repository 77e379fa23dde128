//! Writing bundles: a directory with a `bundle.toml` and a private copy of a library (or a
//! script, for loaders other than `native`), plus any other files the bundle needs.
//!
//! Each bundle gets its own copy of the library file (never a symlink): the dynamic loader
//! identifies a library by its file, so only a distinct file gives each bundle its own statics
//! and lets one bundle be unloaded while another stays.

use crate::{lib_file_name, rust_fixture};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The manifest's file name inside a bundle directory.
pub const MANIFEST_FILE: &str = "bundle.toml";

/// Where a bundle's library comes from.
#[derive(Clone, Debug)]
enum Library {
    /// A copy of this file.
    Copy(PathBuf),
    /// These bytes (not-a-library and truncated-library tests).
    Bytes(Vec<u8>),
    /// No file: the manifest names a library that does not exist.
    Absent,
}

/// A description of a bundle for [`make_bundle`] and [`write_bundle`].
///
/// Defaults: version `1.0.0`, loader `native`, priority 0, no `provides` or `requires`, and a
/// copy of the Rust fixture as the library.
#[derive(Clone, Debug)]
pub struct BundleSpec {
    name: String,
    version: String,
    loader: String,
    priority: i32,
    provides: Vec<String>,
    requires: Vec<String>,
    extra: Vec<String>,
    library: Library,
    library_name: Option<String>,
    /// Name the code file with `entry` (a script) rather than `library`.
    script: bool,
    files: Vec<(String, Vec<u8>)>,
    raw_manifest: Option<String>,
}

impl BundleSpec {
    /// A bundle named `name` with the defaults above. For the Rust fixture the name also
    /// selects its init behaviour (see [`crate::modes`]).
    pub fn new(name: impl Into<String>) -> BundleSpec {
        BundleSpec {
            name: name.into(),
            version: "1.0.0".to_owned(),
            loader: "native".to_owned(),
            priority: 0,
            provides: Vec::new(),
            requires: Vec::new(),
            extra: Vec::new(),
            library: Library::Copy(rust_fixture()),
            library_name: None,
            script: false,
            files: Vec::new(),
            raw_manifest: None,
        }
    }

    /// A Rust fixture bundle that declares the counter contract: the common case.
    pub fn counter(name: impl Into<String>) -> BundleSpec {
        BundleSpec::new(name).provides(crate::counter::PROVIDES)
    }

    /// The bundle's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets `version` (written as given, so it may be malformed on purpose).
    pub fn version(mut self, version: impl Into<String>) -> BundleSpec {
        self.version = version.into();
        self
    }

    /// Sets `loader`.
    pub fn loader(mut self, loader: impl Into<String>) -> BundleSpec {
        self.loader = loader.into();
        self
    }

    /// Sets `priority`.
    pub fn priority(mut self, priority: i32) -> BundleSpec {
        self.priority = priority;
        self
    }

    /// Adds a `provides` entry, `name@version`.
    pub fn provides(mut self, contract: impl Into<String>) -> BundleSpec {
        self.provides.push(contract.into());
        self
    }

    /// Adds a `requires` entry, `name@min-version`.
    pub fn requires(mut self, contract: impl Into<String>) -> BundleSpec {
        self.requires.push(contract.into());
        self
    }

    /// Appends a raw line (e.g. a loader-specific key) to the generated manifest.
    pub fn extra_toml(mut self, line: impl Into<String>) -> BundleSpec {
        self.extra.push(line.into());
        self
    }

    /// Uses a copy of the library at `path` (e.g. from [`crate::fixture_lib`]).
    pub fn library(mut self, path: impl Into<PathBuf>) -> BundleSpec {
        self.library = Library::Copy(path.into());
        self
    }

    /// Writes `bytes` as the library file instead of a real library.
    pub fn library_bytes(mut self, bytes: impl Into<Vec<u8>>) -> BundleSpec {
        self.library = Library::Bytes(bytes.into());
        self
    }

    /// Writes no library file; the manifest still names one.
    pub fn without_library(mut self) -> BundleSpec {
        self.library = Library::Absent;
        self
    }

    /// The library's file name inside the bundle (and in `library = ...`). Defaults to the
    /// copied file's name, or the platform's name for a library called `plugin`.
    pub fn library_name(mut self, file_name: impl Into<String>) -> BundleSpec {
        self.library_name = Some(file_name.into());
        self
    }

    /// Makes the bundle's code a script: `bytes` written as `file_name`, which the manifest
    /// names with `entry` (for loaders other than `native`).
    pub fn script(mut self, file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> BundleSpec {
        self.library = Library::Bytes(bytes.into());
        self.library_name = Some(file_name.into());
        self.script = true;
        self
    }

    /// Writes one more file into the bundle, at `path` relative to its directory (parent
    /// directories are created): a WIT file, data a loader reads...
    pub fn file(mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> BundleSpec {
        self.files.push((path.into(), bytes.into()));
        self
    }

    /// Writes `text` as `bundle.toml` verbatim instead of the generated manifest.
    pub fn raw_manifest(mut self, text: impl Into<String>) -> BundleSpec {
        self.raw_manifest = Some(text.into());
        self
    }

    /// The library file name the bundle will contain.
    pub fn library_file_name(&self) -> String {
        if let Some(name) = &self.library_name {
            return name.clone();
        }
        match &self.library {
            Library::Copy(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| lib_file_name("plugin")),
            Library::Bytes(_) | Library::Absent => lib_file_name("plugin"),
        }
    }

    /// The text of `bundle.toml` as it will be written.
    pub fn manifest(&self) -> String {
        if let Some(raw) = &self.raw_manifest {
            return raw.clone();
        }
        let mut out = String::new();
        // Writing to a `String` cannot fail.
        let _ = writeln!(out, "name = {}", toml_string(&self.name));
        let _ = writeln!(out, "version = {}", toml_string(&self.version));
        let _ = writeln!(out, "loader = {}", toml_string(&self.loader));
        let key = if self.script { "entry" } else { "library" };
        let _ = writeln!(out, "{key} = {}", toml_string(&self.library_file_name()));
        let _ = writeln!(out, "priority = {}", self.priority);
        let _ = writeln!(out, "provides = {}", toml_array(&self.provides));
        let _ = writeln!(out, "requires = {}", toml_array(&self.requires));
        for line in &self.extra {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}

/// A bundle in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Bundle {
    dir: TempDir,
    library: PathBuf,
}

impl Bundle {
    /// The bundle's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `bundle.toml`.
    pub fn manifest_path(&self) -> PathBuf {
        self.path().join(MANIFEST_FILE)
    }

    /// The path of the library the manifest names (it may not exist, see
    /// [`BundleSpec::without_library`]).
    pub fn library_path(&self) -> &Path {
        &self.library
    }

    /// Replaces the bundle's library with fixture library `build` (see [`crate::fixture_lib`])
    /// the safe way: a new file renamed over the old one, so a mapped library is never rewritten
    /// in place (which would change code that is running).
    ///
    /// # Panics
    /// When the files cannot be copied or renamed.
    pub fn swap_library(&self, build: &str) {
        let tmp = self.library.with_extension("next");
        std::fs::copy(crate::fixture_lib(build), &tmp)
            .expect("copying the new library beside the old");
        std::fs::rename(&tmp, &self.library).expect("renaming the new library over the old");
    }

    /// Replaces the file at `path` (relative to the bundle directory) with `bytes`, through a
    /// new file renamed over it, so a concurrent reader sees the old file or the new one.
    ///
    /// # Panics
    /// When the file cannot be written or renamed.
    pub fn replace_file(&self, path: &str, bytes: impl AsRef<[u8]>) {
        let target = self.path().join(path);
        let tmp = target.with_extension("next");
        write(&tmp, bytes.as_ref());
        std::fs::rename(&tmp, &target).unwrap_or_else(|e| {
            panic!(
                "cannot rename {} to {}: {e}",
                tmp.display(),
                target.display()
            )
        });
    }

    /// Keeps the directory alive beyond the guard, e.g. to move it into another owner.
    pub fn into_temp_dir(self) -> TempDir {
        self.dir
    }
}

impl AsRef<Path> for Bundle {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

/// Writes the bundle described by `spec` into a fresh temporary directory.
///
/// # Panics
/// When the directory or its files cannot be written, or the library to copy is missing.
pub fn make_bundle(spec: &BundleSpec) -> Bundle {
    let dir = tempfile::Builder::new()
        .prefix("polyplug-bundle-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temporary bundle directory: {e}"));
    let library = write_bundle(dir.path(), spec);
    Bundle { dir, library }
}

/// Writes the bundle described by `spec` into `dir` (created if missing), e.g. to fill a
/// plugin directory with several bundles. Returns the path of the library the manifest names.
///
/// # Panics
/// As for [`make_bundle`].
pub fn write_bundle(dir: &Path, spec: &BundleSpec) -> PathBuf {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let library = dir.join(spec.library_file_name());
    match &spec.library {
        Library::Copy(from) => {
            fs::copy(from, &library).unwrap_or_else(|e| {
                panic!(
                    "cannot copy {} to {}: {e}",
                    from.display(),
                    library.display()
                )
            });
        }
        Library::Bytes(bytes) => write(&library, bytes),
        Library::Absent => {}
    }
    for (path, bytes) in &spec.files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        write(&path, bytes);
    }
    write(&dir.join(MANIFEST_FILE), spec.manifest().as_bytes());
    library
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A TOML basic string: quoted, with `"`, `\` and control characters escaped.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(toml_string("plain"), "\"plain\"");
        assert_eq!(toml_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(toml_array(&[]), "[]");
        assert_eq!(
            toml_array(&["a@1".to_owned(), "b@2".to_owned()]),
            r#"["a@1", "b@2"]"#
        );
    }

    #[test]
    fn manifest_has_every_key() {
        let spec = BundleSpec::counter("c1")
            .priority(-3)
            .requires("test:host/clock@1.0.0")
            .library_bytes(b"not a library".to_vec())
            .extra_toml("# trailing");
        let text = spec.manifest();
        let expected = format!(
            "name = \"c1\"\nversion = \"1.0.0\"\nloader = \"native\"\nlibrary = \"{}\"\n\
             priority = -3\nprovides = [\"test:counter/counter@1.2.0\"]\n\
             requires = [\"test:host/clock@1.0.0\"]\n# trailing\n",
            lib_file_name("plugin")
        );
        assert_eq!(text, expected);
    }
}
