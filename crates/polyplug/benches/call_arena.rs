//! `call_arena`: the per-call bump allocator.
//!
//! * `primary/alloc_64`: rewind + one 64-byte bump in the first block (never overflows).
//! * `reset/primary_only`: the rewind alone (what every call's context reset costs).
//! * `overflow/cold_first_block`: a fresh arena whose allocation spills past its first block,
//!   dropped in the timed body: two system allocations and their frees.
//! * `overflow/warm_reuse`: the same spill on a reused arena: the retained overflow block is
//!   handed out again, with no system allocation.

use criterion::{criterion_group, criterion_main, Criterion};
use polyplug::abi::CallArena;
use std::hint::black_box;

/// First-block size: the runtime's default.
const PRIMARY: usize = CallArena::DEFAULT_PRIMARY;
/// A request that cannot fit the first block.
const SPILL: usize = 2 * PRIMARY;

fn call_arena(c: &mut Criterion) {
    let mut g = c.benchmark_group("call_arena");
    let mut arena = CallArena::new(PRIMARY).expect("arena");

    g.bench_function("primary/alloc_64", |b| {
        b.iter(|| {
            // Opaque, so the rewind and the bump are not folded together.
            let a = black_box(&mut arena);
            a.reset();
            a.alloc(64, 8)
        })
    });
    assert_eq!(arena.retained_blocks(), 0, "64 bytes never overflow");

    g.bench_function("reset/primary_only", |b| {
        b.iter(|| black_box(&mut arena).reset())
    });

    g.bench_function("overflow/cold_first_block", |b| {
        b.iter(|| {
            let mut a = CallArena::new(PRIMARY).expect("arena");
            // Escaped, so the optimiser cannot drop the allocations as unused.
            let p = black_box(black_box(&mut a).alloc(SPILL, 8));
            drop(a);
            !p.is_null()
        })
    });

    let mut reused = CallArena::new(PRIMARY).expect("arena");
    g.bench_function("overflow/warm_reuse", |b| {
        b.iter(|| {
            let a = black_box(&mut reused);
            a.reset();
            a.alloc(SPILL, 8)
        })
    });
    assert_eq!(reused.retained_blocks(), 1, "the overflow block is reused");
    g.finish();
}

criterion_group!(benches, call_arena);
criterion_main!(benches);
