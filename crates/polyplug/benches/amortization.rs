//! `amortization`: the one-time costs around the call path.
//!
//! * `load_bundle`: read and check the manifest, check the ELF file, `dlopen`, check the ABI
//!   version, run the plugin's init and register its providers. Each iteration loads into a
//!   fresh runtime, dropped outside the timing; nothing else holds the library, so every load
//!   maps it again (the file itself stays in the page cache: a warm load).
//! * `raw/dlopen_dlsym`: the floor: `dlopen` of the same file with the same flags, `dlsym` of
//!   `pp_plugin_init`, `dlclose`. Unlike `load_bundle`, its close is inside the timing.
//! * `find_and_resolve`: lookup and resolve on a loaded runtime (once per contract in real use).

mod common;

use common::{COUNTER, V1};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use polyplug::abi::PluginInitFn;
use polyplug::Runtime;
use std::hint::black_box;

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

    g.finish();
}

criterion_group!(benches, amortization);
criterion_main!(benches);
