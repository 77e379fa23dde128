//! The value walker: reads and writes values in a contract's C layout, guided by their types.
//!
//! Every dynamic marshaller goes through here: the JSON codec (feature `json`), the Lua, JS and
//! Python loaders (which convert straight between VM values and the C layout), and dynamic
//! hosts. A value is a [`Type`] beside its precomputed [`TypeLayout`] and the memory it lives
//! in; nothing here computes an offset.
//!
//! * **Reading** ([`ValueRef::read`]) gives one level of a value at a time as a [`Value`]:
//!   scalars and strings directly, and for lists, records, tuples, options and results further
//!   [`ValueRef`]s to read. Everything a peer could have corrupted is checked as it is read,
//!   with [`polyplug_abi::check`]'s rules: `bool` bytes, `char`s, enum indices, flag bits,
//!   option and result tags, UTF-8, and views (null only when empty, aligned, at most
//!   [`MAX_VIEW_BYTES`]).
//! * **Writing** ([`ValueMut`]) fills one slot of a value, checking that what is written fits
//!   its type (an integer's range, an enum's case names, a flags type's names); strings and
//!   lists are copied into the call's [`Arena`].
//!
//! A [`WalkError`] says where a problem is as a path (`r.origin.x`, `tags[2]`, `.ok`) that is
//! built only on the way out of a failure, so a walk that succeeds formats nothing.
//!
//! ```
//! use polyplug_abi::CallArena;
//! use polyplug_contract::walk::{Value, ValueMut, ValueRef};
//! use polyplug_contract::{Contract, Function, Param, Type, Version};
//!
//! let point = Type::Record {
//!     name: "point".into(),
//!     fields: vec![("x".into(), Type::S32), ("y".into(), Type::S32)],
//! };
//! let c = Contract::new(
//!     "demo:geo/points",
//!     Version::new(1, 0, 0),
//!     vec![Function::new("f", vec![Param::new("p", point.clone())], None)],
//! )
//! .compile()?;
//! let lay = &c.layouts()[0].params[0];
//!
//! // Write `{x: 3, y: -4}` into an 8-byte slot...
//! let mut arena = CallArena::new(64).expect("memory");
//! let mut slot = [0u8; 8];
//! let mut rec = ValueMut::new(&point, lay, &mut slot, &mut arena)?.record()?;
//! rec.field(0)?.set_int(3)?;
//! rec.field(1)?.set_int(-4)?;
//!
//! // ...and read it back.
//! // SAFETY: `slot` holds a `point` (no views inside).
//! let v = unsafe { ValueRef::new(&point, lay, slot.as_ptr()) };
//! let Value::Record(r) = v.read()? else { unreachable!() };
//! let (name, x) = r.field(0).expect("a point has a field 0");
//! assert_eq!(name, "x");
//! assert!(matches!(x.read()?, Value::S32(3)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod read;
mod write;

pub use read::{EnumCase, FlagSet, ListRef, Members, StructRef, Value, ValueRef};
pub use write::{ListMut, StructMut, ValueMut};

use std::fmt;

/// Most bytes one view (a string, a byte list, or a list's elements) may cover when read:
/// 256 MiB. A corrupt length fails here instead of making a reader allocate without bound.
pub const MAX_VIEW_BYTES: usize = 256 << 20;

/// What kind of problem a [`WalkError`] is, for mapping it to a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WalkErrorKind {
    /// A value to write does not fit its type (wrong kind, out of range, unknown case...).
    Mismatch,
    /// Memory that was read breaks the ABI's rules (a bad tag, view, UTF-8...).
    Malformed,
    /// The arena could not hold a string or list.
    OutOfMemory,
    /// A layout that does not belong to its type, or a slot too small for it.
    Layout,
}

/// One step of a [`WalkError`]'s path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Name(String),
    Index(usize),
}

/// A value that does not fit its type, or memory that breaks the ABI's rules, with where.
///
/// One pointer wide, so a walk's `Result` costs no more than its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkError(Box<Failure>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    kind: WalkErrorKind,
    message: String,
    /// Innermost segment first: each level pushes its own on the way out.
    rev_path: Vec<Seg>,
}

impl WalkError {
    /// A problem of `kind` at the current place.
    #[cold]
    pub fn new(kind: WalkErrorKind, message: impl Into<String>) -> WalkError {
        WalkError(Box::new(Failure {
            kind,
            message: message.into(),
            rev_path: Vec::new(),
        }))
    }

    /// A value that does not fit its type ([`WalkErrorKind::Mismatch`]).
    #[cold]
    pub fn mismatch(message: impl Into<String>) -> WalkError {
        WalkError::new(WalkErrorKind::Mismatch, message)
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> WalkErrorKind {
        self.0.kind
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Places the error inside the member called `name` (a record field, a parameter, a
    /// result's `ok`/`err`): its path gains `.name` in front.
    #[cold]
    pub fn in_field(mut self, name: &str) -> WalkError {
        self.0.rev_path.push(Seg::Name(name.to_owned()));
        self
    }

    /// Places the error inside element `index` (of a list or tuple): its path gains `[index]`
    /// in front.
    #[cold]
    pub fn in_index(mut self, index: usize) -> WalkError {
        self.0.rev_path.push(Seg::Index(index));
        self
    }

    /// Where, outermost first: `r.origin.x`, `tags[2]`, `[1].y`; empty at the root.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.0.rev_path.iter().rev() {
            match seg {
                Seg::Name(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(n);
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            f.write_str(&self.0.message)
        } else {
            write!(f, "`{path}`: {}", self.0.message)
        }
    }
}

impl std::error::Error for WalkError {}

impl From<polyplug_abi::check::Malformed> for WalkError {
    #[cold]
    fn from(m: polyplug_abi::check::Malformed) -> WalkError {
        WalkError::new(WalkErrorKind::Malformed, m.0)
    }
}

/// The error for a layout that does not belong to its type.
#[cold]
fn foreign_layout(ty: &crate::Type) -> WalkError {
    WalkError::new(
        WalkErrorKind::Layout,
        format!("the layout does not belong to type `{ty}`"),
    )
}

#[cfg(test)]
mod tests;
