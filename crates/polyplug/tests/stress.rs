//! Reload and unload under load: caller threads keep calling through the guarded paths while
//! the main thread swaps the bundle's code or unloads and reloads it, over and over.
//!
//! Every result is checked, not just "no crash". The main thread publishes what it is doing
//! in one word ([`Phase`]): busy while a reload, unload or load runs, otherwise the settled
//! state (which variant serves, or unloaded). A caller reads it before and after each call;
//! when both reads agree on a settled state the call ran entirely inside it, so its answer is
//! exact (that variant's result, or a stale handle once unloaded). Otherwise any documented
//! answer is allowed: a result of variant 1 or 2, or `StaleHandle` where unloads happen.
//! Handshakes at chosen points (the main thread waits until every caller has completed a few
//! calls in the current settled state) make sure each caller sees every state at least once,
//! so the counts asserted at the end do not depend on scheduling.
//!
//! The old library's `fini` logs how many calls were inside it; callers mix in `hold(0)` calls,
//! so a library released while a call was still inside shows up there.
//!
//! The tests: reloads under callers on every guarded path (`GuardedProvider::call_raw`,
//! `Runtime::call_typed`, the host table's `call`); unloads and loads under the same callers,
//! which find the provider again after a stale handle; and callers that keep a
//! `CachedProvider` and call it inside `Runtime::call_guard` while it is current, under a mix
//! of both (a quarter of the counts).
//!
//! Parameters (environment), with defaults that keep the debug suite fast (a few seconds):
//! `POLYPLUG_STRESS_THREADS` (3 callers), `POLYPLUG_STRESS_RELOADS` (1000),
//! `POLYPLUG_STRESS_UNLOADS` (300). `scripts/valgrind.sh` runs them with small counts.

use polyplug::{
    BundleId, CachedProvider, CallContext, ContractKey, Error, ErrorKind, GuardedProvider, Handle,
    LogLevel, Runtime, Status, Version,
};
use polyplug_testkit::{fixture_lib, make_bundle, reload, Bundle, BundleSpec};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ScopedJoinHandle};
use std::time::{Duration, Instant};

const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);
const V1_0: Version = Version::new(1, 0, 0);

/// How long a handshake may wait for the callers before the test gives up (a hang, not a
/// slow machine: callers complete thousands of calls per second).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn threads() -> usize {
    env_u64("POLYPLUG_STRESS_THREADS", 3).max(1) as usize
}

fn reloads() -> u64 {
    env_u64("POLYPLUG_STRESS_RELOADS", 1000)
}

fn unloads() -> u64 {
    env_u64("POLYPLUG_STRESS_UNLOADS", 300)
}

fn value_bundle(build: &str) -> Bundle {
    make_bundle(
        &BundleSpec::new("value")
            .library(fixture_lib(build))
            .provides(reload::PROVIDES),
    )
}

fn build_name(variant: u32) -> &'static str {
    match variant {
        1 => reload::V1,
        2 => reload::V2,
        v => panic!("no build for variant {v}"),
    }
}

// ---- what the main thread is doing ----

/// A settled state of the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unloaded,
    /// Loaded, and build `variant` serves.
    Serving(u32),
}

/// The main thread's published phase: a generation counter (bits 4..) and either the busy bit
/// or the settled [`State`] (bits 1..3: 0 for unloaded, else the variant). Only the main thread
/// writes it; every write bumps the generation, so equal reads mean nothing happened between.
struct Phase(AtomicU64);

const BUSY: u64 = 1;

impl Phase {
    fn new(state: State) -> Phase {
        Phase(AtomicU64::new(Phase::encode(0, state)))
    }

    fn encode(generation: u64, state: State) -> u64 {
        let bits = match state {
            State::Unloaded => 0,
            State::Serving(v) => u64::from(v),
        };
        generation << 4 | bits << 1
    }

    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn next_generation(&self) -> u64 {
        (self.now() >> 4) + 1
    }

    /// A reload, unload or load starts.
    fn busy(&self) {
        self.0
            .store(self.next_generation() << 4 | BUSY, Ordering::SeqCst);
    }

    /// It finished; `state` holds until the next [`Phase::busy`].
    fn settle(&self, state: State) {
        self.0.store(
            Phase::encode(self.next_generation(), state),
            Ordering::SeqCst,
        );
    }

    /// The state a call saw, if both reads around it agree and nothing was in progress.
    fn settled(before: u64, after: u64) -> Option<State> {
        if before != after || before & BUSY != 0 {
            return None;
        }
        Some(match (before >> 1) & 7 {
            0 => State::Unloaded,
            v => State::Serving(v as u32),
        })
    }
}

/// Sets `stop` when dropped, so callers end even when the main thread panics (the scope
/// would otherwise wait for them forever).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits until every caller has completed `ops` more operations than when called. Callers
/// count an operation after finishing it, so all but the first of those ran entirely after
/// this call started.
fn handshake<T>(progress: &[AtomicU64], callers: &[ScopedJoinHandle<'_, T>], ops: u64) {
    let targets: Vec<u64> = progress
        .iter()
        .map(|p| p.load(Ordering::SeqCst) + ops)
        .collect();
    let start = Instant::now();
    for (i, (p, target)) in progress.iter().zip(targets).enumerate() {
        while p.load(Ordering::SeqCst) < target {
            assert!(!callers[i].is_finished(), "caller {i} stopped early");
            assert!(
                start.elapsed() < HANDSHAKE_TIMEOUT,
                "caller {i} made no progress for {HANDSHAKE_TIMEOUT:?}"
            );
            thread::sleep(Duration::from_micros(100));
        }
    }
}

/// Collects what the fixture's `fini` reports: each released library says how many calls
/// were still inside it, which must be none.
#[derive(Default)]
struct FiniLog {
    count: AtomicUsize,
    busy: Mutex<Vec<String>>,
}

impl FiniLog {
    /// A runtime (hot reload on) whose log records go to a new `FiniLog`.
    fn runtime() -> (Runtime, Arc<FiniLog>) {
        let log = Arc::new(FiniLog::default());
        let sink = Arc::clone(&log);
        let rt = Runtime::builder()
            .hot_reload(true)
            .log_callback(move |_level: LogLevel, target: &str, message: &str| {
                if target == "fixture" && message.starts_with(reload::FINI_LOG_PREFIX) {
                    sink.count.fetch_add(1, Ordering::SeqCst);
                    if !message.ends_with(" in-flight=0") {
                        sink.busy.lock().expect("fini log").push(message.to_owned());
                    }
                }
            })
            .build()
            .expect("runtime");
        (rt, log)
    }

    /// Asserts `n` libraries were released, each with no call inside.
    fn check(&self, n: u64) {
        let busy = self.busy.lock().expect("fini log");
        assert!(
            busy.is_empty(),
            "libraries released with calls inside: {busy:?}"
        );
        assert_eq!(self.count.load(Ordering::SeqCst) as u64, n, "fini count");
    }
}

// ---- callers ----

/// The ways a caller reaches the provider by handle.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// `GuardedProvider::call_raw`.
    Guarded,
    /// `Runtime::call_typed`.
    Typed,
    /// The host table's `call`, as a plugin calls another plugin.
    HostTable,
}

const PATHS: [Path; 3] = [Path::Guarded, Path::Typed, Path::HostTable];

/// What one caller observed.
#[derive(Debug, Default)]
struct Tally {
    /// Calls per path (Ok or not).
    calls: [u64; 3],
    /// Ok results per variant (index 1 and 2).
    variant: [u64; 3],
    /// Ok results per variant from calls made entirely inside a settled state.
    settled_variant: [u64; 3],
    /// Calls answered `StaleHandle`.
    stale: u64,
    /// Calls answered `StaleHandle` inside a settled unloaded state.
    settled_stale: u64,
    /// `find`s answered `NotFound`.
    not_found: u64,
    /// `find`s answered `NotFound` inside a settled unloaded state.
    settled_not_found: u64,
    /// Successful re-`find`s.
    refound: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        for i in 0..3 {
            self.calls[i] += o.calls[i];
            self.variant[i] += o.variant[i];
            self.settled_variant[i] += o.settled_variant[i];
        }
        self.stale += o.stale;
        self.settled_stale += o.settled_stale;
        self.not_found += o.not_found;
        self.settled_not_found += o.settled_not_found;
        self.refound += o.refound;
    }

    fn total_calls(&self) -> u64 {
        self.calls.iter().sum()
    }
}

/// Call number `k`'s function and argument: mostly `get(x)`, every 16th a `hold(0)` (which
/// goes through the library's in-flight count).
fn op(k: u64) -> (u32, u32) {
    if k % 16 == 15 {
        (reload::HOLD, 0)
    } else {
        (reload::GET, (k % 1_000_000) as u32)
    }
}

/// The variant that produced `out` for function `func` with argument `x`; panics on any
/// other value.
fn variant_of(func: u32, x: u32, out: u32) -> u32 {
    let v = if func == reload::HOLD {
        out
    } else {
        out.wrapping_sub(x * 10)
    };
    assert!(
        v == 1 || v == 2,
        "function {func}({x}) returned {out}: not the answer of build 1 or 2"
    );
    v
}

/// Calls function `func` of `h` with `x` through `path`; returns the status and the result.
fn call_by(
    path: Path,
    rt: &Runtime,
    cx: &mut CallContext,
    guarded: &mut GuardedProvider<'_>,
    h: Handle,
    func: u32,
    x: u32,
) -> (Status, u32) {
    let mut out = 0u32;
    let args = &x as *const u32 as *const c_void;
    let ret = &mut out as *mut u32 as *mut c_void;
    let status = match path {
        Path::Guarded => {
            debug_assert_eq!(guarded.handle(), h);
            // SAFETY: `get` and `hold` take one u32 and return one u32.
            Status::from_raw(unsafe { guarded.call_raw(func, args, ret, cx.begin()) })
        }
        Path::Typed => {
            // SAFETY: as above.
            match unsafe { rt.call_typed(h, func, &x, &mut out, cx) }.map_err(Error::into_kind) {
                Ok(()) => Status::Ok,
                Err(ErrorKind::StaleHandle { handle }) => {
                    assert_eq!(handle, h);
                    Status::StaleHandle
                }
                Err(e) => panic!("call_typed failed: {e}"),
            }
        }
        Path::HostTable => {
            let host = rt.host_api();
            // SAFETY: the runtime's own table, alive while `rt` is.
            let call = unsafe { (*host).call }.expect("the host table has `call`");
            // SAFETY: as above; `h` outlives the call.
            Status::from_raw(unsafe { call(host, &h, func, args, ret, cx.begin()) })
        }
    };
    (status, out)
}

/// A caller thread's state: its context, the handle it calls (with the phase in which it was
/// found, when that is known exactly), and what it saw.
struct Caller<'rt> {
    rt: &'rt Runtime,
    cx: CallContext,
    /// The handle, its guarded provider, and the phase word if `find` ran inside one settled
    /// state.
    target: Option<(Handle, GuardedProvider<'rt>, Option<u64>)>,
    /// Whether the bundle may be unloaded in this test (otherwise a stale handle is a bug).
    unloads: bool,
    tally: Tally,
}

impl<'rt> Caller<'rt> {
    fn new(rt: &'rt Runtime, unloads: bool) -> Caller<'rt> {
        Caller {
            rt,
            cx: rt.call_context().expect("call context"),
            target: None,
            unloads,
            tally: Tally::default(),
        }
    }

    /// One operation: a call by handle, or a (re-)`find` when there is no live handle.
    fn step(&mut self, phase: &Phase, k: u64, path: Path) {
        let Some((h, guarded, found)) = &mut self.target else {
            self.find(phase);
            return;
        };
        let (h, found) = (*h, *found);
        let (func, x) = op(k);
        let before = phase.now();
        let (status, out) = call_by(path, self.rt, &mut self.cx, guarded, h, func, x);
        let after = phase.now();
        self.tally.calls[path as usize] += 1;
        let settled = Phase::settled(before, after);
        match status {
            Status::Ok => {
                let v = variant_of(func, x, out);
                self.tally.variant[v as usize] += 1;
                match settled {
                    Some(State::Serving(want)) => {
                        assert_eq!(
                            v, want,
                            "{path:?} call ran build {v} after build {want} was in place"
                        );
                        self.tally.settled_variant[v as usize] += 1;
                    }
                    Some(State::Unloaded) => {
                        panic!("{path:?} call succeeded while the bundle was unloaded")
                    }
                    None => {}
                }
            }
            Status::StaleHandle if self.unloads => {
                assert_ne!(
                    found,
                    Some(after),
                    "{path:?}: the handle went stale with no unload since it was found"
                );
                self.tally.stale += 1;
                if settled == Some(State::Unloaded) {
                    self.tally.settled_stale += 1;
                }
                self.target = None;
            }
            s => panic!("{path:?} call of function {func}({x}) returned {s:?}"),
        }
        if settled == Some(State::Unloaded) {
            assert_eq!(
                status,
                Status::StaleHandle,
                "{path:?}: a call while unloaded must be stale"
            );
        }
    }

    /// Finds the provider again after its handle went stale; tolerates `NotFound` while the
    /// bundle is unloaded.
    fn find(&mut self, phase: &Phase) {
        let before = phase.now();
        let found = self.rt.find(VALUE, &V1_0);
        let after = phase.now();
        let settled = Phase::settled(before, after);
        match found.map_err(Error::into_kind) {
            Ok(h) => {
                assert_ne!(
                    settled,
                    Some(State::Unloaded),
                    "find succeeded while the bundle was unloaded"
                );
                match self.rt.guarded(h).map_err(Error::into_kind) {
                    Ok(g) => {
                        self.tally.refound += 1;
                        self.target = Some((h, g, settled.map(|_| before)));
                    }
                    // Unloaded between `find` and `guarded`: find again next time.
                    Err(ErrorKind::StaleHandle { .. }) => {
                        assert!(
                            settled.is_none() || phase.now() != before,
                            "a handle found while loaded went stale with no unload since"
                        );
                    }
                    Err(e) => panic!("guarded failed: {e}"),
                }
            }
            Err(ErrorKind::NotFound { .. }) => {
                assert!(
                    !matches!(settled, Some(State::Serving(_))),
                    "find answered NotFound while the bundle was loaded"
                );
                self.tally.not_found += 1;
                if settled.is_some() {
                    self.tally.settled_not_found += 1;
                }
                // As a host would: leave the CPU to the thread loading the bundle.
                thread::yield_now();
            }
            Err(e) => panic!("find failed: {e}"),
        }
    }
}

/// Runs `callers` threads calling through [`Caller::step`] while `main` drives the bundle;
/// returns what each caller saw.
fn with_callers(
    rt: &Runtime,
    phase: &Phase,
    unloads: bool,
    main: impl FnOnce(&dyn Fn(u64)),
) -> Vec<Tally> {
    let n = threads();
    let stop = AtomicBool::new(false);
    let progress: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    thread::scope(|s| {
        let callers: Vec<_> = (0..n)
            .map(|t| {
                let (stop, progress) = (&stop, &progress[t]);
                s.spawn(move || {
                    let mut c = Caller::new(rt, unloads);
                    let mut k = t as u64;
                    while !stop.load(Ordering::Relaxed) {
                        c.step(phase, k, PATHS[(k % 3) as usize]);
                        progress.fetch_add(1, Ordering::SeqCst);
                        k += 1;
                    }
                    c.tally
                })
            })
            .collect();
        {
            let _stop = StopOnDrop(&stop);
            main(&|ops| handshake(&progress, &callers, ops));
        }
        callers
            .into_iter()
            .map(|c| c.join().expect("caller panicked"))
            .collect()
    })
}

fn summary(what: &str, tallies: &[Tally], elapsed: Duration) -> Tally {
    let mut all = Tally::default();
    for t in tallies {
        all.add(t);
    }
    println!(
        "{what}: {} callers, {} calls in {:.2} s (guarded {}, call_typed {}, host table {}); \
         build 1: {} ({} settled), build 2: {} ({} settled); stale {} ({} settled), \
         not found {} ({} settled), re-found {}; membarrier: {}",
        tallies.len(),
        all.total_calls(),
        elapsed.as_secs_f64(),
        all.calls[0],
        all.calls[1],
        all.calls[2],
        all.variant[1],
        all.settled_variant[1],
        all.variant[2],
        all.settled_variant[2],
        all.stale,
        all.settled_stale,
        all.not_found,
        all.settled_not_found,
        all.refound,
        polyplug::uses_membarrier(),
    );
    all
}

fn get(rt: &Runtime, h: Handle, x: u32) -> Result<u32, Error> {
    let mut cx = rt.call_context().expect("call context");
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    unsafe { rt.call_typed(h, reload::GET, &x, &mut out, &mut cx) }.map(|()| out)
}

/// Callers on every guarded path while the main thread reloads between builds 1 and 2:
/// every call succeeds with one of the two answers, and the exact one once a reload is done.
#[test]
fn reload_under_load() {
    let reloads = reloads();
    let (rt, fini) = FiniLog::runtime();
    let b = value_bundle(reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let phase = Phase::new(State::Serving(1));
    let start = Instant::now();
    let mut serving = 1;
    let tallies = with_callers(&rt, &phase, false, |handshake| {
        handshake(3);
        for i in 0..reloads {
            let next = 3 - serving;
            b.swap_library(build_name(next));
            phase.busy();
            rt.reload_bundle(id).unwrap();
            phase.settle(State::Serving(next));
            serving = next;
            if i < 2 || i % 100 == 99 {
                handshake(3);
            }
        }
    });
    let all = summary("reload under load", &tallies, start.elapsed());
    assert!(all.total_calls() > 0);
    assert_eq!(all.stale, 0);
    for (t, tally) in tallies.iter().enumerate() {
        assert!(
            tally.calls.iter().all(|&n| n > 0),
            "caller {t} did not use every path: {tally:?}"
        );
        if reloads > 0 {
            assert!(
                tally.settled_variant[1] > 0 && tally.settled_variant[2] > 0,
                "caller {t} did not observe both builds: {tally:?}"
            );
        }
    }
    assert_eq!(
        get(&rt, h, 7).unwrap(),
        70 + serving,
        "the last build serves"
    );
    assert_eq!(rt.find(VALUE, &V1_0).unwrap(), h, "reload keeps the handle");
    fini.check(reloads);
}

/// Callers by handle while the main thread unloads and loads the bundle again: calls
/// succeed with build 1's answer or report a stale handle, after which the caller finds the
/// provider again (`NotFound` while unloaded).
#[test]
fn unload_under_load() {
    let unloads = unloads();
    let (rt, fini) = FiniLog::runtime();
    let b = value_bundle(reload::V1);
    let mut id = rt.load_bundle(b.path()).unwrap();
    let phase = Phase::new(State::Serving(1));
    let start = Instant::now();
    let tallies = with_callers(&rt, &phase, true, |handshake| {
        handshake(4);
        for i in 0..unloads {
            let pause = i < 2 || i % 50 == 49;
            phase.busy();
            rt.unload_bundle(id).unwrap();
            if pause {
                // Let every caller see the bundle gone: stale handles, then `NotFound`.
                phase.settle(State::Unloaded);
                handshake(3);
                phase.busy();
            }
            id = rt.load_bundle(b.path()).unwrap();
            phase.settle(State::Serving(1));
            // Every caller calls the loaded bundle before the next unload races its calls.
            handshake(4);
        }
    });
    let all = summary("unload under load", &tallies, start.elapsed());
    assert!(all.total_calls() > 0);
    assert_eq!(all.variant[2], 0, "only build 1 was ever loaded");
    for (t, tally) in tallies.iter().enumerate() {
        assert!(
            tally.settled_variant[1] > 0,
            "caller {t} made no call while loaded: {tally:?}"
        );
        if unloads > 0 {
            assert!(
                tally.settled_not_found > 0 && tally.refound > 0,
                "caller {t} never lost and found the provider again: {tally:?}"
            );
        }
    }
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert_eq!(get(&rt, h, 7).unwrap(), 71);
    fini.check(unloads);
}

/// The cheap guarded section: callers keep a `CachedProvider` and call it inside
/// `rt.call_guard()` while it is current, resolving again (or finding again) otherwise,
/// while the main thread mixes reloads with unload + load.
#[test]
fn cached_provider_inside_call_guard_under_reload_and_unload() {
    let reloads = reloads().div_ceil(4);
    let unloads = unloads().div_ceil(4);
    let (rt, fini) = FiniLog::runtime();
    let b = value_bundle(reload::V1);
    let mut id = rt.load_bundle(b.path()).unwrap();
    let phase = Phase::new(State::Serving(1));
    let n = threads();
    let stop = AtomicBool::new(false);
    let progress: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let every = (reloads / unloads.max(1)).max(1);
    let start = Instant::now();
    let mut serving = 1;
    let mut unloaded = 0;
    let tallies: Vec<Tally> = thread::scope(|s| {
        let callers: Vec<_> = (0..n)
            .map(|t| {
                let (rt, phase, stop, progress) = (&rt, &phase, &stop, &progress[t]);
                s.spawn(move || {
                    let mut c = GuardCaller::new(rt);
                    let mut k = t as u64;
                    while !stop.load(Ordering::Relaxed) {
                        c.step(phase, k);
                        progress.fetch_add(1, Ordering::SeqCst);
                        k += 1;
                    }
                    c.tally
                })
            })
            .collect();
        {
            let _stop = StopOnDrop(&stop);
            handshake(&progress, &callers, 4);
            for i in 0..reloads {
                serving = 3 - serving;
                change(&rt, &b, &phase, &mut id, serving, false);
                if i < 2 {
                    handshake(&progress, &callers, 4);
                }
                if (i + 1) % every == 0 && unloaded < unloads {
                    change(&rt, &b, &phase, &mut id, serving, true);
                    unloaded += 1;
                }
            }
            while unloaded < unloads {
                change(&rt, &b, &phase, &mut id, serving, true);
                unloaded += 1;
            }
            handshake(&progress, &callers, 4);
        }
        callers
            .into_iter()
            .map(|c| c.join().expect("caller panicked"))
            .collect()
    });
    let all = summary("cached provider in call_guard", &tallies, start.elapsed());
    assert!(all.total_calls() > 0);
    for (t, tally) in tallies.iter().enumerate() {
        assert!(
            tally.settled_variant[serving as usize] > 0,
            "caller {t} made no call after the last change: {tally:?}"
        );
        if reloads > 0 {
            assert!(
                tally.settled_variant[1] > 0 && tally.settled_variant[2] > 0,
                "caller {t} did not observe both builds: {tally:?}"
            );
        }
    }
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert_eq!(get(&rt, h, 7).unwrap(), 70 + serving);
    fini.check(reloads + unloads);
}

/// One change by the main thread: a reload to build `serving`, or an unload and a load of
/// what is on disk (build `serving` already).
fn change(rt: &Runtime, b: &Bundle, phase: &Phase, id: &mut BundleId, serving: u32, unload: bool) {
    phase.busy();
    if unload {
        rt.unload_bundle(*id).expect("unload");
        *id = rt.load_bundle(b.path()).expect("load");
    } else {
        b.swap_library(build_name(serving));
        rt.reload_bundle(*id).expect("reload");
    }
    phase.settle(State::Serving(serving));
}

/// A caller that keeps a [`CachedProvider`] and calls it only inside a `call_guard` section
/// after checking it is current.
struct GuardCaller<'rt> {
    rt: &'rt Runtime,
    cx: CallContext,
    handle: Option<Handle>,
    cached: Option<CachedProvider<'rt>>,
    tally: Tally,
}

impl<'rt> GuardCaller<'rt> {
    fn new(rt: &'rt Runtime) -> GuardCaller<'rt> {
        GuardCaller {
            rt,
            cx: rt.call_context().expect("call context"),
            handle: None,
            cached: None,
            tally: Tally::default(),
        }
    }

    fn step(&mut self, phase: &Phase, k: u64) {
        let before = phase.now();
        let guard = self.rt.call_guard();
        let current = self.cached.filter(CachedProvider::is_current);
        let Some(cached) = current else {
            drop(guard);
            self.cached = None;
            self.refresh(phase);
            return;
        };
        let (func, x) = op(k);
        let mut out = 0u32;
        // SAFETY: `get` and `hold` take one u32 and return one u32; the section keeps the
        // current provider's code alive for the call.
        let status = Status::from_raw(unsafe {
            cached.call_raw(
                func,
                &x as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                self.cx.begin(),
            )
        });
        drop(guard);
        let after = phase.now();
        self.tally.calls[0] += 1;
        assert_eq!(
            status,
            Status::Ok,
            "a current cached provider's call failed"
        );
        let v = variant_of(func, x, out);
        self.tally.variant[v as usize] += 1;
        match Phase::settled(before, after) {
            Some(State::Serving(want)) => {
                assert_eq!(
                    v, want,
                    "cached call ran build {v} after build {want} was in place"
                );
                self.tally.settled_variant[v as usize] += 1;
            }
            Some(State::Unloaded) => panic!("a cached provider was current while unloaded"),
            None => {}
        }
    }

    /// Resolves the handle again, or finds the provider again when the handle is stale.
    fn refresh(&mut self, phase: &Phase) {
        let before = phase.now();
        if let Some(h) = self.handle {
            match self.rt.resolve(h).map_err(Error::into_kind) {
                Ok(c) => {
                    self.cached = Some(c);
                    return;
                }
                Err(ErrorKind::StaleHandle { .. }) => {
                    self.tally.stale += 1;
                    self.handle = None;
                }
                Err(e) => panic!("resolve failed: {e}"),
            }
        }
        match self.rt.find(VALUE, &V1_0).map_err(Error::into_kind) {
            Ok(h) => {
                self.tally.refound += 1;
                self.handle = Some(h);
            }
            Err(ErrorKind::NotFound { .. }) => {
                let settled = Phase::settled(before, phase.now());
                assert!(
                    !matches!(settled, Some(State::Serving(_))),
                    "find answered NotFound while the bundle was loaded"
                );
                self.tally.not_found += 1;
                thread::yield_now();
            }
            Err(e) => panic!("find failed: {e}"),
        }
    }
}
