//! `amortization`: the one-time costs around the call path.
//!
//! * `load_bundle`: read and check the manifest, check the ELF file, `dlopen`, check the ABI
//!   version, run the plugin's init and register its providers. Each iteration loads into a
//!   fresh runtime, dropped outside the timing; nothing else holds the library, so every load
//!   maps it again (the file itself stays in the page cache: a warm load).
//! * `raw/dlopen_dlsym`: the floor: `dlopen` of the same file with the same flags, `dlsym` of
//!   `pp_plugin_init`, `dlclose`. Unlike `load_bundle`, its close is inside the timing.
//! * `find_and_resolve`: lookup and resolve on a loaded runtime (once per contract in real use).
//! * `hot_reload_swap`: one `reload_bundle` of a loaded bundle of the reloadable C fixture, on a
//!   runtime built with `hot_reload(true)`. Before each iteration (untimed) the bundle's library
//!   file is replaced by the other build (v1 and v2 alternate; a new file renamed over the old
//!   one, never rewritten in place), so every reload really loads changed code. Timed: re-read
//!   the manifest, copy the library to a private file and map it, init, the compatibility
//!   check, the swap, the wait for guarded calls (none are running) and the release of the
//!   old copy (`fini`, `dlclose`).
//! * `unload_then_load`: `unload_bundle` then `load_bundle` of the same bundle directory (the
//!   same fixture, v1 only, on the same kind of runtime), both timed: the alternative to a
//!   reload. The file does not change, so the load is a warm one as in `load_bundle`.

mod common;

use common::{COUNTER, V1};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use polyplug::abi::PluginInitFn;
use polyplug::{BundleId, ContractKey, Runtime};
use polyplug_testkit::{reload, reload_bundle, Bundle};
use std::hint::black_box;

/// `test:reload/value@1`.
const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);

/// `get(x)` of the value contract: `x * 10 + variant`, so `get(0)` names the build serving.
fn served_variant(rt: &Runtime) -> u32 {
    let h = rt.find(VALUE, &V1).expect("value provider registered");
    let mut cx = rt.call_context().expect("call context");
    let mut out = u32::MAX;
    // SAFETY: function `GET` of the value contract is `get(x: u32) -> u32`.
    unsafe { rt.call_typed(h, reload::GET, &0u32, &mut out, &mut cx) }.expect("get");
    out
}

/// A runtime that allows reloads, with a bundle of build `reload::V1` loaded. The runtime is
/// declared after the bundle by callers, so it drops (unloading) before the directory goes.
fn hot_runtime(bundle: &Bundle) -> (Runtime, BundleId) {
    let rt = Runtime::builder()
        .hot_reload(true)
        .build()
        .expect("runtime");
    let id = rt.load_bundle(bundle.path()).expect("reload fixture loads");
    (rt, id)
}

fn amortization(c: &mut Criterion) {
    let bundle = common::rust_counter_bundle("bench-load");
    let library = bundle.library_path().to_owned();
    let mut g = c.benchmark_group("amortization");

    g.bench_function("load_bundle", |b| {
        let mut all_loaded = true;
        b.iter_batched(
            || Runtime::new().expect("runtime"),
            |rt| {
                all_loaded &= rt.load_bundle(bundle.path()).is_ok();
                // Returned, so the unload happens after the timing.
                rt
            },
            // One runtime at a time: a batch would keep the library open across its loads.
            BatchSize::PerIteration,
        );
        assert!(all_loaded);
    });

    g.bench_function("raw/dlopen_dlsym", |b| {
        b.iter(|| {
            // SAFETY: the fixture's constructors are the ones `load_bundle` runs too; the
            // symbol has the ABI's init signature. Nothing is called.
            unsafe {
                let lib =
                    Library::open(Some(&library), RTLD_NOW | RTLD_LOCAL).expect("fixture opens");
                let init: PluginInitFn = *lib.get(b"pp_plugin_init\0").expect("init exported");
                black_box(init);
                drop(lib);
            }
        })
    });

    let loaded = common::rust_counter();
    g.bench_function("find_and_resolve", |b| {
        b.iter(|| {
            let p = loaded
                .rt
                .find(black_box(COUNTER), &V1)
                .and_then(|h| loaded.rt.resolve(h));
            p.map(|p| p.interface() as *const _)
        })
    });

    {
        let bundle = reload_bundle("bench-reload", reload::V1);
        let (rt, id) = hot_runtime(&bundle);
        assert_eq!(served_variant(&rt), 1);
        let builds = [reload::V2, reload::V1];
        let (mut reloads, mut all_reloaded) = (0usize, true);
        g.bench_function("hot_reload_swap", |b| {
            b.iter_batched(
                || {
                    bundle.swap_library(builds[reloads % 2]);
                    reloads += 1;
                },
                |()| all_reloaded &= rt.reload_bundle(black_box(id)).is_ok(),
                // One swap per reload: a batch would reload the same file several times.
                BatchSize::PerIteration,
            );
        });
        assert!(all_reloaded, "a reload failed");
        // The code now serving is the last build swapped in: the reloads loaded changed files.
        let last = if reloads % 2 == 1 { 2 } else { 1 };
        assert_eq!(served_variant(&rt), last, "after {reloads} reloads");
        drop(rt);
    }

    {
        let bundle = reload_bundle("bench-unload", reload::V1);
        let (rt, first) = hot_runtime(&bundle);
        // A guarded call first, as before `hot_reload_swap`: the process then relies on
        // `membarrier`, so both arms' waits for guarded calls cost what they cost in a host.
        assert_eq!(served_variant(&rt), 1);
        let mut id = Some(first);
        g.bench_function("unload_then_load", |b| {
            b.iter(|| {
                let unloaded = id.take().is_some_and(|i| rt.unload_bundle(i).is_ok());
                if unloaded {
                    id = rt.load_bundle(black_box(bundle.path())).ok();
                }
            })
        });
        assert!(id.is_some(), "an unload or load failed");
        assert_eq!(served_variant(&rt), 1);
        drop(rt);
    }

    g.finish();
}

criterion_group!(benches, amortization);
criterion_main!(benches);
