//! Loading real native bundles (the Rust and C fixtures) and calling them through the runtime.

use polyplug::abi::{Bytes, Interface, Str};
use polyplug::{ContractKey, Error, ErrorKind, LogLevel, Runtime, Status, Version};
use polyplug_testkit::{counter, fixture_lib, make_bundle, modes, BundleSpec};
use std::ffi::c_void;
use std::sync::{Arc, Mutex};

const COUNTER: ContractKey<'static> = ContractKey::new(counter::NAME, 1);
const V1: Version = Version::new(1, 0, 0);

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
}

fn c_bundle(name: &str, priority: i32) -> polyplug_testkit::Bundle {
    make_bundle(
        &BundleSpec::new(name)
            .library(fixture_lib("counter_c"))
            .provides(counter::PROVIDES)
            .provides("test:relay/relay@1.0.0")
            .priority(priority),
    )
}

/// Calls `whoami` and copies the answer out of the arena.
fn whoami(rt: &Runtime, h: polyplug::Handle) -> String {
    let mut cx = rt
        .call_context()
        .expect("a call context only allocates its arena, which fails only out of memory");
    let mut out = Str::EMPTY;
    // SAFETY: `whoami` takes no arguments and returns a string: `()` and the `Str` in `out`.
    unsafe { rt.call_typed(h, counter::WHOAMI, &(), &mut out, &mut cx) }
        .expect("every counter fixture answers whoami without failing");
    // SAFETY: the view points to the provider's static memory or into `cx`'s arena, and `cx`
    // makes no other call before this copy.
    unsafe { out.to_str() }
        .expect("the fixtures answer whoami with an ASCII name")
        .to_owned()
}

#[test]
fn rust_fixture_answers_every_function() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("rust-counter"));
    let id = rt.load_bundle(b.path()).unwrap();
    assert_eq!(rt.bundle_count(), 1);
    assert_eq!(rt.bundles()[0].id, id);
    let h = rt.find(COUNTER, &V1).unwrap();
    let info = rt.contract(h).unwrap();
    assert_eq!(info.version, Version::new(1, 2, 0));
    assert_eq!(info.funcs.len(), counter::FUNC_COUNT as usize);
    let mut cx = rt.call_context().unwrap();

    let mut out = 0u32;
    // SAFETY: `inc(x: u32) -> u32`: the argument struct is one u32 and `out` a writable u32.
    unsafe { rt.call_typed(h, counter::INC, &41u32, &mut out, &mut cx) }.unwrap();
    assert_eq!(out, 42);
    // SAFETY: `noop()` has neither arguments nor a result, so `()` for both.
    unsafe { rt.call_typed(h, counter::NOOP, &(), &mut (), &mut cx) }.unwrap();

    let data = vec![7u8; 4096];
    let mut len = 0u64;
    // SAFETY: `sum-len(data: list<u8>) -> u64`: a `Bytes` view of `data`, which outlives the
    // call, and a writable u64.
    unsafe { rt.call_typed(h, counter::SUM_LEN, &Bytes::new(&data), &mut len, &mut cx) }.unwrap();
    assert_eq!(len, 4096 + 7);

    let args = [Point { x: 1, y: 2 }, Point { x: 10, y: -20 }];
    let mut p = Point { x: 0, y: 0 };
    // SAFETY: `add-points(a: point, b: point) -> point`: `[Point; 2]` has the layout of the
    // `{ a, b }` argument struct, and `Point` is the `repr(C)` `{ x: s32, y: s32 }` record.
    unsafe { rt.call_typed(h, counter::ADD_POINTS, &args, &mut p, &mut cx) }.unwrap();
    assert_eq!(p, Point { x: 11, y: -18 });

    let mut greeting = Str::EMPTY;
    // SAFETY: `greet(name: string) -> string`: a `Str` view of a static string and a `Str`
    // the provider fills.
    unsafe {
        rt.call_typed(
            h,
            counter::GREET,
            &Str::new("polyplug"),
            &mut greeting,
            &mut cx,
        )
    }
    .unwrap();
    // SAFETY: the greeting lives in `cx`'s arena, which is not reset until its next call.
    let text = unsafe { greeting.to_str() };
    assert_eq!(text.unwrap(), "hello, polyplug from rust");
    assert_eq!(whoami(&rt, h), "rust");
}

#[test]
fn failures_and_panics_become_statuses_with_messages() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("rust-counter"));
    rt.load_bundle(b.path()).unwrap();
    let h = rt.find(COUNTER, &V1).unwrap();
    let mut cx = rt.call_context().unwrap();
    // SAFETY: `fail()` has neither arguments nor a result, so `()` for both.
    match unsafe { rt.call_typed(h, counter::FAIL, &(), &mut (), &mut cx) }
        .map_err(Error::into_kind)
    {
        Err(ErrorKind::CallFailed {
            status: Status::Error,
            message,
            function,
            ..
        }) => {
            assert_eq!(message, counter::FAIL_MESSAGE);
            assert_eq!(function, "fail");
        }
        other => panic!("expected CallFailed, got {other:?}"),
    }
    // SAFETY: `boom()` has neither arguments nor a result, so `()` for both.
    match unsafe { rt.call_typed(h, counter::BOOM, &(), &mut (), &mut cx) }
        .map_err(Error::into_kind)
    {
        Err(ErrorKind::CallFailed {
            status: Status::Panic,
            message,
            ..
        }) => {
            assert!(message.contains(counter::BOOM_MESSAGE), "{message}")
        }
        other => panic!("expected a caught panic, got {other:?}"),
    }
    // The host lives on and the provider still answers.
    let mut out = 0u32;
    // SAFETY: `inc(x: u32) -> u32`: the argument struct is one u32 and `out` a writable u32.
    unsafe { rt.call_typed(h, counter::INC, &1u32, &mut out, &mut cx) }.unwrap();
    assert_eq!(out, 2);
}

#[test]
fn typed_calls_check_sizes_and_indices() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("rust-counter"));
    rt.load_bundle(b.path()).unwrap();
    let h = rt.find(COUNTER, &V1).unwrap();
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u64; // inc returns a u32
                        // SAFETY: the size check refuses the 8-byte result before the provider runs; even if it
                        // did not, `out` has room for the u32 `inc` writes, and the argument is its one u32.
    let e = unsafe { rt.call_typed(h, counter::INC, &1u32, &mut out, &mut cx) }.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InvalidArgument(ref m) if m.contains("returns 4")),
        "{e}"
    );
    // SAFETY: the counter has no function 99, so the runtime refuses the call and never hands
    // the null argument and result pointers to a provider.
    let e = unsafe { rt.call(h, 99, std::ptr::null(), std::ptr::null_mut(), &mut cx) }.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InvalidArgument(ref m) if m.contains("no function 99")),
        "{e}"
    );
}

#[test]
fn c_and_rust_providers_rank_by_priority_and_call_each_other() {
    let rt = Runtime::new().unwrap();
    let rust = make_bundle(&BundleSpec::counter("rust-counter").priority(5));
    let c = c_bundle("c-counter", 10);
    rt.load_bundle(rust.path()).unwrap();
    rt.load_bundle(c.path()).unwrap();
    let all = rt.find_all(COUNTER, &V1);
    assert_eq!(all.len(), 2);
    assert_eq!(whoami(&rt, all[0]), "c");
    assert_eq!(whoami(&rt, all[1]), "rust");
    assert_eq!(rt.find(COUNTER, &V1).unwrap(), all[0]);
    // Versions: both provide 1.2.0, so 1.3 finds nothing and 2.0 is another contract.
    assert!(rt.find_all(COUNTER, &Version::new(1, 3, 0)).is_empty());
    assert!(matches!(
        rt.find(COUNTER, &Version::new(1, 3, 0))
            .map_err(Error::into_kind),
        Err(ErrorKind::NotFound { .. })
    ));
    assert!(rt
        .find(ContractKey::new(counter::NAME, 2), &Version::new(2, 0, 0))
        .is_err());

    // The C relay finds the top counter through the host API on every call.
    let relay = rt.find_ref("test:relay/relay@1.0").unwrap();
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u32;
    // SAFETY: relay function 0 forwards its arguments to the counter's `inc(x: u32) -> u32`:
    // one u32 in, a writable u32 out.
    unsafe { rt.call_typed(relay, 0, &1u32, &mut out, &mut cx) }.unwrap();
    assert_eq!(out, 2);
    // SAFETY: relay function 1 (count-counters) takes nothing and writes a u32 to `out`.
    unsafe { rt.call_typed(relay, 1, &(), &mut out, &mut cx) }.unwrap();
    assert_eq!(out, 2, "count-counters sees both providers");

    let mut greeting = Str::EMPTY;
    // SAFETY: `greet(name: string) -> string`: a `Str` view of a static string and a `Str`
    // the C provider fills.
    unsafe {
        rt.call_typed(
            all[0],
            counter::GREET,
            &Str::new("x"),
            &mut greeting,
            &mut cx,
        )
    }
    .unwrap();
    // SAFETY: the C provider built the greeting in `cx`'s arena, untouched since the call.
    assert_eq!(unsafe { greeting.to_str() }.unwrap(), "hello, x from c");
}

#[test]
fn cached_provider_calls_directly_and_tracks_revision() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("rust-counter"));
    rt.load_bundle(b.path()).unwrap();
    let h = rt.find(COUNTER, &V1).unwrap();
    let cached = rt.resolve(h).unwrap();
    assert!(cached.is_current());
    let mut cx = rt.call_context().unwrap();
    let (x, mut out) = (5u32, 0u32);
    // SAFETY: `x` is the one-u32 argument struct of `inc` and `out` its writable u32 result;
    // `cx.begin()` is `cx`'s live raw context, and the runtime (so the cached provider) is alive.
    let status = unsafe {
        cached.call_raw(
            counter::INC,
            &x as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx.begin(),
        )
    };
    assert_eq!((status, out), (0, 6));
    // SAFETY: index 99 is past the counter's table, so `call_raw` returns InvalidArgument
    // without calling anything with the null pointers.
    let status = unsafe { cached.call_raw(99, std::ptr::null(), std::ptr::null_mut(), cx.begin()) };
    assert_eq!(status, Status::InvalidArgument.raw());
    let mut unchecked = 0u32;
    // SAFETY: index 0 is `inc` (in range); `x`/`unchecked` are its argument and result structs.
    let status = unsafe {
        cached.call_unchecked(
            counter::INC,
            &x as *const u32 as *const c_void,
            &mut unchecked as *mut u32 as *mut c_void,
            cx.begin(),
        )
    };
    assert_eq!((status, unchecked), (0, 6));
    // A handle that was never issued is stale, never dereferenced.
    let bogus = polyplug::Handle {
        index: 12345,
        generation: 9,
    };
    assert!(matches!(
        rt.resolve(bogus).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(matches!(
        rt.resolve(polyplug::Handle::NULL).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    let wrong_gen = polyplug::Handle {
        index: h.index,
        generation: h.generation + 1,
    };
    assert!(matches!(
        rt.resolve(wrong_gen).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
}

#[test]
fn older_and_newer_peers_are_reconciled() {
    let rt = Runtime::new().unwrap();
    let older = make_bundle(&BundleSpec::counter(modes::OLDER_PEER));
    let newer = make_bundle(&BundleSpec::counter(modes::NEWER_PEER));
    rt.load_bundle(older.path()).unwrap();
    rt.load_bundle(newer.path()).unwrap();
    let all = rt.find_all(COUNTER, &V1);
    assert_eq!(all.len(), 2);
    for h in all {
        let cached = rt.resolve(h).unwrap();
        // The runtime's copy is full-size and zero-extended.
        assert_eq!(
            cached.interface().struct_size as usize,
            std::mem::size_of::<Interface>()
        );
        assert!(cached.interface().create_instance.is_none());
        let mut cx = rt.call_context().unwrap();
        let mut out = 0u32;
        // SAFETY: both peers implement `inc(x: u32) -> u32`: one u32 in, a writable u32 out.
        unsafe { rt.call_typed(h, counter::INC, &9u32, &mut out, &mut cx) }.unwrap();
        assert_eq!(out, 10);
    }
    let dirty = make_bundle(&BundleSpec::counter(modes::NEWER_PEER_DIRTY));
    match rt.load_bundle(dirty.path()).map_err(Error::into_kind) {
        Err(ErrorKind::InvalidTable { table, reason, .. }) => {
            assert_eq!(table, "provider interface");
            assert!(reason.contains("not zero"), "{reason}");
        }
        other => panic!("expected InvalidTable, got {other:?}"),
    }
    assert_eq!(rt.bundle_count(), 2);
}

#[test]
fn plugin_logs_reach_the_host_sink_above_nothing_else() {
    let seen: Arc<Mutex<Vec<(LogLevel, String, String)>>> = Arc::default();
    let sink = seen.clone();
    let rt = Runtime::builder()
        .max_log_level(LogLevel::Info)
        .log_callback(move |l, t, m| sink.lock().unwrap().push((l, t.to_owned(), m.to_owned())))
        .build()
        .unwrap();
    let b = make_bundle(&BundleSpec::counter(modes::LOGS));
    rt.load_bundle(b.path()).unwrap();
    rt.log(LogLevel::Debug, "test", "dropped: above the max level");
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(|(l, t, m)| *l == LogLevel::Info
            && t == modes::LOGS_TARGET
            && m == modes::LOGS_MESSAGE),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|(_, _, m)| m.contains("dropped")));
}

#[test]
fn plugins_do_not_log_when_the_level_is_off() {
    let count = Arc::new(Mutex::new(0usize));
    let sink = count.clone();
    let rt = Runtime::builder()
        .max_log_level(LogLevel::Off)
        .log_callback(move |_, _, _| *sink.lock().unwrap() += 1)
        .build()
        .unwrap();
    let b = make_bundle(&BundleSpec::counter(modes::LOGS));
    rt.load_bundle(b.path()).unwrap();
    assert_eq!(*count.lock().unwrap(), 0);
    // SAFETY: `host_api` points into `rt`, which is alive for this read.
    assert_eq!(unsafe { (*rt.host_api()).max_log_level }, 0);
}

// ---- host contracts ----

mod clock {
    use super::*;
    use polyplug::abi::{CallCtx, ContractDesc, FuncDesc, TypeDesc, TypeKind};

    static U64: TypeDesc = TypeDesc::scalar(TypeKind::U64);
    static FUNCS: [FuncDesc; 1] = [FuncDesc::new("now", &[], Some(&U64))];
    pub static CONTRACT: ContractDesc =
        ContractDesc::new(modes::HOST_CLOCK, Version::new(1, 1, 0), &FUNCS);

    unsafe extern "C" fn now(
        _: *mut c_void,
        _: *const c_void,
        ret: *mut c_void,
        _: *mut CallCtx,
    ) -> u32 {
        // SAFETY: `now() -> u64`: every caller (the fixture's init through the host table, and
        // the test's `call_typed` with a `u64`) passes a writable, aligned u64 as `ret`.
        unsafe { (ret as *mut u64).write(1_700_000_000) };
        0
    }
    static TABLE: [Option<polyplug::abi::ContractFn>; 1] = [Some(now)];
    pub static IFACE: Interface = Interface {
        struct_size: std::mem::size_of::<Interface>() as u32,
        func_count: 1,
        contract: &CONTRACT,
        funcs: TABLE.as_ptr(),
        provider: std::ptr::null_mut(),
        create_instance: None,
        destroy_instance: None,
    };
}

#[test]
fn plugins_find_and_call_host_contracts_during_init() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter(modes::FINDS_HOST).requires("test:host/clock@1.0.0"));
    // Without the host contract the requirement is unmet.
    match rt.load_bundle(b.path()).map_err(Error::into_kind) {
        Err(ErrorKind::MissingDependency { contract, .. }) => {
            assert_eq!(contract, "test:host/clock@1.0.0")
        }
        other => panic!("expected MissingDependency, got {other:?}"),
    }
    let clock = rt.register_host_provider(&clock::IFACE, 0).unwrap();
    rt.load_bundle(b.path()).unwrap();
    // SAFETY: the runtime already loaded this fixture library, so opening it again only takes
    // another reference to the same image; its initialisers have no preconditions.
    let lib = unsafe { libloading::Library::new(b.library_path()) }.unwrap();
    // SAFETY: the fixture defines `pp_fixture_clock_seen` as `extern "C" fn() -> u64`, the
    // type named here, and `seen` borrows `lib`, so it cannot outlive the library.
    let seen: libloading::Symbol<'_, extern "C" fn() -> u64> =
        unsafe { lib.get(b"pp_fixture_clock_seen") }.unwrap();
    assert_eq!(
        seen(),
        1_700_000_000,
        "the plugin called the host's clock from its init"
    );
    // The host can call its own provider the same way.
    let mut cx = rt.call_context().unwrap();
    let mut t = 0u64;
    // SAFETY: the host clock's `now()` takes nothing and writes a u64, the layout of `t`.
    unsafe { rt.call_typed(clock, 0, &(), &mut t, &mut cx) }.unwrap();
    assert_eq!(t, 1_700_000_000);
    // Registering it twice is a duplicate; unregistering makes its handle stale.
    assert!(matches!(
        rt.register_host_provider(&clock::IFACE, 0)
            .map_err(Error::into_kind),
        Err(ErrorKind::DuplicateProvider { .. })
    ));
    rt.unregister_host_provider(clock).unwrap();
    assert!(matches!(
        rt.resolve(clock).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(matches!(
        rt.unregister_host_provider(clock).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
}

#[test]
fn a_bundle_name_loads_once_and_failed_loads_leave_nothing() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("once"));
    rt.load_bundle(b.path()).unwrap();
    let again = make_bundle(&BundleSpec::counter("once"));
    assert!(
        matches!(rt.load_bundle(again.path()).map_err(Error::into_kind), Err(ErrorKind::BundleAlreadyLoaded { ref name }) if name == "once")
    );
    let before = rt.provider_count();
    // registers-extra registers the counter *and* another contract, but declares only the
    // counter: the whole transaction is refused and neither appears.
    let extra = make_bundle(&BundleSpec::counter(
        polyplug_testkit::modes::REGISTERS_EXTRA,
    ));
    assert!(matches!(
        rt.load_bundle(extra.path()).map_err(Error::into_kind),
        Err(ErrorKind::ProvidersMismatch { .. })
    ));
    assert_eq!(rt.provider_count(), before);
    assert_eq!(rt.find_all(COUNTER, &V1).len(), 1);
    assert!(rt.find_ref("test:other/thing@1.0.0").is_err());
    assert_eq!(rt.bundle_count(), 1);
}

#[test]
fn plugin_fini_runs_when_the_runtime_drops() {
    let b = make_bundle(&BundleSpec::counter("fini"));
    // Keep our own reference so the library (and its statics) outlive the runtime's.
    // SAFETY: the fixture library's initialisers have no preconditions; the runtime's later
    // load of the same file shares this image.
    let lib = unsafe { libloading::Library::new(b.library_path()) }.unwrap();
    // SAFETY: the fixture defines `pp_fixture_fini_count` as `extern "C" fn() -> u32`, the
    // type named here, and the symbol borrows `lib`, which is dropped last.
    let fini_count: libloading::Symbol<'_, extern "C" fn() -> u32> =
        unsafe { lib.get(b"pp_fixture_fini_count") }.unwrap();
    let rt = Runtime::new().unwrap();
    rt.load_bundle(b.path()).unwrap();
    assert_eq!(fini_count(), 0);
    drop(rt);
    assert_eq!(fini_count(), 1);
}

#[test]
fn lookups_scale_across_threads_without_locks() {
    let rt = Runtime::new().unwrap();
    let rust = make_bundle(&BundleSpec::counter("rust-counter"));
    rt.load_bundle(rust.path()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let rt = &rt;
            s.spawn(move || {
                let mut cx = rt.call_context().unwrap();
                for i in 0..2000u32 {
                    let h = rt.find(COUNTER, &V1).unwrap();
                    let mut out = 0u32;
                    // SAFETY: `inc(x: u32) -> u32`: one u32 in, a writable u32 out; each
                    // thread uses its own `cx`.
                    unsafe { rt.call_typed(h, counter::INC, &(i + t), &mut out, &mut cx) }.unwrap();
                    assert_eq!(out, i + t + 1);
                }
            });
        }
    });
}
