//! `contract_dispatch`: one call through a resolved provider, by argument shape, plus the
//! pessimal plugin-to-plugin path that finds and resolves on every call.

mod common;

use common::{AddPointsArgs, IncArgs, Point, COUNTER, RELAY};
use criterion::{criterion_group, criterion_main, Criterion};
use polyplug::abi::{Bytes, Status};
use polyplug_testkit::counter::{ADD_POINTS, NOOP, SUM_LEN};
use std::ffi::c_void;
use std::hint::black_box;

/// Size of the `buffer_arg` payload.
const BUFFER: usize = 4096;

#[repr(C)]
struct SumLenArgs {
    data: Bytes,
}

fn contract_dispatch(c: &mut Criterion) {
    let loaded = common::rust_and_c();
    let counter = loaded.resolve(COUNTER);
    let relay = loaded.resolve(RELAY);
    let mut cx = loaded.rt.call_context().expect("call context");
    // None of these functions returns data in the arena, so one context serves every call.
    let ctx = cx.begin();
    let null_args = std::ptr::null::<c_void>();

    let mut g = c.benchmark_group("contract_dispatch");

    g.bench_function("noop", |b| {
        let p = black_box(counter);
        let mut failed = 0u32;
        b.iter(|| {
            // SAFETY: `noop` takes no arguments and returns nothing.
            failed |= unsafe { p.call_raw(NOOP, null_args, std::ptr::null_mut(), ctx) };
        });
        assert_eq!(failed, Status::Ok.raw());
    });

    g.bench_function("buffer_arg", |b| {
        let p = black_box(counter);
        // Allocated once: only the call is timed.
        let buf = vec![7u8; BUFFER];
        let args = SumLenArgs {
            data: Bytes::new(&buf),
        };
        let mut failed = 0u32;
        let mut out = 0u64;
        b.iter(|| {
            // SAFETY: `sum-len(data: list<u8>) -> u64`; `buf` outlives the call.
            failed |= unsafe {
                p.call_raw(
                    SUM_LEN,
                    black_box(&args) as *const SumLenArgs as *const c_void,
                    &mut out as *mut u64 as *mut c_void,
                    ctx,
                )
            };
            black_box(out)
        });
        assert_eq!((failed, out), (Status::Ok.raw(), BUFFER as u64 + 7));
    });

    g.bench_function("struct_arg_and_return", |b| {
        let p = black_box(counter);
        let mut failed = 0u32;
        let mut out = Point::default();
        b.iter(|| {
            let args = AddPointsArgs {
                a: black_box(Point { x: 42, y: -7 }),
                b: black_box(Point { x: 57, y: 8 }),
            };
            // SAFETY: `add-points(a: point, b: point) -> point`.
            failed |= unsafe {
                p.call_raw(
                    ADD_POINTS,
                    &args as *const AddPointsArgs as *const c_void,
                    &mut out as *mut Point as *mut c_void,
                    ctx,
                )
            };
            black_box(out)
        });
        assert_eq!((failed, out), (Status::Ok.raw(), Point { x: 99, y: 1 }));
    });

    g.bench_function("cross_plugin", |b| {
        let p = black_box(relay);
        let mut failed = 0u32;
        let mut out = 0u32;
        b.iter(|| {
            let args = IncArgs { x: black_box(41) };
            // SAFETY: `inc-via(x: u32) -> u32` (function 0 of the relay); inside, the C plugin
            // finds, resolves and calls the top counter through the host table.
            failed |= unsafe {
                p.call_raw(
                    0,
                    &args as *const IncArgs as *const c_void,
                    &mut out as *mut u32 as *mut c_void,
                    ctx,
                )
            };
            black_box(out)
        });
        assert_eq!((failed, out), (Status::Ok.raw(), 42));
    });

    g.finish();
}

criterion_group!(benches, contract_dispatch);
criterion_main!(benches);
