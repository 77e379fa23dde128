//! The soak test: many cycles of a runtime's whole life, watching the resident set size.
//!
//! Each cycle creates a runtime with hot reload on, loads three bundles (the reloadable C
//! fixture, the C counter with its relay, and the Rust fixture), calls each of them (by
//! handle, through a guarded provider, and plugin to plugin through the relay), reloads the
//! reloadable bundle with the other build, unloads two bundles and drops the runtime (which
//! unloads the third). The RSS is sampled every few cycles into a CSV file; after a warm-up it
//! must not grow by 1 MiB or more.
//!
//! It runs only when asked, since its point is a long run:
//!
//! ```text
//! POLYPLUG_SOAK_ITERS=100000 cargo test --release -p polyplug --test soak -- --nocapture
//! ```
//!
//! Environment: `POLYPLUG_SOAK_ITERS` (cycles; unset skips the test),
//! `POLYPLUG_SOAK_OUT` (the CSV, columns `cycle,elapsed_s,rss_kib`; default `soak-rss.csv` in
//! the Cargo target directory, normally `target/soak-rss.csv`; a relative path is taken from
//! the workspace root), `POLYPLUG_SOAK_SAMPLE_EVERY` (cycles between samples; default a
//! five-hundredth of the run), `POLYPLUG_SOAK_WARMUP` (cycles before the baseline; default a
//! tenth of the run, at most 10,000).

use polyplug::{ContractKey, Runtime, Status, Version};
use polyplug_testkit::{counter, fixture_lib, make_bundle, reload, rss_kib, Bundle, BundleSpec};
use std::ffi::c_void;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);
const COUNTER: ContractKey<'static> = ContractKey::new(counter::NAME, 1);
const RELAY: ContractKey<'static> = ContractKey::new("test:relay/relay", 1);
const V1_0: Version = Version::new(1, 0, 0);
/// `inc-via(x: u32) -> u32` of the relay: finds the first counter and calls its `inc`.
const RELAY_INC_VIA: u32 = 0;

/// The allowed growth of the resident set after the warm-up.
const MAX_GROWTH_KIB: u64 = 1024;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

/// The workspace root (`crates/polyplug/../..`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the CSV goes: `POLYPLUG_SOAK_OUT`, or `soak-rss.csv` in the target directory this
/// test binary was built into (`<target>/<profile>/deps/soak-<hash>`).
fn out_path() -> PathBuf {
    if let Some(p) = std::env::var_os("POLYPLUG_SOAK_OUT") {
        return workspace_root().join(p);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("soak-rss.csv")
}

/// The three bundles a cycle loads, and which reloadable build is on disk.
struct Bundles {
    value: Bundle,
    counter_c: Bundle,
    rust: Bundle,
    on_disk: u32,
}

impl Bundles {
    fn new() -> Bundles {
        Bundles {
            value: make_bundle(
                &BundleSpec::new("value")
                    .library(fixture_lib(reload::V1))
                    .provides(reload::PROVIDES),
            ),
            // Ranked first, so `find` and the relay pick the C counter.
            counter_c: make_bundle(
                &BundleSpec::new("counter-c")
                    .library(fixture_lib("counter_c"))
                    .provides(counter::PROVIDES)
                    .provides("test:relay/relay@1.0.0")
                    .priority(10),
            ),
            rust: make_bundle(&BundleSpec::counter("counter-rust")),
            on_disk: 1,
        }
    }

    /// Puts the other reloadable build on disk; returns its variant.
    fn flip(&mut self) -> u32 {
        self.on_disk = 3 - self.on_disk;
        let build = if self.on_disk == 1 {
            reload::V1
        } else {
            reload::V2
        };
        self.value.swap_library(build);
        self.on_disk
    }
}

/// Calls a `u32 -> u32` function by handle.
fn call_u32(
    rt: &Runtime,
    cx: &mut polyplug::CallContext,
    h: polyplug::Handle,
    f: u32,
    x: u32,
) -> u32 {
    let mut out = 0u32;
    // SAFETY: every function called here takes one u32 and returns one u32.
    unsafe { rt.call_typed(h, f, &x, &mut out, cx) }.expect("call");
    out
}

/// One full lifecycle of a runtime.
fn cycle(b: &mut Bundles, i: u64) {
    let rt = Runtime::builder()
        .hot_reload(true)
        .build()
        .expect("runtime");
    let value_id = rt.load_bundle(b.value.path()).expect("load value");
    let counter_id = rt.load_bundle(b.counter_c.path()).expect("load counter-c");
    rt.load_bundle(b.rust.path()).expect("load counter-rust");
    assert_eq!(rt.bundle_count(), 3);
    let mut cx = rt.call_context().expect("call context");
    let x = (i % 1000) as u32;

    let value = rt.find(VALUE, &V1_0).expect("find value");
    assert_eq!(
        call_u32(&rt, &mut cx, value, reload::GET, x),
        x * 10 + b.on_disk
    );
    let counters = rt.find_all(COUNTER, &V1_0);
    assert_eq!(counters.len(), 2);
    for &h in &counters {
        assert_eq!(call_u32(&rt, &mut cx, h, counter::INC, x), x + 1);
    }
    let relay = rt.find(RELAY, &V1_0).expect("find relay");
    assert_eq!(call_u32(&rt, &mut cx, relay, RELAY_INC_VIA, x), x + 1);
    let mut greeting = polyplug::abi::Str::EMPTY;
    // SAFETY: `greet(name: string) -> string`: a view of a static string in, a view out.
    unsafe {
        rt.call_typed(
            counters[1],
            counter::GREET,
            &polyplug::abi::Str::new("soak"),
            &mut greeting,
            &mut cx,
        )
    }
    .expect("greet");
    // SAFETY: the greeting lives in `cx`'s arena, not reset before this read.
    let greeting = unsafe { greeting.to_str() }.expect("a UTF-8 greeting");
    assert_eq!(greeting, "hello, soak from rust");

    let variant = b.flip();
    rt.reload_bundle(value_id).expect("reload value");
    let mut guarded = rt.guarded(value).expect("guarded");
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    let st = unsafe {
        guarded.call_raw(
            reload::GET,
            &x as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx.begin(),
        )
    };
    assert_eq!((Status::from_raw(st), out), (Status::Ok, x * 10 + variant));

    rt.unload_bundle(counter_id).expect("unload counter-c");
    rt.unload_bundle(value_id).expect("unload value");
    assert_eq!(rt.bundle_count(), 1);
    drop(rt);
}

#[test]
fn soak() {
    let Some(iters) = env_u64("POLYPLUG_SOAK_ITERS") else {
        // Straight to stderr, past the harness's capture: the skip shows without --nocapture.
        let _ = writeln!(
            std::io::stderr(),
            "soak: SKIPPED (opt-in long run; set POLYPLUG_SOAK_ITERS). Run it with \
             POLYPLUG_SOAK_ITERS=100000 cargo test --release -p polyplug --test soak -- --nocapture"
        );
        return;
    };
    let every = env_u64("POLYPLUG_SOAK_SAMPLE_EVERY")
        .unwrap_or(iters / 500)
        .max(1);
    let warmup = env_u64("POLYPLUG_SOAK_WARMUP")
        .unwrap_or((iters / 10).min(10_000))
        .min(iters);
    let out = out_path();
    println!(
        "soak: {iters} cycles, RSS sampled every {every} into {}, baseline after {warmup} cycles",
        out.display()
    );

    let mut b = Bundles::new();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    // Written as it goes, so a run that dies still leaves its samples.
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    writeln!(csv, "cycle,elapsed_s,rss_kib").unwrap();
    let start = Instant::now();
    let first_rss = rss_kib();
    let mut peak = first_rss;
    let mut base = (first_rss, start);
    let mut sample = |cycle: u64| {
        let rss = rss_kib();
        peak = peak.max(rss);
        let elapsed = start.elapsed().as_secs_f64();
        writeln!(csv, "{cycle},{elapsed:.3},{rss}").unwrap();
        csv.flush().unwrap();
        rss
    };
    sample(0);
    for i in 0..iters {
        if i == warmup && warmup > 0 {
            base = (sample(i), Instant::now());
        }
        cycle(&mut b, i);
        if (i + 1) % every == 0 && i + 1 != warmup {
            sample(i + 1);
        }
    }
    let end_rss = rss_kib();
    if iters % every != 0 {
        sample(iters);
    }
    let elapsed = start.elapsed().as_secs_f64();

    let (base_rss, measured_from) = base;
    let measured = iters - warmup;
    let growth = end_rss.saturating_sub(base_rss);
    println!(
        "soak: {iters} cycles in {elapsed:.1} s: churn {:.0} cycles/s ({:.0} after warm-up); \
         RSS start {first_rss} KiB, after warm-up {base_rss} KiB, end {end_rss} KiB, \
         peak {peak} KiB; growth after warm-up {growth} KiB over {measured} cycles \
         (limit {MAX_GROWTH_KIB} KiB); samples in {}",
        iters as f64 / elapsed,
        measured as f64 / measured_from.elapsed().as_secs_f64(),
        out.display(),
    );
    assert!(
        growth < MAX_GROWTH_KIB,
        "RSS grew by {growth} KiB over {measured} cycles after the warm-up \
         ({base_rss} -> {end_rss} KiB)"
    );
}
