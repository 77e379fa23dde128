//! `revision_check`: what a self-revalidating cached caller pays per call for its staleness
//! check.
//!
//! Both arms run `counter_inc`'s dependent chain (`x = inc(x)`, [`CHAIN`] calls per iteration,
//! throughput `CHAIN` elements) through a provider of the Rust fixture's counter resolved once,
//! so their figures compare directly with `counter_inc/polyplug/dispatch` from the same run.
//!
//! * `dispatch_only`: `CachedProvider::call_unchecked` with no check (the same loop as
//!   `counter_inc/polyplug/dispatch`).
//! * `staleness_check_then_dispatch`: `CachedProvider::is_current` (one acquire load of the
//!   slot's revision word and a compare) before every call, re-resolving the handle when the
//!   revision moved. Nothing reloads during the bench, so the re-resolve branch is compiled in
//!   but never taken: the figure is the check's cost when the cache is valid, the common case.
//!
//! The difference between the two is the per-call price of a cache that can tell it is stale.

mod common;

use common::{IncArgs, COUNTER, V1};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use polyplug::abi::{CallCtx, Status};
use polyplug::{CachedProvider, Handle, Runtime};
use std::ffi::c_void;
use std::hint::black_box;

/// Calls per iteration, as in `counter_inc`: time per call is the iteration time / `CHAIN`.
const CHAIN: u32 = 1000;

/// The dependent chain: `x = inc(x)`, `CHAIN` times, from an opaque start; statuses OR-ed.
#[inline(always)]
fn chain(mut step: impl FnMut(u32) -> (u32, u32)) -> (u32, u32) {
    let (mut x, mut failed) = (black_box(0u32), 0u32);
    for _ in 0..CHAIN {
        let (next, status) = step(x);
        failed |= status;
        x = next;
    }
    (x, failed)
}

/// One `inc(x)` through the provider's table, as a generated caller makes it.
///
/// # Safety
/// `p` must be a current counter provider and `ctx` a live call context.
#[inline(always)]
unsafe fn inc_unchecked(p: &CachedProvider<'_>, x: u32, ctx: *mut CallCtx) -> (u32, u32) {
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: function 0 of the counter is `inc`; `args`/`out` are its argument and result
    // structs, `ctx` is live (the caller's promise).
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

/// The slow path of a stale cache: resolve the handle again (`None` once it is gone).
#[cold]
#[inline(never)]
fn re_resolve<'rt>(rt: &'rt Runtime, handle: Handle) -> Option<CachedProvider<'rt>> {
    rt.resolve(handle).ok()
}

#[inline(never)]
fn run_dispatch_only(p: CachedProvider<'_>, ctx: *mut CallCtx) -> (u32, u32) {
    // SAFETY: `p` is current (nothing unloads during the bench) and `ctx` is live.
    chain(|x| unsafe { inc_unchecked(&p, x, ctx) })
}

#[inline(never)]
fn run_checked<'rt>(
    rt: &'rt Runtime,
    handle: Handle,
    p: &mut CachedProvider<'rt>,
    ctx: *mut CallCtx,
) -> (u32, u32) {
    chain(|x| {
        if !p.is_current() {
            match re_resolve(rt, handle) {
                Some(fresh) => *p = fresh,
                None => return (x, Status::StaleHandle.raw()),
            }
        }
        // SAFETY: `p` was just checked current (or resolved afresh); `ctx` is live.
        unsafe { inc_unchecked(p, x, ctx) }
    })
}

fn revision_check(c: &mut Criterion) {
    let loaded = common::rust_counter();
    let rt = &loaded.rt;
    let handle = rt.find(COUNTER, &V1).expect("counter registered");
    let cached = rt.resolve(handle).expect("fresh handle resolves");
    let mut cx = rt.call_context().expect("call context");
    // `inc` returns nothing in the arena, so one context serves every call without a reset.
    let ctx = cx.begin();

    let mut g = c.benchmark_group("revision_check");
    g.throughput(Throughput::Elements(CHAIN as u64));

    g.bench_function("dispatch_only", |b| {
        let mut failed = 0u32;
        b.iter(|| {
            let (x, bad) = run_dispatch_only(black_box(cached), ctx);
            failed |= bad;
            x
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("staleness_check_then_dispatch", |b| {
        let mut failed = 0u32;
        let mut p = cached;
        b.iter(|| {
            let (x, bad) = run_checked(rt, black_box(handle), black_box(&mut p), ctx);
            failed |= bad;
            x
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.finish();
}

criterion_group!(benches, revision_check);
criterion_main!(benches);
