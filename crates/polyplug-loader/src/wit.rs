//! Finding and compiling a bundle's contracts from its WIT (feature `wit`).
//!
//! **Where the WIT is**: the manifest's `wit` key, a path or a list of paths relative to the
//! bundle directory, each a `.wit` file (one package) or a directory holding one package spread
//! over its `.wit` files; without the key, the bundle's `wit/` directory, where each `.wit` file
//! is one package and each subdirectory one package spread over its files.
//!
//! [`Wit::load`] reads it strictly (the first problem is the error): what a loader uses before
//! it builds providers, through [`Wit::provided`] (each contract of `provides`, checked against
//! the WIT's version and compiled). [`Wit::read`] reads everything it can and collects every
//! problem: what `polyplug check` reports.

use crate::manifest::Manifest;
use polyplug_contract::{wit as parse, CompiledContract, Contract};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A problem finding or reading a bundle's WIT.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitError {
    /// No `wit` key and no `wit/` directory.
    #[error("no WIT to check against: put the contracts' .wit files in {} or name them with `wit = \"path\"` in bundle.toml{hint}", dir.display())]
    NoWit {
        /// The default directory, which does not exist.
        dir: PathBuf,
        /// A hint when the manifest names its WIT where it is not read (under `[options]`).
        hint: String,
    },
    /// A path the `wit` key names does not exist.
    #[error("bundle.toml: the WIT path `{given}` does not exist ({})", path.display())]
    Missing {
        /// The path as written.
        given: String,
        /// The path it resolves to.
        path: PathBuf,
    },
    /// The default directory holds nothing to read.
    #[error("{} holds no .wit file", dir.display())]
    Empty {
        /// The directory.
        dir: PathBuf,
    },
    /// A directory could not be listed.
    #[error("cannot read {}: {message}", dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// A WIT source does not parse or is outside the supported subset.
    #[error("{0}")]
    Parse(#[from] parse::WitError),
    /// Two sources define the same interface.
    #[error("{}: interface `{name}` is defined twice in the WIT (`{first}` and `{second}`)", source_path.display())]
    Duplicate {
        /// The source with the second definition.
        source_path: PathBuf,
        /// The interface.
        name: String,
        /// The first definition, `name@version`.
        first: String,
        /// The second definition.
        second: String,
    },
    /// A contract of `provides` is not in the WIT.
    #[error("bundle.toml provides `{provides}`, but no WIT interface defines `{name}`{defined}")]
    NotDefined {
        /// The `provides` entry.
        provides: String,
        /// Its name.
        name: String,
        /// ` (the WIT defines: ...)`.
        defined: String,
    },
    /// A contract of `provides` has another version in the WIT.
    #[error("bundle.toml provides `{provides}`, but the WIT declares `{declared}`")]
    Version {
        /// The `provides` entry.
        provides: String,
        /// The WIT's `name@version`.
        declared: String,
    },
    /// The WIT's contract breaks a rule of the contract model.
    #[error("{0}")]
    Invalid(String),
}

/// A bundle's WIT: the sources read and the contracts they define, by name.
#[derive(Clone, Debug, Default)]
pub struct Wit {
    /// The files and directories read, in order.
    pub sources: Vec<PathBuf>,
    /// Every interface, by contract name.
    pub contracts: BTreeMap<String, Contract>,
}

impl Wit {
    /// Where the bundle's WIT is (see the module docs).
    pub fn sources(m: &Manifest) -> Result<Vec<PathBuf>, Vec<WitError>> {
        if !m.wit.is_empty() {
            let mut problems = Vec::new();
            let mut out = Vec::new();
            for path in &m.wit {
                if path.exists() {
                    out.push(path.clone());
                } else {
                    let given = path
                        .strip_prefix(&m.dir)
                        .unwrap_or(path)
                        .display()
                        .to_string();
                    problems.push(WitError::Missing {
                        given,
                        path: path.clone(),
                    });
                }
            }
            return if problems.is_empty() {
                Ok(out)
            } else {
                Err(problems)
            };
        }
        let dir = m.dir.join("wit");
        if !dir.is_dir() {
            let hint = if m.options.contains_key("wit") {
                " (`wit` under [options] is not read: move it to the top of bundle.toml, above [options])".to_owned()
            } else {
                String::new()
            };
            return Err(vec![WitError::NoWit { dir, hint }]);
        }
        let mut out: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "wit"))
                .collect(),
            Err(e) => {
                return Err(vec![WitError::Io {
                    dir,
                    message: e.to_string(),
                }])
            }
        };
        out.sort();
        if out.is_empty() {
            return Err(vec![WitError::Empty { dir }]);
        }
        Ok(out)
    }

    /// Reads everything it can, collecting every problem (`polyplug check`). `None` when there
    /// is no WIT to read at all.
    pub fn read(m: &Manifest) -> (Option<Wit>, Vec<WitError>) {
        let sources = match Wit::sources(m) {
            Ok(s) => s,
            Err(problems) => return (None, problems),
        };
        let mut problems = Vec::new();
        let mut contracts = BTreeMap::new();
        for src in &sources {
            match parse::parse_path(src) {
                Err(e) => problems.push(WitError::Parse(e)),
                Ok(cs) => {
                    for c in cs {
                        if let Some(old) = contracts.get(&c.name) {
                            problems.push(WitError::Duplicate {
                                source_path: src.clone(),
                                name: c.name.clone(),
                                first: format!("{old}"),
                                second: c.to_string(),
                            });
                        } else {
                            contracts.insert(c.name.clone(), c);
                        }
                    }
                }
            }
        }
        (Some(Wit { sources, contracts }), problems)
    }

    /// Reads the bundle's WIT; the first problem is the error.
    pub fn load(m: &Manifest) -> Result<Wit, WitError> {
        match Wit::read(m) {
            (Some(wit), problems) if problems.is_empty() => Ok(wit),
            (_, mut problems) => Err(problems.remove(0)),
        }
    }

    /// ` (the WIT defines: a@1.0.0, ...)`, or ` (the WIT defines no interface)`.
    pub fn defined(&self) -> String {
        if self.contracts.is_empty() {
            return " (the WIT defines no interface)".into();
        }
        let all: Vec<String> = self.contracts.values().map(ToString::to_string).collect();
        format!(" (the WIT defines: {})", all.join(", "))
    }

    /// Checks each contract of the manifest's `provides` against the WIT: it must be defined,
    /// with the same version.
    pub fn check_provides(&self, m: &Manifest) -> Vec<WitError> {
        m.provides
            .iter()
            .filter_map(|p| match self.contracts.get(&p.name) {
                None => Some(WitError::NotDefined {
                    provides: p.to_string(),
                    name: p.name.clone(),
                    defined: self.defined(),
                }),
                Some(c) if c.version != p.version => Some(WitError::Version {
                    provides: p.to_string(),
                    declared: c.to_string(),
                }),
                Some(_) => None,
            })
            .collect()
    }

    /// The contracts of the manifest's `provides`, in order, checked ([`Wit::check_provides`])
    /// and compiled.
    pub fn provided(&self, m: &Manifest) -> Result<Vec<Arc<CompiledContract>>, WitError> {
        if let Some(e) = self.check_provides(m).into_iter().next() {
            return Err(e);
        }
        m.provides
            .iter()
            .filter_map(|p| self.contracts.get(&p.name))
            .map(|c| {
                c.clone()
                    .compile()
                    .map(Arc::new)
                    .map_err(|e| WitError::Invalid(e.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const COUNTER: &str =
        "package test:counter@1.2.0;\ninterface counter {\n    inc: func(x: u32) -> u32;\n}\n";

    fn bundle(dir: &Path, extra: &str) -> Manifest {
        let text = format!(
            "name = \"b\"\nversion = \"1.0.0\"\nloader = \"x\"\nlibrary = \"b.so\"\nprovides = [\"test:counter/counter@1.2.0\"]\n{extra}"
        );
        Manifest::parse(dir, text).expect("valid")
    }

    #[test]
    fn the_default_directory_and_named_paths() {
        let d = tempfile::tempdir().expect("temp dir");
        let m = bundle(d.path(), "");
        assert!(matches!(
            Wit::load(&m).unwrap_err(),
            WitError::NoWit { ref hint, .. } if hint.is_empty()
        ));
        let old = bundle(d.path(), "[options]\nwit = \"contracts\"");
        assert!(Wit::load(&old)
            .unwrap_err()
            .to_string()
            .ends_with("move it to the top of bundle.toml, above [options])"));
        std::fs::create_dir(d.path().join("wit")).expect("mkdir");
        assert!(matches!(Wit::load(&m).unwrap_err(), WitError::Empty { .. }));
        std::fs::write(d.path().join("wit/counter.wit"), COUNTER).expect("write");
        let wit = Wit::load(&m).expect("reads");
        let provided = wit.provided(&m).expect("defined");
        assert_eq!(
            provided[0].contract().to_string(),
            "test:counter/counter@1.2.0"
        );

        let named = bundle(d.path(), "wit = [\"wit/counter.wit\", \"nope.wit\"]");
        let (_, problems) = Wit::read(&named);
        assert_eq!(
            problems[0].to_string(),
            format!(
                "bundle.toml: the WIT path `nope.wit` does not exist ({})",
                d.path().join("nope.wit").display()
            )
        );
        let other = bundle(d.path(), "")
            .provides
            .into_iter()
            .map(|mut r| {
                r.version.minor = 3;
                r
            })
            .collect();
        let mut m2 = bundle(d.path(), "");
        m2.provides = other;
        assert_eq!(
            wit.provided(&m2).unwrap_err().to_string(),
            "bundle.toml provides `test:counter/counter@1.3.0`, but the WIT declares `test:counter/counter@1.2.0`"
        );
        std::fs::write(d.path().join("wit/again.wit"), COUNTER).expect("write");
        assert!(matches!(
            Wit::load(&m).unwrap_err(),
            WitError::Duplicate { .. }
        ));
    }
}
