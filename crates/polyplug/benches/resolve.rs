//! `resolve`: handle → cached provider, against registries of 10 to 100 000 contracts. A
//! resolve is a generation-checked slot index, so its cost should not grow with the registry.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn resolve(c: &mut Criterion) {
    let mut g = c.benchmark_group("resolve");
    for n in [10usize, 1000, 100_000] {
        let (rt, handles) = common::registry_of(n);
        let middle = handles[n / 2];
        assert!(rt.resolve(middle).is_ok());
        g.bench_function(format!("registry_{n}"), |b| {
            b.iter(|| rt.resolve(black_box(middle)))
        });
    }
    g.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
