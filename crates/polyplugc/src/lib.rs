//! `polyplugc`, the polyplug contract compiler.
//!
//! It reads WIT contracts (through [`polyplug_contract::wit`]) and writes, per contract and per
//! language, the code that lets a program call or implement it through polyplug's C ABI: typed
//! host callers that cache the resolved interface and re-validate it by its revision word, and
//! guest glue that exports a provider.
//!
//! Each language is one small module under [`emit`] implementing [`emit::Language`]: it turns a
//! validated [`CompiledContract`] (the model plus the C layouts, computed once by
//! [`polyplug_abi::layout`]) into files. Shared naming rules live in [`names`]. Writing is
//! incremental ([`write_files`]): a file whose content did not change is not rewritten, so build
//! systems that watch timestamps do not rebuild for nothing.
//!
//! Build scripts use [`build`] (Rust glue into `OUT_DIR`) or [`generate`]; the `polyplugc`
//! command wraps [`generate`].

pub mod build;
pub mod emit;
pub mod names;

use polyplug_contract::{wit, CompiledContract, ContractError};
use std::path::{Path, PathBuf};

pub use emit::{GeneratedFile, Language};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The WIT could not be parsed, or uses something outside polyplug's subset.
    #[error("{0}")]
    Wit(#[from] wit::WitError),
    /// A parsed contract broke one of polyplug's rules.
    #[error("{0}")]
    Contract(#[from] ContractError),
    /// A language name `polyplugc` does not know.
    #[error("unknown language `{0}` (known: {known})", known = emit::LANGUAGES.join(", "))]
    UnknownLanguage(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What [`write_files`] did with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The file's path.
    pub path: PathBuf,
    /// False when the file already had this content and was left untouched.
    pub changed: bool,
}

/// Parses the WIT file or directory at `wit_path` and compiles every interface in it.
pub fn load_contracts(wit_path: impl AsRef<Path>) -> Result<Vec<CompiledContract>, Error> {
    let contracts = wit::parse_path(wit_path)?;
    contracts
        .into_iter()
        .map(|c| c.compile().map_err(Error::from))
        .collect()
}

/// Generates `lang`'s files for every contract in `wit_path` into `out_dir`, rewriting only
/// files whose content changed. Returns what it wrote.
pub fn generate(
    wit_path: impl AsRef<Path>,
    lang: &str,
    out_dir: impl AsRef<Path>,
) -> Result<Vec<Written>, Error> {
    let language = emit::language(lang).ok_or_else(|| Error::UnknownLanguage(lang.to_owned()))?;
    let contracts = load_contracts(wit_path)?;
    let mut files = Vec::new();
    for c in &contracts {
        files.extend(language.files(c));
    }
    write_files(out_dir.as_ref(), &files)
}

/// Writes `files` under `dir` (creating directories), skipping files whose content is already
/// what would be written.
pub fn write_files(dir: &Path, files: &[GeneratedFile]) -> Result<Vec<Written>, Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let mut written = Vec::with_capacity(files.len());
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let unchanged = std::fs::read(&path).is_ok_and(|old| old == f.contents.as_bytes());
        if !unchanged {
            std::fs::write(&path, &f.contents).map_err(io(&path))?;
        }
        written.push(Written {
            path,
            changed: !unchanged,
        });
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![GeneratedFile {
            path: "a/b.txt".into(),
            contents: "one".into(),
        }];
        assert!(write_files(dir.path(), &files).unwrap()[0].changed);
        let path = dir.path().join("a/b.txt");
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert!(!write_files(dir.path(), &files).unwrap()[0].changed);
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        let changed = vec![GeneratedFile {
            path: "a/b.txt".into(),
            contents: "two".into(),
        }];
        assert!(write_files(dir.path(), &changed).unwrap()[0].changed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
    }

    #[test]
    fn unknown_language_is_an_error() {
        let e = generate("nowhere.wit", "cobol", "out").unwrap_err();
        assert!(e.to_string().contains("unknown language `cobol`"), "{e}");
    }
}
