//! A loader from a library of its own: the table loader (`tests/fixtures/table-loader`, built
//! only with the loader kit) added with `Runtime::add_loader_library`, its bundles loaded,
//! called typed and as JSON, refused when their answers do not fit, reloaded under calling
//! threads (the loader's `reload` through its vtable) and unloaded.
//!
//! `POLYPLUG_LOADER_RELOADS` sets how many reloads the reload test makes (default 20;
//! `scripts/valgrind.sh` makes fewer).

use polyplug::abi::{List, Str};
use polyplug::{CallContext, ErrorKind, Handle, LogLevel, Runtime, Status};
use polyplug_testkit::table::{self, func};
use polyplug_testkit::{table_loader, Bundle};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};

// ---- the contract's C layout (tests/fixtures/wit/table.wit) ---------------------------------

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
}

/// `option<string>`: a tag byte, then the value at its alignment.
#[repr(C)]
struct OptionStr {
    tag: u8,
    value: Str,
}

/// `result<u64, string>`: a tag byte, then the payload of the case it names.
#[repr(C)]
struct ResultU64Str {
    tag: u8,
    payload: U64OrStr,
}

#[repr(C)]
#[derive(Clone, Copy)]
union U64OrStr {
    ok: u64,
    err: Str,
}

/// The argument struct of `weigh(name: string, at: point, tags: list<string>)`.
#[repr(C)]
struct WeighArgs {
    name: Str,
    at: Point,
    tags: List,
}

// ---- helpers -----------------------------------------------------------------------------------

/// A runtime with the table loader added from its library.
fn runtime_with(builder: polyplug::RuntimeBuilder) -> Runtime {
    let rt = builder.build().expect("runtime");
    rt.add_loader_library(table_loader())
        .expect("the table loader library is accepted");
    rt
}

fn runtime() -> Runtime {
    runtime_with(Runtime::builder())
}

/// The provider of the table contract.
fn find(rt: &Runtime) -> Handle {
    rt.find_ref(table::PROVIDES)
        .expect("a provider of test:table/answers")
}

/// Calls a function of the table contract with a typed argument and result struct.
fn call<A, R>(
    rt: &Runtime,
    h: Handle,
    f: u32,
    args: &A,
    ret: &mut R,
    cx: &mut CallContext,
) -> polyplug::Result<()> {
    // SAFETY: every `A` and `R` passed in this file is the `repr(C)` twin of the function's
    // argument and result structs in table.wit; `call_typed` also checks their sizes.
    unsafe { rt.call_typed(h, f, args, ret, cx) }
}

/// `big()`: the generation of the answers (see `table::answers`).
fn big(rt: &Runtime, h: Handle, cx: &mut CallContext) -> u64 {
    let mut out = 0u64;
    call(rt, h, func::BIG, &(), &mut out, cx).expect("big()");
    out
}

/// `greet()` as JSON.
fn greet(rt: &Runtime, h: Handle, cx: &mut CallContext) -> String {
    match rt.call_json(h, "greet", &json!([]), cx).expect("greet()") {
        serde_json::Value::String(s) => s,
        other => panic!("greet() gave {other}"),
    }
}

/// A view's text, checked.
fn text(s: &Str) -> String {
    // SAFETY: a view the provider wrote into the call's arena, read before its next call.
    unsafe { s.to_str() }.expect("UTF-8").to_owned()
}

/// The runtime's log records, as (target, message).
type Log = Arc<Mutex<Vec<(String, String)>>>;

/// The number of records from the table loader whose message starts with `prefix`.
fn count(log: &Log, prefix: &str) -> usize {
    log.lock()
        .expect("log")
        .iter()
        .filter(|(target, m)| target == table::LOG_TARGET && m.starts_with(prefix))
        .count()
}

/// A runtime whose records (target, message) all go to the returned log.
fn logged_runtime(hot_reload: bool) -> (Runtime, Log) {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let rt = runtime_with(
        Runtime::builder()
            .hot_reload(hot_reload)
            .max_log_level(LogLevel::Info)
            .log_callback(move |_, target, message| {
                sink.lock()
                    .expect("log")
                    .push((target.to_owned(), message.to_owned()))
            }),
    );
    (rt, log)
}

// ---- adding the loader -------------------------------------------------------------------------

#[test]
fn the_loader_library_is_added_once() {
    let rt = runtime();
    let mut loaders = rt.loaders();
    loaders.sort();
    assert_eq!(loaders, ["native", "table"]);

    // The second copy's table is refused, and destroyed (valgrind checks that nothing leaks).
    let err = rt
        .add_loader_library(table_loader())
        .expect_err("a second `table` loader");
    assert_eq!(err.status(), Status::AlreadyExists, "{err}");
    assert!(
        matches!(err.kind(), ErrorKind::LoaderAlreadyExists { name } if name == "table"),
        "{err}"
    );
    assert_eq!(rt.loaders().len(), 2);

    let err = rt
        .add_loader_library("/no/such/libloader.so")
        .expect_err("a missing library");
    assert!(matches!(err.kind(), ErrorKind::LoaderLibrary(_)), "{err}");
    assert_eq!(rt.loaders().len(), 2);
}

// ---- calls -------------------------------------------------------------------------------------

#[test]
fn typed_and_json_calls_return_the_answers() {
    let rt = runtime();
    let bundle = table::bundle("answers", &table::answers(7));
    rt.load_bundle(bundle.path())
        .expect("the table bundle loads");
    let h = find(&rt);
    let mut cx = rt.call_context().expect("context");

    let mut s = Str::EMPTY;
    call(&rt, h, func::GREET, &(), &mut s, &mut cx).expect("greet()");
    assert_eq!(text(&s), "hello 7");

    let mut p = Point::default();
    call(&rt, h, func::ORIGIN, &(), &mut p, &mut cx).expect("origin()");
    assert_eq!(p, Point { x: 7, y: -7 });

    let mut primes = List::new::<u32>(&[]);
    call(&rt, h, func::PRIMES, &(), &mut primes, &mut cx).expect("primes()");
    // SAFETY: a list of u32 the provider wrote into the call's arena.
    assert_eq!(unsafe { primes.as_slice::<u32>() }, [2, 3, 5, 7]);

    let mut nick = OptionStr {
        tag: 9,
        value: Str::EMPTY,
    };
    call(&rt, h, func::NICKNAME, &(), &mut nick, &mut cx).expect("nickname()");
    assert_eq!((nick.tag, text(&nick.value)), (1, "nick".to_owned()));

    let mut found = ResultU64Str {
        tag: 9,
        payload: U64OrStr { ok: 0 },
    };
    call(&rt, h, func::LOOKUP, &(), &mut found, &mut cx).expect("lookup()");
    assert_eq!(found.tag, 0, "ok");
    // SAFETY: tag 0 is `ok`, whose payload is the u64.
    assert_eq!(unsafe { found.payload.ok }, 7);

    assert_eq!(big(&rt, h, &mut cx), 7);
    call(&rt, h, func::PING, &(), &mut (), &mut cx).expect("ping()");

    let tags = [Str::new("a"), Str::new("b")];
    let args = WeighArgs {
        name: Str::new("box"),
        at: Point { x: 1, y: 2 },
        tags: List::new(&tags),
    };
    let mut w = 0u32;
    call(&rt, h, func::WEIGH, &args, &mut w, &mut cx).expect("weigh()");
    assert_eq!(w, 7);

    let json_calls = [
        ("greet", json!([]), json!("hello 7")),
        ("origin", json!([]), json!({"x": 7, "y": -7})),
        ("nickname", json!([]), json!("nick")),
        ("lookup", json!([]), json!({"ok": 7})),
        (
            "mix",
            json!([]),
            json!({"initial": "π", "ratio": 0.5, "on": true, "color": "green",
                   "perms": ["read", "exec"], "pair": [7, -7], "raw": [1, 2, 3]}),
        ),
        (
            "weigh",
            json!({"name": "n", "at": {"x": 0, "y": 0}, "tags": []}),
            json!(7),
        ),
        ("ping", json!([]), json!(null)),
    ];
    for (f, args, want) in json_calls {
        assert_eq!(rt.call_json(h, f, &args, &mut cx).expect(f), want, "{f}");
    }
}

#[test]
fn malformed_arguments_are_refused_not_a_crash() {
    let rt = runtime();
    let bundle = table::bundle("answers", &table::answers(1));
    rt.load_bundle(bundle.path())
        .expect("the table bundle loads");
    let h = find(&rt);
    let mut cx = rt.call_context().expect("context");
    let weigh = |args: &WeighArgs, cx: &mut CallContext| {
        let mut w = 0u32;
        call(&rt, h, func::WEIGH, args, &mut w, cx).expect_err("malformed arguments")
    };
    let no_tags = List::new::<Str>(&[]);

    let null_with_length = Str {
        ptr: std::ptr::null(),
        len: 5,
    };
    let bad_utf8 = [0xffu8, 0xfe];
    let not_utf8 = Str {
        ptr: bad_utf8.as_ptr(),
        len: bad_utf8.len(),
    };
    let bad_tags = [Str::new("fine"), null_with_length];
    let cases = [
        (null_with_length, no_tags, "`name`"),
        (not_utf8, no_tags, "`name`"),
        (Str::new("ok"), List::new(&bad_tags), "`tags[1]`"),
    ];
    for (name, tags, place) in cases {
        let args = WeighArgs {
            name,
            at: Point::default(),
            tags,
        };
        let err = weigh(&args, &mut cx);
        assert_eq!(err.status(), Status::InvalidArgument, "{err}");
        assert!(err.to_string().contains(place), "{place}: {err}");
    }
    // The provider is still fine.
    assert_eq!(big(&rt, h, &mut cx), 1);
}

// ---- refused bundles ---------------------------------------------------------------------------

#[test]
fn answers_that_do_not_fit_are_refused_and_nothing_stays() {
    let rt = runtime();
    let all = table::answers(1);
    let cases = [
        (
            all.replace("origin = { x = 1, y = -1 }", "origin = { x = 1, y = 2.5 }"),
            "`test:table/answers.origin`: the answer does not fit `point`: `y`: expected an \
             integer, found the float 2.5",
        ),
        (
            all.replace("big = 1\n", ""),
            "`test:table/answers.big` has no answer (it returns `u64`)",
        ),
        (
            all.replace("big = 1\n", "big = -1\n"),
            "`test:table/answers.big`: the answer does not fit `u64`: -1 is out of range",
        ),
        (
            format!("{all}ping = 1\n"),
            "`test:table/answers.ping` returns nothing, so it takes no answer",
        ),
        (
            format!("{all}[\"test:other/thing\"]\nx = 1\n"),
            "it answers for `test:other/thing`, which bundle.toml does not provide",
        ),
        ("greet = ".to_owned(), "malformed TOML"),
    ];
    for (answers, want) in cases {
        let bundle = table::bundle("answers", &answers);
        let err = rt.load_bundle(bundle.path()).expect_err(want);
        let message = err.to_string();
        assert!(
            message.contains(want) && message.contains(table::ANSWERS_FILE),
            "want `{want}` in: {message}"
        );
        assert!(
            matches!(err.kind(), ErrorKind::LoaderFailed { loader, .. } if loader == "table"),
            "{err}"
        );
        assert_eq!(rt.bundle_count(), 0, "{want}");
        assert_eq!(rt.provider_count(), 0, "{want}");
    }
    // The same name loads once its answers fit: nothing of the failures stayed.
    let bundle = table::bundle("answers", &all);
    rt.load_bundle(bundle.path()).expect("loads");
    assert_eq!(rt.provider_count(), 1);
}

// ---- reload ------------------------------------------------------------------------------------

/// Caller threads of the reload test.
const CALLERS: usize = 3;

fn reloads() -> u32 {
    std::env::var("POLYPLUG_LOADER_RELOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// One caller's loop: until `stop`, calls `big` (typed), `greet` (JSON) and `origin` (typed) and
/// checks that each answer is of a table that was current at some point of the call: not older
/// than the generation published before the call, not newer than the one being loaded after
/// it. Returns the number of calls.
fn caller(
    rt: &Runtime,
    h: Handle,
    published: &AtomicU32,
    stop: &AtomicBool,
    ready: &Barrier,
) -> u64 {
    let mut cx = rt.call_context().expect("context");
    let mut calls = 0u64;
    let mut first = true;
    loop {
        let before = u64::from(published.load(Ordering::SeqCst));
        let got = [
            big(rt, h, &mut cx),
            greet(rt, h, &mut cx)
                .strip_prefix("hello ")
                .and_then(|g| g.parse().ok())
                .expect("`hello <generation>`"),
            {
                let mut p = Point::default();
                call(rt, h, func::ORIGIN, &(), &mut p, &mut cx).expect("origin()");
                assert_eq!(p.x, -p.y, "one table's answer: {p:?}");
                u64::try_from(p.x).expect("a generation")
            },
        ];
        let after = u64::from(published.load(Ordering::SeqCst));
        for g in got {
            assert!(
                before <= g && g <= after + 1,
                "answer of generation {g} during generations {before}..={after}"
            );
        }
        calls += 3;
        if first {
            // The main thread starts reloading once every caller is calling.
            ready.wait();
            first = false;
        }
        if stop.load(Ordering::SeqCst) {
            return calls;
        }
    }
}

#[test]
fn reload_under_three_calling_threads() {
    let (rt, log) = logged_runtime(true);
    let bundle: Bundle = table::bundle("answers", &table::answers(1));
    let id = rt.load_bundle(bundle.path()).expect("loads");
    let h = find(&rt);
    let n = reloads();
    let published = AtomicU32::new(1);
    let stop = AtomicBool::new(false);
    let ready = Barrier::new(CALLERS + 1);
    let calls: u64 = std::thread::scope(|s| {
        let threads: Vec<_> = (0..CALLERS)
            .map(|_| s.spawn(|| caller(&rt, h, &published, &stop, &ready)))
            .collect();
        ready.wait();
        let mut cx = rt.call_context().expect("context");
        for g in 2..=n + 1 {
            bundle.replace_file(table::ANSWERS_FILE, table::answers(g));
            rt.reload_bundle(id).expect("reload");
            // Any call that starts now sees only the new table.
            assert_eq!(big(&rt, h, &mut cx), u64::from(g));
            assert_eq!(greet(&rt, h, &mut cx), format!("hello {g}"));
            published.store(g, Ordering::SeqCst);
        }
        stop.store(true, Ordering::SeqCst);
        threads
            .into_iter()
            .map(|t| t.join().expect("a caller failed"))
            .sum()
    });
    assert!(calls >= 3 * CALLERS as u64);
    // Each reload went through the loader library's `reload` (a fresh load) and released the
    // old table once no call was inside it.
    assert_eq!(count(&log, "loaded bundle `answers`"), n as usize + 1);
    assert_eq!(count(&log, "unloaded bundle `answers`"), n as usize);

    // A reload whose answers do not fit fails, and the old table keeps serving.
    bundle.replace_file(table::ANSWERS_FILE, "[\"test:table/answers\"]\n");
    let err = rt.reload_bundle(id).expect_err("answers missing");
    assert!(err.to_string().contains("has no answer"), "{err}");
    let mut cx = rt.call_context().expect("context");
    assert_eq!(big(&rt, h, &mut cx), u64::from(n + 1));
}

// ---- unload ------------------------------------------------------------------------------------

#[test]
fn unload_makes_handles_stale_and_the_loader_says_goodbye() {
    let (rt, log) = logged_runtime(false);
    let first = table::bundle("first", &table::answers(1));
    let second = table::bundle("second", &table::answers(2));
    let id = rt.load_bundle(first.path()).expect("loads");
    let h = find(&rt);
    let mut cx = rt.call_context().expect("context");
    assert_eq!(big(&rt, h, &mut cx), 1);
    assert_eq!(
        count(&log, "loaded bundle `first`: test:table/answers@1.0.0"),
        1
    );

    rt.unload_bundle(id).expect("unload");
    let mut out = 0u64;
    let err = call(&rt, h, func::BIG, &(), &mut out, &mut cx).expect_err("stale");
    assert_eq!(err.status(), Status::StaleHandle, "{err}");
    let err = rt
        .call_json(h, "greet", &json!([]), &mut cx)
        .expect_err("stale");
    assert_eq!(err.status(), Status::StaleHandle, "{err}");
    assert_eq!(count(&log, "unloaded bundle `first`"), 1);

    // Dropping the runtime unloads what is still loaded, through the loader, before the
    // loader itself is destroyed and its library closed.
    rt.load_bundle(second.path()).expect("loads");
    drop(cx);
    drop(rt);
    assert_eq!(count(&log, "unloaded bundle `second`"), 1);
}
