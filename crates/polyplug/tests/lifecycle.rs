//! Reload, unload, teardown and the guarded call paths. Deterministic: where another thread
//! takes part, ordering comes from the fixtures' own state (`in-flight()`, the `fini` log
//! line) and from flags, never from how long something took.

use polyplug::abi::{CallCtx, ContractDesc, ContractFn, FuncDesc, Interface};
use polyplug::{
    BundleId, ContractKey, Error, ErrorKind, Handle, ReloadPhase, Runtime, Status, UnloadOptions,
    Version,
};
use polyplug_testkit::{
    counter, fixture_lib, make_bundle, modes, other, reload, reload_bundle, Bundle, BundleSpec,
};
use std::ffi::c_void;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);
const V1_0: Version = Version::new(1, 0, 0);

fn get(rt: &Runtime, h: Handle, x: u32) -> Result<u32, Error> {
    let mut cx = rt.call_context().expect("a call context");
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    unsafe { rt.call_typed(h, reload::GET, &x, &mut out, &mut cx) }.map(|()| out)
}

fn hot() -> Runtime {
    Runtime::builder()
        .hot_reload(true)
        .build()
        .expect("a runtime with hot reload")
}

#[test]
fn reload_swaps_code_in_place_and_keeps_handles() {
    let rt = hot();
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert_eq!(get(&rt, h, 4).unwrap(), 41);
    let cached = rt.resolve(h).unwrap();
    let mut guarded = rt.guarded(h).unwrap();
    b.swap_library(reload::V2);
    rt.reload_bundle(id).unwrap();
    assert_eq!(get(&rt, h, 4).unwrap(), 42, "same handle, new code");
    assert!(!cached.is_current(), "the revision word moved");
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    let st = unsafe {
        guarded.call_raw(
            reload::GET,
            &5u32 as *const u32 as *const _,
            &mut out as *mut u32 as *mut _,
            cx.begin(),
        )
    };
    assert_eq!((Status::from_raw(st), out), (Status::Ok, 52));
    assert_eq!(rt.resolve(h).unwrap().interface().func_count, 3);
    assert!(Path::new(b.path()).exists());
}

#[test]
fn unload_makes_handles_stale_on_every_path() {
    let rt = Runtime::new().unwrap();
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let cached = rt.resolve(h).unwrap();
    let mut guarded = rt.guarded(h).unwrap();
    rt.unload_bundle(id).unwrap();
    assert_eq!(rt.bundle_count(), 0);
    assert!(matches!(
        rt.resolve(h).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(matches!(
        get(&rt, h, 1).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(!cached.is_current());
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`; a stale provider is never called.
    let st = unsafe {
        guarded.call_raw(
            reload::GET,
            &5u32 as *const u32 as *const _,
            &mut out as *mut u32 as *mut _,
            cx.begin(),
        )
    };
    assert_eq!(Status::from_raw(st), Status::StaleHandle);
    assert!(
        matches!(rt.unload_bundle(id).map_err(Error::into_kind), Err(ErrorKind::NoSuchBundle(i)) if i == id)
    );
    // And it loads again.
    rt.load_bundle(b.path()).unwrap();
    let h2 = rt.find(VALUE, &V1_0).unwrap();
    assert_ne!(h2, h);
    assert_eq!(get(&rt, h2, 1).unwrap(), 11);
}

// ---- shared helpers for the tests below ----

const V1_1: Version = Version::new(1, 1, 0);

/// Every log record a runtime delivered, as `(target, message)`.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<(String, String)>>>);

impl Logs {
    fn push(&self, target: &str, message: &str) {
        self.0
            .lock()
            .expect("the lock of a test log")
            .push((target.to_owned(), message.to_owned()));
    }

    /// What the reloadable fixtures' `pp_plugin_fini` logged, in order.
    fn finis(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("the lock of a test log")
            .iter()
            .filter(|(t, m)| t == "fixture" && m.starts_with(reload::FINI_LOG_PREFIX))
            .map(|(_, m)| m.clone())
            .collect()
    }
}

/// One reload phase as the observer saw it, with the fini lines logged by then.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    bundle: BundleId,
    name: String,
    phase: ReloadPhase,
    error: Option<String>,
    finis_so_far: usize,
}

#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Seen>>>);

impl Events {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().expect("the lock of a test log"))
    }
}

/// A runtime that records its log and its reload phases.
fn observed(hot_reload: bool) -> (Runtime, Logs, Events) {
    let (logs, events) = (Logs::default(), Events::default());
    let (l, e, l2) = (logs.clone(), events.clone(), logs.clone());
    let rt = Runtime::builder()
        .hot_reload(hot_reload)
        .log_callback(move |_, target, message| l.push(target, message))
        .on_reload(move |ev| {
            e.0.lock().expect("the event lock").push(Seen {
                bundle: ev.bundle,
                name: ev.name.to_owned(),
                phase: ev.phase,
                error: ev.error.map(|e| e.to_string()),
                finis_so_far: l2.finis().len(),
            })
        })
        .build()
        .expect("an observed runtime");
    (rt, logs, events)
}

/// Calls a `u32`-returning function of `h`.
fn call_u32<A>(rt: &Runtime, h: Handle, func: u32, args: &A) -> Result<u32, Error> {
    let mut cx = rt.call_context().expect("a call context");
    let mut out = 0u32;
    // SAFETY: every reload fixture function returns one u32; `A` is `()` or `u32` as the
    // function's parameters say (the size check catches a mismatch).
    unsafe { rt.call_typed(h, func, args, &mut out, &mut cx) }.map(|()| out)
}

fn in_flight(rt: &Runtime, h: Handle) -> u32 {
    call_u32(rt, h, reload::IN_FLIGHT, &()).expect("in-flight() answers while the bundle is loaded")
}

/// Rewrites the bundle's `bundle.toml`, replacing `from` with `to` (which must occur).
fn edit_manifest(bundle: &Bundle, from: &str, to: &str) {
    let path = bundle.manifest_path();
    let text = std::fs::read_to_string(&path).expect("reading bundle.toml");
    assert!(text.contains(from), "{from:?} is not in\n{text}");
    std::fs::write(&path, text.replace(from, to)).expect("writing bundle.toml");
}

/// Whether the library file `path` is mapped into this process.
fn is_mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("reading /proc/self/maps");
    let path = std::fs::canonicalize(path).expect("the library file exists");
    let path = path.to_str().expect("temporary paths are UTF-8");
    maps.lines().any(|l| l.ends_with(path))
}

/// How long a test waits for something that only a bug would keep from ever happening (an
/// unload that never returns) before failing instead of stalling the whole run.
const HANG: Duration = Duration::from_secs(120);

/// The lock that makes tests holding long calls run one at a time (a poisoned lock is fine:
/// it only orders tests).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let give_up = Instant::now() + HANG;
    loop {
        match LOCK.try_lock() {
            Ok(g) => return g,
            Err(TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(TryLockError::WouldBlock) if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(TryLockError::WouldBlock) => panic!("another test's held call never finished"),
        }
    }
}

/// Runs `hold(ms)` through `call` on another thread and, once the call is seen inside the
/// library (`in-flight() == 1`), runs `while_held` on this thread. If the hold ends before it is
/// seen (a slow machine), it retries with a longer hold: no timing is assumed. Returns what the
/// holder's call returned and what `while_held` did.
fn while_a_call_is_held<T>(
    rt: &Runtime,
    h: Handle,
    call: impl Fn(u32) -> Result<u32, Error> + Sync,
    while_held: impl FnOnce() -> T,
) -> (Result<u32, Error>, T) {
    // An unload or reload waits for every open guarded section in the process, so another
    // test's long call could hide a missing wait here: long holds run one at a time.
    let _serial = one_at_a_time();
    let mut while_held = Some(while_held);
    let mut ms = 300;
    loop {
        let outcome = std::thread::scope(|s| {
            let holder = s.spawn(|| call(ms));
            loop {
                if in_flight(rt, h) == 1 {
                    let done = (while_held.take().expect("run once"))();
                    return Some((holder.join().expect("the holder thread"), done));
                }
                if holder.is_finished() {
                    holder
                        .join()
                        .expect("the holder thread")
                        .expect("the held call");
                    return None;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        match outcome {
            Some(o) => return o,
            None => ms *= 2,
        }
    }
}

/// A bundle of the Rust fixture's counter that requires the reload contract.
fn dependent(name: &str) -> Bundle {
    make_bundle(&BundleSpec::counter(name).requires(reload::PROVIDES))
}

// ---- reload ----

#[test]
fn reload_to_a_compatible_minor_adds_a_function() {
    let (rt, logs, events) = observed(true);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert!(matches!(
        rt.find(VALUE, &V1_1).map_err(Error::into_kind),
        Err(ErrorKind::NotFound { .. })
    ));
    assert_eq!(rt.contract(h).unwrap().funcs.len(), 3);
    assert!(matches!(
        call_u32(&rt, h, reload::EXTRA, &()).map_err(Error::into_kind),
        Err(ErrorKind::InvalidArgument(_))
    ));

    b.swap_library(reload::V3_MINOR);
    edit_manifest(&b, reload::PROVIDES, reload::PROVIDES_MINOR);
    rt.reload_bundle(id).unwrap();

    let c = rt.contract(h).unwrap();
    assert_eq!(c.version, V1_1);
    assert_eq!(c.funcs.len(), 4);
    assert_eq!(c.funcs[3].name, "extra");
    assert_eq!(
        rt.find(VALUE, &V1_1).unwrap(),
        h,
        "same handle, new version"
    );
    assert_eq!(call_u32(&rt, h, reload::GET, &4u32).unwrap(), 43);
    assert_eq!(call_u32(&rt, h, reload::EXTRA, &()).unwrap(), 1003);
    assert_eq!(rt.resolve(h).unwrap().interface().func_count, 4);
    assert_eq!(rt.bundles()[0].manifest.provides[0].version, V1_1);
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    let seen = events.take();
    assert_eq!(
        seen.iter().map(|s| s.phase).collect::<Vec<_>>(),
        [ReloadPhase::Preparing, ReloadPhase::Reloaded]
    );
    assert!(seen
        .iter()
        .all(|s| s.bundle == id && s.name == "value" && s.error.is_none()));

    // Going back to 1.0.0 would lower the minor version: refused, 1.1.0 keeps serving.
    b.swap_library(reload::V1);
    edit_manifest(&b, reload::PROVIDES_MINOR, reload::PROVIDES);
    let e = rt.reload_bundle(id).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::ReloadIncompatible { bundle, reason }
            if bundle == "value" && reason.contains("1.1.0") && reason.contains("1.0.0")),
        "{e}"
    );
    assert_eq!(call_u32(&rt, h, reload::EXTRA, &()).unwrap(), 1003);
    assert_eq!(rt.contract(h).unwrap().version, V1_1);
    // The refused copy of build 1 was released; build 3 was not.
    assert_eq!(
        logs.finis(),
        ["reload v1 fini in-flight=0", "reload v1 fini in-flight=0"]
    );
}

/// Reload `id` expecting a refusal; the observer must see Preparing then Failed with the
/// same error, the old code (build 1) must keep answering, and its library must stay loaded.
fn assert_refused(
    rt: &Runtime,
    id: BundleId,
    h: Handle,
    logs: &Logs,
    events: &Events,
    check: impl FnOnce(&Error) -> bool,
) -> Error {
    let e = match rt.reload_bundle(id) {
        Ok(()) => panic!("the reload was not refused"),
        Err(e) => e,
    };
    assert!(check(&e), "unexpected error: {e:?}");
    let seen = events.take();
    assert_eq!(
        seen.iter().map(|s| s.phase).collect::<Vec<_>>(),
        [ReloadPhase::Preparing, ReloadPhase::Failed],
        "{seen:?}"
    );
    assert_eq!(seen[0].error, None);
    assert_eq!(seen[1].error.as_deref(), Some(e.to_string().as_str()));
    assert!(seen.iter().all(|s| s.bundle == id && s.name == "value"));
    assert_eq!(
        call_u32(rt, h, reload::GET, &7u32).expect("get(7)"),
        71,
        "v1 still serves"
    );
    assert_eq!(rt.contract(h).expect("still registered").version, V1_0);
    assert!(
        !logs.finis().iter().any(|f| f.starts_with("reload v1 ")),
        "the old library was released: {:?}",
        logs.finis()
    );
    assert_eq!(rt.bundle_count(), 1);
    e
}

#[test]
fn incompatible_reloads_are_refused_and_the_old_code_keeps_serving() {
    let (rt, logs, events) = observed(true);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let text = std::fs::read_to_string(b.manifest_path()).unwrap();
    let restore = || std::fs::write(b.manifest_path(), &text).unwrap();

    // A new major version.
    b.swap_library(reload::MAJOR);
    edit_manifest(&b, reload::PROVIDES, reload::PROVIDES_MAJOR);
    let e = assert_refused(
        &rt,
        id,
        h,
        &logs,
        &events,
        |e| matches!(e.kind(), ErrorKind::ReloadIncompatible { bundle, .. } if bundle == "value"),
    );
    assert_eq!(e.status(), Status::ContractMismatch);
    assert!(rt.find(VALUE, &V1_0).is_ok());
    assert!(rt
        .find(ContractKey::new(reload::NAME, 2), &Version::new(2, 0, 0))
        .is_err());
    // The refused build had been initialised, so it was released again (and only it).
    let mut finis = vec!["reload v4 fini in-flight=0"];
    assert_eq!(logs.finis(), finis);
    restore();

    // A function dropped.
    b.swap_library(reload::FEWER);
    assert_refused(
        &rt,
        id,
        h,
        &logs,
        &events,
        |e| matches!(e.kind(), ErrorKind::ReloadIncompatible { reason, .. } if reason.contains("functions")),
    );
    assert_eq!(rt.contract(h).unwrap().funcs.len(), 3);
    finis.push("reload v5 fini in-flight=0");
    assert_eq!(logs.finis(), finis);

    // Init fails: its message comes back, and a build whose init failed is not finalised.
    b.swap_library(reload::INIT_FAILS);
    let e = assert_refused(&rt, id, h, &logs, &events, |e| {
        matches!(e.kind(), ErrorKind::LoaderFailed { bundle, message, status, .. }
            if bundle == "value"
                && *status == Status::InitFailed
                && message.ends_with(reload::INIT_FAILS_MESSAGE))
    });
    assert_eq!(e.status(), Status::InitFailed);
    assert_eq!(logs.finis(), finis);

    // The manifest renames the bundle.
    b.swap_library(reload::V2);
    edit_manifest(&b, "name = \"value\"", "name = \"renamed\"");
    assert_refused(&rt, id, h, &logs, &events, |e| {
        matches!(e.kind(), ErrorKind::ReloadIncompatible { bundle, reason }
            if bundle == "value" && reason.contains("renamed"))
    });
    assert_eq!(rt.bundle_id("value"), Some(id));
    assert_eq!(rt.bundle_id("renamed"), None);
    assert_eq!(logs.finis(), finis, "refused before any code was loaded");
    restore();

    // A manifest that declares something the new code does not register.
    edit_manifest(&b, reload::PROVIDES, reload::PROVIDES_MINOR);
    assert_refused(&rt, id, h, &logs, &events, |e| {
        matches!(e.kind(), ErrorKind::ProvidersMismatch { .. })
    });
    finis.push("reload v2 fini in-flight=0");
    assert_eq!(logs.finis(), finis);
    restore();

    // None of that disturbed the bundle: a compatible reload still works, on the same handle.
    rt.reload_bundle(id).unwrap();
    assert_eq!(call_u32(&rt, h, reload::GET, &7u32).unwrap(), 72);
    finis.push("reload v1 fini in-flight=0");
    assert_eq!(logs.finis(), finis);
    assert_eq!(
        events.take().iter().map(|s| s.phase).collect::<Vec<_>>(),
        [ReloadPhase::Preparing, ReloadPhase::Reloaded]
    );
}

#[test]
fn reload_needs_hot_reload_and_a_loaded_bundle() {
    let (rt, logs, events) = observed(false);
    assert!(!rt.hot_reload_enabled());
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    b.swap_library(reload::V2);
    let e = rt.reload_bundle(id).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ReloadDisabled), "{e:?}");
    assert_eq!(e.status(), Status::Unsupported);
    assert_eq!(call_u32(&rt, h, reload::GET, &1u32).unwrap(), 11);
    assert!(events.take().is_empty(), "nothing was attempted");
    assert!(logs.finis().is_empty());

    let (hot, _, events) = observed(true);
    assert!(hot.hot_reload_enabled());
    let e = hot.reload_bundle(42).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NoSuchBundle(42)), "{e:?}");
    assert_eq!(e.status(), Status::NotFound);
    let b = reload_bundle("value", reload::V1);
    let id = hot.load_bundle(b.path()).unwrap();
    hot.unload_bundle(id).unwrap();
    assert!(
        matches!(hot.reload_bundle(id).map_err(Error::into_kind), Err(ErrorKind::NoSuchBundle(i)) if i == id)
    );
    assert!(events.take().is_empty());
}

#[test]
fn the_old_library_is_released_exactly_when_the_reload_completes() {
    let (rt, logs, events) = observed(true);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert!(
        is_mapped(b.library_path()),
        "the first load maps the bundle's file"
    );
    b.swap_library(reload::V2);
    assert!(logs.finis().is_empty());
    rt.reload_bundle(id).unwrap();
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    let seen = events.take();
    assert_eq!(
        seen,
        [
            Seen {
                bundle: id,
                name: "value".into(),
                phase: ReloadPhase::Preparing,
                error: None,
                finis_so_far: 0,
            },
            Seen {
                bundle: id,
                name: "value".into(),
                phase: ReloadPhase::Reloaded,
                error: None,
                finis_so_far: 1,
            },
        ],
        "fini runs after Preparing and before Reloaded"
    );
    assert!(!is_mapped(b.library_path()), "the first library was closed");
    assert_eq!(call_u32(&rt, h, reload::GET, &3u32).unwrap(), 32);
    // The reloaded copy is released with the bundle.
    rt.unload_bundle(id).unwrap();
    assert_eq!(
        logs.finis(),
        ["reload v1 fini in-flight=0", "reload v2 fini in-flight=0"]
    );
}

#[test]
fn many_reloads_alternate_builds_on_one_handle() {
    let (rt, logs, events) = observed(true);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let mut guarded = rt.guarded(h).unwrap();
    let mut cx = rt.call_context().unwrap();
    let mut expected_finis = Vec::new();
    let mut current = 1;
    for i in 0..50u32 {
        let (build, variant) = if i % 2 == 0 {
            (reload::V2, 2)
        } else {
            (reload::V1, 1)
        };
        b.swap_library(build);
        rt.reload_bundle(id).unwrap();
        expected_finis.push(format!("reload v{current} fini in-flight=0"));
        current = variant;
        assert_eq!(
            call_u32(&rt, h, reload::GET, &i).unwrap(),
            i * 10 + variant,
            "reload {i}"
        );
        let mut out = 0u32;
        // SAFETY: `get(x: u32) -> u32`, index in range.
        let st = unsafe {
            guarded.call_unchecked(
                reload::GET,
                &i as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                cx.begin(),
            )
        };
        assert_eq!((Status::from_raw(st), out), (Status::Ok, i * 10 + variant));
    }
    assert_eq!(logs.finis(), expected_finis);
    let seen = events.take();
    assert_eq!(seen.len(), 100);
    assert!(seen
        .chunks(2)
        .all(|p| p[0].phase == ReloadPhase::Preparing && p[1].phase == ReloadPhase::Reloaded));
    assert_eq!(rt.provider_count(), 1);
    assert_eq!(rt.bundles()[0].providers, [h]);
}

#[test]
fn reload_waits_for_a_call_inside_the_old_code() {
    let (rt, logs, _) = observed(true);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    b.swap_library(reload::V2);
    let guarded = Mutex::new(rt.guarded(h).unwrap());
    let hold = |ms: u32| {
        let mut cx = rt.call_context().unwrap();
        let mut out = 0u32;
        // SAFETY: `hold(ms: u32) -> u32`.
        let st = unsafe {
            guarded.lock().unwrap().call_raw(
                reload::HOLD,
                &ms as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                cx.begin(),
            )
        };
        match Status::from_raw(st) {
            Status::Ok => Ok(out),
            s => Err(Error::from(ErrorKind::InvalidArgument(format!(
                "hold failed: {s:?}"
            )))),
        }
    };
    let (held, reloaded) = while_a_call_is_held(&rt, h, hold, || rt.reload_bundle(id));
    reloaded.unwrap();
    assert_eq!(
        held.unwrap(),
        1,
        "the call that was inside v1 finished in v1"
    );
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    assert_eq!(call_u32(&rt, h, reload::GET, &1u32).unwrap(), 12);
    assert_eq!(in_flight(&rt, h), 0);
}

// ---- unload ----

#[test]
fn dependents_block_an_unload_unless_it_cascades() {
    let (rt, logs, _) = observed(false);
    let value = reload_bundle("value", reload::V1);
    let dep = dependent("dep");
    let value_id = rt.load_bundle(value.path()).unwrap();
    let dep_id = rt.load_bundle(dep.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();

    let e = rt.unload_bundle(value_id).unwrap_err();
    match e.kind() {
        ErrorKind::HasDependents { bundle, dependents } => {
            assert_eq!(bundle, "value");
            assert_eq!(dependents, &["dep".to_owned()]);
        }
        other => panic!("expected HasDependents, got {other:?}"),
    }
    assert_eq!(e.status(), Status::Busy);
    assert!(e.to_string().contains("[dep]"), "{e}");
    // Nothing changed.
    assert_eq!(rt.bundle_count(), 2);
    assert_eq!(call_u32(&rt, h, reload::GET, &2u32).unwrap(), 21);
    assert!(logs.finis().is_empty());
    let e = rt
        .unload_bundle_with(value_id, UnloadOptions { cascade: false })
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::HasDependents { .. }));

    let order = rt
        .unload_bundle_with(value_id, UnloadOptions { cascade: true })
        .unwrap();
    assert_eq!(order, [dep_id, value_id], "the dependent goes first");
    assert_eq!(rt.bundle_count(), 0);
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    assert!(matches!(
        call_u32(&rt, h, reload::GET, &2u32).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(rt.find(ContractKey::new(counter::NAME, 1), &V1_0).is_err());
    // A dependent itself can always go.
    let value_id = rt.load_bundle(value.path()).unwrap();
    let dep_id = rt.load_bundle(dep.path()).unwrap();
    assert_eq!(
        rt.unload_bundle_with(dep_id, UnloadOptions { cascade: true })
            .unwrap(),
        [dep_id]
    );
    assert_eq!(ids(&rt), [value_id]);
}

fn ids(rt: &Runtime) -> Vec<BundleId> {
    rt.bundles().iter().map(|b| b.id).collect()
}

#[test]
fn cascade_is_transitive_and_unloads_in_dependency_order() {
    let rt = Runtime::new().unwrap();
    let value = reload_bundle("value", reload::V1);
    // dep requires the reload contract and provides the counter; `registers-other` (a fixture
    // mode) requires the counter and provides test:other/thing.
    let dep = dependent("dep");
    let other = make_bundle(
        &BundleSpec::new(modes::REGISTERS_OTHER)
            .provides(other::PROVIDES)
            .requires(counter::PROVIDES),
    );
    let value_id = rt.load_bundle(value.path()).unwrap();
    let dep_id = rt.load_bundle(dep.path()).unwrap();
    let other_id = rt.load_bundle(other.path()).unwrap();

    match rt.unload_bundle(value_id).unwrap_err().into_kind() {
        ErrorKind::HasDependents { dependents, .. } => {
            assert_eq!(dependents, ["dep", modes::REGISTERS_OTHER])
        }
        e => panic!("expected HasDependents, got {e:?}"),
    }
    match rt.unload_bundle(dep_id).unwrap_err().into_kind() {
        ErrorKind::HasDependents { bundle, dependents } => {
            assert_eq!(bundle, "dep");
            assert_eq!(dependents, [modes::REGISTERS_OTHER]);
        }
        e => panic!("expected HasDependents, got {e:?}"),
    }
    let order = rt
        .unload_bundle_with(value_id, UnloadOptions { cascade: true })
        .unwrap();
    assert_eq!(order, [other_id, dep_id, value_id]);
    assert_eq!(rt.bundle_count(), 0);
    assert_eq!(rt.provider_count(), 0);
}

/// The names `unload_bundle(id)` reports as dependents.
fn dependents_of(rt: &Runtime, id: BundleId) -> Vec<String> {
    match rt.unload_bundle(id).map_err(Error::into_kind) {
        Err(ErrorKind::HasDependents { dependents, .. }) => dependents,
        other => panic!("expected HasDependents, got {other:?}"),
    }
}

#[test]
fn another_compatible_provider_means_no_dependents() {
    let (rt, logs, _) = observed(false);
    let a = reload_bundle("value-a", reload::V1);
    let b = reload_bundle("value-b", reload::V2);
    let minor = make_bundle(
        &BundleSpec::new("value-minor")
            .library(fixture_lib(reload::V3_MINOR))
            .provides(reload::PROVIDES_MINOR),
    );
    let dep = dependent("dep");
    let dep11 = make_bundle(&BundleSpec::counter("dep11").requires(reload::PROVIDES_MINOR));
    let a_id = rt.load_bundle(a.path()).unwrap();
    let b_id = rt.load_bundle(b.path()).unwrap();
    let dep_id = rt.load_bundle(dep.path()).unwrap();
    assert_eq!(
        rt.unload_bundle_with(a_id, UnloadOptions { cascade: true })
            .unwrap(),
        [a_id],
        "value-b still provides the contract, so dep stays"
    );
    assert_eq!(ids(&rt), [b_id, dep_id]);
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert_eq!(call_u32(&rt, h, reload::GET, &1u32).unwrap(), 12);
    // Now value-b is the only provider.
    assert_eq!(dependents_of(&rt, b_id), ["dep"]);

    // 1.1.0 satisfies a requirement of 1.0.0, so value-b can go once value-minor is loaded...
    let minor_id = rt.load_bundle(minor.path()).unwrap();
    let dep11_id = rt.load_bundle(dep11.path()).unwrap();
    rt.unload_bundle(b_id).unwrap();
    assert_eq!(dependents_of(&rt, minor_id), ["dep", "dep11"]);
    // ...but 1.0.0 does not satisfy 1.1.0: with value-a back, only dep11 depends on value-minor.
    let a_id = rt.load_bundle(a.path()).unwrap();
    assert_eq!(dependents_of(&rt, minor_id), ["dep11"]);
    assert_eq!(
        rt.unload_bundle_with(minor_id, UnloadOptions { cascade: true })
            .unwrap(),
        [dep11_id, minor_id]
    );
    assert_eq!(ids(&rt), [dep_id, a_id]);
}

#[test]
fn unload_waits_for_a_call_inside_the_bundle() {
    let (rt, logs, _) = observed(false);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let hold = |ms: u32| call_u32(&rt, h, reload::HOLD, &ms);
    let (held, unloaded) = while_a_call_is_held(&rt, h, hold, || rt.unload_bundle(id));
    unloaded.unwrap();
    assert_eq!(
        held.unwrap(),
        1,
        "the held call completed in the unloaded bundle"
    );
    assert_eq!(
        logs.finis(),
        ["reload v1 fini in-flight=0"],
        "fini ran only after the call had left the library"
    );
    assert!(!is_mapped(b.library_path()));
    assert!(matches!(
        call_u32(&rt, h, reload::GET, &1u32).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
}

#[test]
fn unload_waits_for_a_guarded_section_around_cached_calls() {
    let (rt, logs, _) = observed(false);
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let cached = rt.resolve(h).unwrap();
    let left_section = AtomicBool::new(false);
    let hold = |ms: u32| {
        // Reset for each attempt (`while_a_call_is_held` may retry with a longer hold).
        left_section.store(false, Ordering::SeqCst);
        let section = rt.call_guard();
        assert!(cached.is_current());
        let mut cx = rt.call_context().unwrap();
        let mut out = 0u32;
        // SAFETY: `hold(ms: u32) -> u32`; the section keeps the current provider alive.
        let st = unsafe {
            cached.call_raw(
                reload::HOLD,
                &ms as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                cx.begin(),
            )
        };
        // Still inside the section: the unload must not have returned yet.
        left_section.store(true, Ordering::SeqCst);
        drop(section);
        assert_eq!(Status::from_raw(st), Status::Ok);
        Ok(out)
    };
    let (held, unloaded) = while_a_call_is_held(&rt, h, hold, || {
        let r = rt.unload_bundle(id);
        (r, left_section.load(Ordering::SeqCst))
    });
    let (r, section_was_closed) = unloaded;
    r.unwrap();
    assert!(
        section_was_closed,
        "unload returned while another thread was still inside its guarded section"
    );
    assert_eq!(held.unwrap(), 1);
    assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);
    assert!(!cached.is_current());
}

#[test]
fn lifecycle_changes_are_refused_inside_a_guarded_section() {
    let rt = hot();
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let host = rt.register_host_provider(&PING_IFACE, 0).unwrap();
    let inside = |e: Error, what: &str| {
        assert_eq!(e.status(), Status::Busy);
        match e.kind() {
            ErrorKind::InsideGuardedCall { operation } => assert_eq!(*operation, what),
            other => panic!("expected InsideGuardedCall, got {other:?}"),
        }
    };
    {
        let _outer = rt.call_guard();
        {
            let _inner = rt.call_guard();
            inside(rt.unload_bundle(id).unwrap_err(), "unload a bundle");
        }
        // Sections nest: the outer one is still open.
        inside(
            rt.unload_bundle_with(id, UnloadOptions { cascade: true })
                .unwrap_err(),
            "unload a bundle",
        );
        inside(rt.reload_bundle(id).unwrap_err(), "reload a bundle");
        inside(
            rt.unregister_host_provider(host).unwrap_err(),
            "unregister a host provider",
        );
        // Loading is allowed, and nothing was changed by the refusals.
        let other = reload_bundle("other", reload::V2);
        rt.load_bundle(other.path()).unwrap();
        assert_eq!(rt.bundle_count(), 2);
        assert_eq!(rt.provider_count(), 3);
    }
    // Closed: everything goes through now.
    b.swap_library(reload::V2);
    rt.reload_bundle(id).unwrap();
    assert_eq!(
        call_u32(&rt, rt.find(VALUE, &V1_0).unwrap(), reload::GET, &0u32).unwrap(),
        2
    );
    rt.unregister_host_provider(host).unwrap();
    rt.unload_bundle(id).unwrap();
    assert_eq!(rt.bundle_count(), 1);
}

// ---- teardown ----

#[test]
fn dropping_the_runtime_releases_every_bundle_newest_first() {
    let (rt, logs, _) = observed(false);
    let bundles = [
        reload_bundle("one", reload::V1),
        reload_bundle("two", reload::V2),
        make_bundle(
            &BundleSpec::new("three")
                .library(fixture_lib(reload::V3_MINOR))
                .provides(reload::PROVIDES_MINOR),
        ),
    ];
    for b in &bundles {
        rt.load_bundle(b.path()).unwrap();
    }
    let h = rt.find(VALUE, &V1_1).unwrap();
    assert_eq!(call_u32(&rt, h, reload::GET, &0u32).unwrap(), 3);
    assert!(bundles.iter().all(|b| is_mapped(b.library_path())));
    assert!(logs.finis().is_empty());
    drop(rt);
    assert_eq!(
        logs.finis(),
        [
            "reload v3 fini in-flight=0",
            "reload v2 fini in-flight=0",
            "reload v1 fini in-flight=0"
        ]
    );
    for b in &bundles {
        assert!(
            !is_mapped(b.library_path()),
            "{} is still mapped",
            b.library_path().display()
        );
    }
}

// ---- host providers and the host table ----

static NO_FUNCS: [FuncDesc; 1] = [FuncDesc::new("ping", &[], None)];
static PING: ContractDesc = ContractDesc::new("test:host/ping", Version::new(1, 0, 0), &NO_FUNCS);
unsafe extern "C" fn ping(
    _: *mut c_void,
    _: *const c_void,
    _: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    0
}
static PING_FNS: [Option<ContractFn>; 1] = [Some(ping)];
static PING_IFACE: Interface = Interface {
    struct_size: std::mem::size_of::<Interface>() as u32,
    func_count: 1,
    contract: &PING,
    funcs: PING_FNS.as_ptr(),
    provider: std::ptr::null_mut(),
    create_instance: None,
    destroy_instance: None,
};

#[test]
fn host_provider_unregister_is_refused_inside_a_section_and_works_after() {
    let rt = Runtime::new().unwrap();
    let h = rt.register_host_provider(&PING_IFACE, 0).unwrap();
    let guard = rt.call_guard();
    let e = rt.unregister_host_provider(h).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InsideGuardedCall {
                operation: "unregister a host provider"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.status(), Status::Busy);
    assert!(rt.resolve(h).is_ok(), "still registered");
    drop(guard);
    rt.unregister_host_provider(h).unwrap();
    assert!(matches!(
        rt.resolve(h).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
}

/// The host table's guarded `call`, as a plugin would use it.
fn host_call(rt: &Runtime, h: Option<&Handle>, func: u32, x: u32) -> (Status, u32) {
    let host = rt.host_api();
    // SAFETY: the runtime's own table, alive while `rt` is.
    let call = unsafe { (*host).call }.expect("the host table has call");
    let mut cx = rt.call_context().expect("a call context");
    let mut out = u32::MAX;
    let handle = h.map_or(std::ptr::null(), |h| h as *const Handle);
    // SAFETY: every reload fixture function takes at most one u32 and returns one u32.
    let st = unsafe {
        call(
            host,
            handle,
            func,
            &x as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx.begin(),
        )
    };
    (Status::from_raw(st), out)
}

#[test]
fn the_host_tables_guarded_call_as_a_plugin_uses_it() {
    let rt = hot();
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    assert_eq!(host_call(&rt, Some(&h), reload::GET, 6), (Status::Ok, 61));
    assert_eq!(
        host_call(&rt, Some(&h), reload::EXTRA, 6),
        (Status::InvalidArgument, u32::MAX),
        "v1 has 3 functions"
    );
    assert_eq!(
        host_call(&rt, Some(&h), u32::MAX, 6).0,
        Status::InvalidArgument
    );
    assert_eq!(
        host_call(&rt, None, reload::GET, 6),
        (Status::NullPointer, u32::MAX)
    );
    assert_eq!(
        host_call(&rt, Some(&Handle::NULL), reload::GET, 6).0,
        Status::StaleHandle
    );
    let never = Handle {
        index: 999,
        generation: 7,
    };
    assert_eq!(
        host_call(&rt, Some(&never), reload::GET, 6).0,
        Status::StaleHandle
    );
    // A null table is refused, not dereferenced.
    // SAFETY: the runtime's own table; the callee must check its `host` argument.
    let call = unsafe { (*rt.host_api()).call }.unwrap();
    let mut out = 0u32;
    // SAFETY: as above; a null table is refused before anything is read.
    let st = unsafe {
        call(
            std::ptr::null(),
            &h,
            reload::GET,
            &1u32 as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(Status::from_raw(st), Status::NullPointer);

    // The same handle follows a reload.
    b.swap_library(reload::V3_MINOR);
    edit_manifest(&b, reload::PROVIDES, reload::PROVIDES_MINOR);
    rt.reload_bundle(id).unwrap();
    assert_eq!(host_call(&rt, Some(&h), reload::GET, 6), (Status::Ok, 63));
    assert_eq!(
        host_call(&rt, Some(&h), reload::EXTRA, 0),
        (Status::Ok, 1003)
    );

    rt.unload_bundle(id).unwrap();
    assert_eq!(
        host_call(&rt, Some(&h), reload::GET, 6),
        (Status::StaleHandle, u32::MAX)
    );
}

#[test]
fn the_host_tables_guard_functions_open_and_close_a_section() {
    let rt = Runtime::new().unwrap();
    let b = reload_bundle("value", reload::V1);
    let id = rt.load_bundle(b.path()).unwrap();
    let h = rt.find(VALUE, &V1_0).unwrap();
    let host = rt.host_api();
    // SAFETY: the runtime's own table.
    let (enter, exit, resolve) = unsafe {
        (
            (*host).guard_enter.unwrap(),
            (*host).guard_exit.unwrap(),
            (*host).resolve.unwrap(),
        )
    };
    // Unpaired exits are ignored: they do not open (or corrupt) anything.
    // SAFETY: the guard functions take no arguments.
    unsafe {
        exit();
        exit();
    }
    let (mut iface, mut revision) = (std::ptr::null(), std::ptr::null());
    // SAFETY: valid out-parameters.
    let st = unsafe { resolve(host, &h, &mut iface, &mut revision) };
    assert_eq!(Status::from_raw(st), Status::Ok);
    // SAFETY: the revision word lives as long as the runtime; it is an atomic u32.
    let rev = || unsafe { &*(revision as *const AtomicU32) }.load(Ordering::Acquire);
    let seen = rev();
    // SAFETY: no arguments.
    unsafe { enter() };
    assert_eq!(rev(), seen, "still current inside the section");
    // SAFETY: `iface` is current and the section keeps it alive; `get(x: u32) -> u32`.
    let (st, out) = unsafe {
        let iface: &Interface = &*iface;
        let mut cx = rt.call_context().unwrap();
        let mut out = 0u32;
        let f = (*iface.funcs.add(reload::GET as usize)).unwrap();
        let st = f(
            iface.provider,
            &8u32 as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx.begin(),
        );
        (st, out)
    };
    assert_eq!((Status::from_raw(st), out), (Status::Ok, 81));
    let e = rt.unload_bundle(id).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InsideGuardedCall { .. }),
        "{e:?}"
    );
    // SAFETY: no arguments; closes the section opened above.
    unsafe { exit() };
    rt.unload_bundle(id).unwrap();
    assert_ne!(rev(), seen, "the unload moved the revision word");
    // SAFETY: an unpaired exit again.
    unsafe { exit() };
    let id = rt.load_bundle(b.path()).unwrap();
    rt.unload_bundle(id).unwrap();
}
#[test]
fn a_thread_that_exits_inside_a_section_leaves_no_open_section_behind() {
    // With such a section left open an unload would wait forever: run the test on another
    // thread, so that a hang fails it instead of stalling the run.
    let body = || {
        let (rt, logs, _) = observed(false);
        // SAFETY: the runtime's own table.
        let enter = unsafe { (*rt.host_api()).guard_enter }.unwrap();
        // A host thread opens a section and exits without closing it (a host bug, but a plain one).
        let open_a_section_and_exit = || {
            // SAFETY: no arguments.
            std::thread::spawn(move || unsafe { enter() })
                .join()
                .unwrap()
        };

        // The section must not block an unload.
        let first = reload_bundle("first", reload::V1);
        let id = rt.load_bundle(first.path()).unwrap();
        open_a_section_and_exit();
        rt.unload_bundle(id).unwrap();
        assert_eq!(logs.finis(), ["reload v1 fini in-flight=0"]);

        // And a thread started afterwards may take over that thread's record: its calls must still
        // count as in flight.
        let second = reload_bundle("second", reload::V2);
        let id = rt.load_bundle(second.path()).unwrap();
        let h = rt.find(VALUE, &V1_0).unwrap();
        open_a_section_and_exit();
        let hold = |ms: u32| call_u32(&rt, h, reload::HOLD, &ms);
        let (held, unloaded) = while_a_call_is_held(&rt, h, hold, || rt.unload_bundle(id));
        unloaded.unwrap();
        assert_eq!(held.unwrap(), 2);
        assert_eq!(
            logs.finis(),
            ["reload v1 fini in-flight=0", "reload v2 fini in-flight=0"]
        );
    };
    let (done_tx, done_rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(HANG) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("an unload hangs: it waits for a section whose thread has exited")
        }
    }
}
