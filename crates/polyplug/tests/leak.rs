//! Memory does not grow over many full runtime lifecycles: create a runtime, load a bundle,
//! call it, unload it, drop the runtime, again and again.
//!
//! The resident set size is measured after a warm-up (allocator pools, the dynamic loader's
//! caches and the test harness settle during the first cycles) and at the end; the growth
//! must stay under 1 MiB. `POLYPLUG_LEAK_CYCLES` sets the number of cycles (default 10,000),
//! `POLYPLUG_LEAK_WARMUP` the warm-up (default 1,000, at most half the cycles) and
//! `POLYPLUG_LEAK_MAX_GROWTH_KIB` the limit (default 1024). `scripts/valgrind.sh` lifts the
//! limit: under valgrind the RSS includes valgrind's own per-library bookkeeping (every cycle
//! maps the library anew), and memcheck's leak report is the check there.
//!
//! This file holds one test on purpose: nothing else runs in the process while it measures.

use polyplug::{ContractKey, Runtime, Status, Version};
use polyplug_testkit::{fixture_lib, make_bundle, reload, rss_kib, Bundle, BundleSpec};
use std::ffi::c_void;
use std::time::Instant;

const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);
const V1_0: Version = Version::new(1, 0, 0);

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// One lifecycle: runtime, load, calls on the by-handle and the guarded path, unload, drop.
fn cycle(bundle: &Bundle, i: u64) {
    let rt = Runtime::new().expect("runtime");
    let id = rt.load_bundle(bundle.path()).expect("load");
    let h = rt.find(VALUE, &V1_0).expect("find");
    let mut cx = rt.call_context().expect("call context");
    let x = (i % 1000) as u32;
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    unsafe { rt.call_typed(h, reload::GET, &x, &mut out, &mut cx) }.expect("get");
    assert_eq!(out, x * 10 + 1);
    let mut guarded = rt.guarded(h).expect("guarded");
    // SAFETY: as above.
    let st = unsafe {
        guarded.call_raw(
            reload::GET,
            &x as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx.begin(),
        )
    };
    assert_eq!((Status::from_raw(st), out), (Status::Ok, x * 10 + 1));
    rt.unload_bundle(id).expect("unload");
    assert_eq!(rt.bundle_count(), 0);
    drop(rt);
}

#[test]
fn runtime_lifecycles_do_not_leak() {
    let cycles = env_u64("POLYPLUG_LEAK_CYCLES", 10_000);
    let warmup = env_u64("POLYPLUG_LEAK_WARMUP", 1_000).min(cycles / 2);
    let limit = env_u64("POLYPLUG_LEAK_MAX_GROWTH_KIB", 1024);
    let bundle = make_bundle(
        &BundleSpec::new("value")
            .library(fixture_lib(reload::V1))
            .provides(reload::PROVIDES),
    );
    let start = Instant::now();
    let mut base = None;
    for i in 0..cycles {
        if i == warmup {
            base = Some((rss_kib(), Instant::now()));
        }
        cycle(&bundle, i);
    }
    let end_rss = rss_kib();
    let Some((base_rss, measured_from)) = base else {
        println!("leak: {cycles} cycles, nothing measured");
        return;
    };
    let growth = end_rss.saturating_sub(base_rss);
    let measured = cycles - warmup;
    let secs = measured_from.elapsed().as_secs_f64();
    println!(
        "leak: {cycles} cycles in {:.2} s ({:.0} cycles/s); RSS after {warmup} warm-up cycles \
         {base_rss} KiB, after {cycles} {end_rss} KiB: growth {growth} KiB over {measured} \
         cycles (limit {limit} KiB)",
        start.elapsed().as_secs_f64(),
        measured as f64 / secs,
    );
    assert!(
        growth < limit,
        "RSS grew by {growth} KiB over {measured} runtime lifecycles ({base_rss} -> {end_rss} KiB)"
    );
}
