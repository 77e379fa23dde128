//! `find`: contract key → best handle, against registries of 10 to 100 000 contracts. A find is
//! one probe of the snapshot's id-keyed map, so its cost should not grow with the registry.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use polyplug::ContractKey;
use std::hint::black_box;

fn find(c: &mut Criterion) {
    let mut g = c.benchmark_group("find");
    for n in [10usize, 1000, 100_000] {
        let (rt, handles) = common::registry_of(n);
        let name = common::registry_name(n / 2);
        // Precomputed, as a generated caller carries its key as a constant.
        let key = ContractKey::new(&name, 1);
        assert_eq!(rt.find(key, &common::V1).ok(), Some(handles[n / 2]));
        g.bench_function(format!("registry_{n}"), |b| {
            b.iter(|| rt.find(black_box(key), black_box(&common::V1)))
        });
    }
    g.finish();
}

criterion_group!(benches, find);
criterion_main!(benches);
