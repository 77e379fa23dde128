//! `cold_start`: the first find + resolve + call on a freshly built runtime, against the same
//! path on a long-lived one and against a call through a provider resolved once.
//!
//! All three arms call one in-process host provider (`inc`), so no loader or disk is involved
//! and only the warmth of the runtime's data differs. "Cold" means data: the fresh runtime's
//! registry, snapshot and interface copy were never read by a lookup; the code itself is warm,
//! since the same routine runs on every iteration.

mod common;

use common::{HOST_COUNTER, HOST_COUNTER_IFACE, V1};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use polyplug::abi::Status;
use polyplug::{CallContext, Runtime};
use std::hint::black_box;

/// Fresh runtimes built per timed batch: small, so each is still built just before its use,
/// but enough to spread the timer's cost.
const COLD_BATCH: u64 = 32;

fn host_runtime() -> Runtime {
    let rt = Runtime::builder()
        .native_loader(false)
        .build()
        .expect("runtime");
    rt.register_host_provider(&HOST_COUNTER_IFACE, 0)
        .expect("host provider registers");
    rt
}

/// find + resolve + call: the whole uncached path.
fn find_resolve_call(rt: &Runtime, cx: &mut CallContext, x: u32) -> (u32, u32) {
    match rt.find(HOST_COUNTER, &V1).and_then(|h| rt.resolve(h)) {
        Ok(p) => common::inc_through(&p, x, cx.begin()),
        Err(_) => (0, Status::NotFound.raw()),
    }
}

fn cold_start(c: &mut Criterion) {
    let mut g = c.benchmark_group("cold_start");

    g.bench_function("cold/first_dispatch", |b| {
        let mut failed = 0u32;
        b.iter_batched(
            || {
                let rt = host_runtime();
                let cx = rt.call_context().expect("call context");
                (rt, cx)
            },
            |(rt, mut cx)| {
                let (out, status) = find_resolve_call(&rt, &mut cx, black_box(41));
                failed |= status | (out ^ 42);
                // Returned, so the runtime is dropped after the timed batch.
                (rt, cx)
            },
            BatchSize::NumIterations(COLD_BATCH),
        );
        assert_eq!(failed, 0);
    });

    let rt = host_runtime();
    let mut cx = rt.call_context().expect("call context");

    g.bench_function("warm/find_resolve_dispatch", |b| {
        let mut failed = 0u32;
        b.iter(|| {
            let (out, status) = find_resolve_call(&rt, &mut cx, black_box(41));
            failed |= status | (out ^ 42);
        });
        assert_eq!(failed, 0);
    });

    g.bench_function("warm/cached_dispatch", |b| {
        let p = rt
            .resolve(rt.find(HOST_COUNTER, &V1).expect("registered"))
            .expect("resolves");
        let mut failed = 0u32;
        b.iter(|| {
            let (out, status) = common::inc_through(&p, black_box(41), cx.begin());
            failed |= status | (out ^ 42);
        });
        assert_eq!(failed, 0);
    });

    g.finish();
}

criterion_group!(benches, cold_start);
criterion_main!(benches);
