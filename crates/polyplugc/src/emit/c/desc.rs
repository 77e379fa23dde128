//! The descriptor section: the contract as `static const` `pp_type_desc` / `pp_field_desc` /
//! `pp_func_desc` / `pp_contract_desc` data, which a C provider registers.

use super::names::kind_const;
use super::{Ctx, Out};
use crate::names::snake;
use polyplug_contract::Type;
use std::fmt::Write as _;

/// A `pp_str` initializer for a string literal.
pub(super) fn str_init(s: &str) -> String {
    if s.is_empty() {
        return "{NULL, 0}".to_owned();
    }
    format!("{{(const uint8_t *){}, {}}}", c_string(s), s.len())
}

/// A C string literal (names are ASCII identifiers; anything else is escaped anyway).
pub(super) fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

impl Ctx<'_> {
    /// `<prefix>_type_<token>_`: the descriptor of a type.
    fn type_desc(&self, ty: &Type) -> String {
        format!("{}_type_{}_", self.prefix, self.types.get(ty).token)
    }

    fn type_ref(&self, ty: Option<&Type>) -> String {
        ty.map_or("NULL".to_owned(), |t| format!("&{}", self.type_desc(t)))
    }

    /// The descriptor graph, children first, then the function table and the contract.
    pub fn emit_descriptors(&mut self, out: &mut Out) {
        out.section(
            "The contract as data: what a provider registers (and what the runtime checks callers \
             against)",
        );
        let types: Vec<Type> = self.types.defs().iter().map(|d| d.ty.clone()).collect();
        for ty in &types {
            self.emit_type_desc(out, ty);
        }
        let p = self.prefix.clone();
        let contract = self.compiled.contract();
        for f in &contract.functions {
            if f.params.is_empty() {
                continue;
            }
            let name = self.reg.define(
                format!("{p}_params_{}_", snake(&f.name)),
                format!("the parameters of `{}`", f.name),
            );
            let fields: Vec<(String, Option<&Type>)> = f
                .params
                .iter()
                .map(|p| (p.name.clone(), Some(&p.ty)))
                .collect();
            self.emit_fields(out, &name, &fields);
        }
        let funcs = if contract.functions.is_empty() {
            "NULL".to_owned()
        } else {
            let funcs = self
                .reg
                .define(format!("{p}_funcs_"), "the function descriptors");
            let _ = writeln!(out.text, "static const pp_func_desc {funcs}[] = {{");
            for f in &contract.functions {
                let params = if f.params.is_empty() {
                    "NULL".to_owned()
                } else {
                    format!("{p}_params_{}_", snake(&f.name))
                };
                let _ = writeln!(
                    out.text,
                    "    {{{}, {params}, {}, 0, {}}},",
                    str_init(&f.name),
                    f.params.len(),
                    self.type_ref(f.result.as_ref()),
                );
            }
            let _ = writeln!(out.text, "}};");
            funcs
        };
        let v = contract.version;
        out.doc("The contract's description: register it with a provider's function table.");
        let name = self
            .reg
            .define(format!("{p}_contract"), "the contract descriptor");
        let _ = writeln!(
            out.text,
            "static const pp_contract_desc {name} = {{\n    (uint32_t)sizeof(pp_contract_desc), {}, {}, {{{}, {}, {}}}, {funcs},\n}};\n",
            contract.functions.len(),
            str_init(&contract.name),
            v.major,
            v.minor,
            v.patch,
        );
    }

    fn emit_type_desc(&mut self, out: &mut Out, ty: &Type) {
        let token = self.types.get(ty).token.clone();
        let p = self.prefix.clone();
        // Members: record fields, tuple elements (unnamed), enum cases and flags (untyped).
        let members: Option<Vec<(String, Option<&Type>)>> = match ty {
            Type::Record { fields, .. } => {
                Some(fields.iter().map(|(n, t)| (n.clone(), Some(t))).collect())
            }
            Type::Tuple(ts) => Some(ts.iter().map(|t| (String::new(), Some(t))).collect()),
            Type::Enum { cases: labels, .. } | Type::Flags { flags: labels, .. } => {
                Some(labels.iter().map(|l| (l.clone(), None)).collect())
            }
            _ => None,
        };
        let (fields, count) = match &members {
            Some(m) => {
                let name = self.reg.define(
                    format!("{p}_fields_{token}_"),
                    format!("the members of `{ty}`"),
                );
                self.emit_fields(out, &name, m);
                (name, m.len())
            }
            None => ("NULL".to_owned(), 0),
        };
        let (elem, err) = match ty {
            Type::List(t) | Type::Option(t) => (self.type_ref(Some(t)), "NULL".to_owned()),
            Type::Result { ok, err } => {
                (self.type_ref(ok.as_deref()), self.type_ref(err.as_deref()))
            }
            _ => ("NULL".to_owned(), "NULL".to_owned()),
        };
        let name = ty.name().unwrap_or("");
        let desc = self.type_desc(ty);
        self.reg.define(&desc, format!("the descriptor of `{ty}`"));
        let _ = writeln!(
            out.text,
            "static const pp_type_desc {desc} = {{{}, {count}, {}, {fields}, {elem}, {err}}};",
            kind_const(ty),
            str_init(name),
        );
    }

    fn emit_fields(&self, out: &mut Out, name: &str, fields: &[(String, Option<&Type>)]) {
        let _ = writeln!(out.text, "static const pp_field_desc {name}[] = {{");
        for (n, t) in fields {
            let _ = writeln!(out.text, "    {{{}, {}}},", str_init(n), self.type_ref(*t));
        }
        let _ = writeln!(out.text, "}};");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_initializers() {
        assert_eq!(str_init(""), "{NULL, 0}");
        assert_eq!(str_init("point"), "{(const uint8_t *)\"point\", 5}");
        assert_eq!(c_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\012\"");
    }
}
