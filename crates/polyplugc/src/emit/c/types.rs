//! The types section: every type a contract uses, in dependency order, as C typedefs, then the
//! argument structs, then the layout checks against the layouts the contract compiler computed.

use super::names::{self, mangle, scalar_of};
use super::{Ctx, Out};
use crate::names::upper_snake;
use polyplug_contract::{CompiledContract, Shape, Type, TypeLayout};
use std::collections::HashMap;
use std::fmt::Write as _;

/// One type of the contract with the layout the contract compiler computed for it.
pub(super) struct Def {
    pub ty: Type,
    pub layout: TypeLayout,
    pub token: String,
}

/// Every type reachable from the contract's functions, each once, children before parents.
pub(super) struct TypeTable {
    defs: Vec<Def>,
    index: HashMap<Type, usize>,
}

impl TypeTable {
    /// Walks each function's parameters, then its result, beside their layouts.
    pub fn new(compiled: &CompiledContract) -> TypeTable {
        let mut table = TypeTable {
            defs: Vec::new(),
            index: HashMap::new(),
        };
        for (f, layout) in compiled.contract().functions.iter().zip(compiled.layouts()) {
            for (p, l) in f.params.iter().zip(&layout.params) {
                table.visit(&p.ty, l);
            }
            if let (Some(r), Some(l)) = (&f.result, &layout.result) {
                table.visit(r, l);
            }
        }
        table
    }

    fn visit(&mut self, ty: &Type, layout: &TypeLayout) {
        if self.index.contains_key(ty) {
            debug_assert_eq!(self.get(ty).layout, *layout, "one type, two layouts: {ty}");
            return;
        }
        for (child, child_layout) in children(ty, layout) {
            self.visit(child, child_layout);
        }
        self.index.insert(ty.clone(), self.defs.len());
        self.defs.push(Def {
            ty: ty.clone(),
            layout: layout.clone(),
            token: mangle(ty),
        });
    }

    /// Every type, children first.
    pub fn defs(&self) -> &[Def] {
        &self.defs
    }

    /// The entry of a type the contract uses.
    ///
    /// # Panics
    /// When `ty` is not reachable from the contract's functions (a bug in the emitter).
    pub fn get(&self, ty: &Type) -> &Def {
        let i = self
            .index
            .get(ty)
            .unwrap_or_else(|| panic!("type {ty} is not in the contract's type table"));
        &self.defs[*i]
    }
}

/// The child types of `ty`, each beside its layout.
fn children<'t>(ty: &'t Type, layout: &'t TypeLayout) -> Vec<(&'t Type, &'t TypeLayout)> {
    match (ty, &layout.shape) {
        (Type::List(t), Shape::List { elem }) => vec![(&**t, &**elem)],
        (Type::Option(t), Shape::Option { value, .. }) => vec![(&**t, &**value)],
        (Type::Record { fields, .. }, Shape::Struct { members, .. }) => {
            fields.iter().map(|(_, t)| t).zip(members).collect()
        }
        (Type::Tuple(ts), Shape::Struct { members, .. }) => ts.iter().zip(members).collect(),
        (
            Type::Result { ok, err },
            Shape::Result {
                ok: lok, err: lerr, ..
            },
        ) => {
            let side = |t: &'t Option<Box<Type>>, l: &'t Option<Box<TypeLayout>>| {
                t.as_deref().zip(l.as_deref())
            };
            side(ok, lok).into_iter().chain(side(err, lerr)).collect()
        }
        _ => Vec::new(),
    }
}

impl Ctx<'_> {
    /// The C spelling of a type.
    pub fn c_type(&self, ty: &Type) -> String {
        match scalar_of(ty) {
            Some(s) => s.c.to_owned(),
            None => format!("{}_{}", self.prefix, mangle(ty)),
        }
    }

    /// The types section: a typedef per record, enum, flags, list, option, result and tuple.
    pub fn emit_types(&mut self, out: &mut Out) {
        out.section("Types: the C layout of every type the contract uses");
        let defs: Vec<(Type, TypeLayout)> = self
            .types
            .defs()
            .iter()
            .map(|d| (d.ty.clone(), d.layout.clone()))
            .collect();
        for (ty, layout) in &defs {
            self.emit_type(out, ty, layout);
        }
    }

    fn emit_type(&mut self, out: &mut Out, ty: &Type, layout: &TypeLayout) {
        if scalar_of(ty).is_some() {
            return;
        }
        let name = self.c_type(ty);
        let wit = ty.wit_definition().unwrap_or_else(|| ty.wit());
        out.doc(&wit);
        let o = &mut out.text;
        let mut checks = StructChecks::new(&self.align_macro, &name, layout);
        match ty {
            Type::Enum { cases, .. } => {
                self.reg.define(&name, format!("enum `{ty}`"));
                let _ = writeln!(o, "typedef uint32_t {name};");
                for (i, case) in cases.iter().enumerate() {
                    let m = self.constant(&name, case, "case");
                    let _ = writeln!(o, "#define {m} UINT32_C({i})");
                }
            }
            Type::Flags { flags, .. } => {
                self.reg.define(&name, format!("flags `{ty}`"));
                let bits = if layout.layout.size > 4 { 64 } else { 32 };
                let _ = writeln!(o, "typedef uint{bits}_t {name};");
                for (i, flag) in flags.iter().enumerate() {
                    let m = self.constant(&name, flag, "flag");
                    let _ = writeln!(o, "#define {m} (UINT{bits}_C(1) << {i})");
                }
            }
            Type::Record { fields, .. } => {
                let members: Vec<(String, String)> = fields
                    .iter()
                    .map(|(n, t)| (self.c_type(t), names::member(n)))
                    .collect();
                self.emit_struct(o, &name, &format!("record `{ty}`"), &members);
                checks.members(members.iter().map(|(_, m)| m.as_str()), layout);
            }
            Type::Tuple(ts) => {
                let members: Vec<(String, String)> = ts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (self.c_type(t), format!("f{i}")))
                    .collect();
                self.emit_struct(o, &name, &format!("`{ty}`"), &members);
                checks.members(members.iter().map(|(_, m)| m.as_str()), layout);
            }
            Type::Option(value) => {
                let members = [
                    ("bool".to_owned(), "is_some".to_owned()),
                    (self.c_type(value), "value".to_owned()),
                ];
                self.emit_struct(o, &name, &format!("`{ty}`"), &members);
                checks.payload("value", layout);
            }
            Type::Result { ok, err } => {
                self.reg.define(&name, format!("`{ty}`"));
                let _ = writeln!(o, "typedef struct {name} {{");
                let _ = writeln!(o, "    bool is_err;");
                if ok.is_some() || err.is_some() {
                    let _ = writeln!(o, "    union {{");
                    if let Some(t) = ok {
                        let _ = writeln!(o, "        {} ok;", self.c_type(t));
                    }
                    if let Some(t) = err {
                        let _ = writeln!(o, "        {} err;", self.c_type(t));
                    }
                    let _ = writeln!(o, "    }} payload;");
                    checks.payload("payload", layout);
                }
                let _ = writeln!(o, "}} {name};");
            }
            Type::List(elem) => {
                let elem = self.c_type(elem);
                self.reg.define(&name, format!("`{ty}`"));
                let _ = writeln!(
                    o,
                    "typedef struct {name} {{\n    const {elem} *ptr;\n    size_t len;\n}} {name};"
                );
                // Layout-identical to pp_list on any target.
                self.portable_checks.push(format!(
                    "PP_STATIC_ASSERT(sizeof({name}) == sizeof(pp_list) && offsetof({name}, ptr) == \
                     offsetof(pp_list, ptr) && offsetof({name}, len) == offsetof(pp_list, len), \
                     \"{name} is not laid out as pp_list\");"
                ));
            }
            _ => {}
        }
        out.text.push('\n');
        self.layout_checks.extend(checks.finish());
    }

    fn emit_struct(
        &mut self,
        o: &mut String,
        name: &str,
        what: &str,
        members: &[(String, String)],
    ) {
        self.reg.define(name, what);
        let _ = writeln!(o, "typedef struct {name} {{");
        for (ty, member) in members {
            let _ = writeln!(o, "    {ty} {member};");
        }
        let _ = writeln!(o, "}} {name};");
    }

    /// `<PREFIX>_<TYPE>_<LABEL>` for an enum case or a flag.
    fn constant(&mut self, c_name: &str, label: &str, what: &str) -> String {
        let m = format!("{}_{}", c_name.to_ascii_uppercase(), upper_snake(label));
        self.reg.define(m, format!("{what} `{label}` of {c_name}"))
    }

    /// An argument struct per function with parameters.
    pub fn emit_args(&mut self, out: &mut Out) {
        out.section("Argument structs: a function's parameters in order, as the ABI passes them");
        let compiled = self.compiled;
        for (f, layout) in compiled.contract().functions.iter().zip(compiled.layouts()) {
            if f.params.is_empty() {
                continue;
            }
            let name = self.args_struct(&f.name);
            let members: Vec<(String, String)> = f
                .params
                .iter()
                .map(|p| (self.c_type(&p.ty), names::param(&p.name)))
                .collect();
            out.doc(&format!("The arguments of {}", f.wit_signature()));
            let o = &mut out.text;
            self.emit_struct(
                o,
                &name,
                &format!("the arguments of `{}`", f.name),
                &members,
            );
            o.push('\n');
            let mut checks = StructChecks::sized(
                &self.align_macro,
                &name,
                layout.args.size,
                layout.args.align,
            );
            for ((_, m), off) in members.iter().zip(&layout.param_offsets) {
                checks.offset(m, *off);
            }
            self.layout_checks.extend(checks.finish());
        }
    }

    /// `<prefix>_<func>_args`.
    pub fn args_struct(&self, func: &str) -> String {
        format!("{}_{}_args", self.prefix, crate::names::snake(func))
    }

    /// The checks of every scalar's size and alignment (C's `bool`, `float` and `double` are
    /// what the ABI says on every target polyplug supports, but a header says so out loud).
    pub fn scalar_checks(&self) -> Vec<String> {
        // `bool` always: option and result flags are `bool` too.
        let mut checks = StructChecks::sized(&self.align_macro, "bool", 1, 1).finish();
        for def in self.types.defs() {
            // Views hold pointers: they are checked with the pointer-width-dependent layouts.
            if matches!(def.ty, Type::String | Type::Bytes) {
                continue;
            }
            if let Some(s) = scalar_of(&def.ty) {
                let l = def.layout.layout;
                checks
                    .extend(StructChecks::sized(&self.align_macro, s.c, l.size, l.align).finish());
            }
        }
        checks.sort();
        checks.dedup();
        checks
    }

    /// The checks of the views `string` and `list<u8>`, when the contract uses them.
    pub fn view_checks(&self) -> Vec<String> {
        let mut checks = Vec::new();
        for def in self.types.defs() {
            if let (Type::String | Type::Bytes, Some(s)) = (&def.ty, scalar_of(&def.ty)) {
                let l = def.layout.layout;
                checks
                    .extend(StructChecks::sized(&self.align_macro, s.c, l.size, l.align).finish());
            }
        }
        checks
    }
}

/// The static asserts of one C type: its size, alignment and member offsets.
struct StructChecks {
    name: String,
    lines: Vec<String>,
}

impl StructChecks {
    fn new(align_macro: &str, name: &str, layout: &TypeLayout) -> StructChecks {
        StructChecks::sized(align_macro, name, layout.layout.size, layout.layout.align)
    }

    fn sized(align_macro: &str, name: &str, size: u32, align: u32) -> StructChecks {
        StructChecks {
            name: name.to_owned(),
            lines: vec![
                format!("PP_STATIC_ASSERT(sizeof({name}) == {size}, \"{name}: size\");"),
                format!(
                    "PP_STATIC_ASSERT({align_macro}({name}) == {align}, \"{name}: alignment\");"
                ),
            ],
        }
    }

    fn offset(&mut self, member: &str, offset: u32) {
        let name = &self.name;
        self.lines.push(format!(
            "PP_STATIC_ASSERT(offsetof({name}, {member}) == {offset}, \"{name}: offset of {member}\");"
        ));
    }

    fn members<'m>(&mut self, members: impl Iterator<Item = &'m str>, layout: &TypeLayout) {
        for (m, off) in members.zip(layout.field_offsets()) {
            self.offset(m, *off);
        }
    }

    fn payload(&mut self, member: &str, layout: &TypeLayout) {
        if let Some(off) = layout.payload_offset() {
            self.offset(member, off);
        }
    }

    fn finish(self) -> Vec<String> {
        self.lines
    }
}
