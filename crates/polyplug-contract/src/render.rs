//! WIT spellings of types, signatures and whole contracts, for messages, `inspect` output and
//! code generators.

use crate::model::{Contract, Function, Type};
use std::collections::HashSet;
use std::fmt::{self, Write as _};

/// WIT keywords: names spelled like one need a `%` in WIT source.
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "error-context",
    "export",
    "f32",
    "f64",
    "flags",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "map",
    "option",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
];

/// A name as WIT source spells it: `%` before a keyword.
struct Ident<'a>(&'a str);

impl fmt::Display for Ident<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if KEYWORDS.contains(&self.0) {
            f.write_char('%')?;
        }
        f.write_str(self.0)
    }
}

impl fmt::Display for Type {
    /// The WIT spelling: `list<string>`, `option<u32>`, `result<string, error-code>`. Named
    /// types are spelled by name; an anonymous record, enum or flags type (possible only in raw
    /// descriptors) is spelled inline, `record { a: u32 }`, which WIT itself does not accept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bytes => f.write_str("list<u8>"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Option(t) => write!(f, "option<{t}>"),
            Type::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
            Type::Tuple(ts) => {
                f.write_str("tuple<")?;
                comma_separated(f, ts.iter().map(|t| t as &dyn fmt::Display))?;
                f.write_char('>')
            }
            Type::Record { name, .. } | Type::Enum { name, .. } | Type::Flags { name, .. }
                if !name.is_empty() =>
            {
                Ident(name).fmt(f)
            }
            Type::Record { fields, .. } => {
                f.write_str("record { ")?;
                let fields: Vec<_> = fields.iter().map(|(n, t)| Member(n, t)).collect();
                comma_separated(f, fields.iter().map(|m| m as &dyn fmt::Display))?;
                f.write_str(" }")
            }
            Type::Enum { cases: labels, .. } | Type::Flags { flags: labels, .. } => {
                let kw = if matches!(self, Type::Enum { .. }) {
                    "enum"
                } else {
                    "flags"
                };
                write!(f, "{kw} {{ ")?;
                let labels: Vec<_> = labels.iter().map(|l| Ident(l)).collect();
                comma_separated(f, labels.iter().map(|l| l as &dyn fmt::Display))?;
                f.write_str(" }")
            }
            scalar => f.write_str(scalar.kind().wit_name()),
        }
    }
}

/// `name: type`, a field or parameter.
struct Member<'a>(&'a str, &'a Type);

impl fmt::Display for Member<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Ident(self.0), self.1)
    }
}

fn comma_separated<'a>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = &'a dyn fmt::Display>,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

impl Type {
    /// The WIT spelling of the type (see its `Display`).
    pub fn wit(&self) -> String {
        self.to_string()
    }

    /// The WIT definition of a named record, enum or flags type (`record point { x: s32, y: s32 }`
    /// over several lines); `None` for other types and anonymous ones.
    pub fn wit_definition(&self) -> Option<String> {
        let (kw, name, lines): (_, _, Vec<String>) = match self {
            Type::Record { name, fields } => (
                "record",
                name,
                fields
                    .iter()
                    .map(|(n, t)| Member(n, t).to_string())
                    .collect(),
            ),
            Type::Enum { name, cases } => (
                "enum",
                name,
                cases.iter().map(|c| Ident(c).to_string()).collect(),
            ),
            Type::Flags { name, flags } => (
                "flags",
                name,
                flags.iter().map(|c| Ident(c).to_string()).collect(),
            ),
            _ => return None,
        };
        if name.is_empty() {
            return None;
        }
        let mut out = format!("{kw} {} {{\n", Ident(name));
        for line in lines {
            // Writing into a String cannot fail.
            let _ = writeln!(out, "    {line},");
        }
        out.push('}');
        Some(out)
    }
}

impl Function {
    /// The WIT signature: `name: func(a: u32, b: string) -> T`.
    pub fn wit_signature(&self) -> String {
        let mut out = format!("{}: func(", Ident(&self.name));
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}", Member(&p.name, &p.ty));
        }
        out.push(')');
        if let Some(r) = &self.result {
            let _ = write!(out, " -> {r}");
        }
        out
    }
}

impl Contract {
    /// A WIT document declaring this contract: its package with version, one interface with every
    /// named type it uses (dependencies first) and its functions in table order. For a valid
    /// contract without anonymous types, parsing the text gives the contract back.
    pub fn to_wit(&self) -> String {
        let (package, iface) = self.name.rsplit_once('/').unwrap_or(("", &self.name));
        let package = match package.split_once(':') {
            Some((ns, pkg)) => format!("{}:{}", Ident(ns), Ident(pkg)),
            None => package.to_owned(),
        };
        let mut out = format!(
            "package {package}@{};\n\ninterface {} {{\n",
            self.version,
            Ident(iface)
        );
        let mut seen = HashSet::new();
        let mut defs = Vec::new();
        for f in &self.functions {
            for ty in f.params.iter().map(|p| &p.ty).chain(&f.result) {
                collect_named(ty, &mut seen, &mut defs);
            }
        }
        for def in defs {
            for line in def.lines() {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
        }
        for f in &self.functions {
            let _ = writeln!(out, "    {};", f.wit_signature());
        }
        out.push_str("}\n");
        out
    }
}

/// Definitions of the named types in `ty`, children before parents, each name once.
fn collect_named<'a>(ty: &'a Type, seen: &mut HashSet<&'a str>, defs: &mut Vec<String>) {
    for child in ty.children() {
        collect_named(child, seen, defs);
    }
    if let Some(name) = ty.name() {
        if !name.is_empty() && seen.insert(name) {
            defs.extend(ty.wit_definition());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Param;
    use polyplug_abi::Version;

    fn error_code() -> Type {
        Type::Enum {
            name: "error-code".into(),
            cases: vec!["not-found".into(), "denied".into()],
        }
    }

    #[test]
    fn type_spellings() {
        assert_eq!(Type::list(Type::String).wit(), "list<string>");
        assert_eq!(Type::option(Type::U32).wit(), "option<u32>");
        assert_eq!(Type::Bytes.wit(), "list<u8>");
        assert_eq!(
            Type::result(Some(Type::String), Some(error_code())).wit(),
            "result<string, error-code>"
        );
        assert_eq!(Type::result(None, None).wit(), "result");
        assert_eq!(Type::result(Some(Type::U8), None).wit(), "result<u8>");
        assert_eq!(Type::result(None, Some(Type::U8)).wit(), "result<_, u8>");
        assert_eq!(
            Type::Tuple(vec![Type::S64, Type::F32, Type::Char]).wit(),
            "tuple<s64, f32, char>"
        );
        let anon = Type::Record {
            name: String::new(),
            fields: vec![("type".into(), Type::Bool)],
        };
        assert_eq!(anon.wit(), "record { %type: bool }");
        let anon = Type::Flags {
            name: String::new(),
            flags: vec!["r".into(), "w".into()],
        };
        assert_eq!(anon.wit(), "flags { r, w }");
    }

    #[test]
    fn definitions_and_signatures() {
        assert_eq!(
            error_code().wit_definition().as_deref(),
            Some("enum error-code {\n    not-found,\n    denied,\n}")
        );
        assert_eq!(Type::U8.wit_definition(), None);
        let f = Function::new(
            "read",
            vec![Param::new("fd", Type::U32), Param::new("list", Type::Bytes)],
            Some(Type::result(Some(Type::Bytes), Some(error_code()))),
        );
        assert_eq!(
            f.wit_signature(),
            "read: func(fd: u32, %list: list<u8>) -> result<list<u8>, error-code>"
        );
        assert_eq!(
            Function::new("f", vec![], None).wit_signature(),
            "f: func()"
        );
    }

    #[test]
    fn whole_contract() {
        let c = Contract::new(
            "demo:fs/files",
            Version::new(1, 2, 0),
            vec![Function::new(
                "open",
                vec![Param::new("path", Type::String)],
                Some(Type::result(Some(Type::U32), Some(error_code()))),
            )],
        );
        assert_eq!(
            c.to_wit(),
            "package demo:fs@1.2.0;\n\ninterface files {\n    enum error-code {\n        not-found,\n        denied,\n    }\n\n    open: func(path: string) -> result<u32, error-code>;\n}\n"
        );
    }
}
