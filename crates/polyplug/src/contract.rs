//! Contract names, references and the runtime's owned copy of a contract description.

use polyplug_abi::layout::{self, Layout};
use polyplug_abi::{contract_id, ext, ContractDesc, Str, Version};
use std::fmt;
use std::str::FromStr;

/// Most functions one contract may have; a bound so a corrupt count cannot make us allocate wildly.
pub const MAX_FUNCTIONS: u32 = 4096;

/// A contract's identity for lookups: its id (hash of `name@major`) and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContractKey<'a> {
    /// `contract_id(name, major)`.
    pub id: u64,
    /// `package:interface`.
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
    /// `package:interface`.
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

/// True for a WIT identifier: lowercase kebab-case words; the first starts with a letter,
/// later ones may start with a digit (`stream-2`).
fn is_ident(s: &str) -> bool {
    let mut words = s.split('-');
    let first_ok = words
        .next()
        .is_some_and(|w| w.as_bytes().first().is_some_and(u8::is_ascii_lowercase));
    first_ok
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Checks `namespace:package/interface` (each part a WIT identifier).
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = name.split_once(':').is_some_and(|(ns, rest)| {
        is_ident(ns)
            && rest
                .split_once('/')
                .is_some_and(|(pkg, iface)| is_ident(pkg) && is_ident(iface))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a contract name: write `namespace:package/interface` in lowercase kebab-case"
        ))
    }
}

/// One function of a registered contract, with its layouts computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// The function's name.
    pub name: String,
    /// Layout of the argument struct.
    pub args: Layout,
    /// Layout of the result ([`Layout::EMPTY`] when there is none).
    pub ret: Layout,
}

/// The runtime's owned, validated copy of a [`ContractDesc`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractInfo {
    /// `package:interface`.
    pub name: String,
    /// The provided version.
    pub version: Version,
    /// `contract_id(name, version.major)`.
    pub id: u64,
    /// The functions, in table order.
    pub funcs: Vec<FuncInfo>,
}

impl ContractInfo {
    /// The contract as a reference (`name@version`).
    pub fn as_ref(&self) -> ContractRef {
        ContractRef {
            name: self.name.clone(),
            version: self.version,
        }
    }

    /// Reads and validates a contract description from a peer.
    ///
    /// # Safety
    /// `desc` must be null or point to a description whose pointers are null or valid.
    pub unsafe fn from_desc(desc: *const ContractDesc) -> Result<ContractInfo, (String, String)> {
        let unnamed = || "<unnamed>".to_owned();
        // SAFETY: forwarded to the caller.
        let desc = unsafe { ext::reconcile(desc) }
            .map_err(|e| (unnamed(), format!("contract description: {e}")))?;
        // SAFETY: the description's views are valid, as the caller guarantees.
        let name = unsafe { view_str(&desc.name) }
            .map_err(|e| (unnamed(), e))?
            .to_owned();
        validate_name(&name).map_err(|e| (name.clone(), e))?;
        let fail = |reason: String| (format!("{name}@{}", desc.version), reason);
        if desc.func_count > MAX_FUNCTIONS {
            return Err(fail(format!(
                "{} functions; at most {MAX_FUNCTIONS}",
                desc.func_count
            )));
        }
        if desc.func_count > 0 && desc.funcs.is_null() {
            return Err(fail("function list pointer is null".into()));
        }
        let mut funcs = Vec::with_capacity(desc.func_count as usize);
        for i in 0..desc.func_count as usize {
            // SAFETY: `funcs` holds `func_count` entries.
            let f = unsafe { &*desc.funcs.add(i) };
            // SAFETY: as above.
            let fname =
                unsafe { view_str(&f.name) }.map_err(|e| fail(format!("function {i}: {e}")))?;
            if !is_ident(fname) {
                return Err(fail(format!(
                    "function {i}: `{fname}` is not a lowercase kebab-case name"
                )));
            }
            if funcs.iter().any(|g: &FuncInfo| g.name == fname) {
                return Err(fail(format!("function `{fname}` is declared twice")));
            }
            // SAFETY: the descriptor graph is valid, as the caller guarantees.
            let args = unsafe { layout::args_layout(f, None) }
                .map_err(|e| fail(format!("function `{fname}`, parameters: {e}")))?;
            // SAFETY: as above.
            let ret = unsafe { layout::result_layout(f) }
                .map_err(|e| fail(format!("function `{fname}`, result: {e}")))?;
            funcs.push(FuncInfo {
                name: fname.to_owned(),
                args,
                ret,
            });
        }
        Ok(ContractInfo {
            id: contract_id(&name, desc.version.major),
            name,
            version: desc.version,
            funcs,
        })
    }
}

/// A view as UTF-8, with a readable error for malformed views.
///
/// # Safety
/// The view must be null/empty or point to `len` readable bytes.
pub(crate) unsafe fn view_str<'a>(v: &Str) -> Result<&'a str, String> {
    if v.is_malformed() {
        return Err("string view has a null pointer and a non-zero length".into());
    }
    // SAFETY: forwarded to the caller.
    unsafe { v.to_str() }.map_err(|e| format!("string is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyplug_abi::{FieldDesc, FuncDesc, TypeDesc, TypeKind};

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
        assert!("demo:text/filter"
            .parse::<ContractRef>()
            .unwrap_err()
            .contains("lacks a version"));
        assert!("demo:text/filter@x"
            .parse::<ContractRef>()
            .unwrap_err()
            .contains("not a version"));
    }

    static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
    static P: [FieldDesc; 1] = [FieldDesc::new("x", &U32)];
    static F: [FuncDesc; 2] = [
        FuncDesc::new("inc", &P, Some(&U32)),
        FuncDesc::new("noop", &[], None),
    ];
    static DUP: [FuncDesc; 2] = [
        FuncDesc::new("inc", &P, Some(&U32)),
        FuncDesc::new("inc", &[], None),
    ];
    static BAD_TY: TypeDesc = TypeDesc::scalar(TypeKind::Option);
    static BP: [FieldDesc; 1] = [FieldDesc::new("x", &BAD_TY)];
    static BAD: [FuncDesc; 1] = [FuncDesc::new("f", &BP, None)];

    #[test]
    fn descriptions_are_validated() {
        let ok = ContractDesc::new("t:c/counter", Version::new(1, 2, 0), &F);
        // SAFETY: static descriptors.
        let info = unsafe { ContractInfo::from_desc(&ok) }.expect("valid");
        assert_eq!(info.funcs.len(), 2);
        assert_eq!(info.funcs[0].args, Layout { size: 4, align: 4 });
        assert_eq!(info.funcs[1].ret, Layout::EMPTY);
        assert_eq!(info.id, contract_id("t:c/counter", 1));

        let dup = ContractDesc::new("t:c/counter", Version::new(1, 0, 0), &DUP);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&dup) }
            .unwrap_err()
            .1
            .contains("declared twice"));
        let bad = ContractDesc::new("t:c/counter", Version::new(1, 0, 0), &BAD);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&bad) }
            .unwrap_err()
            .1
            .contains("null"));
        let badname = ContractDesc::new("counter", Version::new(1, 0, 0), &F);
        // SAFETY: static descriptors.
        assert!(unsafe { ContractInfo::from_desc(&badname) }.is_err());
        // SAFETY: null is allowed.
        assert!(unsafe { ContractInfo::from_desc(std::ptr::null()) }.is_err());
    }
}
