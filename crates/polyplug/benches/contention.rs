//! `contention`: aggregate call throughput of 1, 2, 4 and 8 threads sharing one runtime.
//!
//! * `uncached/T`: every call is find + resolve + call of the counter's `inc`, so the registry's
//!   read path is on every call; it should scale with cores, since reads take no lock.
//! * `cached/T`: each thread resolves once and then only calls.
//! * `guarded/T`: as `cached/T`, but each thread makes a `GuardedProvider` once and every call
//!   goes through its `call_unchecked` (read section + revision check + call). The read section
//!   writes only the calling thread's own record, so this should scale like `cached`. One
//!   difference in the call itself: `cached` uses `call_raw` (with its index range check),
//!   `guarded` the unchecked call a generated caller makes.
//!
//! Criterion times one thread, so the bench uses `iter_custom`: workers are spawned once, outside
//! the timed region; each measurement hands every worker the same iteration count, releases them
//! together through a barrier and times the wall clock until the last one finishes. One criterion
//! iteration is one call on each of the `T` threads, so the throughput (`T` elements per
//! iteration) reads as aggregate calls per second.

mod common;

use common::{IncArgs, COUNTER, V1};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polyplug::abi::{CallCtx, Status};
use polyplug::{GuardedProvider, Runtime};
use std::ffi::c_void;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const THREADS: [usize; 4] = [1, 2, 4, 8];

#[derive(Clone, Copy)]
enum Mode {
    Uncached,
    Cached,
    Guarded,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Uncached => "uncached",
            Mode::Cached => "cached",
            Mode::Guarded => "guarded",
        }
    }
}

/// One `inc(x)` through a guarded provider; returns `(result, status)`.
#[inline(always)]
fn inc_guarded(p: &mut GuardedProvider<'_>, x: u32, ctx: *mut CallCtx) -> (u32, u32) {
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: function 0 of the counter is `inc(x: u32) -> u32`; `ctx` is the worker's live
    // context, and `inc` returns nothing in its arena.
    let status = unsafe {
        p.call_unchecked(
            0,
            &args as *const IncArgs as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            ctx,
        )
    };
    (out, status)
}

/// Runs `iters` calls per job until the job channel closes.
fn worker(
    rt: &Runtime,
    mode: Mode,
    jobs: Receiver<u64>,
    start: &Barrier,
    done: &Barrier,
    failed: &AtomicU32,
) {
    let mut cx = rt.call_context().expect("call context");
    let ctx = cx.begin();
    let handle = rt.find(COUNTER, &V1).expect("counter registered");
    let cached = rt.resolve(handle).expect("fresh handle resolves");
    let mut guarded = rt.guarded(handle).expect("fresh handle resolves");
    while let Ok(iters) = jobs.recv() {
        start.wait();
        let (mut x, mut bad) = (0u32, 0u32);
        match mode {
            Mode::Uncached => {
                for _ in 0..iters {
                    let p = rt.find(COUNTER, black_box(&V1)).and_then(|h| rt.resolve(h));
                    match p {
                        Ok(p) => {
                            let (out, status) = common::inc_through(&p, x, ctx);
                            bad |= status;
                            x = out;
                        }
                        Err(_) => bad |= Status::NotFound.raw(),
                    }
                }
            }
            Mode::Cached => {
                for _ in 0..iters {
                    let (out, status) = common::inc_through(&cached, x, ctx);
                    bad |= status;
                    x = out;
                }
            }
            Mode::Guarded => {
                for _ in 0..iters {
                    let (out, status) = inc_guarded(&mut guarded, x, ctx);
                    bad |= status;
                    x = out;
                }
            }
        }
        black_box(x);
        failed.fetch_or(bad, Ordering::Relaxed);
        done.wait();
    }
}

fn contention(c: &mut Criterion) {
    let loaded = common::rust_counter();
    let rt = &loaded.rt;
    let mut g = c.benchmark_group("contention");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for mode in [Mode::Uncached, Mode::Cached, Mode::Guarded] {
        for threads in THREADS {
            let (start, done) = (Barrier::new(threads + 1), Barrier::new(threads + 1));
            let failed = AtomicU32::new(0);
            std::thread::scope(|s| {
                let senders: Vec<_> = (0..threads)
                    .map(|_| {
                        let (tx, rx) = channel::<u64>();
                        let (start, done, failed) = (&start, &done, &failed);
                        s.spawn(move || worker(rt, mode, rx, start, done, failed));
                        tx
                    })
                    .collect();
                g.throughput(Throughput::Elements(threads as u64));
                g.bench_function(BenchmarkId::new(mode.name(), threads), |b| {
                    b.iter_custom(|iters| {
                        for tx in &senders {
                            tx.send(iters).expect("worker alive");
                        }
                        start.wait();
                        let t0 = Instant::now();
                        done.wait();
                        t0.elapsed()
                    })
                });
                // Closing the channels ends the workers; the scope joins them.
                drop(senders);
            });
            assert_eq!(failed.load(Ordering::Relaxed), Status::Ok.raw());
        }
    }
    g.finish();
}

criterion_group!(benches, contention);
criterion_main!(benches);
