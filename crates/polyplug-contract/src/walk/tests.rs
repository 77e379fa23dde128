use super::*;
use crate::layout::Shape;
use crate::{Contract, Function, Param, Type, TypeLayout, Version};
use polyplug_abi::{CallArena, Layout, List, Str};

/// The layout of `ty`, computed through a one-function contract.
fn layout_of(ty: &Type) -> TypeLayout {
    let c = Contract::new(
        "test:walk/t",
        Version::new(1, 0, 0),
        vec![Function::new("f", vec![Param::new("x", ty.clone())], None)],
    );
    let mut layouts = c.layouts().expect("a valid test type");
    layouts.remove(0).params.remove(0)
}

fn point() -> Type {
    Type::Record {
        name: "point".into(),
        fields: vec![("x".into(), Type::S32), ("y".into(), Type::S32)],
    }
}

fn kind() -> Type {
    Type::Enum {
        name: "shape-kind".into(),
        cases: vec!["square".into(), "wide".into(), "tall".into()],
    }
}

fn style() -> Type {
    Type::Flags {
        name: "style".into(),
        flags: vec!["bold".into(), "dashed".into(), "filled".into()],
    }
}

/// A record using every kind of the subset.
fn everything() -> Type {
    Type::Record {
        name: "all".into(),
        fields: vec![
            ("b".into(), Type::Bool),
            ("i8".into(), Type::S8),
            ("u16".into(), Type::U16),
            ("i64".into(), Type::S64),
            ("u64".into(), Type::U64),
            ("f32".into(), Type::F32),
            ("f64".into(), Type::F64),
            ("c".into(), Type::Char),
            ("s".into(), Type::String),
            ("bytes".into(), Type::Bytes),
            ("points".into(), Type::list(point())),
            ("pair".into(), Type::Tuple(vec![Type::U8, Type::String])),
            ("kind".into(), kind()),
            ("style".into(), style()),
            ("maybe".into(), Type::option(Type::String)),
            ("nothing".into(), Type::option(Type::U32)),
            (
                "res".into(),
                Type::result(Some(point()), Some(Type::String)),
            ),
            ("fail".into(), Type::result(None, Some(Type::String))),
        ],
    }
}

fn write_everything(slot: ValueMut<'_>) -> Result<(), WalkError> {
    let mut r = slot.record()?;
    r.field(0)?.set_bool(true)?;
    r.field(1)?.set_int(-7)?;
    r.field(2)?.set_int(65535)?;
    r.field(3)?.set_int(i64::MIN.into())?;
    r.field(4)?.set_int(u64::MAX.into())?;
    r.field(5)?.set_float(0.5)?;
    r.field(6)?.set_float(-2.25)?;
    r.field(7)?.set_char('é')?;
    r.field(8)?.set_str("héllo")?;
    r.field(9)?.set_bytes(&[0, 1, 255])?;
    {
        let mut points = r.field(10)?.list(2)?;
        for i in 0..2 {
            let mut p = points.elem(i)?.record()?;
            p.field(0)?.set_int(i as i128)?;
            p.field(1)?.set_int(-(i as i128) - 10)?;
        }
    }
    {
        let mut pair = r.field(11)?.tuple()?;
        pair.field(0)?.set_int(9)?;
        pair.field(1)?.set_str("nine")?;
    }
    r.field(12)?.set_enum("tall")?;
    r.field(13)?.set_flags(["filled", "bold"])?;
    r.field(14)?.some()?.set_str("yes")?;
    r.field(15)?.none()?;
    {
        let ok = r.field(16)?.ok()?.expect("ok has a payload");
        let mut p = ok.record()?;
        p.field(0)?.set_int(1)?;
        p.field(1)?.set_int(2)?;
    }
    let e = r.field(17)?.err()?.expect("err has a payload");
    e.set_str("broken")
}

/// Reads `v` back into a compact text form, checking every level.
fn show(v: ValueRef<'_>) -> Result<String, WalkError> {
    Ok(match v.read()? {
        Value::Bool(b) => b.to_string(),
        Value::S8(x) => x.to_string(),
        Value::U8(x) => x.to_string(),
        Value::S16(x) => x.to_string(),
        Value::U16(x) => x.to_string(),
        Value::S32(x) => x.to_string(),
        Value::U32(x) => x.to_string(),
        Value::S64(x) => x.to_string(),
        Value::U64(x) => x.to_string(),
        Value::F32(x) => x.to_string(),
        Value::F64(x) => x.to_string(),
        Value::Char(c) => format!("'{c}'"),
        Value::String(s) => format!("{s:?}"),
        Value::Bytes(b) => format!("{b:?}"),
        Value::List(l) => {
            let items: Result<Vec<_>, _> = l
                .iter()
                .enumerate()
                .map(|(i, e)| show(e).map_err(|e| e.in_index(i)))
                .collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Record(r) => {
            let items: Result<Vec<_>, _> = r
                .iter()
                .map(|(n, f)| -> Result<String, WalkError> {
                    Ok(format!("{n}: {}", show(f).map_err(|e| e.in_field(n))?))
                })
                .collect();
            format!("{{{}}}", items?.join(", "))
        }
        Value::Tuple(t) => {
            let items: Result<Vec<_>, _> = t
                .iter()
                .enumerate()
                .map(|(i, (_, e))| show(e).map_err(|e| e.in_index(i)))
                .collect();
            format!("({})", items?.join(", "))
        }
        Value::Enum(c) => format!("{}#{}", c.name, c.index),
        Value::Flags(f) => format!("<{}>", f.iter().collect::<Vec<_>>().join("|")),
        Value::Option(None) => "none".into(),
        Value::Option(Some(x)) => format!("some({})", show(x)?),
        Value::Result(Ok(p)) => format!("ok({})", p.map(show).transpose()?.unwrap_or_default()),
        Value::Result(Err(p)) => {
            format!("err({})", p.map(show).transpose()?.unwrap_or_default())
        }
    })
}

#[test]
fn every_kind_round_trips() {
    let ty = everything();
    let lay = layout_of(&ty);
    let mut arena = CallArena::new(64).expect("memory");
    let mut buf = vec![0u64; (lay.layout.size as usize).div_ceil(8)];
    // SAFETY: a u64 buffer viewed as its bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), lay.layout.size as usize)
    };
    write_everything(ValueMut::new(&ty, &lay, bytes, &mut arena).expect("fits")).expect("fits");
    // SAFETY: the buffer holds the value just written; its views point into `arena`.
    let v = unsafe { ValueRef::new(&ty, &lay, buf.as_ptr().cast()) };
    assert_eq!(
        show(v).expect("well-formed"),
        "{b: true, i8: -7, u16: 65535, i64: -9223372036854775808, u64: 18446744073709551615, \
         f32: 0.5, f64: -2.25, c: 'é', s: \"héllo\", bytes: [0, 1, 255], \
         points: [{x: 0, y: -10}, {x: 1, y: -11}], pair: (9, \"nine\"), kind: tall#2, \
         style: <bold|filled>, maybe: some(\"yes\"), nothing: none, res: ok({x: 1, y: 2}), \
         fail: err(\"broken\")}"
    );
    let Value::Record(r) = v.read().expect("a record") else {
        panic!("not a record")
    };
    assert_eq!(r.len(), 18);
    assert_eq!(r.name(8), Some("s"));
    assert!(r.get(18).is_none());
    let Some((_, flags)) = r.field(13) else {
        panic!("no field 13")
    };
    let Value::Flags(set) = flags.read().expect("flags") else {
        panic!("not flags")
    };
    assert!(set.contains("filled") && !set.contains("dashed") && !set.contains("nope"));
    assert_eq!(set.bits, 0b101);
}

fn write_err(ty: Type, f: impl FnOnce(ValueMut<'_>) -> Result<(), WalkError>) -> WalkError {
    let lay = layout_of(&ty);
    let mut arena = CallArena::new(64).expect("memory");
    let mut buf = [0u8; 64];
    let slot = ValueMut::new(&ty, &lay, &mut buf, &mut arena).expect("fits");
    f(slot).expect_err("must be refused")
}

#[test]
fn writes_that_do_not_fit_their_type_are_refused() {
    let e = write_err(Type::U8, |s| s.set_int(300));
    assert_eq!(e.to_string(), "300 is out of range for u8 (0..=255)");
    assert_eq!(e.kind(), WalkErrorKind::Mismatch);
    let e = write_err(Type::S64, |s| s.set_int(i128::from(i64::MAX) + 1));
    assert!(e.message().contains("out of range for s64"), "{e}");
    let e = write_err(Type::U64, |s| s.set_int(-1));
    assert!(e.message().contains("out of range for u64"), "{e}");
    let e = write_err(Type::F32, |s| s.set_float(1e300));
    assert!(e.message().contains("out of range for f32"), "{e}");
    assert_eq!(
        write_err(Type::U32, |s| s.set_str("x")).to_string(),
        "a string cannot be written as `u32`"
    );
    assert_eq!(
        write_err(kind(), |s| s.set_enum("round")).to_string(),
        "`round` is not a case of enum `shape-kind` (its cases: square, wide, tall)"
    );
    assert!(write_err(kind(), |s| s.set_enum_index(3))
        .message()
        .contains("out of range"));
    assert_eq!(
        write_err(style(), |s| s.set_flags(["bold", "italic"])).to_string(),
        "`[1]`: `italic` is not a flag of `style` (its flags: bold, dashed, filled)"
    );
    assert_eq!(
        write_err(style(), |s| s.set_flags(["bold", "bold"])).to_string(),
        "`[1]`: flag `bold` is listed twice"
    );
    assert!(write_err(style(), |s| s.set_flags_bits(0b1000))
        .message()
        .contains("unknown bits"));
    for (ty, what) in [
        (Type::String, "a record"),
        (Type::U8, "a list"),
        (Type::U8, "some"),
        (Type::U8, "ok"),
    ] {
        let e = write_err(ty, |s| match what {
            "a record" => s.record().map(drop),
            "a list" => s.list(1).map(drop),
            "some" => s.some().map(drop),
            _ => s.ok().map(drop),
        });
        assert!(e.message().starts_with(what), "{e}");
    }
    // A result case without a payload has no slot; a member past the end is an error.
    let e = write_err(point(), |s| s.record()?.field(2).map(drop));
    assert_eq!(e.kind(), WalkErrorKind::Layout);
    let e = write_err(Type::list(Type::U32), |s| s.list(2)?.elem(2).map(drop));
    assert_eq!(e.kind(), WalkErrorKind::Layout);
}

#[test]
fn slots_and_arenas_that_are_too_small_are_errors() {
    let ty = Type::U64;
    let lay = layout_of(&ty);
    let mut arena = CallArena::new(64).expect("memory");
    let mut short = [0u8; 4];
    let e = ValueMut::new(&ty, &lay, &mut short, &mut arena).expect_err("too short");
    assert_eq!(
        e.to_string(),
        "a 8-byte value at offset 0 does not fit a 4-byte buffer"
    );
    assert_eq!(e.kind(), WalkErrorKind::Layout);

    let ty = Type::String;
    let lay = layout_of(&ty);
    let mut small = CallArena::with_limit(64, 0).expect("memory");
    let mut buf = [0u8; 16];
    let slot = ValueMut::new(&ty, &lay, &mut buf, &mut small).expect("fits");
    let e = slot
        .set_str(&"x".repeat(1000))
        .expect_err("the arena is full");
    assert_eq!(e.kind(), WalkErrorKind::OutOfMemory);
    assert_eq!(e.to_string(), "the arena cannot hold 1000 more bytes");
}

#[test]
fn layouts_that_do_not_belong_to_their_type_are_errors_not_reads_out_of_bounds() {
    // A u8's layout used for an s32: reading 4 bytes from a 1-byte value would overrun.
    let small = layout_of(&Type::U8);
    let byte = [7u8];
    // SAFETY: one readable byte, which is what `small` says.
    let v = unsafe { ValueRef::new(&Type::S32, &small, byte.as_ptr()) };
    assert_eq!(v.read().expect_err("foreign").kind(), WalkErrorKind::Layout);
    // A record whose second member lies past its end.
    let pt = point();
    let opt = Type::option(Type::U8);
    let mut lay = layout_of(&pt);
    if let Shape::Struct { offsets, .. } = &mut lay.shape {
        offsets[1] = 100;
    }
    let bytes = [0u8; 8];
    // SAFETY: 8 readable bytes, the size `lay` declares.
    let v = unsafe { ValueRef::new(&pt, &lay, bytes.as_ptr()) };
    assert_eq!(v.read().expect_err("foreign").kind(), WalkErrorKind::Layout);
    let mut arena = CallArena::new(64).expect("memory");
    let mut out = [0u8; 8];
    let mut rec = ValueMut::new(&pt, &lay, &mut out, &mut arena)
        .expect("fits")
        .record()
        .expect("a record");
    assert_eq!(
        rec.field(1).expect_err("past the end").kind(),
        WalkErrorKind::Layout
    );
    // A layout of another shape.
    let lay = layout_of(&Type::U32);
    // SAFETY: as above.
    let v = unsafe { ValueRef::new(&pt, &lay, bytes.as_ptr()) };
    assert!(v
        .read()
        .expect_err("foreign")
        .message()
        .contains("does not belong to type `point`"));
    let lay = Layout { size: 0, align: 1 };
    let empty = TypeLayout {
        layout: lay,
        shape: Shape::Leaf,
    };
    // SAFETY: nothing is read from a zero-sized value.
    let v = unsafe { ValueRef::new(&opt, &empty, bytes.as_ptr()) };
    assert_eq!(v.read().expect_err("foreign").kind(), WalkErrorKind::Layout);
}

fn read_err(ty: Type, bytes: &[u8]) -> WalkError {
    let lay = layout_of(&ty);
    let mut buf = [0u64; 8];
    // SAFETY: a u64 buffer viewed as its bytes.
    let dst = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), 64) };
    dst[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: the buffer holds `size` bytes; views inside are null or point to live memory.
    let v = unsafe { ValueRef::new(&ty, &lay, buf.as_ptr().cast()) };
    show(v).expect_err("must be refused")
}

fn view(ptr: *const u8, len: usize) -> Vec<u8> {
    [(ptr as usize).to_ne_bytes(), len.to_ne_bytes()].concat()
}

#[test]
fn malformed_memory_is_refused_with_where() {
    let e = read_err(Type::Bool, &[2]);
    assert_eq!(e.kind(), WalkErrorKind::Malformed);
    assert_eq!(e.to_string(), "bool byte is 2 (must be 0 or 1)");
    assert!(read_err(Type::Char, &0xD800u32.to_ne_bytes())
        .message()
        .contains("not a Unicode scalar value"));
    assert!(read_err(kind(), &3u32.to_ne_bytes())
        .message()
        .contains("out of range for enum `shape-kind`"));
    assert!(read_err(style(), &8u32.to_ne_bytes())
        .message()
        .contains("unknown bits 0x8"));
    assert!(read_err(Type::option(Type::U8), &[3, 0])
        .message()
        .contains("option tag is 3"));
    assert!(read_err(Type::result(None, None), &[2])
        .message()
        .contains("result tag is 2"));
    assert_eq!(
        read_err(Type::String, &view(std::ptr::null(), 2)).to_string(),
        "string view has a null pointer and length 2"
    );
    let bad = [b'a', 0xFF];
    assert!(read_err(Type::String, &view(bad.as_ptr(), 2))
        .message()
        .starts_with("string is not UTF-8"));
    assert!(
        read_err(Type::Bytes, &view(bad.as_ptr(), MAX_VIEW_BYTES + 1))
            .message()
            .contains("bound")
    );
    let words = [1u64, 2];
    // SAFETY: one byte into a live array; only its address is used.
    let odd = unsafe { words.as_ptr().cast::<u8>().add(1) };
    assert!(read_err(Type::list(Type::U64), &view(odd, 1))
        .message()
        .contains("not aligned to 8 bytes"));
    // Where: a bad element deep inside names its place.
    let strs = [
        Str::new("fine"),
        Str {
            ptr: std::ptr::null(),
            len: 1,
        },
    ];
    let ty = Type::Record {
        name: "r".into(),
        fields: vec![
            ("n".into(), Type::U32),
            ("tags".into(), Type::list(Type::String)),
        ],
    };
    let list = List::new(&strs);
    let mut bytes = vec![0u8; 8];
    bytes.extend(view(list.ptr.cast(), list.len));
    let e = read_err(ty, &bytes);
    assert_eq!(e.path(), "tags[1]");
    assert_eq!(
        e.to_string(),
        "`tags[1]`: string view has a null pointer and length 1"
    );
}

#[test]
fn paths_render_outermost_first() {
    let e = WalkError::mismatch("bad")
        .in_field("x")
        .in_index(2)
        .in_field("origin")
        .in_field("r");
    assert_eq!(e.path(), "r.origin[2].x");
    assert_eq!(e.to_string(), "`r.origin[2].x`: bad");
    assert_eq!(WalkError::mismatch("bad").in_index(0).path(), "[0]");
    assert_eq!(WalkError::mismatch("plain").to_string(), "plain");
}

#[test]
fn records_lists_and_tuples_fill_from_sources_and_say_where() {
    let ty = Type::Record {
        name: "r".into(),
        fields: vec![
            ("p".into(), point()),
            ("xs".into(), Type::list(Type::U16)),
            ("t".into(), Type::Tuple(vec![Type::U8, Type::U8])),
        ],
    };
    let lay = layout_of(&ty);
    let mut arena = CallArena::new(64).expect("memory");
    let mut buf = vec![0u64; (lay.layout.size as usize).div_ceil(8)];
    // SAFETY: a u64 buffer viewed as its bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), lay.layout.size as usize)
    };
    /// A tiny keyed source: a value is an integer, or named children, or a sequence.
    #[derive(Clone)]
    enum Src {
        Int(i128),
        Map(Vec<(&'static str, Src)>),
        Seq(Vec<Src>),
    }
    fn fill(slot: ValueMut<'_>, v: &Src) -> Result<(), WalkError> {
        match (slot.ty(), v) {
            (Type::Record { .. }, Src::Map(m)) => slot.record_from(
                m.iter().map(|(k, _)| *k),
                |f| m.iter().find(|(k, _)| *k == f).map(|(_, v)| v),
                fill,
            ),
            (Type::List(_), Src::Seq(items)) => slot.list_from(items.iter(), fill),
            (Type::Tuple(_), Src::Seq(items)) => slot.tuple_from(items.iter(), fill),
            (_, Src::Int(x)) => slot.set_int(*x),
            _ => Err(WalkError::mismatch("not in this test")),
        }
    }
    let good = Src::Map(vec![
        ("p", Src::Map(vec![("x", Src::Int(1)), ("y", Src::Int(-2))])),
        ("xs", Src::Seq(vec![Src::Int(7), Src::Int(8)])),
        ("t", Src::Seq(vec![Src::Int(3), Src::Int(4)])),
    ]);
    fill(
        ValueMut::new(&ty, &lay, bytes, &mut arena).expect("fits"),
        &good,
    )
    .expect("fits");
    // SAFETY: the value just written; its list lives in `arena`.
    let v = unsafe { ValueRef::new(&ty, &lay, buf.as_ptr().cast()) };
    assert_eq!(
        show(v).expect("well-formed"),
        "{p: {x: 1, y: -2}, xs: [7, 8], t: (3, 4)}"
    );

    let mut again = vec![0u8; lay.layout.size as usize];
    let mut attempt = |v: &Src| {
        let slot = ValueMut::new(&ty, &lay, &mut again, &mut arena).expect("fits");
        fill(slot, v).expect_err("must be refused").to_string()
    };
    let Src::Map(mut m) = good.clone() else {
        unreachable!()
    };
    m.push(("z", Src::Int(0)));
    assert_eq!(
        attempt(&Src::Map(m)),
        "unknown field `z` of record `r` (its fields: p, xs, t)"
    );
    let Src::Map(mut m) = good.clone() else {
        unreachable!()
    };
    m[0] = ("p", Src::Map(vec![("x", Src::Int(1))]));
    assert_eq!(
        attempt(&Src::Map(m)),
        "`p`: missing field `y` of record `point`"
    );
    let Src::Map(mut m) = good.clone() else {
        unreachable!()
    };
    m[1] = ("xs", Src::Seq(vec![Src::Int(1), Src::Int(70000)]));
    assert_eq!(
        attempt(&Src::Map(m)),
        "`xs[1]`: 70000 is out of range for u16 (0..=65535)"
    );
    let Src::Map(mut m) = good else {
        unreachable!()
    };
    m[2] = ("t", Src::Seq(vec![Src::Int(1)]));
    assert_eq!(
        attempt(&Src::Map(m)),
        "`t`: expected a tuple of 2 elements, found 1"
    );
}
