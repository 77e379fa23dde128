//! `guest_host_call`: the guest → host direction, through the host table a plugin receives.
//!
//! * `host_contract_call/native`: the host registers `test:host/clock@1.0.0`; the "guest" finds
//!   and resolves it once through `HostApi.find` / `HostApi.resolve`, as a plugin would, and the
//!   timed body calls `now()` through the interface.
//! * `host_log/delivered`: one record through `HostApi.log` that passes the level filter and
//!   reaches the host's Rust sink (a `black_box`, so the bar is the funnel, not the sink).
//! * `host_log/filtered`: a Debug record under an Info maximum: dropped by the filter.

mod common;

use common::{CLOCK_IFACE, CLOCK_NAME, CLOCK_READING};
use criterion::{criterion_group, criterion_main, Criterion};
use polyplug::abi::{Handle, HostApi, Interface, LogLevel, Status, Str, Version};
use polyplug::Runtime;
use std::ffi::c_void;
use std::hint::black_box;

fn host_contract_call(c: &mut Criterion) {
    let rt = Runtime::builder()
        .native_loader(false)
        .build()
        .expect("runtime");
    rt.register_host_provider(&CLOCK_IFACE, 0)
        .expect("host contract registers");
    let mut cx = rt.call_context().expect("call context");
    // `now()` returns nothing in the arena, so one context serves every call.
    let ctx = cx.begin();

    // The guest side: everything through the table, once.
    let host: *const HostApi = rt.host_api();
    let name = Str::new(CLOCK_NAME);
    let min = Version::new(1, 0, 0);
    let mut handle = Handle::NULL;
    let mut iface: *const Interface = std::ptr::null();
    // SAFETY: the runtime's own table, alive while `rt` is; every pointer is a live local.
    unsafe {
        let find = (*host).find.expect("HostApi.find");
        let resolve = (*host).resolve.expect("HostApi.resolve");
        assert_eq!(find(host, &name, &min, &mut handle), Status::Ok.raw());
        assert_eq!(
            resolve(host, &handle, &mut iface, std::ptr::null_mut()),
            Status::Ok.raw()
        );
    }
    // SAFETY: a resolved interface stays valid while its provider is registered.
    let iface = unsafe { &*iface };
    assert_eq!(iface.func_count, 1);
    // SAFETY: the runtime's copy of the table holds `func_count` entries.
    let now = unsafe { iface.func(0) }.expect("now is function 0");

    let mut g = c.benchmark_group("guest_host_call");
    g.bench_function("host_contract_call/native", |b| {
        let provider = black_box(iface.provider);
        let (mut failed, mut out) = (0u32, 0u64);
        b.iter(|| {
            // SAFETY: `now() -> u64`: no arguments, a `u64` result; `ctx` is live.
            failed |= unsafe {
                now(
                    provider,
                    std::ptr::null(),
                    &mut out as *mut u64 as *mut c_void,
                    ctx,
                )
            };
            black_box(out)
        });
        assert_eq!((failed, out), (Status::Ok.raw(), CLOCK_READING));
    });
    g.finish();
}

fn host_log(c: &mut Criterion) {
    let rt = Runtime::builder()
        .native_loader(false)
        .max_log_level(LogLevel::Info)
        .log_callback(|_, _, m| {
            black_box(m);
        })
        .build()
        .expect("runtime");
    let host: *const HostApi = rt.host_api();
    // SAFETY: the runtime's own table.
    let log = unsafe { (*host).log }.expect("HostApi.log");
    let target = Str::new("bench-guest");
    let message = Str::new("frame 1234 rendered in 16.6 ms");

    let mut g = c.benchmark_group("guest_host_call");
    for (arm, level) in [
        ("host_log/delivered", LogLevel::Info),
        ("host_log/filtered", LogLevel::Debug),
    ] {
        g.bench_function(arm, |b| {
            b.iter(|| {
                // SAFETY: the runtime's table and views of live strings.
                unsafe { log(host, black_box(level as u32), &target, &message) }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, host_contract_call, host_log);
criterion_main!(benches);
