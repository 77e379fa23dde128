//! The type descriptor model of a contract.
//!
//! A contract is described by data, so that loaders, dynamic callers and code generators agree
//! on one model. The types are the WIT subset polyplug supports: `bool`, `s8`…`u64`, `f32`,
//! `f64`, `char`, `string`, `list<u8>`, `list<T>`, `record`, `enum`, `flags`, `option`,
//! `result` and `tuple`. Their C layout is computed by [`crate::layout`].
//!
//! Descriptors are plain pointer graphs so that a C plugin can declare them as static data.

use crate::version::Version;
use crate::views::Str;

/// The kind of a [`TypeDesc`]. On the wire it is a `u32`; [`TypeKind::from_raw`] rejects
/// unknown values instead of producing an invalid enum.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// `bool`: one byte, 0 or 1.
    Bool = 1,
    /// `s8`.
    S8 = 2,
    /// `u8`.
    U8 = 3,
    /// `s16`.
    S16 = 4,
    /// `u16`.
    U16 = 5,
    /// `s32`.
    S32 = 6,
    /// `u32`.
    U32 = 7,
    /// `s64`.
    S64 = 8,
    /// `u64`.
    U64 = 9,
    /// `f32`.
    F32 = 10,
    /// `f64`.
    F64 = 11,
    /// `char`: a Unicode scalar value in a `u32`.
    Char = 12,
    /// `string`: a [`crate::Str`] view of UTF-8.
    String = 13,
    /// `list<u8>`: a [`crate::Bytes`] view.
    Bytes = 14,
    /// `list<T>`: a [`crate::List`] view; `elem` is `T`.
    List = 15,
    /// `record`: a C struct of `fields` in order.
    Record = 16,
    /// `enum`: a `u32` case index; `fields` name the cases (their `ty` is null).
    Enum = 17,
    /// `flags`: a `u32` (up to 32 flags) or `u64` (up to 64) bit set; `fields` name the bits.
    Flags = 18,
    /// `option<T>`: `{ uint8_t is_some; T value; }`; `elem` is `T`.
    Option = 19,
    /// `result<T, E>`: `{ uint8_t is_err; union { T ok; E err; } }`; `elem` is `T`, `err` is
    /// `E`; either may be null (no payload).
    Result = 20,
    /// `tuple<...>`: a C struct of `fields` in order (names empty).
    Tuple = 21,
}

/// Every kind, in code order.
const ALL_KINDS: [TypeKind; 21] = [
    TypeKind::Bool,
    TypeKind::S8,
    TypeKind::U8,
    TypeKind::S16,
    TypeKind::U16,
    TypeKind::S32,
    TypeKind::U32,
    TypeKind::S64,
    TypeKind::U64,
    TypeKind::F32,
    TypeKind::F64,
    TypeKind::Char,
    TypeKind::String,
    TypeKind::Bytes,
    TypeKind::List,
    TypeKind::Record,
    TypeKind::Enum,
    TypeKind::Flags,
    TypeKind::Option,
    TypeKind::Result,
    TypeKind::Tuple,
];

impl TypeKind {
    /// Every kind, in code order.
    pub const fn all() -> &'static [TypeKind] {
        &ALL_KINDS
    }

    /// The kind with this code, or `None` for a code this version does not know.
    pub const fn from_raw(code: u32) -> Option<TypeKind> {
        if code >= 1 && code as usize <= ALL_KINDS.len() {
            Some(ALL_KINDS[code as usize - 1])
        } else {
            None
        }
    }

    /// The WIT spelling of the kind (`record`, `list`, `u32`...).
    pub const fn wit_name(self) -> &'static str {
        match self {
            TypeKind::Bool => "bool",
            TypeKind::S8 => "s8",
            TypeKind::U8 => "u8",
            TypeKind::S16 => "s16",
            TypeKind::U16 => "u16",
            TypeKind::S32 => "s32",
            TypeKind::U32 => "u32",
            TypeKind::S64 => "s64",
            TypeKind::U64 => "u64",
            TypeKind::F32 => "f32",
            TypeKind::F64 => "f64",
            TypeKind::Char => "char",
            TypeKind::String => "string",
            TypeKind::Bytes => "list<u8>",
            TypeKind::List => "list",
            TypeKind::Record => "record",
            TypeKind::Enum => "enum",
            TypeKind::Flags => "flags",
            TypeKind::Option => "option",
            TypeKind::Result => "result",
            TypeKind::Tuple => "tuple",
        }
    }
}

/// One type of a contract. Which fields matter depends on `kind`; unused ones are null/zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TypeDesc {
    /// A [`TypeKind`] code.
    pub kind: u32,
    /// Number of entries in `fields` (record fields, tuple elements, enum cases, flag names).
    pub field_count: u32,
    /// The declared name of a record, enum or flags type; empty for anonymous types.
    pub name: Str,
    /// Record fields, tuple elements, enum cases or flag names.
    pub fields: *const FieldDesc,
    /// Element of `list`/`option`, `ok` payload of `result` (null: none).
    pub elem: *const TypeDesc,
    /// `err` payload of `result` (null: none).
    pub err: *const TypeDesc,
}

// SAFETY: descriptors are immutable data once published; the pointers only point to more of it.
unsafe impl Sync for TypeDesc {}
// SAFETY: as above.
unsafe impl Send for TypeDesc {}

impl TypeDesc {
    /// A type with no children (a scalar, `string` or `list<u8>`).
    pub const fn scalar(kind: TypeKind) -> TypeDesc {
        TypeDesc {
            kind: kind as u32,
            field_count: 0,
            name: Str::EMPTY,
            fields: core::ptr::null(),
            elem: core::ptr::null(),
            err: core::ptr::null(),
        }
    }

    /// A type with fields (`record`, `tuple`, `enum`, `flags`).
    pub const fn with_fields(
        kind: TypeKind,
        name: &'static str,
        fields: &'static [FieldDesc],
    ) -> TypeDesc {
        TypeDesc {
            kind: kind as u32,
            field_count: fields.len() as u32,
            name: Str::new(name),
            fields: fields.as_ptr(),
            elem: core::ptr::null(),
            err: core::ptr::null(),
        }
    }

    /// `list<T>` or `option<T>`.
    pub const fn wrapping(kind: TypeKind, elem: &'static TypeDesc) -> TypeDesc {
        TypeDesc {
            elem,
            ..TypeDesc::scalar(kind)
        }
    }

    /// `result<T, E>`; `None` for an absent payload.
    pub const fn result(ok: Option<&'static TypeDesc>, err: Option<&'static TypeDesc>) -> TypeDesc {
        let mut t = TypeDesc::scalar(TypeKind::Result);
        if let Some(ok) = ok {
            t.elem = ok;
        }
        if let Some(err) = err {
            t.err = err;
        }
        t
    }
}

/// A named member: a record field, tuple element, function parameter, enum case or flag.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FieldDesc {
    /// The member's name (empty for tuple elements).
    pub name: Str,
    /// The member's type (null for enum cases and flags).
    pub ty: *const TypeDesc,
}

// SAFETY: immutable descriptor data.
unsafe impl Sync for FieldDesc {}
// SAFETY: immutable descriptor data.
unsafe impl Send for FieldDesc {}

impl FieldDesc {
    /// A typed member.
    pub const fn new(name: &'static str, ty: &'static TypeDesc) -> FieldDesc {
        FieldDesc {
            name: Str::new(name),
            ty,
        }
    }

    /// An enum case or flag name.
    pub const fn label(name: &'static str) -> FieldDesc {
        FieldDesc {
            name: Str::new(name),
            ty: core::ptr::null(),
        }
    }
}

/// One function of a contract. Its arguments travel as a C struct of `params` in order, and
/// its result (if any) as the C layout of `result`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FuncDesc {
    /// The function's name (kebab-case as in WIT).
    pub name: Str,
    /// Parameters, in order.
    pub params: *const FieldDesc,
    /// Number of parameters.
    pub param_count: u32,
    /// Reserved flags; zero.
    pub flags: u32,
    /// The result type, or null when the function returns nothing.
    pub result: *const TypeDesc,
}

// SAFETY: immutable descriptor data.
unsafe impl Sync for FuncDesc {}
// SAFETY: immutable descriptor data.
unsafe impl Send for FuncDesc {}

impl FuncDesc {
    /// Describes a function.
    pub const fn new(
        name: &'static str,
        params: &'static [FieldDesc],
        result: Option<&'static TypeDesc>,
    ) -> FuncDesc {
        FuncDesc {
            name: Str::new(name),
            params: params.as_ptr(),
            param_count: params.len() as u32,
            flags: 0,
            result: match result {
                Some(r) => r,
                None => core::ptr::null(),
            },
        }
    }
}

/// A contract: `name` (`package:interface`), `version`, and its functions in index order.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ContractDesc {
    /// `size_of::<ContractDesc>()` as the declaring side knew it.
    pub struct_size: u32,
    /// Number of functions.
    pub func_count: u32,
    /// `package:interface`, e.g. `demo:text/filter`.
    pub name: Str,
    /// The contract's version.
    pub version: Version,
    /// Functions, in the order of the provider's function table.
    pub funcs: *const FuncDesc,
}

// SAFETY: immutable descriptor data.
unsafe impl Sync for ContractDesc {}
// SAFETY: immutable descriptor data.
unsafe impl Send for ContractDesc {}

/// First published size of [`ContractDesc`].
pub const CONTRACT_DESC_SIZE_V1: u32 = core::mem::size_of::<ContractDesc>() as u32;

impl ContractDesc {
    /// Describes a contract.
    pub const fn new(
        name: &'static str,
        version: Version,
        funcs: &'static [FuncDesc],
    ) -> ContractDesc {
        ContractDesc {
            struct_size: CONTRACT_DESC_SIZE_V1,
            func_count: funcs.len() as u32,
            name: Str::new(name),
            version,
            funcs: funcs.as_ptr(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn kinds_are_total() {
        for (i, k) in TypeKind::all().iter().enumerate() {
            assert_eq!(*k as u32, i as u32 + 1);
            assert_eq!(TypeKind::from_raw(i as u32 + 1), Some(*k));
        }
        assert_eq!(TypeKind::from_raw(0), None);
        assert_eq!(TypeKind::from_raw(22), None);
        assert_eq!(TypeKind::from_raw(u32::MAX), None);
    }

    #[test]
    fn layouts() {
        let w = size_of::<usize>();
        assert_eq!(size_of::<TypeKind>(), 4);
        assert_eq!(
            (size_of::<TypeDesc>(), align_of::<TypeDesc>()),
            (8 + 5 * w, w)
        );
        assert_eq!(offset_of!(TypeDesc, kind), 0);
        assert_eq!(offset_of!(TypeDesc, field_count), 4);
        assert_eq!(offset_of!(TypeDesc, name), 8);
        assert_eq!(offset_of!(TypeDesc, fields), 8 + 2 * w);
        assert_eq!(offset_of!(TypeDesc, elem), 8 + 3 * w);
        assert_eq!(offset_of!(TypeDesc, err), 8 + 4 * w);

        assert_eq!(
            (size_of::<FieldDesc>(), align_of::<FieldDesc>()),
            (3 * w, w)
        );
        assert_eq!(
            (offset_of!(FieldDesc, name), offset_of!(FieldDesc, ty)),
            (0, 2 * w)
        );

        assert_eq!(
            (size_of::<FuncDesc>(), align_of::<FuncDesc>()),
            (4 * w + 8, w)
        );
        assert_eq!(offset_of!(FuncDesc, name), 0);
        assert_eq!(offset_of!(FuncDesc, params), 2 * w);
        assert_eq!(offset_of!(FuncDesc, param_count), 3 * w);
        assert_eq!(offset_of!(FuncDesc, flags), 3 * w + 4);
        assert_eq!(offset_of!(FuncDesc, result), 3 * w + 8);

        assert_eq!(offset_of!(ContractDesc, struct_size), 0);
        assert_eq!(offset_of!(ContractDesc, func_count), 4);
        assert_eq!(offset_of!(ContractDesc, name), 8);
        assert_eq!(offset_of!(ContractDesc, version), 8 + 2 * w);
        assert_eq!(
            offset_of!(ContractDesc, funcs),
            (8 + 2 * w + 12).next_multiple_of(w)
        );
        assert_eq!(
            size_of::<ContractDesc>(),
            (8 + 2 * w + 12).next_multiple_of(w) + w
        );
        assert_eq!(align_of::<ContractDesc>(), w);
    }
}
