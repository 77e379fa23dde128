//! `dynamic_call`: one call of the shared test contract `test:shapes/geometry` (the guest fixture
//! plugin, written with `polyplug-guest`) through the generated typed caller, through the
//! descriptor-driven dynamic caller, and through what a user would otherwise write by hand, all
//! in the same run so their ratios compare like with like.
//!
//! `translate(r: rect, by: point) -> rect` (two records in, one out, all plain data):
//!
//! * `raw/struct_arg_and_return`: the baseline. Hand-written `#[repr(C)]` argument and result
//!   structs passed to `CachedProvider::call_unchecked`: no generated code, no revision check,
//!   no guarded section, the raw status. The result is read one field at a time, as the
//!   generated caller reads it (a volatile read of the struct, which the compiler lowers to a
//!   load per field), so the typed arms differ from this one only by what the generated caller
//!   adds. `translate` leaves nothing in the arena, so the context is started once for the
//!   whole arm, as a hand-written caller may.
//! * `raw_begin/struct_arg_and_return`: the same hand-written call, with `CallContext::begin`
//!   before each call, as the ABI asks of a caller that does not know that the callee leaves
//!   the arena untouched. The generated callers do this too, so `typed_cached` ÷ `raw_begin`
//!   is what the generated code adds over the ABI's own protocol: the revision check.
//! * `raw_struct_copy/struct_arg_and_return`: the same hand-written call, with the result
//!   copied as a whole (`let r = out;`), as most hand-written code does. The provider wrote the
//!   record field by field, and one wide load cannot be forwarded from narrower stores: the
//!   copy waits for them to reach the cache. This arm shows that wait; it is not the goal's
//!   baseline, since the generated caller is built to avoid it.
//! * `typed/struct_arg_and_return`: the generated `GeometryCaller::translate`, the default
//!   guarded path: start the context, open a guarded section, the revision check, the call, the
//!   status mapped to a `Result`. Goal: ≤ 1.15 × `raw`.
//! * `typed_cached/struct_arg_and_return`: the generated `GeometryCachedCaller::translate` (the
//!   opt-in cached path: the same without the section).
//! * `dynamic/struct_arg_and_return`: `Runtime::call_json(handle, "translate", [rect, point])`:
//!   the function found by name in the provider's contract model, the JSON arguments encoded by
//!   its descriptor, the result decoded into a JSON value (dropped inside the timing: it is what
//!   the call returns).
//!
//! `echo(s: string) -> string` with a 256-byte ASCII string (the result is an owned copy):
//!
//! * `typed/string_roundtrip_256`: the generated `GeometryCaller::echo` (a `String` back).
//! * `dynamic/string_roundtrip_256`: `call_json` of `echo` (a `Value::String` back).
//!
//! **One criterion iteration is one call**: each arm times `iters` calls with `iter_custom` in
//! one out-of-line loop of its own (so criterion's loop does not share registers with it), and
//! the medians are nanoseconds per call. Every call takes its arguments through `black_box`;
//! calls are independent (not a dependent chain), so the figures are the cost of a call, not
//! the latency of a result's round trip into the next call's arguments. Every arm's answer is
//! checked once before timing; after timing, that no timed call failed and that the last one
//! answered right.
//!
//! **Every struct arm uses its result the same way**: it folds the rectangle's four fields into
//! one word (`digest`) and hands that to `black_box`. Handing the whole record to `black_box`
//! instead (the first version of this bench) made the compiler store the typed arms' result
//! field by field and reload it as one 16-byte word (a store-forwarding wait of the harness's
//! own making, which the raw arm's copy did not have), so it timed the harness rather than the
//! caller.
//!
//! The generated callers start the call context on every call (`CallContext::begin`: arena
//! reset, error cleared); the raw baseline starts it once, as `counter_inc` does, since
//! `translate` returns nothing in the arena. `docs/PERFORMANCE.md` ("Contracts and dynamic
//! calls") breaks the typed/raw difference down.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use polyplug::abi::{CallCtx, Status};
use polyplug::{CachedProvider, CallContext, Handle, Invoke, Runtime};
use polyplug_testkit::{geometry, guest_fixture, make_bundle, Bundle, BundleSpec};
use polyplug_typed_host::host::{
    GeometryCachedCaller, GeometryCaller, GeometryClient, Point, Rect,
};
use serde_json::{json, Value};
use std::ffi::c_void;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Length of the string the `string_roundtrip_256` arms echo.
const STRING_LEN: usize = 256;

// ---- what a user writes by hand: the C layout of `translate`'s argument and result ----------

/// `record point { x: s32, y: s32 }`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RawPoint {
    x: i32,
    y: i32,
}

/// `record rect { origin: point, size: point }`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RawRect {
    origin: RawPoint,
    size: RawPoint,
}

/// The argument struct of `translate(r: rect, by: point)`.
#[repr(C)]
struct RawTranslateArgs {
    r: RawRect,
    by: RawPoint,
}

/// How a hand-written caller reads the result struct the provider wrote: one load per field,
/// as the generated caller reads a plain record (`true`), or one copy of the whole struct.
/// A const parameter, so that each raw arm's loop is compiled on its own.
type Fieldwise = bool;

/// One hand-written call of `translate` through the resolved provider's table; returns the
/// result and the raw status.
///
/// # Safety
/// `p` must be a current provider of `test:shapes/geometry` (function 0 is `translate` with
/// these layouts) and `ctx` a live call context.
#[inline(always)]
unsafe fn raw_translate<const FIELDWISE: Fieldwise>(
    p: &CachedProvider<'_>,
    r: RawRect,
    by: RawPoint,
    ctx: *mut CallCtx,
) -> (RawRect, u32) {
    let args = RawTranslateArgs { r, by };
    let mut out = RawRect::default();
    // SAFETY: function 0 is `translate`; `args`/`out` are its argument and result structs (the
    // setup checked their layouts against the provider's descriptor); the rest is the caller's
    // promise.
    let status = unsafe {
        p.call_unchecked(
            geometry::TRANSLATE,
            &args as *const RawTranslateArgs as *const c_void,
            &mut out as *mut RawRect as *mut c_void,
            ctx,
        )
    };
    let out = if FIELDWISE {
        // SAFETY: `out` is a live, initialised local.
        unsafe { (&raw const out).read_volatile() }
    } else {
        out
    };
    (out, status)
}

/// What every struct arm does with a result: its four fields folded into one word.
#[inline(always)]
fn digest(origin_x: i32, origin_y: i32, size_x: i32, size_y: i32) -> i32 {
    origin_x ^ origin_y.rotate_left(8) ^ size_x.rotate_left(16) ^ size_y.rotate_left(24)
}

fn raw_digest(r: &RawRect) -> i32 {
    digest(r.origin.x, r.origin.y, r.size.x, r.size.y)
}

fn rect_digest(r: &Rect) -> i32 {
    digest(r.origin.x, r.origin.y, r.size.x, r.size.y)
}

// ---- one out-of-line loop per arm (as in `counter_inc`) ------------------------------------
//
// Each returns the last result (or its digest) and whether any call failed.

#[inline(never)]
fn run_raw<const FIELDWISE: Fieldwise>(
    p: &CachedProvider<'_>,
    n: u64,
    r: &RawRect,
    by: &RawPoint,
    ctx: *mut CallCtx,
) -> (i32, u32) {
    let (mut last, mut failed) = (0, 0u32);
    for _ in 0..n {
        // SAFETY: the provider serves the contract and stays loaded; `ctx` is live.
        let (out, status) =
            unsafe { raw_translate::<FIELDWISE>(p, *black_box(r), *black_box(by), ctx) };
        failed |= status;
        last = black_box(raw_digest(&out));
    }
    (last, failed)
}

#[inline(never)]
fn run_raw_begin(
    p: &CachedProvider<'_>,
    n: u64,
    r: &RawRect,
    by: &RawPoint,
    cx: &mut CallContext,
) -> (i32, u32) {
    let (mut last, mut failed) = (0, 0u32);
    for _ in 0..n {
        let ctx = cx.begin();
        // SAFETY: the provider serves the contract and stays loaded; `ctx` is live.
        let (out, status) = unsafe { raw_translate::<true>(p, *black_box(r), *black_box(by), ctx) };
        failed |= status;
        last = black_box(raw_digest(&out));
    }
    (last, failed)
}

#[inline(never)]
fn run_typed<P: Invoke>(
    c: &mut GeometryClient<P>,
    n: u64,
    r: &Rect,
    by: &Point,
    cx: &mut CallContext,
) -> (i32, u32) {
    let (mut last, mut failed) = (0, 0u32);
    for _ in 0..n {
        match c.translate(cx, black_box(r), black_box(by)) {
            Ok(out) => last = black_box(rect_digest(&out)),
            Err(_) => failed = 1,
        }
    }
    (last, failed)
}

#[inline(never)]
fn run_typed_echo<P: Invoke>(
    c: &mut GeometryClient<P>,
    n: u64,
    s: &str,
    cx: &mut CallContext,
) -> (String, u32) {
    let (mut last, mut failed) = (String::new(), 0u32);
    for _ in 0..n {
        match c.echo(cx, black_box(s)) {
            Ok(out) => last = black_box(out),
            Err(_) => failed = 1,
        }
    }
    (last, failed)
}

#[inline(never)]
fn run_dynamic(
    rt: &Runtime,
    handle: Handle,
    function: &str,
    args: &Value,
    n: u64,
    cx: &mut CallContext,
) -> (Value, u32) {
    let (mut last, mut failed) = (Value::Null, 0u32);
    for _ in 0..n {
        match rt.call_json(handle, black_box(function), black_box(args), cx) {
            Ok(out) => last = black_box(out),
            Err(_) => failed = 1,
        }
    }
    (last, failed)
}

/// Times `run()`; after the clock stops, records whether a call failed and the last result.
fn timed<R>(outcome: &mut (u32, Option<R>), run: impl FnOnce() -> (R, u32)) -> Duration {
    let t0 = Instant::now();
    let (last, failed) = run();
    let elapsed = t0.elapsed();
    outcome.0 |= failed;
    outcome.1 = Some(last);
    elapsed
}

/// Registers arm `name`: each sample times `run(iters)`; afterwards, no timed call may have
/// failed and the last must have answered `want`.
fn arm<R: PartialEq + std::fmt::Debug>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    want: &R,
    mut run: impl FnMut(u64) -> (R, u32),
) {
    g.bench_function(name, |b| {
        let mut outcome = (0, None);
        b.iter_custom(|iters| timed(&mut outcome, || run(iters)));
        check(outcome, want);
    });
}

/// Asserts that no timed call failed and the last one answered `want`.
#[track_caller]
fn check<R: PartialEq + std::fmt::Debug>(outcome: (u32, Option<R>), want: &R) {
    assert_eq!(outcome.0, 0, "a timed call failed");
    assert_eq!(outcome.1.as_ref(), Some(want));
}

// ---- setup (not timed) -----------------------------------------------------------------------

/// A runtime with the guest fixture loaded. Field order is drop order: the runtime unloads the
/// bundle before its temporary directory is removed.
struct Loaded {
    rt: Runtime,
    _bundle: Bundle,
}

fn load() -> Loaded {
    let rt = Runtime::new().expect("runtime");
    let bundle = make_bundle(
        &BundleSpec::new("bench-geometry")
            .library(guest_fixture())
            .provides(geometry::PROVIDES),
    );
    rt.load_bundle(bundle.path()).expect("guest fixture loads");
    Loaded {
        rt,
        _bundle: bundle,
    }
}

/// Checks that function 0 of the provider is `translate` with the hand-written layouts: what
/// makes the raw arm's calls sound (a user writing them by hand would trust the contract).
fn check_raw_layout(rt: &Runtime, handle: Handle) {
    let info = rt.contract(handle).expect("provider registered");
    let f = &info.funcs[geometry::TRANSLATE as usize];
    assert_eq!(f.name, "translate");
    let size = |n: usize| u32::try_from(n).expect("small");
    assert_eq!(
        (f.args.size, f.args.align),
        (
            size(size_of::<RawTranslateArgs>()),
            size(align_of::<RawTranslateArgs>())
        )
    );
    assert_eq!(
        (f.ret.size, f.ret.align),
        (size(size_of::<RawRect>()), size(align_of::<RawRect>()))
    );
}

fn dynamic_call(c: &mut Criterion) {
    let loaded = load();
    let rt = &loaded.rt;
    let handle = rt.find_ref(geometry::PROVIDES).expect("geometry provider");
    check_raw_layout(rt, handle);
    let cached = rt.resolve(handle).expect("fresh handle resolves");
    let mut typed = GeometryCaller::from_handle(rt, handle).expect("typed caller");
    let mut typed_cached = GeometryCachedCaller::from_handle(rt, handle).expect("cached caller");
    let mut cx = rt.call_context().expect("call context");

    // The inputs and answers; each arm's answer is checked once before timing.
    let r = Rect {
        origin: Point { x: 1, y: 2 },
        size: Point { x: 3, y: 4 },
    };
    let by = Point { x: 10, y: -20 };
    let moved = Rect {
        origin: Point { x: 11, y: -18 },
        size: r.size,
    };
    let raw_r = RawRect {
        origin: RawPoint { x: 1, y: 2 },
        size: RawPoint { x: 3, y: 4 },
    };
    let raw_by = RawPoint { x: 10, y: -20 };
    let raw_moved = RawRect {
        origin: RawPoint { x: 11, y: -18 },
        size: raw_r.size,
    };
    // SAFETY: checked above to be `translate` with these layouts; the context is live.
    let fieldwise = unsafe { raw_translate::<true>(&cached, raw_r, raw_by, cx.begin()) };
    // SAFETY: as above.
    let copied = unsafe { raw_translate::<false>(&cached, raw_r, raw_by, cx.begin()) };
    for answer in [fieldwise, copied] {
        assert_eq!(answer, (raw_moved, Status::Ok.raw()));
    }
    let moved_digest = rect_digest(&moved);
    assert_eq!(raw_digest(&raw_moved), moved_digest);
    assert_eq!(typed.translate(&mut cx, &r, &by).expect("translate"), moved);
    assert_eq!(
        typed_cached.translate(&mut cx, &r, &by).expect("translate"),
        moved
    );
    let translate_args = json!([
        {"origin": {"x": 1, "y": 2}, "size": {"x": 3, "y": 4}},
        {"x": 10, "y": -20}
    ]);
    let translated = json!({"origin": {"x": 11, "y": -18}, "size": {"x": 3, "y": 4}});
    assert_eq!(
        rt.call_json(handle, "translate", &translate_args, &mut cx)
            .expect("translate"),
        translated
    );
    let s = "polyplug".repeat(STRING_LEN / 8);
    assert_eq!(s.len(), STRING_LEN);
    assert_eq!(typed.echo(&mut cx, &s).expect("echo"), s);
    let echo_args = json!([s]);
    let echoed = json!(s);
    assert_eq!(
        rt.call_json(handle, "echo", &echo_args, &mut cx)
            .expect("echo"),
        echoed
    );

    let mut g = c.benchmark_group("dynamic_call");
    g.throughput(Throughput::Elements(1));

    // `translate` returns nothing in the arena: one start serves every call of the raw arms.
    let ctx = cx.begin();
    arm(&mut g, "raw/struct_arg_and_return", &moved_digest, |n| {
        run_raw::<true>(black_box(&cached), n, &raw_r, &raw_by, ctx)
    });
    arm(
        &mut g,
        "raw_begin/struct_arg_and_return",
        &moved_digest,
        |n| run_raw_begin(black_box(&cached), n, &raw_r, &raw_by, &mut cx),
    );
    let ctx = cx.begin();
    arm(
        &mut g,
        "raw_struct_copy/struct_arg_and_return",
        &moved_digest,
        |n| run_raw::<false>(black_box(&cached), n, &raw_r, &raw_by, ctx),
    );
    arm(&mut g, "typed/struct_arg_and_return", &moved_digest, |n| {
        run_typed(black_box(&mut typed), n, &r, &by, &mut cx)
    });
    arm(
        &mut g,
        "typed_cached/struct_arg_and_return",
        &moved_digest,
        |n| run_typed(black_box(&mut typed_cached), n, &r, &by, &mut cx),
    );
    arm(&mut g, "dynamic/struct_arg_and_return", &translated, |n| {
        run_dynamic(
            rt,
            black_box(handle),
            "translate",
            &translate_args,
            n,
            &mut cx,
        )
    });
    arm(&mut g, "typed/string_roundtrip_256", &s, |n| {
        run_typed_echo(black_box(&mut typed), n, &s, &mut cx)
    });
    arm(&mut g, "dynamic/string_roundtrip_256", &echoed, |n| {
        run_dynamic(rt, black_box(handle), "echo", &echo_args, n, &mut cx)
    });

    g.finish();
}

criterion_group!(benches, dynamic_call);
criterion_main!(benches);
