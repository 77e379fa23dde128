//! `counter_inc`: the same dependent chain of `x = inc(x)` calls through four mechanisms, so the
//! per-call difference between two arms is the cost of the one thing that differs.
//!
//! * `native/inline_never`: a local Rust function (no boundary at all; the floor).
//! * `ffi/by_value`: `pp_bench_inc(u32) -> u32` from the loaded fixture library, by `dlsym`.
//! * `native/abi_marshalled`: polyplug's calling convention (argument struct in, result struct
//!   out, status back), statically linked, through an opaque function pointer.
//! * `polyplug/dispatch`: the fixture's registered `inc`, called through a resolved provider.

mod common;

use common::{IncArgs, COUNTER};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use polyplug::abi::{CallCtx, ContractFn, Status};
use polyplug::CachedProvider;
use std::ffi::c_void;
use std::hint::black_box;

/// `dlopen` flag: open only an already-loaded object (libloading does not export it).
#[cfg(target_os = "linux")]
const RTLD_NOLOAD: std::os::raw::c_int = 4;
#[cfg(target_vendor = "apple")]
const RTLD_NOLOAD: std::os::raw::c_int = 0x10;
/// Elsewhere the check is skipped: the path still names the bundle's private copy.
#[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
const RTLD_NOLOAD: std::os::raw::c_int = 0;

/// Calls per iteration: time per call is the iteration time / `CHAIN`.
const CHAIN: u32 = 1000;

#[inline(never)]
fn native_inc(x: u32) -> u32 {
    x.wrapping_add(1)
}

/// One call through the convention: argument struct on the stack, result through a pointer.
///
/// # Safety
/// `f` must be an `inc(x: u32) -> u32` contract function and `ctx` a live call context.
#[inline(always)]
unsafe fn call_inc(f: ContractFn, instance: *mut c_void, x: u32, ctx: *mut CallCtx) -> (u32, u32) {
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: forwarded to the caller; `args` and `out` live across the call.
    let status = unsafe {
        f(
            instance,
            &args as *const IncArgs as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            ctx,
        )
    };
    (out, status)
}

/// The dependent chain every arm runs: `x = inc(x)`, `CHAIN` times, from an opaque start.
/// `step` returns the next `x` and a status; the statuses are OR-ed, to check after timing.
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

// One out-of-line loop per arm: each gets the whole register file to itself instead of
// sharing it with criterion's timing loop, so codegen differences do not pose as mechanism
// differences. The call into each loop is amortised over `CHAIN` calls.

#[inline(never)]
fn run_native() -> (u32, u32) {
    chain(|x| (native_inc(x), 0))
}

#[inline(never)]
fn run_by_value(f: extern "C" fn(u32) -> u32) -> (u32, u32) {
    chain(|x| (f(x), 0))
}

#[inline(never)]
fn run_marshalled(f: ContractFn, ctx: *mut CallCtx) -> (u32, u32) {
    // SAFETY: `f` is an `inc` contract function and `ctx` is live (the bench's promise).
    chain(|x| unsafe { call_inc(f, std::ptr::null_mut(), x, ctx) })
}

#[inline(never)]
fn run_dispatch(p: CachedProvider<'_>, ctx: *mut CallCtx) -> (u32, u32) {
    chain(|x| {
        let args = IncArgs { x };
        let mut out = 0u32;
        // Through the resolved provider's interface on every call, as a generated caller
        // does: the function pointer is loaded from the table each time.
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
    })
}

fn counter_inc(c: &mut Criterion) {
    let loaded = common::rust_counter();
    let cached = loaded.resolve(COUNTER);
    let mut cx = loaded.rt.call_context().expect("call context");
    // `inc` returns nothing in the arena, so one context serves every call without a reset.
    let ctx = cx.begin();

    // The same copy of the library the bundle loaded: with RTLD_NOLOAD, dlopen fails unless
    // this very file is already loaded, and otherwise hands back the loaded object.
    // SAFETY: no new library is loaded; this only adds a reference to the bundle's.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(loaded.library(0)),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL | RTLD_NOLOAD,
        )
    }
    .expect("the bundle's library is loaded");
    // SAFETY: the fixture exports `pp_bench_inc` with exactly this signature.
    let by_value: extern "C" fn(u32) -> u32 =
        *unsafe { lib.get::<extern "C" fn(u32) -> u32>(b"pp_bench_inc\0") }
            .expect("pp_bench_inc exported");
    assert_eq!(by_value(41), 42);

    let mut g = c.benchmark_group("counter_inc");
    g.throughput(Throughput::Elements(CHAIN as u64));

    g.bench_function("native/inline_never", |b| b.iter(run_native));

    g.bench_function("ffi/by_value", |b| {
        b.iter(|| run_by_value(black_box(by_value)))
    });

    g.bench_function("native/abi_marshalled", |b| {
        let mut failed = 0u32;
        b.iter(|| {
            let (x, bad) = run_marshalled(black_box(common::host_inc as ContractFn), ctx);
            failed |= bad;
            x
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("polyplug/dispatch", |b| {
        let mut failed = 0u32;
        b.iter(|| {
            let (x, bad) = run_dispatch(black_box(cached), ctx);
            failed |= bad;
            x
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.finish();
    drop(lib);
}

criterion_group!(benches, counter_inc);
criterion_main!(benches);
