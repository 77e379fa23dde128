//! `guarded`: the price of the guarded call path (safe against a concurrent reload or unload)
//! over the cached path (safe only when the host quiesces callers first).
//!
//! Every arm calls the Rust fixture's counter `inc` in a dependent chain (`x = inc(x)`) from an
//! opaque start. **One criterion iteration is one call**: each arm times `iters` chained calls
//! with `iter_custom` in one out-of-line loop, so the medians are nanoseconds per call and two
//! arms can be subtracted directly (`bench-ratio diff`).
//!
//! * `cached_call`: the cached path as the lifecycle defines it: a `CachedProvider` (raw
//!   interface pointer) whose `is_current` revision check (one acquire load and a compare) runs
//!   before each `call_unchecked`, re-resolving when stale (never, here).
//! * `guarded_call`: `GuardedProvider::call_unchecked`: open a read section (thread-local
//!   depth and sequence word; no fence where `membarrier` works), the same revision check, the
//!   call, close the section. Goal: `guarded_call - cached_call <= 3 ns`.
//! * `section_batch_16`: one `CallGuard` opened per 16 calls, each call as in `cached_call` (a
//!   cached provider that is current inside a section stays callable). Each measured batch of
//!   16 calls has its time divided by 16, so this figure too is **per call**: the section's
//!   cost spread over 16 calls. `section_batch_16 - cached_call` is a sixteenth of it.
//! * `by_handle`: `Runtime::call_typed` by handle: the uncached guarded path (section, registry
//!   lookup, size check, call, status mapping), for context.
//!
//! The process says on stderr whether guarded calls use `membarrier` here: without it every
//! section pays a full fence and the goal is not expected to hold.

mod common;

use common::{IncArgs, COUNTER, V1};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use polyplug::abi::{CallCtx, Status};
use polyplug::{CachedProvider, CallContext, GuardedProvider, Handle, Runtime};
use std::ffi::c_void;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls per section in `section_batch_16`.
const BATCH: u32 = 16;

/// The dependent chain: `x = inc(x)`, `n` times, from an opaque start; statuses OR-ed.
#[inline(always)]
fn chain(n: u64, mut step: impl FnMut(u32) -> (u32, u32)) -> (u32, u32) {
    let (mut x, mut failed) = (black_box(0u32), 0u32);
    for _ in 0..n {
        let (next, status) = step(x);
        failed |= status;
        x = next;
    }
    (x, failed)
}

/// The slow path of a stale cache: resolve the handle again (`None` once it is gone).
#[cold]
#[inline(never)]
fn re_resolve<'rt>(rt: &'rt Runtime, handle: Handle) -> Option<CachedProvider<'rt>> {
    rt.resolve(handle).ok()
}

/// One cached call: the revision check, then `inc(x)` through the provider's table.
///
/// # Safety
/// `ctx` must be a live call context, and the host must keep the provider's code alive (no
/// unload without quiescing this caller, or an open guarded section).
#[inline(always)]
unsafe fn cached_inc<'rt>(
    rt: &'rt Runtime,
    handle: Handle,
    p: &mut CachedProvider<'rt>,
    x: u32,
    ctx: *mut CallCtx,
) -> (u32, u32) {
    if !p.is_current() {
        match re_resolve(rt, handle) {
            Some(fresh) => *p = fresh,
            None => return (x, Status::StaleHandle.raw()),
        }
    }
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: function 0 of the counter is `inc`; `args`/`out` are its argument and result
    // structs; `p` is current and `ctx` live (the caller's promise).
    let status = unsafe {
        p.call_unchecked(
            0,
            &args as *const IncArgs as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            ctx,
        )
    };
    (out, status)
}

/// One guarded call of `inc(x)`.
#[inline(always)]
fn guarded_inc(p: &mut GuardedProvider<'_>, x: u32, ctx: *mut CallCtx) -> (u32, u32) {
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: function 0 of the counter is `inc`; `args`/`out` are its argument and result
    // structs and `ctx` is live.
    let status = unsafe {
        p.call_unchecked(
            0,
            &args as *const IncArgs as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            ctx,
        )
    };
    (out, status)
}

// One out-of-line loop per arm, as in `counter_inc`.

#[inline(never)]
fn run_cached<'rt>(
    rt: &'rt Runtime,
    handle: Handle,
    p: &mut CachedProvider<'rt>,
    n: u64,
    ctx: *mut CallCtx,
) -> (u32, u32) {
    // SAFETY: nothing unloads during the bench; `ctx` is live.
    chain(n, |x| unsafe { cached_inc(rt, handle, p, x, ctx) })
}

#[inline(never)]
fn run_guarded(p: &mut GuardedProvider<'_>, n: u64, ctx: *mut CallCtx) -> (u32, u32) {
    chain(n, |x| guarded_inc(p, x, ctx))
}

/// `batches` sections of [`BATCH`] cached calls each.
#[inline(never)]
fn run_sections<'rt>(
    rt: &'rt Runtime,
    handle: Handle,
    p: &mut CachedProvider<'rt>,
    batches: u64,
    ctx: *mut CallCtx,
) -> (u32, u32) {
    let (mut x, mut failed) = (black_box(0u32), 0u32);
    for _ in 0..batches {
        let _section = rt.call_guard();
        for _ in 0..BATCH {
            // SAFETY: inside a section, a provider that is current stays callable; `ctx` is live.
            let (next, status) = unsafe { cached_inc(rt, handle, p, x, ctx) };
            failed |= status;
            x = next;
        }
    }
    (x, failed)
}

#[inline(never)]
fn run_by_handle(rt: &Runtime, handle: Handle, n: u64, cx: &mut CallContext) -> (u32, u32) {
    chain(n, |x| {
        let mut out = 0u32;
        // SAFETY: function 0 of the counter is `inc(x: u32) -> u32`; `IncArgs` and `u32` are its
        // argument and result layouts.
        match unsafe { rt.call_typed(handle, 0, &IncArgs { x }, &mut out, cx) } {
            Ok(()) => (out, Status::Ok.raw()),
            Err(_) => (x, Status::Error.raw()),
        }
    })
}

/// Times `run(iters)`, checking its status after the clock stops.
fn timed(failed: &mut u32, run: impl FnOnce() -> (u32, u32)) -> Duration {
    let t0 = Instant::now();
    let (x, bad) = run();
    let elapsed = t0.elapsed();
    black_box(x);
    *failed |= bad;
    elapsed
}

fn guarded(c: &mut Criterion) {
    eprintln!(
        "guarded: read sections {} membarrier in this process",
        if polyplug::uses_membarrier() {
            "rely on"
        } else {
            "do NOT use (a fence per section)"
        }
    );
    let loaded = common::rust_counter();
    let rt = &loaded.rt;
    let handle = rt.find(COUNTER, &V1).expect("counter registered");
    let cached = rt.resolve(handle).expect("fresh handle resolves");
    let mut cx = rt.call_context().expect("call context");
    // `inc` returns nothing in the arena, so one context serves every call without a reset.
    let ctx = cx.begin();

    let mut g = c.benchmark_group("guarded");
    g.throughput(Throughput::Elements(1));

    g.bench_function("cached_call", |b| {
        let (mut p, mut failed) = (cached, 0u32);
        b.iter_custom(|iters| {
            timed(&mut failed, || {
                run_cached(rt, black_box(handle), black_box(&mut p), iters, ctx)
            })
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("guarded_call", |b| {
        let mut p = rt.guarded(handle).expect("fresh handle");
        let mut failed = 0u32;
        b.iter_custom(|iters| timed(&mut failed, || run_guarded(black_box(&mut p), iters, ctx)));
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("section_batch_16", |b| {
        let (mut p, mut failed) = (cached, 0u32);
        b.iter_custom(|iters| {
            // `iters` batches of 16 calls, reported per call.
            timed(&mut failed, || {
                run_sections(rt, black_box(handle), black_box(&mut p), iters, ctx)
            }) / BATCH
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("by_handle", |b| {
        let mut cx = rt.call_context().expect("call context");
        let mut failed = 0u32;
        b.iter_custom(|iters| {
            timed(&mut failed, || {
                run_by_handle(rt, black_box(handle), iters, &mut cx)
            })
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.finish();
}

criterion_group!(benches, guarded);
criterion_main!(benches);
