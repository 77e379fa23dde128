//! Naming a contract from outside it: a lookup key (`name` at a major version) and a reference
//! (`name@version`, as `bundle.toml` spells what a bundle provides and requires).

use crate::names;
use polyplug_abi::{contract_id, Version};
use std::fmt;
use std::str::FromStr;

/// A contract's identity for lookups: its id (hash of `name@major`) and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContractKey<'a> {
    /// `contract_id(name, major)`.
    pub id: u64,
    /// `namespace:package/interface`.
    pub name: &'a str,
}

impl<'a> ContractKey<'a> {
    /// The key of contract `name` at major version `major`. `const`, so callers can precompute it.
    pub const fn new(name: &'a str, major: u32) -> ContractKey<'a> {
        ContractKey {
            id: contract_id(name, major),
            name,
        }
    }
}

/// `name@version`, as written in `bundle.toml` (`demo:text/filter@1.2.0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractRef {
    /// `namespace:package/interface`.
    pub name: String,
    /// The version (provided, or the minimum required).
    pub version: Version,
}

impl ContractRef {
    /// The lookup key of this reference.
    pub fn key(&self) -> ContractKey<'_> {
        ContractKey::new(&self.name, self.version.major)
    }
}

impl fmt::Display for ContractRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl FromStr for ContractRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, version) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("`{s}` lacks a version: write `package:interface@1.0.0`"))?;
        validate_name(name)?;
        let version = Version::parse(version)
            .ok_or_else(|| format!("`{s}`: `{version}` is not a version (MAJOR.MINOR.PATCH)"))?;
        Ok(ContractRef {
            name: name.to_owned(),
            version,
        })
    }
}

/// Checks `namespace:package/interface` (each part a WIT identifier).
pub fn validate_name(name: &str) -> Result<(), String> {
    if names::is_contract_name(name) {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a contract name: write `namespace:package/interface` in lowercase kebab-case"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_refs() {
        for good in ["demo:text/filter", "a:b/c", "wasi:io-x/stream-2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "demo",
            "demo:text",
            "Demo:text/filter",
            "demo:text/",
            "d:t/f g",
            "d:-t/f",
            "d:t/2f",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        let r: ContractRef = "demo:text/filter@1.2".parse().expect("parses");
        assert_eq!(r.version, Version::new(1, 2, 0));
        assert_eq!(r.to_string(), "demo:text/filter@1.2.0");
        assert_eq!(r.key(), ContractKey::new("demo:text/filter", 1));
        assert!("demo:text/filter"
            .parse::<ContractRef>()
            .unwrap_err()
            .contains("lacks a version"));
        assert!("demo:text/filter@x"
            .parse::<ContractRef>()
            .unwrap_err()
            .contains("not a version"));
    }
}
