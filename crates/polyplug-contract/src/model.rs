//! The owned contract model: types, functions and contracts as plain Rust values.
//!
//! The model is what every other part of the crate reads or produces: the `wit` module (feature `wit`) parses WIT
//! into it, [`Contract::from_desc`] reads a peer's raw descriptors into it, [`crate::RawContract`]
//! turns it back into raw descriptors and [`crate::CompiledContract`] adds the C layouts.
//!
//! Fields are public so that code generators and tests can build and inspect contracts freely;
//! [`Contract::validate`] checks the rules every entry point of this crate enforces.

use polyplug_abi::{contract_id, TypeKind, Version};
use std::fmt;

/// A type of the supported WIT subset.
///
/// Record, enum and flags types keep the name of their WIT definition (aliases such as
/// `type size = u32` are resolved away). A name may be empty only in a contract read from raw
/// descriptors, which allow anonymous types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`.
    String,
    /// `list<u8>`: the only spelling of a byte list in the model.
    Bytes,
    /// `list<T>` for any `T` but `u8`.
    List(Box<Type>),
    /// `record name { fields }`.
    Record {
        /// The record's WIT name.
        name: String,
        /// Fields in declaration order: their C struct order.
        fields: Vec<(String, Type)>,
    },
    /// `enum name { cases }`: a `u32` case index.
    Enum {
        /// The enum's WIT name.
        name: String,
        /// Cases in declaration order: their index is the value.
        cases: Vec<String>,
    },
    /// `flags name { flags }`: bit `i` is `flags[i]`.
    Flags {
        /// The flags type's WIT name.
        name: String,
        /// Flag names, lowest bit first (at most 64).
        flags: Vec<String>,
    },
    /// `option<T>`.
    Option(Box<Type>),
    /// `result<T, E>`; either payload may be absent.
    Result {
        /// The `ok` payload.
        ok: Option<Box<Type>>,
        /// The `err` payload.
        err: Option<Box<Type>>,
    },
    /// `tuple<T...>`.
    Tuple(Vec<Type>),
}

impl Type {
    /// `list<elem>`, spelled [`Type::Bytes`] when `elem` is `u8`.
    pub fn list(elem: Type) -> Type {
        match elem {
            Type::U8 => Type::Bytes,
            other => Type::List(Box::new(other)),
        }
    }

    /// `option<value>`.
    pub fn option(value: Type) -> Type {
        Type::Option(Box::new(value))
    }

    /// `result<ok, err>`, `None` for an absent payload.
    pub fn result(ok: Option<Type>, err: Option<Type>) -> Type {
        Type::Result {
            ok: ok.map(Box::new),
            err: err.map(Box::new),
        }
    }

    /// The ABI kind of this type.
    pub fn kind(&self) -> TypeKind {
        match self {
            Type::Bool => TypeKind::Bool,
            Type::S8 => TypeKind::S8,
            Type::U8 => TypeKind::U8,
            Type::S16 => TypeKind::S16,
            Type::U16 => TypeKind::U16,
            Type::S32 => TypeKind::S32,
            Type::U32 => TypeKind::U32,
            Type::S64 => TypeKind::S64,
            Type::U64 => TypeKind::U64,
            Type::F32 => TypeKind::F32,
            Type::F64 => TypeKind::F64,
            Type::Char => TypeKind::Char,
            Type::String => TypeKind::String,
            Type::Bytes => TypeKind::Bytes,
            Type::List(_) => TypeKind::List,
            Type::Record { .. } => TypeKind::Record,
            Type::Enum { .. } => TypeKind::Enum,
            Type::Flags { .. } => TypeKind::Flags,
            Type::Option(_) => TypeKind::Option,
            Type::Result { .. } => TypeKind::Result,
            Type::Tuple(_) => TypeKind::Tuple,
        }
    }

    /// The scalar type of a kind without children (`None` for `list`, `record`...).
    pub fn scalar(kind: TypeKind) -> Option<Type> {
        Some(match kind {
            TypeKind::Bool => Type::Bool,
            TypeKind::S8 => Type::S8,
            TypeKind::U8 => Type::U8,
            TypeKind::S16 => Type::S16,
            TypeKind::U16 => Type::U16,
            TypeKind::S32 => Type::S32,
            TypeKind::U32 => Type::U32,
            TypeKind::S64 => Type::S64,
            TypeKind::U64 => Type::U64,
            TypeKind::F32 => Type::F32,
            TypeKind::F64 => Type::F64,
            TypeKind::Char => Type::Char,
            TypeKind::String => Type::String,
            TypeKind::Bytes => Type::Bytes,
            _ => return None,
        })
    }

    /// The smallest and largest value of an integer type; `None` for other types.
    pub fn int_range(&self) -> Option<(i128, i128)> {
        Some(match self {
            Type::S8 => (i8::MIN.into(), i8::MAX.into()),
            Type::U8 => (0, u8::MAX.into()),
            Type::S16 => (i16::MIN.into(), i16::MAX.into()),
            Type::U16 => (0, u16::MAX.into()),
            Type::S32 => (i32::MIN.into(), i32::MAX.into()),
            Type::U32 => (0, u32::MAX.into()),
            Type::S64 => (i64::MIN.into(), i64::MAX.into()),
            Type::U64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    /// The declared name of a record, enum or flags type.
    pub fn name(&self) -> Option<&str> {
        match self {
            Type::Record { name, .. } | Type::Enum { name, .. } | Type::Flags { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }

    /// The types directly inside this one, in order.
    pub fn children(&self) -> impl Iterator<Item = &Type> {
        let (one, two, many): (Option<&Type>, Option<&Type>, &[Type]) = match self {
            Type::List(t) | Type::Option(t) => (Some(t), None, &[]),
            Type::Result { ok, err } => (ok.as_deref(), err.as_deref(), &[]),
            Type::Tuple(ts) => (None, None, ts),
            _ => (None, None, &[]),
        };
        let fields = match self {
            Type::Record { fields, .. } => fields.as_slice(),
            _ => &[],
        };
        one.into_iter()
            .chain(two)
            .chain(many)
            .chain(fields.iter().map(|(_, t)| t))
    }

    /// Nesting depth: 1 for a type without children, 1 + the deepest child otherwise.
    pub fn depth(&self) -> u32 {
        1 + self.children().map(Type::depth).max().unwrap_or(0)
    }

    /// Number of type nodes in this tree, this one included.
    pub fn node_count(&self) -> usize {
        1 + self.children().map(Type::node_count).sum::<usize>()
    }
}

/// A function parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// The parameter's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

impl Param {
    /// A parameter.
    pub fn new(name: impl Into<String>, ty: Type) -> Param {
        Param {
            name: name.into(),
            ty,
        }
    }
}

/// One function of a contract. Its arguments travel as the C struct of `params` in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Function {
    /// The function's name.
    pub name: String,
    /// Parameters, in order.
    pub params: Vec<Param>,
    /// The result type, `None` when the function returns nothing.
    pub result: Option<Type>,
}

impl Function {
    /// A function.
    pub fn new(name: impl Into<String>, params: Vec<Param>, result: Option<Type>) -> Function {
        Function {
            name: name.into(),
            params,
            result,
        }
    }
}

/// A contract: a named, versioned, ordered list of functions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contract {
    /// `namespace:package/interface`, e.g. `demo:text/filter`.
    pub name: String,
    /// The contract's version.
    pub version: Version,
    /// Functions in the order of a provider's function table (WIT declaration order).
    pub functions: Vec<Function>,
}

impl Contract {
    /// A contract.
    pub fn new(name: impl Into<String>, version: Version, functions: Vec<Function>) -> Contract {
        Contract {
            name: name.into(),
            version,
            functions,
        }
    }

    /// The registry id: [`polyplug_abi::contract_id`] of the name and major version.
    pub fn id(&self) -> u64 {
        contract_id(&self.name, self.version.major)
    }

    /// The function called `name` and its index in the function table.
    pub fn function(&self, name: &str) -> Option<(usize, &Function)> {
        self.functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
    }
}

impl fmt::Display for Contract {
    /// `name@version`, as bundles and errors spell a contract.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_abi_hash() {
        let c = Contract::new("demo:text/filter", Version::new(1, 2, 0), vec![]);
        assert_eq!(c.id(), contract_id("demo:text/filter", 1));
        assert_eq!(c.to_string(), "demo:text/filter@1.2.0");
    }

    #[test]
    fn byte_lists_have_one_spelling() {
        assert_eq!(Type::list(Type::U8), Type::Bytes);
        assert_eq!(Type::list(Type::U16), Type::List(Box::new(Type::U16)));
    }

    #[test]
    fn shape_queries() {
        let t = Type::Record {
            name: "r".into(),
            fields: vec![
                ("a".into(), Type::option(Type::list(Type::String))),
                ("b".into(), Type::result(Some(Type::U8), None)),
            ],
        };
        assert_eq!(t.depth(), 4);
        assert_eq!(t.node_count(), 6);
        assert_eq!(t.kind(), TypeKind::Record);
        assert_eq!(t.name(), Some("r"));
        assert_eq!(Type::U8.name(), None);
        assert_eq!(Type::S8.int_range(), Some((-128, 127)));
        assert_eq!(Type::U64.int_range(), Some((0, u64::MAX.into())));
        assert_eq!(Type::F64.int_range(), None);
        for k in TypeKind::all() {
            if let Some(t) = Type::scalar(*k) {
                assert_eq!(t.kind(), *k);
            }
        }
    }

    #[test]
    fn lookup_by_name() {
        let c = Contract::new(
            "a:b/c",
            Version::new(1, 0, 0),
            vec![
                Function::new("f", vec![], None),
                Function::new("g", vec![Param::new("x", Type::U32)], Some(Type::U32)),
            ],
        );
        assert_eq!(c.function("g").map(|(i, _)| i), Some(1));
        assert!(c.function("h").is_none());
    }
}
