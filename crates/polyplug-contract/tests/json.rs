//! JSON marshalling (`json` module): every kind in both directions against `#[repr(C)]` structs
//! (the C layout), round trips through encode then decode, and precise errors for malformed
//! arguments and malformed provider results.

use polyplug_abi::{CallArena, List, Str};
use polyplug_contract::json::{
    decode, decode_result, encode_args, encode_value, MarshalError, RetBuffer, MAX_VALUES,
    MAX_VIEW_BYTES,
};
use polyplug_contract::{CompiledContract, Contract, Function, Param, Type, TypeLayout, Version};
use serde_json::{json, Value};
use std::mem::{offset_of, size_of};

const GEOMETRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/wit/geometry.wit"
);

fn geometry() -> CompiledContract {
    let mut contracts = polyplug_contract::wit::parse_file(GEOMETRY).expect("the fixture parses");
    contracts.remove(0).compile().expect("the fixture is valid")
}

fn arena() -> CallArena {
    CallArena::new(64).expect("memory for a test arena")
}

/// A contract with one function `f(x: ty) -> ty`.
fn identity(ty: Type) -> CompiledContract {
    Contract::new(
        "test:json/id",
        Version::new(1, 0, 0),
        vec![Function::new(
            "f",
            vec![Param::new("x", ty.clone())],
            Some(ty),
        )],
    )
    .compile()
    .expect("a valid test contract")
}

/// Encodes `[v]` as the arguments of `f(x: ty)`, then decodes the one-parameter argument struct
/// (which has `ty`'s layout) back: both directions through the C layout.
fn round_trip(ty: Type, v: Value) -> Value {
    let c = identity(ty);
    let (_, f, lay) = c.find("f").expect("declared");
    let mut a = arena();
    let args = encode_args(f, lay, &json!([v]), &mut a).unwrap_or_else(|e| panic!("{e}"));
    let result = lay.result.as_ref().expect("a result");
    assert_eq!(args.len(), result.layout.size as usize);
    // SAFETY: the argument struct of `f(x: ty)` is laid out as `ty`; its views point into `a`,
    // alive and unchanged.
    unsafe {
        decode(
            f.result.as_ref().expect("a result"),
            result,
            args.as_ptr().cast(),
        )
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

fn encode_err(ty: Type, v: Value) -> String {
    let c = identity(ty);
    let (_, f, lay) = c.find("f").expect("declared");
    let mut a = arena();
    encode_args(f, lay, &json!([v]), &mut a)
        .expect_err("the value must be refused")
        .to_string()
}

/// Decodes `bytes` (the C representation of a `ty`) and returns the error.
fn decode_err(ty: Type, bytes: &[u8]) -> String {
    let lay = type_layout(&ty);
    let mut ret = RetBuffer::new(lay.layout);
    ret.as_bytes_mut().copy_from_slice(bytes);
    // SAFETY: the buffer holds `size` bytes; views in the tests are null, or point to live
    // memory, or carry lengths the decoder refuses before reading.
    unsafe { decode(&ty, &lay, ret.as_ptr()) }
        .expect_err("the bytes must be refused")
        .to_string()
}

fn type_layout(ty: &Type) -> TypeLayout {
    let c = identity(ty.clone());
    c.layouts()[0].result.clone().expect("a result")
}

fn bytes_of<T>(v: &T) -> Vec<u8> {
    // SAFETY: reading the object representation of a `repr(C)` value without padding (only
    // used for `Point` and `Rect`, all `i32`s).
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, size_of::<T>()).to_vec() }
}

/// The bytes of a `size`-byte C struct with zeroed padding and `fields` (offset, bytes) set: the
/// expected encoding of a struct with padding, whose padding bytes a Rust value does not keep.
fn c_struct(size: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
    let mut out = vec![0; size];
    for (off, bytes) in fields {
        out[*off..off + bytes.len()].copy_from_slice(bytes);
    }
    out
}

/// A zeroed `T`, to fill in field by field.
fn zeroed<T>() -> T {
    // SAFETY: only used for `repr(C)` test structs of integers and raw views, for which all
    // zero bytes is a valid value.
    unsafe { std::mem::zeroed() }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    origin: Point,
    size: Point,
}

#[repr(C)]
struct OptKind {
    is_some: u8,
    value: u32,
}

#[repr(C)]
struct Label {
    text: Str,
    tags: List,
    style: u32,
    kind: OptKind,
    area: u64,
}

#[repr(C)]
union PointOrStr {
    ok: Point,
    err: Str,
}

#[repr(C)]
struct ParsePoint {
    is_err: u8,
    payload: PointOrStr,
}

#[repr(C)]
struct SwapIn {
    a: u8,
    b: u64,
}

#[repr(C)]
struct SwapOut {
    a: u64,
    b: u8,
}

#[repr(C)]
struct OptChar {
    is_some: u8,
    value: u32,
}

// ---- encoding against the C layout ----

#[test]
fn records_encode_as_c_structs() {
    let c = geometry();
    let (_, f, lay) = c.find("translate").expect("declared");
    let mut a = arena();
    let args = encode_args(
        f,
        lay,
        &json!([{"origin": {"x": 1, "y": -2}, "size": {"x": 30, "y": 40}}, {"x": 5, "y": 6}]),
        &mut a,
    )
    .unwrap();
    #[repr(C)]
    struct TranslateArgs {
        r: Rect,
        by: Point,
    }
    let want = TranslateArgs {
        r: Rect {
            origin: Point { x: 1, y: -2 },
            size: Point { x: 30, y: 40 },
        },
        by: Point { x: 5, y: 6 },
    };
    assert_eq!(args.as_bytes(), bytes_of(&want));
    assert_eq!(args.as_ptr() as usize % 16, 0, "the buffer is 16-aligned");
    // The same arguments by name.
    let by_name = encode_args(
        f,
        lay,
        &json!({"by": {"x": 5, "y": 6}, "r": {"size": {"x": 30, "y": 40}, "origin": {"x": 1, "y": -2}}}),
        &mut a,
    )
    .unwrap();
    assert_eq!(by_name.as_bytes(), bytes_of(&want));
}

#[test]
fn strings_and_byte_lists_are_copied_into_the_arena() {
    let c = geometry();
    let (_, echo, lay) = c.find("echo").expect("declared");
    let mut a = arena();
    let args = encode_args(echo, lay, &json!(["héllo"]), &mut a).unwrap();
    // SAFETY: the argument struct of `echo(s: string)` is one `Str`, 16-aligned.
    let view = unsafe { &*(args.as_ptr() as *const Str) };
    // SAFETY: the view points into `a`, which `args` borrows.
    assert_eq!(unsafe { view.to_str() }, Ok("héllo"));
    drop(args);
    let empty = encode_args(echo, lay, &json!({"s": ""}), &mut a).unwrap();
    assert_eq!(
        empty.as_bytes(),
        vec![0; 2 * size_of::<usize>()],
        "empty is {{null, 0}}"
    );
    drop(empty);

    let (_, checksum, lay) = c.find("checksum").expect("declared");
    for input in [json!([[1, 2, 255]]), json!(["\u{1}\u{2}"])] {
        let args = encode_args(checksum, lay, &input, &mut a).unwrap();
        // SAFETY: `checksum(data: list<u8>)` takes one `Bytes` view.
        let view = unsafe { &*(args.as_ptr() as *const polyplug_abi::Bytes) };
        // SAFETY: the view points into `a`.
        let got = unsafe { view.as_slice() }.to_vec();
        let want: Vec<u8> = if input[0].is_string() {
            vec![1, 2]
        } else {
            vec![1, 2, 255]
        };
        assert_eq!(got, want);
    }
}

#[test]
fn lists_tuples_options_and_results_encode_as_c_layouts() {
    let c = geometry();
    let mut a = arena();

    let (_, sum, lay) = c.find("sum").expect("declared");
    let args = encode_args(sum, lay, &json!([[1.5, -2, 1e300]]), &mut a).unwrap();
    // SAFETY: `sum(values: list<f64>)` takes one `List` view of f64s.
    let view = unsafe { &*(args.as_ptr() as *const List) };
    // SAFETY: the view points to three f64s in `a`, aligned by the arena.
    assert_eq!(unsafe { view.as_slice::<f64>() }, &[1.5, -2.0, 1e300]);
    drop(args);

    let (_, swap, lay) = c.find("swap").expect("declared");
    let args = encode_args(swap, lay, &json!([[7, 18446744073709551615u64]]), &mut a).unwrap();
    let want = c_struct(
        size_of::<SwapIn>(),
        &[
            (offset_of!(SwapIn, a), &[7]),
            (offset_of!(SwapIn, b), &u64::MAX.to_ne_bytes()),
        ],
    );
    assert_eq!(args.as_bytes(), want);

    // option<char> as a parameter, result<point, string> via encode_value.
    let opt = identity(Type::option(Type::Char));
    let (_, f, lay) = opt.find("f").expect("declared");
    let args = encode_args(f, lay, &json!(["é"]), &mut a).unwrap();
    let want = c_struct(
        size_of::<OptChar>(),
        &[
            (offset_of!(OptChar, is_some), &[1]),
            (offset_of!(OptChar, value), &('é' as u32).to_ne_bytes()),
        ],
    );
    assert_eq!(args.as_bytes(), want);
    let none = encode_args(f, lay, &json!([null]), &mut a).unwrap();
    assert_eq!(none.as_bytes(), vec![0; size_of::<OptChar>()]);

    let (_, parse, plays) = c.find("parse-point").expect("declared");
    let ty = parse.result.as_ref().expect("a result");
    let tl = plays.result.as_ref().expect("a result");
    let mut out = vec![0u8; size_of::<ParsePoint>()];
    encode_value(ty, tl, &json!({"ok": {"x": 3, "y": 4}}), &mut out, &mut a).unwrap();
    let payload = offset_of!(ParsePoint, payload);
    let want = c_struct(
        size_of::<ParsePoint>(),
        &[(payload, &bytes_of(&Point { x: 3, y: 4 }))],
    );
    assert_eq!(out, want);
    let mut out = vec![0u8; size_of::<ParsePoint>()];
    encode_value(ty, tl, &json!({"err": "nope"}), &mut out, &mut a).unwrap();
    assert_eq!(out[0], 1, "err tag");
    let view_at = payload;
    let ptr = usize::from_ne_bytes(out[view_at..view_at + 8].try_into().unwrap());
    let len = usize::from_ne_bytes(out[view_at + 8..view_at + 16].try_into().unwrap());
    let s = Str {
        ptr: ptr as *const u8,
        len,
    };
    // SAFETY: the view points into `a`.
    assert_eq!(unsafe { s.to_str() }, Ok("nope"));
}

#[test]
fn enums_and_flags_encode_as_integers() {
    let style = Type::Flags {
        name: "style".into(),
        flags: vec!["bold".into(), "dashed".into(), "filled".into()],
    };
    let c = identity(style);
    let (_, f, lay) = c.find("f").expect("declared");
    let mut a = arena();
    let args = encode_args(f, lay, &json!([["filled", "bold"]]), &mut a).unwrap();
    assert_eq!(args.as_bytes(), 0b101u32.to_ne_bytes());

    let wide = Type::Flags {
        name: "wide".into(),
        flags: (0..40).map(|i| format!("f{i}")).collect(),
    };
    let c = identity(wide);
    let (_, f, lay) = c.find("f").expect("declared");
    let args = encode_args(f, lay, &json!([["f39", "f0"]]), &mut a).unwrap();
    assert_eq!(args.as_bytes(), ((1u64 << 39) | 1).to_ne_bytes());

    let kind = Type::Enum {
        name: "shape-kind".into(),
        cases: vec!["square".into(), "wide".into(), "tall".into()],
    };
    let c = identity(kind);
    let (_, f, lay) = c.find("f").expect("declared");
    let args = encode_args(f, lay, &json!(["tall"]), &mut a).unwrap();
    assert_eq!(args.as_bytes(), 2u32.to_ne_bytes());
}

// ---- decoding from the C layout ----

#[test]
fn records_with_strings_lists_flags_and_options_decode() {
    let c = geometry();
    let (_, describe, lay) = c.find("describe").expect("declared");
    let tags = [Str::new("a"), Str::new("bé")];
    let mut label: Label = zeroed();
    label.text = Str::new("box");
    label.tags = List::new(&tags);
    label.style = 0b110;
    label.kind = OptKind {
        is_some: 1,
        value: 1,
    };
    label.area = u64::MAX;
    // SAFETY: `label` is a `Label`, the C layout of `describe`'s result, and its views point to
    // static strings and `tags`, alive for the call.
    let v = unsafe { decode_result(describe, lay, &label as *const Label as *const u8) }.unwrap();
    assert_eq!(
        v,
        json!({"text": "box", "tags": ["a", "bé"], "style": ["dashed", "filled"], "kind": "wide", "area": 18446744073709551615u64})
    );
    label.kind.is_some = 0;
    label.tags = List::EMPTY;
    label.style = 0;
    // SAFETY: as above.
    let v = unsafe { decode_result(describe, lay, &label as *const Label as *const u8) }.unwrap();
    assert_eq!(v["kind"], Value::Null);
    assert_eq!(v["tags"], json!([]));
    assert_eq!(v["style"], json!([]));
}

#[test]
fn results_tuples_and_chars_decode() {
    let c = geometry();
    let (_, parse, lay) = c.find("parse-point").expect("declared");
    let mut r: ParsePoint = zeroed();
    r.payload.ok = Point { x: -1, y: 2 };
    // SAFETY: a `ParsePoint` is the C layout of `result<point, string>`.
    let v = unsafe { decode_result(parse, lay, &r as *const ParsePoint as *const u8) }.unwrap();
    assert_eq!(v, json!({"ok": {"x": -1, "y": 2}}));
    r.is_err = 1;
    r.payload.err = Str::new("bad point");
    // SAFETY: as above; the view points to a static string.
    let v = unsafe { decode_result(parse, lay, &r as *const ParsePoint as *const u8) }.unwrap();
    assert_eq!(v, json!({"err": "bad point"}));

    let (_, swap, lay) = c.find("swap").expect("declared");
    let mut s: SwapOut = zeroed();
    s.a = 1 << 60;
    s.b = 9;
    // SAFETY: a `SwapOut` is the C layout of `tuple<u64, u8>`.
    let v = unsafe { decode_result(swap, lay, &s as *const SwapOut as *const u8) }.unwrap();
    assert_eq!(v, json!([1u64 << 60, 9]));

    let (_, initial, lay) = c.find("initial").expect("declared");
    let mut o: OptChar = zeroed();
    o.is_some = 1;
    o.value = '🦀' as u32;
    // SAFETY: an `OptChar` is the C layout of `option<char>`.
    let v = unsafe { decode_result(initial, lay, &o as *const OptChar as *const u8) }.unwrap();
    assert_eq!(v, json!("🦀"));

    let (_, noop, lay) = geometry_noop();
    // SAFETY: a function without a result reads nothing.
    let v = unsafe { decode_result(&noop, &lay, std::ptr::null()) }.unwrap();
    assert_eq!(v, Value::Null);
}

fn geometry_noop() -> (CompiledContract, Function, polyplug_contract::FuncLayout) {
    let c = Contract::new(
        "test:json/noop",
        Version::new(1, 0, 0),
        vec![Function::new("noop", vec![], None)],
    )
    .compile()
    .expect("a valid test contract");
    let (f, lay) = c
        .function(0)
        .map(|(f, l)| (f.clone(), l.clone()))
        .expect("declared");
    (c, f, lay)
}

// ---- round trips: every kind, both directions ----

#[test]
fn every_kind_round_trips() {
    let cases: Vec<(Type, Value)> = vec![
        (Type::Bool, json!(true)),
        (Type::Bool, json!(false)),
        (Type::S8, json!(-128)),
        (Type::U8, json!(255)),
        (Type::S16, json!(-32768)),
        (Type::U16, json!(65535)),
        (Type::S32, json!(-2147483648i64)),
        (Type::U32, json!(4294967295u64)),
        (Type::S64, json!(i64::MIN)),
        (Type::U64, json!(u64::MAX)),
        (Type::F32, json!(0.1)),
        (Type::F32, json!(-3.5)),
        (Type::F64, json!(1e300)),
        (Type::F64, json!("NaN")),
        (Type::F64, json!("Infinity")),
        (Type::F32, json!("-Infinity")),
        (Type::Char, json!("x")),
        (Type::Char, json!("\u{10FFFF}")),
        (Type::String, json!("")),
        (Type::String, json!("a longer string with ünïcödé")),
        (Type::Bytes, json!([0, 1, 254, 255])),
        (Type::Bytes, json!([])),
        (Type::list(Type::String), json!(["a", "", "c"])),
        (
            Type::list(Type::list(Type::U16)),
            json!([[1, 2], [], [65535]]),
        ),
        (Type::list(Type::Bytes), json!([[1], [2, 3]])),
        (
            Type::Tuple(vec![Type::U8, Type::String, Type::F64]),
            json!([1, "two", 3.25]),
        ),
        (Type::option(Type::U64), json!(null)),
        (Type::option(Type::U64), json!(12)),
        (Type::option(Type::option(Type::U8)), json!(7)),
        (
            Type::result(Some(Type::String), Some(Type::U8)),
            json!({"ok": "fine"}),
        ),
        (
            Type::result(Some(Type::String), Some(Type::U8)),
            json!({"err": 3}),
        ),
        (Type::result(None, None), json!({"ok": null})),
        (Type::result(None, Some(Type::Bool)), json!({"err": true})),
        (Type::result(Some(Type::Bool), None), json!({"err": null})),
        (
            Type::Enum {
                name: "e".into(),
                cases: vec!["a".into(), "b".into()],
            },
            json!("b"),
        ),
        (
            Type::Flags {
                name: "fl".into(),
                flags: (0..64).map(|i| format!("f{i}")).collect(),
            },
            json!(["f0", "f31", "f32", "f63"]),
        ),
        (
            Type::Record {
                name: "nested".into(),
                fields: vec![
                    ("a".into(), Type::U8),
                    (
                        "b".into(),
                        Type::list(Type::Record {
                            name: "inner".into(),
                            fields: vec![
                                ("s".into(), Type::String),
                                ("o".into(), Type::option(Type::F32)),
                            ],
                        }),
                    ),
                    ("c".into(), Type::U64),
                ],
            },
            json!({"a": 1, "b": [{"s": "x", "o": null}, {"s": "y", "o": 2.5}], "c": 3}),
        ),
    ];
    for (ty, v) in cases {
        let what = format!("{ty} {v}");
        assert_eq!(round_trip(ty, v.clone()), v, "{what}");
    }
}

#[test]
fn lenient_inputs_normalise() {
    // A byte list may be given as a string; integral floats are integers.
    assert_eq!(round_trip(Type::Bytes, json!("AB")), json!([65, 66]));
    assert_eq!(round_trip(Type::U32, json!(1e3)), json!(1000));
    assert_eq!(round_trip(Type::S8, json!(-2.0)), json!(-2));
    assert_eq!(round_trip(Type::F64, json!(3)), json!(3.0));
    // Flags come back in declaration order.
    let fl = Type::Flags {
        name: "fl".into(),
        flags: vec!["a".into(), "b".into(), "c".into()],
    };
    assert_eq!(round_trip(fl, json!(["c", "a"])), json!(["a", "c"]));
    // option<option<T>>: some(none) cannot be told from none.
    assert_eq!(
        round_trip(Type::option(Type::option(Type::U8)), json!(null)),
        json!(null)
    );
}

// ---- malformed arguments ----

fn point() -> Type {
    Type::Record {
        name: "point".into(),
        fields: vec![("x".into(), Type::S32), ("y".into(), Type::S32)],
    }
}

#[test]
fn argument_errors_name_the_path() {
    let c = geometry();
    let (_, translate, lay) = c.find("translate").expect("declared");
    let mut a = arena();
    let mut err = |args: Value| -> String {
        encode_args(translate, lay, &args, &mut a)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        err(
            json!([{"origin": {"x": 4294967296u64, "y": 0}, "size": {"x": 0, "y": 0}}, {"x": 0, "y": 0}])
        ),
        "`r.origin.x`: 4294967296 is out of range for s32 (-2147483648..=2147483647)"
    );
    assert_eq!(
        err(json!([{"origin": {"x": 1}, "size": {"x": 0, "y": 0}}, {"x": 0, "y": 0}])),
        "`r.origin`: missing field `y` of record `point`"
    );
    assert_eq!(
        err(
            json!([{"origin": {"x": 1, "y": 2, "z": 3}, "size": {"x": 0, "y": 0}}, {"x": 0, "y": 0}])
        ),
        "`r.origin`: unknown field `z` of record `point` (its fields: x, y)"
    );
    assert_eq!(
        err(json!([{"origin": [1, 2], "size": {"x": 0, "y": 0}}, {"x": 0, "y": 0}])),
        "`r.origin`: expected an object (record `point`), found an array of 2 elements"
    );
    assert_eq!(
        err(json!([{"origin": {"x": 1, "y": 2}, "size": {"x": 0, "y": 0}}, {"x": "1", "y": 0}])),
        "`by.x`: expected an integer (s32), found the string \"1\""
    );
    assert_eq!(
        err(json!([1])),
        "`translate` takes 2 arguments (r, by), found 1"
    );
    assert_eq!(
        err(json!({"r": {}, "by": {}, "extra": 1})),
        "`translate` has no parameter `extra` (its parameters: r, by)"
    );
    assert_eq!(err(json!({"r": {}})), "missing argument `by`");
    assert_eq!(
        err(json!("r")),
        "arguments must be an array or an object keyed by parameter name, found the string \"r\""
    );
    assert_eq!(
        err(json!(null)),
        "arguments must be an array or an object keyed by parameter name, found null"
    );
}

#[test]
fn value_errors_are_precise() {
    assert_eq!(
        encode_err(Type::U8, json!(-1)),
        "`x`: -1 is out of range for u8 (0..=255)"
    );
    assert_eq!(
        encode_err(Type::U64, json!(1.5)),
        "`x`: 1.5 is not an integer (u64)"
    );
    assert_eq!(
        encode_err(Type::F32, json!(1e300)),
        "`x`: 1e+300 is out of range for f32"
    );
    assert_eq!(
        encode_err(Type::F64, json!("nan")),
        "`x`: expected a number (f64), or \"NaN\", \"Infinity\" or \"-Infinity\", found the string \"nan\""
    );
    assert_eq!(
        encode_err(Type::Bool, json!(1)),
        "`x`: expected true or false, found the number 1"
    );
    assert_eq!(
        encode_err(Type::Char, json!("ab")),
        "`x`: expected a one-character string, found the string \"ab\""
    );
    assert_eq!(
        encode_err(Type::Char, json!("")),
        "`x`: expected a one-character string, found the string \"\""
    );
    assert_eq!(
        encode_err(Type::String, json!(5)),
        "`x`: expected a string, found the number 5"
    );
    assert_eq!(
        encode_err(Type::Bytes, json!([1, 256])),
        "`x[1]`: 256 is out of range for u8 (0..=255)"
    );
    assert_eq!(
        encode_err(Type::Bytes, json!({})),
        "`x`: expected an array of bytes or a string, found an object with 0 keys"
    );
    assert_eq!(
        encode_err(
            Type::list(point()),
            json!([{"x": 1, "y": 2}, {"x": 1, "y": true}])
        ),
        "`x[1].y`: expected an integer (s32), found true"
    );
    assert_eq!(
        encode_err(Type::Tuple(vec![Type::U8, Type::U8]), json!([1])),
        "`x`: expected an array of 2 elements (a tuple), found an array of 1 elements"
    );
    assert_eq!(
        encode_err(Type::Tuple(vec![Type::U8, Type::U8]), json!([1, 300])),
        "`x[1]`: 300 is out of range for u8 (0..=255)"
    );
    let kind = Type::Enum {
        name: "shape-kind".into(),
        cases: vec!["square".into(), "wide".into()],
    };
    assert_eq!(
        encode_err(kind.clone(), json!("round")),
        "`x`: `round` is not a case of enum `shape-kind` (its cases: square, wide)"
    );
    assert_eq!(
        encode_err(kind, json!(0)),
        "`x`: expected a case name of enum `shape-kind`, found the number 0"
    );
    let style = Type::Flags {
        name: "style".into(),
        flags: vec!["bold".into(), "dashed".into()],
    };
    assert_eq!(
        encode_err(style.clone(), json!(["bold", "italic"])),
        "`x[1]`: `italic` is not a flag of `style` (its flags: bold, dashed)"
    );
    assert_eq!(
        encode_err(style.clone(), json!(["bold", "bold"])),
        "`x[1]`: flag `bold` is listed twice"
    );
    assert_eq!(
        encode_err(style, json!("bold")),
        "`x`: expected an array of flag names of `style`, found the string \"bold\""
    );
    let res = Type::result(Some(point()), Some(Type::String));
    assert_eq!(
        encode_err(res.clone(), json!({"ok": {"x": 1}})),
        "`x.ok`: missing field `y` of record `point`"
    );
    assert_eq!(
        encode_err(res.clone(), json!({"ok": 1, "err": 2})),
        "`x`: expected {\"ok\": ...} or {\"err\": ...}, found an object with 2 keys"
    );
    assert_eq!(
        encode_err(res, json!({"fine": 1})),
        "`x`: expected {\"ok\": ...} or {\"err\": ...}, found an object with 1 keys"
    );
    assert_eq!(
        encode_err(Type::result(None, None), json!({"ok": 1})),
        "`x.ok`: expected null (this result case has no payload), found the number 1"
    );
    assert_eq!(
        encode_err(Type::option(Type::U8), json!(256)),
        "`x`: 256 is out of range for u8 (0..=255)"
    );
}

#[test]
fn functions_without_parameters_take_empty_arguments() {
    let (_c, noop, lay) = geometry_noop();
    let mut a = arena();
    for args in [json!([]), json!({}), json!(null)] {
        let buf = encode_args(&noop, &lay, &args, &mut a).unwrap();
        assert!(buf.is_empty());
        assert!(!buf.as_ptr().is_null());
    }
    assert_eq!(
        encode_args(&noop, &lay, &json!([1]), &mut a)
            .unwrap_err()
            .to_string(),
        "`noop` takes no arguments, found 1"
    );
    assert_eq!(
        encode_args(&noop, &lay, &json!({"x": 1}), &mut a)
            .unwrap_err()
            .to_string(),
        "`noop` has no parameter `x` (its parameters: none)"
    );
}

#[test]
fn an_exhausted_arena_is_an_error() {
    let c = identity(Type::String);
    let (_, f, lay) = c.find("f").expect("declared");
    let mut small = CallArena::with_limit(64, 0).expect("memory");
    let long = "x".repeat(1000);
    let e = encode_args(f, lay, &json!([long]), &mut small).unwrap_err();
    assert_eq!(
        e,
        MarshalError {
            path: "x".into(),
            message: "the arena cannot hold 1000 more bytes".into()
        }
    );
}

// ---- malformed results ----

fn view_bytes(ptr: usize, len: usize) -> Vec<u8> {
    [ptr.to_ne_bytes(), len.to_ne_bytes()].concat()
}

#[test]
fn malformed_scalars_are_refused() {
    assert_eq!(
        decode_err(Type::Bool, &[2]),
        "bool byte is 2 (must be 0 or 1)"
    );
    assert_eq!(
        decode_err(Type::Char, &0xD800u32.to_ne_bytes()),
        "char 0xd800 is not a Unicode scalar value"
    );
    assert_eq!(
        decode_err(Type::Char, &0x110000u32.to_ne_bytes()),
        "char 0x110000 is not a Unicode scalar value"
    );
    let kind = Type::Enum {
        name: "shape-kind".into(),
        cases: vec!["square".into(), "wide".into(), "tall".into()],
    };
    assert_eq!(
        decode_err(kind, &3u32.to_ne_bytes()),
        "case index 3 is out of range for enum `shape-kind` (3 cases)"
    );
    let style = Type::Flags {
        name: "style".into(),
        flags: vec!["bold".into(), "dashed".into(), "filled".into()],
    };
    assert_eq!(
        decode_err(style, &0b1001u32.to_ne_bytes()),
        "flags `style` has unknown bits 0x8 set (3 flags)"
    );
    let mut opt = vec![0u8; 8];
    opt[0] = 2;
    assert_eq!(
        decode_err(Type::option(Type::U32), &opt),
        "option tag is 2 (must be 0 or 1)"
    );
    let mut res = vec![0u8; 8];
    res[0] = 7;
    assert_eq!(
        decode_err(Type::result(Some(Type::U32), None), &res),
        "result tag is 7 (must be 0 for ok or 1 for err)"
    );
    let rec = Type::Record {
        name: "r".into(),
        fields: vec![
            ("a".into(), Type::U8),
            ("flag".into(), Type::option(Type::Bool)),
        ],
    };
    assert_eq!(
        decode_err(rec, &[0, 1, 5]),
        "`flag`: bool byte is 5 (must be 0 or 1)"
    );
}

#[test]
fn malformed_views_are_refused() {
    assert_eq!(
        decode_err(Type::String, &view_bytes(0, 3)),
        "string view has a null pointer and length 3"
    );
    let bad = [b'a', 0xFF, b'b'];
    assert_eq!(
        decode_err(Type::String, &view_bytes(bad.as_ptr() as usize, bad.len())),
        "string is not UTF-8: invalid utf-8 sequence of 1 bytes from index 1"
    );
    // Absurd lengths are refused before anything is read.
    let somewhere = bad.as_ptr() as usize;
    assert_eq!(
        decode_err(Type::Bytes, &view_bytes(somewhere, usize::MAX)),
        format!(
            "byte list of length {} is larger than the {MAX_VIEW_BYTES}-byte bound",
            usize::MAX
        )
    );
    assert_eq!(
        decode_err(
            Type::list(Type::U64),
            &view_bytes(somewhere, usize::MAX / 4)
        ),
        format!(
            "list of length {} is larger than the {MAX_VIEW_BYTES}-byte bound",
            usize::MAX / 4
        )
    );
    assert_eq!(
        decode_err(Type::list(Type::U64), &view_bytes(0, 1)),
        "list view has a null pointer and length 1"
    );
    // A bad element deep in a list names its place.
    let items = [
        Str::new("ok"),
        Str {
            ptr: std::ptr::null(),
            len: 1,
        },
    ];
    assert_eq!(
        decode_err(
            Type::list(Type::String),
            &view_bytes(items.as_ptr() as usize, items.len())
        ),
        "`[1]`: string view has a null pointer and length 1"
    );
    let tags = [
        Str::new("a"),
        Str::new("b"),
        Str {
            ptr: bad.as_ptr(),
            len: 3,
        },
    ];
    let c = geometry();
    let (_, describe, lay) = c.find("describe").expect("declared");
    let mut label: Label = zeroed();
    label.tags = List::new(&tags);
    // SAFETY: a `Label` with views to live memory.
    let e =
        unsafe { decode_result(describe, lay, &label as *const Label as *const u8) }.unwrap_err();
    assert_eq!(e.path, "tags[2]");
    assert!(
        e.to_string().starts_with("`tags[2]`: string is not UTF-8"),
        "{e}"
    );
}

#[test]
fn results_are_bounded_in_values() {
    let big = vec![0u8; MAX_VALUES + 1];
    assert_eq!(
        decode_err(Type::Bytes, &view_bytes(big.as_ptr() as usize, big.len())),
        format!("the result has more than {MAX_VALUES} values")
    );
}

#[test]
fn null_result_pointer_is_an_error() {
    let lay = type_layout(&Type::U32);
    // SAFETY: a null pointer is checked before anything is read.
    let e = unsafe { decode(&Type::U32, &lay, std::ptr::null()) }.unwrap_err();
    assert_eq!(e.to_string(), "the value pointer is null");
}

#[test]
fn short_output_buffers_are_refused() {
    let lay = type_layout(&Type::U64);
    let mut a = arena();
    let mut out = [0u8; 4];
    let e = encode_value(&Type::U64, &lay, &json!(1), &mut out, &mut a).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a 8-byte value at offset 0 does not fit a 4-byte buffer"
    );
}
