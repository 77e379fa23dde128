//! `bundle.toml`: what a bundle is, what it provides and what it needs.
//!
//! ```toml
//! name = "counter"                          # unique among loaded bundles
//! version = "1.0.0"
//! loader = "native"                         # which loader turns it into providers
//! library = "libcounter.so"                 # the code file, relative to the bundle directory
//!                                           # (`entry` is accepted as a synonym, for scripts)
//! priority = 10                             # higher runs first in find_all / chains
//! provides = ["test:counter/counter@1.2.0"] # must equal what the code registers
//! requires = ["test:host/clock@1.0.0"]      # must be provided before the bundle loads
//!
//! [options]                                 # free-form, read by the loader
//! ```
//!
//! Unknown keys are errors, so a typo never silently changes behaviour.

use crate::contract::ContractRef;
use crate::error::{Error, ErrorKind};
use polyplug_abi::Version;
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// The file name of a bundle's manifest.
pub const MANIFEST_FILE: &str = "bundle.toml";

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
    /// The code file, absolute.
    pub entry: PathBuf,
    /// Priority of its providers (higher first).
    pub priority: i32,
    /// Free text.
    pub description: Option<String>,
    /// Contracts it registers.
    pub provides: Vec<ContractRef>,
    /// Contracts it needs.
    pub requires: Vec<ContractRef>,
    /// Loader-specific options.
    pub options: toml::Table,
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// The manifest text, handed to loaders.
    pub text: String,
}

impl Manifest {
    /// Reads `dir/bundle.toml`.
    pub fn read(dir: &Path) -> Result<Manifest, Error> {
        let dir = std::fs::canonicalize(dir).map_err(|source| ErrorKind::BundleIo {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ErrorKind::BundleIo {
            path: path.clone(),
            source,
        })?;
        Manifest::parse(&dir, text)
    }

    /// Parses manifest text for a bundle in `dir` (absolute).
    pub fn parse(dir: &Path, text: String) -> Result<Manifest, Error> {
        let path = dir.join(MANIFEST_FILE);
        let bad = |message: String| ErrorKind::InvalidManifest {
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
            ))
            .into());
        }
        let version = Version::parse(&raw.version).ok_or_else(|| {
            bad(format!(
                "version `{}` is not MAJOR.MINOR.PATCH",
                raw.version
            ))
        })?;
        if raw.loader.is_empty() {
            return Err(bad("loader must not be empty".into()).into());
        }
        let rel = Path::new(&raw.library);
        if raw.library.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!(
                "library `{}` must be a relative path inside the bundle directory",
                raw.library
            ))
            .into());
        }
        let parse_refs = |what: &str, list: &[String]| -> Result<Vec<ContractRef>, Error> {
            let mut out: Vec<ContractRef> = Vec::with_capacity(list.len());
            for s in list {
                let r: ContractRef = s.parse().map_err(|e| bad(format!("{what}: {e}")))?;
                if out
                    .iter()
                    .any(|o| o.name == r.name && o.version.major == r.version.major)
                {
                    return Err(bad(format!("{what}: `{}` is listed twice", r.name)).into());
                }
                out.push(r);
            }
            Ok(out)
        };
        let provides = parse_refs("provides", &raw.provides)?;
        if provides.is_empty() {
            return Err(bad("provides must list at least one contract".into()).into());
        }
        let requires = parse_refs("requires", &raw.requires)?;
        Ok(Manifest {
            name: raw.name,
            version,
            loader: raw.loader,
            entry: dir.join(rel),
            priority: raw.priority,
            description: raw.description,
            provides,
            requires,
            options: raw.options,
            dir: dir.to_owned(),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Error> {
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
        assert_eq!(
            m.options.get("threads").and_then(|v| v.as_integer()),
            Some(2)
        );
        let entry = GOOD.replace("library =", "entry =");
        assert!(parse(&entry).is_ok());
    }

    fn err(text: &str) -> String {
        match parse(text).map_err(Error::into_kind) {
            Err(ErrorKind::InvalidManifest { message, .. }) => message,
            other => panic!("expected InvalidManifest, got {other:?}"),
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
    }
}
