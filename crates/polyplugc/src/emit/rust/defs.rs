//! The parts both generated files share: the contract's Rust types, their raw twins, the
//! per-function argument structs, the conversion functions, and compile-time checks that the
//! raw structs have the layouts `polyplug_abi::layout` computed.

use super::types::{flags_repr, ident, tuple, type_ident, Expr, Side, Types};
use super::Out;
use polyplug_contract::{CompiledContract, Shape, Type, TypeLayout};
use std::collections::HashSet;

/// `pub const NAME`, `VERSION` and the function indices.
pub fn constants(o: &mut Out, compiled: &CompiledContract) {
    let c = compiled.contract();
    let v = c.version;
    o.line(format!("/// The contract's name: `{}`.", c.name));
    o.line(format!("pub const NAME: &str = {:?};", c.name));
    o.line(format!("/// The contract's version, `{v}`."));
    o.line(format!(
        "pub const VERSION: pp::abi::Version = pp::abi::Version::new({}, {}, {});",
        v.major, v.minor, v.patch
    ));
    o.blank();
    o.line("/// Each function's index in a provider's function table.");
    o.open("pub mod func {");
    for (i, f) in c.functions.iter().enumerate() {
        o.line(format!("/// `{}`.", f.wit_signature()));
        o.line(format!(
            "pub const {}: u32 = {i};",
            ident(&f.name).trim_start_matches("r#").to_ascii_uppercase()
        ));
    }
    o.close("}");
}

/// The Rust types of the contract's records, enums and flags.
pub fn named_types(o: &mut Out, t: &Types, contract_name: &str) {
    for ty in &t.named {
        o.blank();
        let name = t.name_of(ty);
        let wit = ty.name().unwrap_or_default();
        match ty {
            Type::Record { fields, .. } => {
                let plain = super::types::is_plain(ty);
                if plain {
                    o.line(format!(
                        "/// `record {wit}` of `{contract_name}`: plain data, passed to and from providers as is."
                    ));
                    o.line("#[repr(C)]");
                    o.line("#[derive(Clone, Copy, Debug, Default, PartialEq)]");
                } else {
                    o.line(format!("/// `record {wit}` of `{contract_name}`."));
                    o.line("#[derive(Clone, Debug, PartialEq)]");
                }
                o.open(format!("pub struct {name} {{"));
                for (f, fty) in fields {
                    o.line(format!("/// `{f}: {}`.", fty.wit()));
                    o.line(format!("pub {}: {},", ident(f), t.api(fty)));
                }
                o.close("}");
            }
            Type::Enum { cases, .. } => enum_type(o, name, wit, cases, contract_name),
            Type::Flags { flags, .. } => flags_type(o, name, wit, flags, contract_name),
            _ => {}
        }
    }
}

fn enum_type(o: &mut Out, name: &str, wit: &str, cases: &[String], contract_name: &str) {
    let variants: Vec<String> = cases.iter().map(|c| type_ident(c)).collect();
    o.line(format!(
        "/// `enum {wit}` of `{contract_name}`: a `u32` case index on the wire."
    ));
    o.line("#[repr(u32)]");
    o.line("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]");
    o.open(format!("pub enum {name} {{"));
    for (i, (case, v)) in cases.iter().zip(&variants).enumerate() {
        o.line(format!("/// `{case}`."));
        o.line(format!("{v} = {i},"));
    }
    o.close("}");
    o.blank();
    o.open(format!("impl {name} {{"));
    o.line("/// Every case, in index order.");
    o.line(format!(
        "pub const ALL: [{name}; {}] = [{}];",
        cases.len(),
        variants
            .iter()
            .map(|v| format!("{name}::{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    o.blank();
    o.line("/// The case with index `raw`, or `None` for an index past the last case.");
    o.open(format!(
        "pub const fn from_raw(raw: u32) -> Option<{name}> {{"
    ));
    o.open("match raw {");
    for (i, v) in variants.iter().enumerate() {
        o.line(format!("{i} => Some({name}::{v}),"));
    }
    o.line("_ => None,");
    o.close("}");
    o.close("}");
    o.blank();
    o.line("/// The case's index.");
    o.open("pub const fn raw(self) -> u32 {");
    o.line("self as u32");
    o.close("}");
    o.blank();
    o.line("/// The case's WIT name.");
    o.open("pub const fn name(self) -> &'static str {");
    o.open("match self {");
    for (case, v) in cases.iter().zip(&variants) {
        o.line(format!("{name}::{v} => {case:?},"));
    }
    o.close("}");
    o.close("}");
    o.close("}");
    o.blank();
    o.open(format!("impl From<{name}> for u32 {{"));
    o.open(format!("fn from(value: {name}) -> u32 {{"));
    o.line("value.raw()");
    o.close("}");
    o.close("}");
}

fn flags_type(o: &mut Out, name: &str, wit: &str, flags: &[String], contract_name: &str) {
    let repr = flags_repr(flags.len());
    let consts: Vec<String> = flags
        .iter()
        .map(|f| ident(f).trim_start_matches("r#").to_ascii_uppercase())
        .collect();
    let all: u64 = if flags.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << flags.len()) - 1
    };
    o.line(format!(
        "/// `flags {wit}` of `{contract_name}`: a `{repr}` bit set, bit `i` for flag `i`."
    ));
    o.line("#[repr(transparent)]");
    o.line("#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]");
    o.line(format!("pub struct {name}({repr});"));
    o.blank();
    o.open(format!("impl {name} {{"));
    for (i, (f, c)) in flags.iter().zip(&consts).enumerate() {
        o.line(format!("/// `{f}` (bit {i})."));
        o.line(format!("pub const {c}: {name} = {name}(1 << {i});"));
    }
    o.line("/// Every flag with its WIT name, lowest bit first.");
    o.line(format!(
        "pub const FLAGS: [(&'static str, {name}); {}] = [{}];",
        flags.len(),
        flags
            .iter()
            .zip(&consts)
            .map(|(f, c)| format!("({f:?}, {name}::{c})"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    o.blank();
    o.line("/// No flag set.");
    o.open(format!("pub const fn empty() -> {name} {{"));
    o.line(format!("{name}(0)"));
    o.close("}");
    o.line("/// Every flag set.");
    o.open(format!("pub const fn all() -> {name} {{"));
    o.line(format!("{name}({all:#x})"));
    o.close("}");
    o.line("/// The bits, as they travel.");
    o.open(format!("pub const fn bits(self) -> {repr} {{"));
    o.line("self.0");
    o.close("}");
    o.line("/// The set with these bits, unknown ones included (a newer peer's flags survive).");
    o.open(format!(
        "pub const fn from_bits_retain(bits: {repr}) -> {name} {{"
    ));
    o.line(format!("{name}(bits)"));
    o.close("}");
    o.line("/// True when no flag is set.");
    o.open("pub const fn is_empty(self) -> bool {");
    o.line("self.0 == 0");
    o.close("}");
    o.line("/// True when every flag of `other` is set in `self`.");
    o.open(format!(
        "pub const fn contains(self, other: {name}) -> bool {{"
    ));
    o.line("self.0 & other.0 == other.0");
    o.close("}");
    o.line("/// True when `self` and `other` share a flag.");
    o.open(format!(
        "pub const fn intersects(self, other: {name}) -> bool {{"
    ));
    o.line("self.0 & other.0 != 0");
    o.close("}");
    o.close("}");
    for (tr, method, op) in [
        ("BitOr", "bitor", "|"),
        ("BitAnd", "bitand", "&"),
        ("BitXor", "bitxor", "^"),
    ] {
        o.blank();
        o.open(format!("impl ::core::ops::{tr} for {name} {{"));
        o.line("type Output = Self;");
        o.open(format!("fn {method}(self, other: Self) -> Self {{"));
        o.line(format!("{name}(self.0 {op} other.0)"));
        o.close("}");
        o.close("}");
        o.blank();
        o.open(format!("impl ::core::ops::{tr}Assign for {name} {{"));
        o.open(format!("fn {method}_assign(&mut self, other: Self) {{"));
        o.line(format!("self.0 {op}= other.0;"));
        o.close("}");
        o.close("}");
    }
    o.blank();
    o.open(format!("impl ::core::ops::Sub for {name} {{"));
    o.line("type Output = Self;");
    o.line("/// The flags of `self` that are not in `other`.");
    o.open("fn sub(self, other: Self) -> Self {");
    o.line(format!("{name}(self.0 & !other.0)"));
    o.close("}");
    o.close("}");
    o.blank();
    o.open(format!("impl ::core::fmt::Debug for {name} {{"));
    o.open("fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {");
    o.line(format!("f.write_str(\"{name}(\")?;"));
    o.line("let mut first = true;");
    o.open(format!("for (flag, bit) in {name}::FLAGS {{"));
    o.open("if self.contains(bit) {");
    o.line("f.write_str(if first { \"\" } else { \" | \" })?;");
    o.line("f.write_str(flag)?;");
    o.line("first = false;");
    o.close("}");
    o.close("}");
    o.line(format!("let unknown = self.0 & !{name}::all().0;"));
    o.open("if unknown != 0 {");
    o.line("write!(f, \"{}{unknown:#x}\", if first { \"\" } else { \" | \" })?;");
    o.close("}");
    o.line("f.write_str(\")\")");
    o.close("}");
    o.close("}");
}

/// The `raw` module: the C layouts of converted types and of each function's arguments and
/// result. Returns each function's (args type, ret type), `()` where there is none.
pub fn raw_module(
    o: &mut Out,
    t: &mut Types,
    compiled: &CompiledContract,
    side: Side,
) -> Vec<(String, String)> {
    let contract = compiled.contract();
    o.blank();
    o.line(format!(
        "/// The C layouts of `{}`'s arguments and results, as they cross the ABI.",
        contract.name
    ));
    o.open("pub mod raw {");
    o.line("use super::*;");
    for c in t.converted.clone() {
        o.blank();
        match &c.ty {
            Type::Record { fields, .. } => {
                o.line(format!(
                    "/// The C layout of [`{0}`](super::{0}).",
                    t.name_of(&c.ty)
                ));
                o.line("#[repr(C)]");
                o.line("#[derive(Clone, Copy)]");
                o.open(format!("pub struct {} {{", c.raw));
                for (f, fty) in fields {
                    o.line(format!("/// `{f}: {}`.", fty.wit()));
                    o.line(format!("pub {}: {},", ident(f), t.raw(fty, side)));
                }
                o.close("}");
            }
            Type::Tuple(elems) => {
                o.line(format!("/// The C layout of `{}`.", c.ty.wit()));
                o.line("#[repr(C)]");
                o.line("#[derive(Clone, Copy)]");
                o.open(format!("pub struct {} {{", c.raw));
                for (i, e) in elems.iter().enumerate() {
                    o.line(format!("/// Element {i}: `{}`.", e.wit()));
                    o.line(format!("pub f{i}: {},", t.raw(e, side)));
                }
                o.close("}");
            }
            _ => {}
        }
    }
    let mut shapes = Vec::new();
    for f in &contract.functions {
        let stem = type_ident(&f.name);
        let args = if f.params.is_empty() {
            "()".to_owned()
        } else {
            let name = t.raw_name(format!("{stem}Args"));
            o.blank();
            o.line(format!(
                "/// The arguments of `{}`, in their C layout.",
                f.wit_signature()
            ));
            o.line("#[repr(C)]");
            o.line("#[derive(Clone, Copy)]");
            o.open(format!("pub struct {name} {{"));
            for p in &f.params {
                o.line(format!("/// `{}: {}`.", p.name, p.ty.wit()));
                o.line(format!("pub {}: {},", ident(&p.name), t.raw(&p.ty, side)));
            }
            o.close("}");
            format!("raw::{name}")
        };
        let ret = match &f.result {
            None => "()".to_owned(),
            Some(r) => {
                let name = t.raw_name(format!("{stem}Ret"));
                o.blank();
                o.line(format!("/// The result of `{}`, in its C layout.", f.name));
                o.line(format!("pub type {name} = {};", t.raw(r, side)));
                format!("raw::{name}")
            }
        };
        shapes.push((args, ret));
    }
    o.close("}");
    shapes
}

/// Adds `ty` and every converted type inside it to `set`.
pub fn reachable(t: &Types, ty: &Type, set: &mut HashSet<String>) {
    if let Some(c) = t.converted.iter().find(|c| &c.ty == ty) {
        set.insert(c.stem.clone());
    }
    for child in ty.children() {
        reachable(t, child, set);
    }
}

/// The `lift_x` functions (raw → API) of the converted types in `used`.
pub fn lifts(o: &mut Out, t: &Types, side: Side, used: &HashSet<String>) {
    for c in t.converted.iter().filter(|c| used.contains(&c.stem)) {
        let (body, unsafe_) = match &c.ty {
            Type::Record { fields, .. } => {
                let exprs: Vec<Expr> = fields
                    .iter()
                    .map(|(f, fty)| t.lift(fty, &Types::member_ref("r", &ident(f)), side))
                    .collect();
                let inits: Vec<String> = fields
                    .iter()
                    .zip(&exprs)
                    .map(|((f, _), e)| format!("{}: {}", ident(f), e.as_value()))
                    .collect();
                (
                    format!("Ok({} {{ {} }})", t.name_of(&c.ty), inits.join(", ")),
                    exprs.iter().any(|e| e.unsafe_),
                )
            }
            Type::Tuple(elems) => {
                let exprs: Vec<Expr> = elems
                    .iter()
                    .enumerate()
                    .map(|(i, e)| t.lift(e, &Types::member_ref("r", &format!("f{i}")), side))
                    .collect();
                (
                    format!("Ok({})", tuple(exprs.iter().map(Expr::as_value).collect())),
                    exprs.iter().any(|e| e.unsafe_),
                )
            }
            _ => continue,
        };
        o.blank();
        o.line(format!("/// Decodes a `{}` from its C layout.", c.ty.wit()));
        o.line("///");
        o.line("/// # Safety");
        o.line("/// Every view inside `r` must point to readable memory that stays valid while it is decoded.");
        o.open(format!(
            "unsafe fn lift_{}(r: &raw::{}) -> Result<{}, {}> {{",
            c.stem,
            c.raw,
            t.api(&c.ty),
            side.decode_error()
        ));
        if unsafe_ {
            o.line("// SAFETY: the caller's promise covers every view inside `r`.");
            o.line(format!("unsafe {{ {body} }}"));
        } else {
            o.line(body);
        }
        o.close("}");
    }
}

/// The `lower_x` functions (API → raw) of the converted types in `used`.
pub fn lowers(o: &mut Out, t: &Types, side: Side, used: &HashSet<String>) {
    for c in t.converted.iter().filter(|c| used.contains(&c.stem)) {
        let inits: Vec<String> = match &c.ty {
            Type::Record { fields, .. } => fields
                .iter()
                .map(|(f, fty)| {
                    let e = t.lower(fty, &Types::member_ref("v", &ident(f)), side);
                    format!("{}: {}", ident(f), e.as_value())
                })
                .collect(),
            Type::Tuple(elems) => elems
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let e = t.lower(e, &Types::member_ref("v", &i.to_string()), side);
                    format!("f{i}: {}", e.as_value())
                })
                .collect(),
            _ => continue,
        };
        let value = format!("raw::{} {{ {} }}", c.raw, inits.join(", "));
        o.blank();
        let view = if side == Side::Host {
            " (views of `v`'s memory: keep `v` alive until the call returned)"
        } else {
            ", copying its strings and lists into the caller's arena"
        };
        o.line(format!(
            "/// Encodes a `{}` in its C layout{view}.",
            c.ty.wit()
        ));
        if t.needs_arena(&c.ty, side) {
            o.open(format!(
                "fn lower_{}(arena: &mut {}, v: &{}) -> Result<raw::{}, {}> {{",
                c.stem,
                side.arena_type(),
                t.api(&c.ty),
                c.raw,
                side.encode_error()
            ));
            o.line(format!("Ok({value})"));
        } else {
            o.open(format!(
                "fn lower_{}(v: &{}) -> raw::{} {{",
                c.stem,
                t.api(&c.ty),
                c.raw
            ));
            o.line(value);
        }
        o.close("}");
    }
}

/// Compile-time checks that every raw type has the size, alignment and member offsets the
/// contract's layouts say (`FuncLayout`, computed by `polyplug_abi::layout`), for the pointer
/// width the generator ran on.
pub fn layout_asserts(
    o: &mut Out,
    t: &Types,
    compiled: &CompiledContract,
    shapes: &[(String, String)],
    side: Side,
) {
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |line: String, lines: &mut Vec<String>| {
        if seen.insert(line.clone()) {
            lines.push(line);
        }
    };
    let contract = compiled.contract();
    for ((f, layout), (args, ret)) in contract
        .functions
        .iter()
        .zip(compiled.layouts())
        .zip(shapes)
    {
        if !f.params.is_empty() {
            push(
                size_check(args, layout.args.size, layout.args.align),
                &mut lines,
            );
            for (p, off) in f.params.iter().zip(&layout.param_offsets) {
                push(
                    format!(
                        "assert!(::core::mem::offset_of!({args}, {}) == {off});",
                        ident(&p.name)
                    ),
                    &mut lines,
                );
            }
            for (p, tl) in f.params.iter().zip(&layout.params) {
                type_checks(t, &p.ty, tl, side, &mut |l| push(l, &mut lines));
            }
        }
        if let (Some(r), Some(tl)) = (&f.result, &layout.result) {
            push(
                size_check(ret, layout.ret.size, layout.ret.align),
                &mut lines,
            );
            type_checks(t, r, tl, side, &mut |l| push(l, &mut lines));
        }
    }
    o.blank();
    o.line("// The raw types have the layouts the contract's descriptors give them.");
    o.line(format!(
        "#[cfg(target_pointer_width = \"{}\")]",
        usize::BITS
    ));
    o.open("const _: () = {");
    for l in lines {
        o.line(l);
    }
    o.close("};");
}

fn size_check(ty: &str, size: u32, align: u32) -> String {
    format!(
        "assert!(::core::mem::size_of::<{ty}>() == {size} && ::core::mem::align_of::<{ty}>() == {align});"
    )
}

fn type_checks(t: &Types, ty: &Type, tl: &TypeLayout, side: Side, push: &mut dyn FnMut(String)) {
    let raw = t.raw(ty, side);
    push(size_check(&raw, tl.layout.size, tl.layout.align));
    match (&tl.shape, ty) {
        (Shape::Struct { offsets, members }, Type::Record { fields, .. }) => {
            for (((f, fty), off), m) in fields.iter().zip(offsets).zip(members) {
                push(format!(
                    "assert!(::core::mem::offset_of!({raw}, {}) == {off});",
                    ident(f)
                ));
                type_checks(t, fty, m, side, push);
            }
        }
        (Shape::Struct { offsets, members }, Type::Tuple(elems)) => {
            for (i, ((e, off), m)) in elems.iter().zip(offsets).zip(members).enumerate() {
                push(format!(
                    "assert!(::core::mem::offset_of!({raw}, f{i}) == {off});"
                ));
                type_checks(t, e, m, side, push);
            }
        }
        (Shape::List { elem }, Type::List(e)) => type_checks(t, e, elem, side, push),
        (
            Shape::Option {
                payload_offset,
                value,
            },
            Type::Option(v),
        ) => {
            push(format!(
                "assert!(::core::mem::offset_of!({raw}, value) == {payload_offset});"
            ));
            type_checks(t, v, value, side, push);
        }
        (
            Shape::Result {
                payload_offset,
                ok,
                err,
            },
            Type::Result {
                ok: ok_ty,
                err: err_ty,
            },
        ) => {
            push(format!(
                "assert!(::core::mem::offset_of!({raw}, payload) == {payload_offset});"
            ));
            if let (Some(l), Some(ty)) = (ok, ok_ty) {
                type_checks(t, ty, l, side, push);
            }
            if let (Some(l), Some(ty)) = (err, err_ty) {
                type_checks(t, ty, l, side, push);
            }
        }
        _ => {}
    }
}
