//! Why a contract was refused.

use crate::limits::{MAX_DEPTH, MAX_TYPE_NODES};
use crate::names::MAX_NAME_LEN;
use polyplug_abi::ext::ReconcileError;
use polyplug_abi::layout::LayoutError;

/// A contract that is malformed or outside what polyplug supports, with where in it the
/// problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("contract `{contract}`{}{path}: {kind}", if path.is_empty() { "" } else { ", " })]
pub struct ContractError {
    /// `name@version`, or `<unnamed>` when the name itself could not be read.
    pub contract: String,
    /// Index of the function the problem is in, if it is in one.
    pub function: Option<usize>,
    /// Where inside the contract, outermost first (``function `f`, parameter `x` ``); empty for
    /// the contract as a whole.
    pub path: String,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong with a contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The `ContractDesc` itself was refused (null, too small, or an unknown non-zero tail).
    #[error("contract description: {0}")]
    Descriptor(ReconcileError),
    /// A pointer that must be set is null.
    #[error("{0} pointer is null")]
    Null(&'static str),
    /// A string view with a null pointer and a non-zero length.
    #[error("string view has a null pointer and a non-zero length")]
    MalformedView,
    /// A name longer than [`MAX_NAME_LEN`] bytes.
    #[error("name is {0} bytes long; at most {MAX_NAME_LEN} are accepted")]
    NameTooLong(usize),
    /// A name that is not UTF-8.
    #[error("name is not UTF-8")]
    NotUtf8,
    /// The contract's name is not `namespace:package/interface`.
    #[error(
        "`{0}` is not a contract name: write `namespace:package/interface` in lowercase kebab-case"
    )]
    ContractName(String),
    /// A function, parameter, field, case, flag or type name that is not lowercase kebab-case.
    #[error("`{name}` is not a valid {what} name: use lowercase kebab-case (`read-all`)")]
    Name {
        /// What the name names (`function`, `field`...).
        what: &'static str,
        /// The name.
        name: String,
    },
    /// Two members of one list share a name.
    #[error("{what} `{name}` is declared twice")]
    Duplicate {
        /// What the name names.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A list longer than its bound.
    #[error("{count} {what}; at most {max} are supported")]
    TooMany {
        /// What is counted (`functions`, `flags`...).
        what: &'static str,
        /// How many there are.
        count: u64,
        /// The bound.
        max: u64,
    },
    /// A record, tuple, enum or flags type without members.
    #[error("a {0} needs at least one member")]
    NoMembers(&'static str),
    /// A type kind code this version does not know.
    #[error("unknown type kind code {0}")]
    UnknownKind(u32),
    /// Types nest deeper than [`MAX_DEPTH`] levels.
    #[error("types nest deeper than {MAX_DEPTH} levels (or form a cycle)")]
    TooDeep,
    /// The contract's type trees have more than [`MAX_TYPE_NODES`] nodes in all.
    #[error("the types of this contract have more than {MAX_TYPE_NODES} nodes in all")]
    TooManyTypes,
    /// Two different types with one name: generated code could not tell them apart.
    #[error("two different types are named `{0}`")]
    ConflictingType(String),
    /// `list<u8>` spelled as a list of `u8`: the model has one spelling, [`crate::Type::Bytes`].
    #[error("`list<u8>` must be `Type::Bytes`, not a `Type::List` of `u8`")]
    NonCanonicalBytes,
    /// A function descriptor with reserved flag bits set: a newer peer asks for something this
    /// version cannot honour.
    #[error("reserved function flags {0:#x} are set")]
    ReservedFlags(u32),
    /// The types have no C layout (a type larger than 4 GiB).
    #[error("no C layout: {0}")]
    Layout(LayoutError),
}

/// An error on its way out of a recursive walk: the kind, plus the path segments crossed,
/// innermost first, so the walk only pays for the path when it fails.
#[derive(Debug)]
pub(crate) struct Located {
    kind: ErrorKind,
    function: Option<usize>,
    trail: Vec<String>,
}

impl Located {
    pub(crate) fn new(kind: ErrorKind) -> Located {
        Located {
            kind,
            function: None,
            trail: Vec::new(),
        }
    }

    /// Adds the segment of the enclosing function, which is function `index` of the contract.
    pub(crate) fn in_function(mut self, index: usize, name: &str) -> Located {
        self.function = Some(index);
        self.within(format!("function `{name}`"))
    }

    /// As [`Located::in_function`], for a function whose name could not be read.
    pub(crate) fn in_function_at(mut self, index: usize) -> Located {
        self.function = Some(index);
        self.within(format!("function {index}"))
    }

    /// Adds the segment of an enclosing level.
    pub(crate) fn within(mut self, segment: String) -> Located {
        self.trail.push(segment);
        self
    }

    pub(crate) fn finish(mut self, contract: String) -> ContractError {
        self.trail.reverse();
        ContractError {
            contract,
            function: self.function,
            path: self.trail.join(", "),
            kind: self.kind,
        }
    }
}

impl From<ErrorKind> for Located {
    fn from(kind: ErrorKind) -> Located {
        Located::new(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_place() {
        let e = Located::new(ErrorKind::TooDeep)
            .within("parameter `x`".into())
            .in_function(3, "f")
            .finish("a:b/c@1.0.0".into());
        assert_eq!(e.function, Some(3));
        assert_eq!(
            e.to_string(),
            "contract `a:b/c@1.0.0`, function `f`, parameter `x`: types nest deeper than 32 levels (or form a cycle)"
        );
        let e = Located::new(ErrorKind::ContractName("x".into())).finish("<unnamed>".into());
        assert!(e
            .to_string()
            .starts_with("contract `<unnamed>`: `x` is not"));
    }
}
