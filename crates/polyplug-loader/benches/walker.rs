//! `walker`: marshalling through the kit's value walker against the same work written by hand
//! for one known layout.
//!
//! * `read_struct_arg`: the argument struct of geometry's `translate(r: rect, by: point)` (two
//!   nested records, six `s32`s) read into a dynamic value tree, what a VM loader builds (a
//!   table per record, a hash map keyed by field name, as Lua tables, JavaScript objects and
//!   Python dicts are). `kit` walks it with [`ValueRef::read`]; `handwritten` reads the six
//!   fields at their known offsets and builds the same tree.
//! * `read_struct_arg_tape`: the same reads into a reused flat token tape instead of a tree (no
//!   allocation): what the walker costs on its own, over code specialised to the layout.
//! * `write_string_256`: a 256-byte string written as a result into the call arena. `kit` makes
//!   the result slot and calls [`ValueMut::set_str`]; `handwritten` allocates, copies and writes
//!   the `{ptr, len}` view itself.
//!
//! Goal: each `kit` arm ≤ 1.15 × its `handwritten` arm (the tape arms are reported, not goals:
//! see docs/PERFORMANCE.md).

use criterion::{criterion_group, criterion_main, Criterion};
use polyplug_abi::{Arena, CallArena, Str};
use polyplug_contract::walk::{Value, ValueMut, ValueRef, WalkError};
use polyplug_contract::{CompiledContract, FuncLayout, Function};
use std::collections::HashMap;
use std::hint::black_box;

const GEOMETRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/wit/geometry.wit"
);

fn geometry() -> CompiledContract {
    let mut cs = polyplug_contract::wit::parse_file(GEOMETRY).expect("the fixture parses");
    cs.remove(0).compile().expect("the fixture is valid")
}

/// A VM-side value: what a loader makes of what it reads. Like a Lua table, a JavaScript
/// object or a Python dict, a table is a hash map whose keys are hashed as they are set.
#[derive(Debug, PartialEq)]
enum Dyn<'a> {
    Int(i64),
    Str(String),
    Table(HashMap<&'a str, Dyn<'a>>),
}

/// One value, through the walker.
fn to_dyn<'a>(v: ValueRef<'a>) -> Result<Dyn<'a>, WalkError> {
    Ok(match v.read()? {
        Value::S32(x) => Dyn::Int(x.into()),
        Value::U32(x) => Dyn::Int(x.into()),
        Value::S64(x) => Dyn::Int(x),
        Value::String(s) => Dyn::Str(s.to_owned()),
        Value::Record(r) => {
            let mut t = HashMap::with_capacity(r.len());
            for (name, f) in r.iter() {
                t.insert(name, to_dyn(f).map_err(|e| e.in_field(name))?);
            }
            Dyn::Table(t)
        }
        other => return Err(unexpected(&other)),
    })
}

/// A value of a kind this bench's contract does not use.
#[cold]
#[inline(never)]
fn unexpected(v: &Value<'_>) -> WalkError {
    WalkError::mismatch(format!("not in this bench: {v:?}"))
}

#[inline(always)]
fn s32(b: &[u8], off: usize) -> i64 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[off..off + 4]);
    i32::from_ne_bytes(x).into()
}

/// The same tree, by hand, for `translate`'s argument struct.
fn point_by_hand(b: &[u8], off: usize) -> Dyn<'static> {
    let mut t = HashMap::with_capacity(2);
    t.insert("x", Dyn::Int(s32(b, off)));
    t.insert("y", Dyn::Int(s32(b, off + 4)));
    Dyn::Table(t)
}

#[inline(never)]
fn translate_args_by_hand(b: &[u8]) -> Dyn<'static> {
    // Built as the walker's client builds it: a table with room for its fields, then inserts.
    let mut r = HashMap::with_capacity(2);
    r.insert("origin", point_by_hand(b, 0));
    r.insert("size", point_by_hand(b, 8));
    let mut args = HashMap::with_capacity(2);
    args.insert("r", Dyn::Table(r));
    args.insert("by", point_by_hand(b, 16));
    Dyn::Table(args)
}

/// A token of a flat tape.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok<'a> {
    Open,
    Key(&'a str),
    Int(i64),
    Close,
}

fn to_tape<'a>(v: ValueRef<'a>, tape: &mut Vec<Tok<'a>>) -> Result<(), WalkError> {
    match v.read()? {
        Value::S32(x) => tape.push(Tok::Int(x.into())),
        Value::Record(r) => {
            tape.push(Tok::Open);
            for (name, f) in r.iter() {
                tape.push(Tok::Key(name));
                to_tape(f, tape).map_err(|e| e.in_field(name))?;
            }
            tape.push(Tok::Close);
        }
        other => return Err(unexpected(&other)),
    }
    Ok(())
}

fn point_tape(b: &[u8], off: usize, tape: &mut Vec<Tok<'static>>) {
    tape.extend([
        Tok::Open,
        Tok::Key("x"),
        Tok::Int(s32(b, off)),
        Tok::Key("y"),
        Tok::Int(s32(b, off + 4)),
        Tok::Close,
    ]);
}

#[inline(never)]
fn translate_tape_by_hand(b: &[u8], tape: &mut Vec<Tok<'static>>) {
    tape.extend([Tok::Open, Tok::Key("r"), Tok::Open, Tok::Key("origin")]);
    point_tape(b, 0, tape);
    tape.push(Tok::Key("size"));
    point_tape(b, 8, tape);
    tape.extend([Tok::Close, Tok::Key("by")]);
    point_tape(b, 16, tape);
    tape.push(Tok::Close);
}

/// `translate`'s arguments as a tree, through the walker.
#[inline(never)]
fn kit_read<'a>(
    translate: &'a Function,
    lay: &'a FuncLayout,
    b: &[u8],
) -> Result<Dyn<'a>, WalkError> {
    let mut params = HashMap::with_capacity(translate.params.len());
    for (i, p) in translate.params.iter().enumerate() {
        // SAFETY: `b` holds the argument struct (no views inside).
        let v = unsafe {
            ValueRef::new(
                &p.ty,
                &lay.params[i],
                b.as_ptr().add(lay.param_offsets[i] as usize),
            )
        };
        params.insert(p.name.as_str(), to_dyn(v).map_err(|e| e.in_field(&p.name))?);
    }
    Ok(Dyn::Table(params))
}

/// `translate`'s arguments onto a tape, through the walker.
#[inline(never)]
fn fill_kit<'a>(translate: &'a Function, lay: &'a FuncLayout, b: &[u8], tape: &mut Vec<Tok<'a>>) {
    tape.clear();
    tape.push(Tok::Open);
    for (i, p) in translate.params.iter().enumerate() {
        // SAFETY: `b` holds the argument struct (no views inside).
        let v = unsafe {
            ValueRef::new(
                &p.ty,
                &lay.params[i],
                b.as_ptr().add(lay.param_offsets[i] as usize),
            )
        };
        tape.push(Tok::Key(p.name.as_str()));
        to_tape(v, tape).expect("well-formed");
    }
    tape.push(Tok::Close);
}

fn walker(c: &mut Criterion) {
    let geo = geometry();
    let (_, translate, lay) = geo.find("translate").expect("declared");
    // rect { origin: {1, 2}, size: {30, 40} }, by: {-5, 6}
    let args: [i32; 6] = [1, 2, 30, 40, -5, 6];
    let bytes: Vec<u8> = args.iter().flat_map(|x| x.to_ne_bytes()).collect();
    assert_eq!(bytes.len(), lay.args.size as usize);

    assert_eq!(
        kit_read(translate, lay, &bytes).expect("well-formed"),
        translate_args_by_hand(&bytes),
        "both arms build the same tree"
    );

    let mut g = c.benchmark_group("walker");
    g.bench_function("kit/read_struct_arg", |b| {
        b.iter(|| kit_read(translate, lay, black_box(&bytes)).expect("well-formed"))
    });
    g.bench_function("handwritten/read_struct_arg", |b| {
        b.iter(|| translate_args_by_hand(black_box(&bytes)))
    });

    let mut kit_tape: Vec<Tok<'_>> = Vec::with_capacity(64);
    let mut hand_tape: Vec<Tok<'static>> = Vec::with_capacity(64);
    fill_kit(translate, lay, &bytes, &mut kit_tape);
    translate_tape_by_hand(&bytes, &mut hand_tape);
    assert_eq!(kit_tape, hand_tape, "both arms write the same tape");
    g.bench_function("kit/read_struct_arg_tape", |b| {
        b.iter(|| {
            fill_kit(translate, lay, black_box(&bytes), &mut kit_tape);
            black_box(kit_tape.len())
        })
    });
    g.bench_function("handwritten/read_struct_arg_tape", |b| {
        b.iter(|| {
            hand_tape.clear();
            translate_tape_by_hand(black_box(&bytes), &mut hand_tape);
            black_box(hand_tape.len())
        })
    });

    // A result slot for `echo(s: string) -> string`, filled with a 256-byte string.
    let (_, echo, echo_lay) = geo.find("echo").expect("declared");
    let (ty, slot_lay) = (
        echo.result.as_ref().expect("a result"),
        echo_lay.result.as_ref().expect("a result"),
    );
    let text = "x".repeat(256);
    let mut arena = CallArena::new(4096).expect("memory");
    let mut out = [0u8; size_of::<Str>()];
    let read_back = |out: &[u8; size_of::<Str>()]| {
        // SAFETY: `out` holds a `Str` pointing into the arena, not reset since.
        let s: Str = unsafe { out.as_ptr().cast::<Str>().read_unaligned() };
        // SAFETY: as above.
        unsafe { s.to_str() }.map(str::to_owned)
    };
    let write_kit = |arena: &mut CallArena, out: &mut [u8; size_of::<Str>()], s: &str| {
        arena.reset();
        // SAFETY: the arena is a `CallArena`'s, live and reset for this "call".
        let raw: &mut Arena = unsafe { &mut *arena.as_raw() };
        // SAFETY: as above.
        let slot = unsafe { ValueMut::with_arena(ty, slot_lay, out, raw) }.expect("fits");
        slot.set_str(s).expect("the arena has room");
    };
    let write_by_hand = |arena: &mut CallArena, out: &mut [u8; size_of::<Str>()], s: &str| {
        arena.reset();
        let p = arena.alloc(s.len(), 1);
        assert!(!p.is_null(), "the arena has room");
        // SAFETY: `p` holds `s.len()` fresh bytes of the arena.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len()) };
        out[..8].copy_from_slice(&(p as usize).to_ne_bytes());
        out[8..].copy_from_slice(&s.len().to_ne_bytes());
    };
    write_kit(&mut arena, &mut out, &text);
    assert_eq!(read_back(&out).as_deref(), Ok(text.as_str()));
    out = [0; size_of::<Str>()];
    write_by_hand(&mut arena, &mut out, &text);
    assert_eq!(read_back(&out).as_deref(), Ok(text.as_str()));
    g.bench_function("kit/write_string_256", |b| {
        b.iter(|| {
            write_kit(&mut arena, &mut out, black_box(&text));
            black_box(&out);
        })
    });
    g.bench_function("handwritten/write_string_256", |b| {
        b.iter(|| {
            write_by_hand(&mut arena, &mut out, black_box(&text));
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, walker);
criterion_main!(benches);
