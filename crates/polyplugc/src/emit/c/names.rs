//! C spellings: the scalar table, identifier escaping, the mangling of anonymous types, and the
//! register of every file-scope name a header defines (so a clash becomes a `#error`, never a
//! silent redefinition).

use crate::names::snake;
use polyplug_contract::Type;
use std::collections::BTreeMap;

/// How one type without children is spelled: its WIT name (the key), its C type, its token in
/// mangled names, and its `pp_type_kind` constant.
pub(super) struct Scalar {
    pub wit: &'static str,
    pub c: &'static str,
    pub token: &'static str,
    pub kind: &'static str,
}

const fn scalar(
    wit: &'static str,
    c: &'static str,
    token: &'static str,
    kind: &'static str,
) -> Scalar {
    Scalar {
        wit,
        c,
        token,
        kind,
    }
}

/// Every type without children. `bool` is C's `bool` (one byte, 0 or 1, asserted in each
/// header); `char` is a Unicode scalar value in a `uint32_t`.
pub(super) const SCALARS: &[Scalar] = &[
    scalar("bool", "bool", "bool", "PP_TYPE_KIND_BOOL"),
    scalar("s8", "int8_t", "s8", "PP_TYPE_KIND_S8"),
    scalar("u8", "uint8_t", "u8", "PP_TYPE_KIND_U8"),
    scalar("s16", "int16_t", "s16", "PP_TYPE_KIND_S16"),
    scalar("u16", "uint16_t", "u16", "PP_TYPE_KIND_U16"),
    scalar("s32", "int32_t", "s32", "PP_TYPE_KIND_S32"),
    scalar("u32", "uint32_t", "u32", "PP_TYPE_KIND_U32"),
    scalar("s64", "int64_t", "s64", "PP_TYPE_KIND_S64"),
    scalar("u64", "uint64_t", "u64", "PP_TYPE_KIND_U64"),
    scalar("f32", "float", "f32", "PP_TYPE_KIND_F32"),
    scalar("f64", "double", "f64", "PP_TYPE_KIND_F64"),
    scalar("char", "uint32_t", "char", "PP_TYPE_KIND_CHAR"),
    scalar("string", "pp_str", "string", "PP_TYPE_KIND_STRING"),
    scalar("list<u8>", "pp_bytes", "bytes", "PP_TYPE_KIND_BYTES"),
];

/// The spelling of `ty` if it has no children.
pub(super) fn scalar_of(ty: &Type) -> Option<&'static Scalar> {
    let wit = match ty {
        Type::List(_)
        | Type::Record { .. }
        | Type::Enum { .. }
        | Type::Flags { .. }
        | Type::Option(_)
        | Type::Result { .. }
        | Type::Tuple(_) => return None,
        other => other.wit(),
    };
    SCALARS.iter().find(|s| s.wit == wit)
}

/// The `pp_type_kind` constant of any type.
pub(super) fn kind_const(ty: &Type) -> &'static str {
    match ty {
        Type::List(_) => "PP_TYPE_KIND_LIST",
        Type::Record { .. } => "PP_TYPE_KIND_RECORD",
        Type::Enum { .. } => "PP_TYPE_KIND_ENUM",
        Type::Flags { .. } => "PP_TYPE_KIND_FLAGS",
        Type::Option(_) => "PP_TYPE_KIND_OPTION",
        Type::Result { .. } => "PP_TYPE_KIND_RESULT",
        Type::Tuple(_) => "PP_TYPE_KIND_TUPLE",
        scalar => scalar_of(scalar).map_or("0", |s| s.kind),
    }
}

/// Words a member or parameter name must not be: C11 and C++17 keywords, C++'s alternative
/// operator spellings, and macros the standard headers `polyplug.h` includes define (or GNU
/// modes predefine). A contract name equal to one gets a trailing `_`; contract names never end
/// in `_`, so an escaped name cannot meet another one.
const KEYWORDS: &[&str] = &[
    // C11
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    // C++17 (beyond C)
    "alignas",
    "alignof",
    "asm",
    "bool",
    "catch",
    "char16_t",
    "char32_t",
    "class",
    "const_cast",
    "constexpr",
    "decltype",
    "delete",
    "dynamic_cast",
    "explicit",
    "export",
    "false",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "nullptr",
    "operator",
    "private",
    "protected",
    "public",
    "reinterpret_cast",
    "static_assert",
    "static_cast",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "wchar_t",
    // C++20 keywords a C++17 compiler may already warn about
    "char8_t",
    "concept",
    "consteval",
    "constinit",
    "co_await",
    "co_return",
    "co_yield",
    "requires",
    // alternative operator spellings
    "and",
    "and_eq",
    "bitand",
    "bitor",
    "compl",
    "not",
    "not_eq",
    "or",
    "or_eq",
    "xor",
    "xor_eq",
    // macros of <stdbool.h>, <stddef.h>, <stdint.h>, <string.h>, <errno.h>, <assert.h>, and GNU
    // predefined names
    "assert",
    "errno",
    "offsetof",
    "complex",
    "imaginary",
    "noreturn",
    "linux",
    "unix",
    "i386",
];

/// Names the generated functions use for their own parameters and locals. A contract parameter
/// with one of these names is spelled with a trailing `_`.
const LOCALS: &[&str] = &[
    "args", "caller", "ctx", "cx", "inst", "instance", "out", "st",
];

fn escape(name: String, reserved: &[&[&str]]) -> String {
    if reserved.iter().any(|words| words.contains(&name.as_str())) {
        name + "_"
    } else {
        name
    }
}

/// A record field or tuple member name: snake case, keywords escaped.
pub(super) fn member(wit_name: &str) -> String {
    escape(snake(wit_name), &[KEYWORDS])
}

/// A function parameter's name (in prototypes and argument structs): snake case, keywords and
/// the generated code's own names escaped.
pub(super) fn param(wit_name: &str) -> String {
    escape(snake(wit_name), &[KEYWORDS, LOCALS])
}

/// The mangled token of a type, from which its C names derive (`<prefix>_<token>`):
///
/// | type | token |
/// |---|---|
/// | scalar | its WIT name (`u32`, `string`, `bytes` for `list<u8>`) |
/// | record, enum, flags | its name in snake case (an anonymous one, possible only in raw descriptors: `record<n>_<field>_<T>...`, `enum<n>_<case>...`) |
/// | `list<T>` | `list_<T>` |
/// | `option<T>` | `option_<T>` |
/// | `result<T, E>` | `result_<T>_<E>`, `void` for an absent side |
/// | `tuple<T1..Tn>` | `tuple<n>_<T1>_..._<Tn>` |
///
/// Every shape has a fixed arity once a tuple's count is spelled, so different anonymous types
/// get different tokens; a record named like an anonymous shape (`option-u8`) could still meet
/// one, which the header's name register reports.
pub(super) fn mangle(ty: &Type) -> String {
    if let Some(s) = scalar_of(ty) {
        return s.token.to_owned();
    }
    match ty {
        Type::Record { name, .. } | Type::Enum { name, .. } | Type::Flags { name, .. }
            if !name.is_empty() =>
        {
            snake(name)
        }
        // Anonymous ones exist only in contracts read from raw descriptors: spelled by shape.
        Type::Record { fields, .. } => {
            let mut s = format!("record{}", fields.len());
            for (name, ty) in fields {
                s = format!("{s}_{}_{}", snake(name), mangle(ty));
            }
            s
        }
        Type::Enum { cases: labels, .. } | Type::Flags { flags: labels, .. } => {
            let kw = if matches!(ty, Type::Enum { .. }) {
                "enum"
            } else {
                "flags"
            };
            let mut s = format!("{kw}{}", labels.len());
            for l in labels {
                s = format!("{s}_{}", snake(l));
            }
            s
        }
        Type::List(elem) => format!("list_{}", mangle(elem)),
        Type::Option(value) => format!("option_{}", mangle(value)),
        Type::Result { ok, err } => {
            let side = |t: &Option<Box<Type>>| t.as_deref().map_or("void".to_owned(), mangle);
            format!("result_{}_{}", side(ok), side(err))
        }
        Type::Tuple(members) => {
            let mut s = format!("tuple{}", members.len());
            for m in members {
                s.push('_');
                s.push_str(&mangle(m));
            }
            s
        }
        // `scalar_of` covers every other variant.
        _ => String::from("unknown"),
    }
}

/// Every file-scope name a header defines, with what defines it.
#[derive(Default)]
pub(super) struct Register {
    names: BTreeMap<String, Vec<String>>,
}

impl Register {
    /// Records that `what` defines `name`; returns `name`.
    pub fn define(&mut self, name: impl Into<String>, what: impl Into<String>) -> String {
        let name = name.into();
        self.names
            .entry(name.clone())
            .or_default()
            .push(what.into());
        name
    }

    /// Names defined more than once, each with its definers.
    pub fn clashes(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.names
            .iter()
            .filter(|(_, whats)| whats.len() > 1)
            .map(|(n, whats)| (n.as_str(), whats.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_types_are_mangled_by_shape() {
        let point = Type::Record {
            name: "point".into(),
            fields: vec![("x".into(), Type::S32)],
        };
        assert_eq!(mangle(&Type::option(Type::String)), "option_string");
        assert_eq!(
            mangle(&Type::result(Some(point.clone()), Some(Type::String))),
            "result_point_string"
        );
        assert_eq!(
            mangle(&Type::result(None, Some(Type::Bytes))),
            "result_void_bytes"
        );
        assert_eq!(
            mangle(&Type::Tuple(vec![Type::U8, Type::U64])),
            "tuple2_u8_u64"
        );
        assert_eq!(mangle(&Type::list(Type::String)), "list_string");
        assert_eq!(mangle(&Type::list(Type::U8)), "bytes");
        let kind = Type::Enum {
            name: "shape-kind".into(),
            cases: vec!["a".into()],
        };
        assert_eq!(mangle(&Type::option(kind)), "option_shape_kind");
        // The arity keeps nested tuples apart.
        let a = Type::Tuple(vec![Type::Tuple(vec![Type::U8, Type::U8]), Type::U8]);
        let b = Type::Tuple(vec![Type::Tuple(vec![Type::U8]), Type::U8, Type::U8]);
        assert_ne!(mangle(&a), mangle(&b));
    }

    #[test]
    fn every_scalar_has_a_spelling() {
        for ty in [
            Type::Bool,
            Type::S8,
            Type::U8,
            Type::S16,
            Type::U16,
            Type::S32,
            Type::U32,
            Type::S64,
            Type::U64,
            Type::F32,
            Type::F64,
            Type::Char,
            Type::String,
            Type::Bytes,
        ] {
            let s = scalar_of(&ty).unwrap_or_else(|| panic!("{ty:?} has no spelling"));
            assert_eq!(kind_const(&ty), s.kind);
        }
        assert!(scalar_of(&Type::list(Type::U32)).is_none());
        assert_eq!(scalar_of(&Type::Char).map(|s| s.c), Some("uint32_t"));
    }

    #[test]
    fn keywords_and_locals_are_escaped() {
        assert_eq!(member("default"), "default_");
        assert_eq!(member("class"), "class_");
        assert_eq!(member("out"), "out");
        assert_eq!(member("line-count"), "line_count");
        assert_eq!(param("out"), "out_");
        assert_eq!(param("caller"), "caller_");
        assert_eq!(param("int"), "int_");
        assert_eq!(param("line"), "line");
    }

    #[test]
    fn the_register_reports_clashes() {
        let mut r = Register::default();
        r.define("a_b", "record `a-b`");
        r.define("a_c", "record `a-c`");
        r.define("a_b", "function `b`");
        let clashes: Vec<_> = r.clashes().collect();
        assert_eq!(clashes.len(), 1);
        assert_eq!(clashes[0].0, "a_b");
        assert_eq!(clashes[0].1.len(), 2);
    }
}
