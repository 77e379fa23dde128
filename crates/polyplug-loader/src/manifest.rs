//! `bundle.toml`: what a bundle is, what it provides and what it needs. The one parser, used by
//! the runtime, the CLI and every loader. `docs/BUNDLE.md` is the reference for every key.
//!
//! ```toml
//! name = "counter"                          # unique among loaded bundles
//! version = "1.0.0"
//! loader = "native"                         # which loader turns it into providers
//! library = "libcounter.so"                 # the code file, relative to the bundle directory
//!                                           # (`entry` is a synonym, for scripts)
//! priority = 10                             # higher runs first in find_all / chains
//! description = "Counts"                    # free text
//! provides = ["test:counter/counter@1.2.0"] # must equal what the code registers
//! requires = ["test:host/clock@1.0.0"]      # must be provided before the bundle loads
//! wit = "wit"                               # where the contracts' WIT is (default: wit/)
//!
//! [options]                                 # free-form, read by the loader
//! ```
//!
//! Unknown keys are errors, so a typo never silently changes behaviour.

use polyplug_abi::Version;
use polyplug_contract::ContractRef;
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// The file name of a bundle's manifest.
pub const MANIFEST_FILE: &str = "bundle.toml";

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The bundle directory or its `bundle.toml` could not be read.
    #[error("cannot read bundle at {path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `bundle.toml` is malformed.
    #[error("{path}: malformed bundle.toml: {message}")]
    Invalid {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, with line and column when the TOML parser gave them.
        message: String,
    },
}

impl ManifestError {
    /// The ABI status a loader reports for this error.
    pub fn status(&self) -> polyplug_abi::Status {
        match self {
            ManifestError::Io { .. } => polyplug_abi::Status::NotFound,
            ManifestError::Invalid { .. } => polyplug_abi::Status::InvalidManifest,
        }
    }
}

/// One path or a list of them.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a path or a list of paths")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    version: String,
    loader: String,
    #[serde(alias = "entry")]
    library: String,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    description: Option<String>,
    provides: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    wit: Option<OneOrMany>,
    #[serde(default)]
    options: toml::Table,
}

/// A parsed and validated `bundle.toml`.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The bundle's name.
    pub name: String,
    /// The bundle's version.
    pub version: Version,
    /// The loader's name.
    pub loader: String,
    /// The code file, absolute (the `library` or `entry` key).
    pub entry: PathBuf,
    /// Priority of its providers (higher first).
    pub priority: i32,
    /// Free text.
    pub description: Option<String>,
    /// Contracts it registers.
    pub provides: Vec<ContractRef>,
    /// Contracts it needs.
    pub requires: Vec<ContractRef>,
    /// Where the contracts' WIT is, absolute, as the `wit` key names it; empty when the key is
    /// absent (the WIT is then in the bundle's `wit/` directory). See [`crate::wit`].
    pub wit: Vec<PathBuf>,
    /// Loader-specific options (the `[options]` table).
    pub options: toml::Table,
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// The manifest's text.
    pub text: String,
}

impl Manifest {
    /// Reads `dir/bundle.toml`.
    pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
        let dir = std::fs::canonicalize(dir).map_err(|source| ManifestError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Io {
            path: path.clone(),
            source,
        })?;
        Manifest::parse(&dir, text)
    }

    /// Parses manifest text for a bundle in `dir` (absolute).
    pub fn parse(dir: &Path, text: String) -> Result<Manifest, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let bad = |message: String| ManifestError::Invalid {
            path: path.clone(),
            message,
        };
        let raw: RawManifest =
            toml::from_str(&text).map_err(|e| bad(e.to_string().trim_end().replace('\n', " ")))?;
        if raw.name.is_empty()
            || !raw
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad(format!(
                "name `{}` must be non-empty lowercase letters, digits, `-` or `_`",
                raw.name
            )));
        }
        let version = Version::parse(&raw.version).ok_or_else(|| {
            bad(format!(
                "version `{}` is not MAJOR.MINOR.PATCH",
                raw.version
            ))
        })?;
        if raw.loader.is_empty() {
            return Err(bad("loader must not be empty".into()));
        }
        let rel = Path::new(&raw.library);
        // `./lib.so` is as good as `lib.so`; nothing may lead outside the bundle directory.
        if !rel.components().any(|c| matches!(c, Component::Normal(_)))
            || !rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(bad(format!(
                "library `{}` must be a relative path inside the bundle directory",
                raw.library
            )));
        }
        let parse_refs = |what: &str, list: &[String]| -> Result<Vec<ContractRef>, ManifestError> {
            let mut out: Vec<ContractRef> = Vec::with_capacity(list.len());
            for s in list {
                let r: ContractRef = s.parse().map_err(|e| bad(format!("{what}: {e}")))?;
                if out
                    .iter()
                    .any(|o| o.name == r.name && o.version.major == r.version.major)
                {
                    return Err(bad(format!("{what}: `{}` is listed twice", r.name)));
                }
                out.push(r);
            }
            Ok(out)
        };
        let provides = parse_refs("provides", &raw.provides)?;
        if provides.is_empty() {
            return Err(bad("provides must list at least one contract".into()));
        }
        let requires = parse_refs("requires", &raw.requires)?;
        let wit = match raw.wit {
            None => Vec::new(),
            Some(OneOrMany::One(p)) => vec![p],
            Some(OneOrMany::Many(ps)) if ps.is_empty() => {
                return Err(bad("wit must name at least one path".into()))
            }
            Some(OneOrMany::Many(ps)) => ps,
        };
        let wit = wit
            .into_iter()
            .map(|p| {
                let rel = Path::new(&p);
                // WIT is data, not code: it may be shared from outside the bundle (`../wit`),
                // but the bundle must stay relocatable.
                if p.is_empty()
                    || !rel.components().all(|c| {
                        matches!(
                            c,
                            Component::Normal(_) | Component::ParentDir | Component::CurDir
                        )
                    })
                {
                    return Err(bad(format!(
                        "wit `{p}` must be a relative path (to a .wit file or a directory)"
                    )));
                }
                Ok(dir.join(rel))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest {
            name: raw.name,
            version,
            loader: raw.loader,
            entry: dir.join(rel),
            priority: raw.priority,
            description: raw.description,
            provides,
            requires,
            wit,
            options: raw.options,
            dir: dir.to_owned(),
            text,
        })
    }

    /// The `[options]` value `key` as a string, if it is one.
    pub fn option_str(&self, key: &str) -> Option<&str> {
        self.options.get(key).and_then(toml::Value::as_str)
    }

    /// The `[options]` value `key` as an integer, if it is one.
    pub fn option_int(&self, key: &str) -> Option<i64> {
        self.options.get(key).and_then(toml::Value::as_integer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("/b"), text.to_owned())
    }

    const GOOD: &str = r#"
name = "counter"
version = "1.2.0"
loader = "native"
library = "libcounter.so"
priority = 5
provides = ["test:counter/counter@1.2.0"]
requires = ["test:host/clock@1.0"]
[options]
threads = 2
"#;

    #[test]
    fn good_manifest() {
        let m = parse(GOOD).expect("valid");
        assert_eq!(m.name, "counter");
        assert_eq!(m.entry, Path::new("/b/libcounter.so"));
        assert_eq!(m.priority, 5);
        assert_eq!(m.provides[0].to_string(), "test:counter/counter@1.2.0");
        assert_eq!(m.requires[0].version, Version::new(1, 0, 0));
        assert_eq!(m.option_int("threads"), Some(2));
        assert_eq!(m.option_str("threads"), None);
        assert!(m.wit.is_empty());
        let entry = GOOD.replace("library =", "entry =");
        assert!(parse(&entry).is_ok());
        let dotted = GOOD.replace("\"libcounter.so\"", "\"./libcounter.so\"");
        assert_eq!(
            parse(&dotted).expect("valid").entry,
            Path::new("/b/./libcounter.so")
        );
        let one = GOOD.replace("priority = 5", "priority = 5\nwit = \"contracts\"");
        assert_eq!(parse(&one).expect("valid").wit, [Path::new("/b/contracts")]);
        let many = GOOD.replace("priority = 5", "wit = [\"a.wit\", \"../shared/wit\"]");
        assert_eq!(
            parse(&many).expect("valid").wit,
            [Path::new("/b/a.wit"), Path::new("/b/../shared/wit")]
        );
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Err(ManifestError::Invalid { message, .. }) => message,
            other => panic!("expected an invalid manifest, got {other:?}"),
        }
    }

    #[test]
    fn malformed_manifests_name_the_problem() {
        assert!(err("name = ").contains("line 1"));
        assert!(err(&GOOD.replace("priority = 5", "priority = 5\ncolour = 1")).contains("colour"));
        assert!(
            err(&GOOD.replace("version = \"1.2.0\"", "version = \"one\"")).contains("not MAJOR")
        );
        assert!(err(&GOOD.replace("\"counter\"", "\"Counter!\"")).contains("name"));
        assert!(err(&GOOD.replace("libcounter.so", "../evil.so")).contains("relative path"));
        assert!(err(&GOOD.replace("libcounter.so", "/abs.so")).contains("relative path"));
        assert!(err(&GOOD.replace("test:counter/counter@1.2.0", "counter")).contains("provides"));
        assert!(
            err(&GOOD.replace("[\"test:counter/counter@1.2.0\"]", "[]")).contains("at least one")
        );
        assert!(
            err(&GOOD.replace("@1.2.0\"]", "@1.2.0\", \"test:counter/counter@1.3.0\"]"))
                .contains("twice")
        );
        assert!(err(&GOOD.replace("loader = \"native\"\n", "")).contains("loader"));
        assert!(err(&GOOD.replace("priority = 5", "priority = \"high\"")).contains("priority"));
        assert!(err(&GOOD.replace("priority = 5", "wit = \"/abs/wit\"")).contains("wit"));
        assert!(err(&GOOD.replace("priority = 5", "wit = []")).contains("at least one path"));
        assert!(
            err(&GOOD.replace("priority = 5", "wit = 3")).ends_with("a path or a list of paths")
        );
        assert!(err(&GOOD.replace("libcounter.so", ".")).contains("relative path"));
    }

    #[test]
    fn io_errors_name_the_path() {
        let e = Manifest::read(Path::new("/nonexistent/polyplug/bundle")).unwrap_err();
        assert!(matches!(e, ManifestError::Io { .. }), "{e}");
        assert_eq!(e.status(), polyplug_abi::Status::NotFound);
        let empty = tempfile::tempdir().expect("temp dir");
        let e = Manifest::read(empty.path()).unwrap_err();
        assert!(
            matches!(e, ManifestError::Io { ref path, .. } if path.ends_with("bundle.toml")),
            "{e}"
        );
    }
}
