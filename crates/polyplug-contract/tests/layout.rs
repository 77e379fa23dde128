//! Layouts computed through the ABI's algorithm match what a C compiler (here `#[repr(C)]`)
//! lays out for the same shapes.

use polyplug_abi::{Bytes, Layout, List, Str};
use polyplug_contract::{
    CompiledContract, Contract, FuncLayout, Function, Param, Shape, Type, TypeLayout, Version,
};
use std::mem::{align_of, offset_of, size_of};

fn layout_of<T>() -> Layout {
    Layout {
        size: size_of::<T>() as u32,
        align: align_of::<T>() as u32,
    }
}

/// The layouts of a contract with one function `f(params) -> result`.
fn func(params: Vec<Type>, result: Option<Type>) -> FuncLayout {
    let params = params
        .into_iter()
        .enumerate()
        .map(|(i, t)| Param::new(format!("p{i}"), t))
        .collect();
    let c = Contract::new(
        "test:layout/api",
        Version::new(1, 0, 0),
        vec![Function::new("f", params, result)],
    );
    let mut layouts = c.layouts().expect("valid");
    layouts.remove(0)
}

fn type_layout(ty: Type) -> TypeLayout {
    func(vec![], Some(ty)).result.expect("a result")
}

fn color() -> Type {
    Type::Enum {
        name: "color".into(),
        cases: vec!["red".into(), "green".into(), "blue".into()],
    }
}

/// `record mixed { a: u8, b: u64, c: u16, s: string, d: f32, e: bool }`
fn mixed() -> Type {
    Type::Record {
        name: "mixed".into(),
        fields: vec![
            ("a".into(), Type::U8),
            ("b".into(), Type::U64),
            ("c".into(), Type::U16),
            ("s".into(), Type::String),
            ("d".into(), Type::F32),
            ("e".into(), Type::Bool),
        ],
    }
}

#[repr(C)]
struct Mixed {
    a: u8,
    b: u64,
    c: u16,
    s: Str,
    d: f32,
    e: bool,
}

#[test]
fn record_with_mixed_sizes() {
    let l = type_layout(mixed());
    assert_eq!(l.layout, layout_of::<Mixed>());
    assert_eq!(
        l.field_offsets(),
        [
            offset_of!(Mixed, a),
            offset_of!(Mixed, b),
            offset_of!(Mixed, c),
            offset_of!(Mixed, s),
            offset_of!(Mixed, d),
            offset_of!(Mixed, e),
        ]
        .map(|o| o as u32)
    );
    let Shape::Struct { members, .. } = &l.shape else {
        panic!("a record is a struct: {l:?}");
    };
    assert_eq!(members[3].layout, layout_of::<Str>());
    assert_eq!(members[3].shape, Shape::Leaf);
}

#[repr(C)]
struct OptU64 {
    is_some: u8,
    value: u64,
}

#[test]
fn option_of_u64() {
    let l = type_layout(Type::option(Type::U64));
    assert_eq!(l.layout, layout_of::<OptU64>());
    assert_eq!(l.payload_offset(), Some(offset_of!(OptU64, value) as u32));
    assert!(matches!(&l.shape, Shape::Option { value, .. } if value.layout == layout_of::<u64>()));
}

#[repr(C)]
union StrOrEnum {
    ok: Str,
    err: u32,
}

#[repr(C)]
struct ResStrEnum {
    is_err: u8,
    payload: StrOrEnum,
}

#[test]
fn result_of_string_or_enum() {
    let l = type_layout(Type::result(Some(Type::String), Some(color())));
    assert_eq!(l.layout, layout_of::<ResStrEnum>());
    assert_eq!(
        l.payload_offset(),
        Some(offset_of!(ResStrEnum, payload) as u32)
    );
    let Shape::Result { ok, err, .. } = &l.shape else {
        panic!("{l:?}");
    };
    assert_eq!(ok.as_ref().map(|t| t.layout), Some(layout_of::<Str>()));
    assert_eq!(err.as_ref().map(|t| t.layout), Some(layout_of::<u32>()));
}

#[repr(C)]
struct ResErrOnly {
    is_err: u8,
    payload: u16,
}

#[test]
fn results_without_payloads() {
    let l = type_layout(Type::result(None, None));
    assert_eq!(l.layout, layout_of::<u8>());
    assert_eq!(l.payload_offset(), Some(1));
    let l = type_layout(Type::result(None, Some(Type::U16)));
    assert_eq!(l.layout, layout_of::<ResErrOnly>());
    assert_eq!(
        l.payload_offset(),
        Some(offset_of!(ResErrOnly, payload) as u32)
    );
}

#[repr(C)]
struct Tup(u16, f64, u8, u32);

#[test]
fn tuple() {
    let l = type_layout(Type::Tuple(vec![
        Type::U16,
        Type::F64,
        Type::U8,
        Type::Char,
    ]));
    assert_eq!(l.layout, layout_of::<Tup>());
    assert_eq!(
        l.field_offsets(),
        [
            offset_of!(Tup, 0),
            offset_of!(Tup, 1),
            offset_of!(Tup, 2),
            offset_of!(Tup, 3)
        ]
        .map(|o| o as u32)
    );
}

#[repr(C)]
struct OptMixed {
    is_some: u8,
    value: Mixed,
}

#[repr(C)]
struct Nested {
    items: List,
    maybe: OptMixed,
    colors: u64,
    flag: bool,
}

#[test]
fn nesting_lists_and_wide_flags() {
    let wide = Type::Flags {
        name: "wide".into(),
        flags: (0..40).map(|i| format!("f{i}")).collect(),
    };
    let nested = Type::Record {
        name: "nested".into(),
        fields: vec![
            ("items".into(), Type::list(mixed())),
            ("maybe".into(), Type::option(mixed())),
            ("colors".into(), wide),
            ("flag".into(), Type::Bool),
        ],
    };
    let l = type_layout(nested);
    assert_eq!(l.layout, layout_of::<Nested>());
    assert_eq!(
        l.field_offsets(),
        [
            offset_of!(Nested, items),
            offset_of!(Nested, maybe),
            offset_of!(Nested, colors),
            offset_of!(Nested, flag)
        ]
        .map(|o| o as u32)
    );
    let Shape::Struct { members, .. } = &l.shape else {
        panic!("{l:?}");
    };
    // A list's element layout gives the stride of the array its view points to.
    let Shape::List { elem } = &members[0].shape else {
        panic!("{:?}", members[0]);
    };
    assert_eq!(elem.layout, layout_of::<Mixed>());
    assert_eq!(
        members[1].payload_offset(),
        Some(offset_of!(OptMixed, value) as u32)
    );
}

#[repr(C)]
struct Args {
    a: u8,
    b: Mixed,
    c: OptU64,
    d: Bytes,
}

#[test]
fn argument_structs() {
    let f = func(
        vec![Type::U8, mixed(), Type::option(Type::U64), Type::Bytes],
        Some(Type::result(Some(Type::String), Some(color()))),
    );
    assert_eq!(f.args, layout_of::<Args>());
    assert_eq!(
        f.param_offsets,
        [
            offset_of!(Args, a),
            offset_of!(Args, b),
            offset_of!(Args, c),
            offset_of!(Args, d)
        ]
        .map(|o| o as u32)
    );
    assert_eq!(f.ret, layout_of::<ResStrEnum>());
    assert_eq!(f.params.len(), 4);
    assert_eq!(f.params[2].layout, layout_of::<OptU64>());

    let none = func(vec![], None);
    assert_eq!((none.args, none.ret), (Layout::EMPTY, Layout::EMPTY));
    assert!(none.param_offsets.is_empty() && none.result.is_none());
}

#[test]
fn compiled_contracts_keep_their_layouts() {
    let c = Contract::new(
        "test:layout/api",
        Version::new(1, 0, 0),
        vec![
            Function::new("g", vec![Param::new("x", Type::U32)], Some(Type::U64)),
            Function::new("h", vec![], Some(mixed())),
        ],
    );
    let compiled = CompiledContract::new(c.clone()).expect("valid");
    assert_eq!(compiled.contract(), &c);
    assert_eq!(compiled.layouts(), c.layouts().expect("valid").as_slice());
    let (i, f, l) = compiled.find("h").expect("h");
    assert_eq!((i, f.name.as_str()), (1, "h"));
    assert_eq!(l.ret, layout_of::<Mixed>());
    assert_eq!(
        compiled.function(0).map(|(_, l)| l.args),
        Some(layout_of::<u32>())
    );
    assert!(compiled.function(2).is_none() && compiled.find("nope").is_none());
    assert_eq!(compiled.desc(), compiled.raw().desc());
    assert_eq!(compiled.into_contract(), c);
}
