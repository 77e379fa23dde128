//! How the Rust emitter spells a contract's types, and the expressions that convert between
//! their Rust (API) form and their raw C-layout (ABI) form.
//!
//! Three spellings per type, each one table lookup or a recursion over the model:
//!
//! | WIT | API (owned) | raw (ABI) |
//! |---|---|---|
//! | integers, floats | `i8`…`u64`, `f32`, `f64` | the same |
//! | `bool` / `char` | `bool` / `char` | `u8` / `u32` (validated when read) |
//! | `string` / `list<u8>` | `String` / `Vec<u8>` | `Str` / `Bytes` |
//! | `list<T>` | `Vec<T>` | `List` |
//! | plain-data record, flags | the same `#[repr(C)]` type | the same |
//! | other record | a struct of API fields | `raw::Name`, a struct of raw fields |
//! | enum | a Rust enum | `u32` (validated when read) |
//! | `option<T>`, `result<T, E>` | `Option`, `Result` | `RawOption`, `RawResult` of the SDK |
//! | `tuple<...>` | a Rust tuple | `raw::TupleN` |
//!
//! *Plain data* are types whose API form is their raw form and every bit pattern is a valid
//! value: integers, floats, flags and records of plain data. They cross without conversion
//! (zero-copy), also as list elements.

use crate::names::{camel, snake};
use polyplug_contract::{Contract, Type};
use std::collections::{HashMap, HashSet};

/// Rust's keywords (strict, reserved and weak ones that matter as identifiers).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "super", "crate", "Self"];

/// Type names the generated code relies on (the prelude's, and `Self`).
const RESERVED_TYPES: &[&str] = &[
    "Self", "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err", "Copy",
    "Clone", "Send", "Sync",
];

/// A snake-case identifier for a WIT name, escaped when it is a keyword.
pub fn ident(kebab: &str) -> String {
    let s = snake(kebab);
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// A CamelCase identifier for a WIT name (`Self` is the only keyword it can produce).
pub fn type_ident(kebab: &str) -> String {
    let s = camel(kebab);
    if s == "Self" {
        "Self_".to_owned()
    } else {
        s
    }
}

/// An identifier that must differ from `taken`: `name_` when it is taken.
pub fn avoid(name: String, taken: &[&str]) -> String {
    if taken.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// The scalar spellings: WIT kind → (API type, raw type).
fn scalar(ty: &Type) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        Type::Bool => ("bool", "u8"),
        Type::S8 => ("i8", "i8"),
        Type::U8 => ("u8", "u8"),
        Type::S16 => ("i16", "i16"),
        Type::U16 => ("u16", "u16"),
        Type::S32 => ("i32", "i32"),
        Type::U32 => ("u32", "u32"),
        Type::S64 => ("i64", "i64"),
        Type::U64 => ("u64", "u64"),
        Type::F32 => ("f32", "f32"),
        Type::F64 => ("f64", "f64"),
        Type::Char => ("char", "u32"),
        _ => return None,
    })
}

/// True for plain data (see the module docs).
pub fn is_plain(ty: &Type) -> bool {
    match ty {
        Type::Bool | Type::Char => false,
        Type::Flags { .. } => true,
        Type::Record { fields, .. } => fields.iter().all(|(_, t)| is_plain(t)),
        t => scalar(t).is_some(),
    }
}

/// The flags' bit-set integer.
pub fn flags_repr(count: usize) -> &'static str {
    if count <= 32 {
        "u32"
    } else {
        "u64"
    }
}

/// Which side the code is for: the paths of its support crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A plugin: `polyplug_guest`.
    Guest,
    /// A host: `polyplug`.
    Host,
}

impl Side {
    /// The codec module: `pp::rt` or `pp::codec`.
    pub fn codec(self) -> &'static str {
        match self {
            Side::Guest => "pp::rt",
            Side::Host => "pp::codec",
        }
    }

    /// The error type of decoding: one type on both sides (the checks of
    /// `polyplug_abi::check`), so lifts and their closures compose; a guest's `?` makes it a
    /// `pp::Error`.
    pub fn decode_error(self) -> &'static str {
        match self {
            Side::Guest => "pp::rt::Malformed",
            Side::Host => "pp::codec::Malformed",
        }
    }

    /// The error type of encoding.
    pub fn encode_error(self) -> &'static str {
        match self {
            Side::Guest => "pp::Error",
            Side::Host => "pp::Error",
        }
    }

    /// The type of the arena encoding writes into.
    pub fn arena_type(self) -> &'static str {
        match self {
            Side::Guest => "pp::rt::ResultArena<'_>",
            Side::Host => "pp::abi::CallArena",
        }
    }
}

/// A generated expression: a value, or (when `fallible`) a `Result` to be `?`-ed. `unsafe_`
/// says it calls an unsafe decoding function and must sit in an `unsafe` block.
#[derive(Clone, Debug)]
pub struct Expr {
    pub code: String,
    pub fallible: bool,
    pub unsafe_: bool,
}

impl Expr {
    fn value(code: String) -> Expr {
        Expr {
            code,
            fallible: false,
            unsafe_: false,
        }
    }

    fn call(code: String, unsafe_: bool) -> Expr {
        Expr {
            code,
            fallible: true,
            unsafe_,
        }
    }

    /// The expression as a value (with `?` when fallible).
    pub fn as_value(&self) -> String {
        if self.fallible {
            format!("{}?", self.code)
        } else {
            self.code.clone()
        }
    }

    /// The expression as a `Result` (in `Ok` when infallible).
    pub fn as_result(&self) -> String {
        if self.fallible {
            self.code.clone()
        } else {
            format!("Ok({})", self.code)
        }
    }
}

/// `*r` for a reference expression `r`; `place` for `&place`.
fn deref(r: &str) -> String {
    match r.strip_prefix('&') {
        Some(place) => place.to_owned(),
        None => format!("*{r}"),
    }
}

/// A receiver for a method or field access: `place` for `&place`, `r` itself otherwise (auto-deref).
fn recv(r: &str) -> &str {
    r.strip_prefix('&').unwrap_or(r)
}

/// A type that needs its own conversion functions (`lift_x`/`lower_x`) and raw struct: a record
/// that is not plain data, or a tuple.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The type.
    pub ty: Type,
    /// Its raw struct's name in the `raw` module.
    pub raw: String,
    /// The snake-case stem of its `lift_`/`lower_` functions.
    pub stem: String,
}

/// The names of one contract's generated items, and the spelling of its types.
#[derive(Debug)]
pub struct Types {
    /// Named types (records, enums, flags) in first-use order.
    pub named: Vec<Type>,
    /// WIT name → Rust type name.
    names: HashMap<String, String>,
    /// Records that are not plain and tuples, in first-use order.
    pub converted: Vec<Converted>,
    /// Names taken in the `raw` module.
    raw_taken: HashSet<String>,
}

impl Types {
    /// Collects every type of `contract`; `reserved` are type names the file defines itself
    /// (the trait, the callers).
    pub fn new(contract: &Contract, reserved: &[String]) -> Types {
        let mut t = Types {
            named: Vec::new(),
            names: HashMap::new(),
            converted: Vec::new(),
            raw_taken: HashSet::new(),
        };
        let mut taken: HashSet<String> = RESERVED_TYPES.iter().map(|s| s.to_string()).collect();
        taken.extend(reserved.iter().cloned());
        for f in &contract.functions {
            for ty in f.params.iter().map(|p| &p.ty).chain(&f.result) {
                t.collect(ty, &mut taken);
            }
        }
        t
    }

    fn collect(&mut self, ty: &Type, taken: &mut HashSet<String>) {
        if let Some(name) = ty.name() {
            if !self.names.contains_key(name) {
                let mut rust = type_ident(name);
                while taken.contains(&rust) {
                    rust.push_str("Type");
                }
                taken.insert(rust.clone());
                self.names.insert(name.to_owned(), rust);
                self.named.push(ty.clone());
            }
        }
        for child in ty.children() {
            self.collect(child, taken);
        }
        let needs_struct = match ty {
            Type::Record { .. } => !is_plain(ty),
            Type::Tuple(_) => true,
            _ => false,
        };
        if needs_struct && !self.converted.iter().any(|c| &c.ty == ty) {
            let base = match ty {
                Type::Record { name, .. } => self.names[name].clone(),
                _ => format!(
                    "Tuple{}",
                    self.converted
                        .iter()
                        .filter(|c| matches!(c.ty, Type::Tuple(_)))
                        .count()
                ),
            };
            let raw = self.raw_name(base);
            let stem = camel_to_snake(&raw);
            self.converted.push(Converted {
                ty: ty.clone(),
                raw,
                stem,
            });
        }
    }

    /// Reserves a unique name in the `raw` module.
    pub fn raw_name(&mut self, base: String) -> String {
        let mut name = base;
        while self.raw_taken.contains(&name) {
            name.push('_');
        }
        self.raw_taken.insert(name.clone());
        name
    }

    /// The Rust name of a named type.
    pub fn name_of<'a>(&'a self, ty: &'a Type) -> &'a str {
        let name = ty.name().unwrap_or_default();
        self.names.get(name).map_or(name, String::as_str)
    }

    fn converted(&self, ty: &Type) -> Option<&Converted> {
        self.converted.iter().find(|c| &c.ty == ty)
    }

    /// The API type.
    pub fn api(&self, ty: &Type) -> String {
        if let Some((api, _)) = scalar(ty) {
            return api.to_owned();
        }
        match ty {
            Type::String => "String".to_owned(),
            Type::Bytes => "Vec<u8>".to_owned(),
            Type::List(e) => format!("Vec<{}>", self.api(e)),
            Type::Record { .. } | Type::Enum { .. } | Type::Flags { .. } => {
                self.name_of(ty).to_owned()
            }
            Type::Option(t) => format!("Option<{}>", self.api(t)),
            Type::Result { ok, err } => format!(
                "Result<{}, {}>",
                self.api_or_unit(ok.as_deref()),
                self.api_or_unit(err.as_deref())
            ),
            Type::Tuple(ts) => tuple(ts.iter().map(|t| self.api(t)).collect()),
            _ => unreachable!("scalars are handled above"),
        }
    }

    fn api_or_unit(&self, ty: Option<&Type>) -> String {
        ty.map_or_else(|| "()".to_owned(), |t| self.api(t))
    }

    /// The raw (ABI) type, spelled for use anywhere in the file (including the `raw` module,
    /// which imports the file's items).
    pub fn raw(&self, ty: &Type, side: Side) -> String {
        if let Some((_, raw)) = scalar(ty) {
            return raw.to_owned();
        }
        match ty {
            Type::String => "pp::abi::Str".to_owned(),
            Type::Bytes => "pp::abi::Bytes".to_owned(),
            Type::List(_) => "pp::abi::List".to_owned(),
            Type::Enum { .. } => "u32".to_owned(),
            Type::Flags { .. } => self.name_of(ty).to_owned(),
            Type::Record { .. } if is_plain(ty) => self.name_of(ty).to_owned(),
            Type::Record { .. } | Type::Tuple(_) => {
                format!("raw::{}", self.converted(ty).map_or("?", |c| &c.raw))
            }
            Type::Option(t) => format!("{}::RawOption<{}>", side.codec(), self.raw(t, side)),
            Type::Result { ok, err } => format!(
                "{}::RawResult<{}, {}>",
                side.codec(),
                self.raw_or_unit(ok.as_deref(), side),
                self.raw_or_unit(err.as_deref(), side)
            ),
            _ => unreachable!("scalars are handled above"),
        }
    }

    fn raw_or_unit(&self, ty: Option<&Type>, side: Side) -> String {
        ty.map_or_else(|| "()".to_owned(), |t| self.raw(t, side))
    }

    /// The type of a guest trait parameter: borrowed for strings, byte lists and lists of plain
    /// data (views of the caller's memory), owned otherwise.
    pub fn guest_param(&self, ty: &Type) -> String {
        match ty {
            Type::String => "&str".to_owned(),
            Type::Bytes => "&[u8]".to_owned(),
            Type::List(e) if is_plain(e) => format!("&[{}]", self.api(e)),
            _ => self.api(ty),
        }
    }

    /// The type of a host caller parameter: by value for scalars, enums and flags, borrowed
    /// otherwise (`&str`, `&[u8]`, `&[T]`, `&Record`...).
    pub fn host_param(&self, ty: &Type) -> String {
        match ty {
            Type::String => "&str".to_owned(),
            Type::Bytes => "&[u8]".to_owned(),
            Type::List(e) => format!("&[{}]", self.api(e)),
            Type::Enum { .. } | Type::Flags { .. } => self.api(ty),
            t if scalar(t).is_some() => self.api(ty),
            _ => format!("&{}", self.api(ty)),
        }
    }

    /// True when a host parameter of this type is passed by value.
    pub fn host_param_by_value(ty: &Type) -> bool {
        matches!(ty, Type::Enum { .. } | Type::Flags { .. }) || scalar(ty).is_some()
    }

    /// Decoding: the API value of the raw value that the reference expression `r` points to.
    pub fn lift(&self, ty: &Type, r: &str, side: Side) -> Expr {
        let rt = side.codec();
        match ty {
            Type::Bool => Expr::call(format!("{rt}::bool_from({})", deref(r)), false),
            Type::Char => Expr::call(format!("{rt}::char_from({})", deref(r)), false),
            Type::Enum { name, cases } => Expr::call(
                format!(
                    "{rt}::enum_from({}, {}::from_raw, {name:?}, {})",
                    deref(r),
                    self.name_of(ty),
                    cases.len()
                ),
                false,
            ),
            Type::String => Expr::call(format!("{rt}::string_from({})", deref(r)), true),
            Type::Bytes => Expr::call(format!("{rt}::bytes_from({})", deref(r)), true),
            Type::List(e) if is_plain(e) => {
                let api = self.api(e);
                Expr::call(
                    format!(
                        "{rt}::list_view::<{api}>({}).map(<[{api}]>::to_vec)",
                        deref(r)
                    ),
                    true,
                )
            }
            Type::List(e) => Expr::call(
                format!(
                    "{rt}::vec_from({}, |e: &{}| {})",
                    deref(r),
                    self.raw(e, side),
                    self.lift(e, "e", side).as_result()
                ),
                true,
            ),
            Type::Option(t) => Expr::call(
                format!(
                    "{rt}::option_from({r}, |v: &{}| {})",
                    self.raw(t, side),
                    self.lift(t, "v", side).as_result()
                ),
                true,
            ),
            Type::Result { ok, err } => {
                let arm = |t: Option<&Type>| match t {
                    Some(t) => format!(
                        "|v: &{}| {}",
                        self.raw(t, side),
                        self.lift(t, "v", side).as_result()
                    ),
                    None => "|_: &()| Ok(())".to_owned(),
                };
                Expr::call(
                    format!(
                        "{rt}::result_from({r}, {}, {})",
                        arm(ok.as_deref()),
                        arm(err.as_deref())
                    ),
                    true,
                )
            }
            Type::Record { .. } | Type::Tuple(_) if !is_plain(ty) => {
                let c = self.converted(ty).map_or("?", |c| &c.stem);
                Expr::call(format!("lift_{c}({r})"), true)
            }
            // Plain data: the raw value is the API value.
            _ => Expr::value(deref(r)),
        }
    }

    /// True when encoding this type for `side` writes into an arena (and so can fail).
    pub fn needs_arena(&self, ty: &Type, side: Side) -> bool {
        match ty {
            Type::String | Type::Bytes => side == Side::Guest,
            Type::List(e) => side == Side::Guest || !is_plain(e) || self.needs_arena(e, side),
            _ => ty.children().any(|c| self.needs_arena(c, side)),
        }
    }

    /// Encoding: the raw value of the API value that the reference expression `r` points to.
    /// Guest code copies strings and lists into the result arena `arena`; host code passes views
    /// of the caller's memory and builds only converted lists in the call's arena `arena`.
    pub fn lower(&self, ty: &Type, r: &str, side: Side) -> Expr {
        let rt = side.codec();
        let guest = side == Side::Guest;
        match ty {
            Type::Bool => Expr::value(format!("u8::from({})", deref(r))),
            Type::Char | Type::Enum { .. } => Expr::value(format!("u32::from({})", deref(r))),
            Type::String if guest => Expr::call(format!("arena.str({r})"), false),
            Type::String => Expr::value(format!("pp::abi::Str::new({r})")),
            Type::Bytes if guest => Expr::call(format!("arena.bytes({r})"), false),
            Type::Bytes => Expr::value(format!("pp::abi::Bytes::new({r})")),
            Type::List(e) if is_plain(e) && guest => {
                Expr::call(format!("arena.slice({}.as_slice())", recv(r)), false)
            }
            Type::List(e) if is_plain(e) => {
                Expr::value(format!("pp::abi::List::new({}.as_slice())", recv(r)))
            }
            Type::List(e) => {
                let each = self.lower_each(e, side);
                let items = format!("{}.as_slice()", recv(r));
                if guest {
                    Expr::call(format!("arena.list({items}, {each})"), false)
                } else {
                    Expr::call(format!("{rt}::list_into(arena, {items}, {each})"), false)
                }
            }
            Type::Option(t) => {
                let v = self.lower(t, "v", side);
                Expr::value(format!(
                    "match {r} {{ Some(v) => {rt}::RawOption::some({}), None => {rt}::RawOption::none() }}",
                    v.as_value()
                ))
            }
            Type::Result { ok, err } => {
                let arm = |t: Option<&Type>| match t {
                    Some(t) => self.lower(t, "v", side).as_value(),
                    None => "()".to_owned(),
                };
                let bind = |t: Option<&Type>| if t.is_some() { "v" } else { "()" };
                Expr::value(format!(
                    "match {r} {{ Ok({}) => {rt}::RawResult::ok({}), Err({}) => {rt}::RawResult::err({}) }}",
                    bind(ok.as_deref()),
                    arm(ok.as_deref()),
                    bind(err.as_deref()),
                    arm(err.as_deref())
                ))
            }
            Type::Record { .. } | Type::Tuple(_) if !is_plain(ty) => {
                let c = self.converted(ty).map_or("?", |c| &c.stem);
                if self.needs_arena(ty, side) {
                    Expr::call(format!("lower_{c}(arena, {r})"), false)
                } else {
                    Expr::value(format!("lower_{c}({r})"))
                }
            }
            _ => Expr::value(deref(r)),
        }
    }

    /// The encoder of one list element, `|arena, e| ...` (what `list`/`list_into` call).
    pub fn lower_each(&self, e: &Type, side: Side) -> String {
        let uses_arena = self.needs_arena(e, side);
        match self.converted(e) {
            // The element's own encoder has the closure's signature.
            Some(c) if uses_arena => format!("lower_{}", c.stem),
            _ => {
                let arena = if uses_arena { "arena" } else { "_" };
                format!("|{arena}, e| {}", self.lower(e, "e", side).as_result())
            }
        }
    }

    /// A reference to member `i` (named `field` for records) of the value `r` points to.
    pub fn member_ref(r: &str, member: &str) -> String {
        format!("&{}.{member}", recv(r))
    }
}

/// A Rust tuple type or expression of `items` (a 1-tuple keeps its comma).
pub fn tuple(items: Vec<String>) -> String {
    if items.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    }
}

/// `TupleLabel2` → `tuple_label2`.
fn camel_to_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_escaped() {
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
        assert_eq!(ident("line-count"), "line_count");
        assert_eq!(type_ident("self"), "Self_");
        assert_eq!(type_ident("shape-kind"), "ShapeKind");
        assert_eq!(avoid("cx".into(), &["cx"]), "cx_");
        assert_eq!(camel_to_snake("TupleLabel2"), "tuple_label2");
    }

    #[test]
    fn plain_data() {
        let point = Type::Record {
            name: "point".into(),
            fields: vec![("x".into(), Type::S32), ("y".into(), Type::F64)],
        };
        assert!(is_plain(&point));
        assert!(!is_plain(&Type::Bool));
        assert!(!is_plain(&Type::Tuple(vec![Type::U8])));
        let with_enum = Type::Record {
            name: "r".into(),
            fields: vec![(
                "k".into(),
                Type::Enum {
                    name: "k".into(),
                    cases: vec!["a".into()],
                },
            )],
        };
        assert!(!is_plain(&with_enum));
    }

    #[test]
    fn references_are_not_doubled() {
        assert_eq!(deref("&x.a"), "x.a");
        assert_eq!(deref("v"), "*v");
        assert_eq!(Types::member_ref("&x.a", "0"), "&x.a.0");
        assert_eq!(Types::member_ref("v", "f0"), "&v.f0");
    }
}
