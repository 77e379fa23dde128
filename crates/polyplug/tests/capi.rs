//! The C API, driven from Rust: null and invalid arguments give statuses and messages, configs
//! are reconciled like every extensible struct, and foreign loaders work through the vtable.

use polyplug::abi::{
    BundleInfo, CallCtx, ContractDesc, FuncDesc, Handle, HostApi, Interface, LoaderVtable,
    Registrar, RuntimeConfig, Str, TypeDesc, TypeKind, ABI_VERSION,
};
use polyplug::capi::*;
use polyplug::{Runtime, Status, Version};
use polyplug_testkit::{
    counter, make_bundle, reload, reload_bundle, rust_fixture, Bundle, BundleSpec,
};
use std::ffi::{c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

const OK: u32 = 0;
const NULL: u32 = Status::NullPointer as u32;

fn errmsg() -> String {
    // SAFETY: `pp_errmsg` never returns NULL; its NUL-terminated message stays valid until this
    // thread's next failed `pp_*` call, and it is copied out before any other call.
    unsafe { CStr::from_ptr(pp_errmsg()) }
        .to_string_lossy()
        .into_owned()
}

fn new_runtime() -> *mut Runtime {
    let mut rt = null_mut();
    // SAFETY: a NULL config asks for the defaults, and `rt` is a writable local.
    assert_eq!(unsafe { pp_runtime_new(null(), &mut rt) }, OK);
    assert!(!rt.is_null());
    rt
}

#[test]
fn null_arguments_return_statuses() {
    // SAFETY: every pointer passed below is either NULL, which each function must reject (what
    // this test checks), or valid: `rt` comes from `new_runtime` and `cx` from
    // `pp_context_new`, each freed once at the end; the names are NUL-terminated (`CString`s and
    // `bad`), and `v`, `h`, `count`, `iface`, `cx` are live locals.
    unsafe {
        assert_eq!(pp_runtime_new(null(), null_mut()), NULL);
        assert!(errmsg().contains("out is NULL"));
        assert_eq!(pp_config_init(null_mut()), NULL);
        pp_runtime_free(null_mut());
        pp_context_free(null_mut());
        let rt = new_runtime();
        let name = CString::new(counter::NAME).unwrap();
        let v = Version::new(1, 0, 0);
        let mut h = Handle::NULL;
        let (mut count, mut iface, mut cx) = (0usize, null(), null_mut());
        assert_eq!(pp_load_bundle(null(), name.as_ptr(), null_mut()), NULL);
        assert_eq!(pp_load_bundle(rt, null(), null_mut()), NULL);
        assert!(errmsg().contains("dir is NULL"));
        assert_eq!(pp_find(rt, null(), &v, &mut h), NULL);
        assert_eq!(pp_find(rt, name.as_ptr(), null(), &mut h), NULL);
        assert_eq!(pp_find(rt, name.as_ptr(), &v, null_mut()), NULL);
        assert_eq!(pp_find(null(), name.as_ptr(), &v, &mut h), NULL);
        assert_eq!(
            pp_find_all(rt, name.as_ptr(), &v, null_mut(), 4, &mut count),
            NULL
        );
        assert_eq!(
            pp_find_all(rt, name.as_ptr(), &v, null_mut(), 0, null_mut()),
            NULL
        );
        assert_eq!(pp_resolve(rt, null(), &mut iface, null_mut()), NULL);
        assert_eq!(pp_resolve(rt, &h, null_mut(), null_mut()), NULL);
        assert_eq!(pp_register_host(rt, null(), 0, &mut h), NULL);
        assert_eq!(pp_unregister_host(rt, null()), NULL);
        assert_eq!(pp_add_loader(rt, null()), NULL);
        assert_eq!(pp_add_loader_library(rt, null()), NULL);
        assert_eq!(pp_context_new(rt, null_mut()), NULL);
        assert_eq!(pp_context_new(null(), &mut cx), NULL);
        assert_eq!(pp_context_new(rt, &mut cx), OK);
        assert_eq!(pp_call(rt, null(), 0, null(), null_mut(), cx), NULL);
        assert_eq!(pp_call(rt, &h, 0, null(), null_mut(), null_mut()), NULL);
        assert_eq!(pp_context_error(cx, null_mut()), NULL);
        assert!(pp_context_begin(null_mut()).is_null());
        assert!(pp_runtime_host_api(null()).is_null());
        assert_eq!(pp_bundle_count(null()), 0);
        assert_eq!(pp_contract_id(null(), 1), 0);
        assert!(!pp_version_satisfies(null(), &v));
        // Not UTF-8.
        let bad = [0xffu8, 0xfe, 0];
        assert_eq!(
            pp_find(rt, bad.as_ptr() as *const _, &v, &mut h),
            Status::InvalidArgument as u32
        );
        pp_context_free(cx);
        pp_runtime_free(rt);
    }
}

#[test]
fn errors_carry_codes_and_thread_local_messages() {
    // SAFETY: `rt` comes from `new_runtime` and is freed once at the end, after the spawned
    // thread that borrows it by address has been joined; the strings passed are `CString`s,
    // the out-parameters live locals, and `pp_errstr` returns static NUL-terminated text.
    unsafe {
        let rt = new_runtime();
        let missing = CString::new("/nonexistent/bundle").unwrap();
        assert_eq!(
            pp_load_bundle(rt, missing.as_ptr(), null_mut()),
            Status::NotFound as u32
        );
        let msg = errmsg();
        assert!(msg.contains("/nonexistent/bundle"), "{msg}");
        // Another thread's failures do not touch this thread's message.
        let rt_addr = rt as usize;
        std::thread::spawn(move || {
            let name = CString::new("x:y/z").unwrap();
            let mut h = Handle::NULL;
            let code = pp_find(
                rt_addr as *const Runtime,
                name.as_ptr(),
                &Version::new(1, 0, 0),
                &mut h,
            );
            assert_eq!(code, Status::NotFound as u32);
            assert!(errmsg().contains("x:y/z"));
        })
        .join()
        .unwrap();
        assert_eq!(errmsg(), msg);
        let stale = Handle {
            index: 77,
            generation: 3,
        };
        let mut iface = null();
        assert_eq!(
            pp_resolve(rt, &stale, &mut iface, null_mut()),
            Status::StaleHandle as u32
        );
        assert!(iface.is_null(), "out-parameters stay untouched on failure");
        for code in [0u32, 5, 21, 9999] {
            assert!(!CStr::from_ptr(pp_errstr(code)).to_bytes().is_empty());
        }
        assert_eq!(pp_abi_version(), ABI_VERSION);
        pp_runtime_free(rt);
    }
}

#[test]
fn calls_through_the_c_api() {
    // SAFETY: `rt` comes from `new_runtime` and `cx` from `pp_context_new`, each freed once at
    // the end; strings are `CString`s and out-parameters live locals (`handles` holds the one
    // handle its capacity says). `x` and `out` are the one-u32 argument struct and the writable
    // u32 result of `inc`. `msg` views `cx`'s arena, read before `cx`'s next call. `iface` and
    // `rev` come from a successful `pp_resolve` of a provider that stays loaded until `rt` is
    // freed, and its table holds `func_count` (8) functions, so `funcs[0]` is `inc`.
    unsafe {
        let rt = new_runtime();
        let b = make_bundle(&BundleSpec::counter("c-api"));
        let dir = CString::new(b.path().to_str().unwrap()).unwrap();
        let mut id = 0u64;
        assert_eq!(
            pp_load_bundle(rt, dir.as_ptr(), &mut id),
            OK,
            "{}",
            errmsg()
        );
        assert_eq!((id, pp_bundle_count(rt)), (1, 1));
        let name = CString::new(counter::NAME).unwrap();
        let mut h = Handle::NULL;
        assert_eq!(
            pp_find(rt, name.as_ptr(), &Version::new(1, 1, 0), &mut h),
            OK
        );
        let mut handles = [Handle::NULL; 1];
        let mut count = 0usize;
        assert_eq!(
            pp_find_all(
                rt,
                name.as_ptr(),
                &Version::new(1, 0, 0),
                handles.as_mut_ptr(),
                1,
                &mut count
            ),
            OK
        );
        assert_eq!((count, handles[0]), (1, h));
        // `out == NULL && capacity == 0` only counts: OK, with the total still written.
        count = 0;
        assert_eq!(
            pp_find_all(
                rt,
                name.as_ptr(),
                &Version::new(1, 0, 0),
                null_mut(),
                0,
                &mut count
            ),
            OK
        );
        assert_eq!(count, 1);
        let mut cx = null_mut();
        assert_eq!(pp_context_new(rt, &mut cx), OK);
        let (x, mut out) = (41u32, 0u32);
        assert_eq!(
            pp_call(
                rt,
                &h,
                counter::INC,
                &x as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                cx
            ),
            OK
        );
        assert_eq!(out, 42);
        assert_eq!(
            pp_call(rt, &h, counter::FAIL, null(), null_mut(), cx),
            Status::Error as u32
        );
        let mut msg = Str::EMPTY;
        assert_eq!(pp_context_error(cx, &mut msg), OK);
        assert_eq!(msg.to_str().unwrap(), counter::FAIL_MESSAGE);
        assert!(errmsg().contains(counter::FAIL_MESSAGE));
        // Direct call through the resolved interface, with the revision word.
        let (mut iface, mut rev) = (null(), null());
        assert_eq!(pp_resolve(rt, &h, &mut iface, &mut rev), OK);
        let iface: &Interface = &*iface;
        let f = (*iface.funcs).unwrap();
        assert_eq!(
            f(
                iface.provider,
                &x as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                pp_context_begin(cx)
            ),
            OK
        );
        assert_eq!(out, 42);
        assert!(*rev >= 1);
        assert_eq!(
            pp_contract_id(name.as_ptr(), 1),
            polyplug::abi::contract_id(counter::NAME, 1)
        );
        pp_context_free(cx);
        pp_runtime_free(rt);
    }
}

static LOGGED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn c_log(user: *mut c_void, level: u32, target: *const Str, message: *const Str) {
    assert_eq!(user as usize, 0xfeed);
    assert!(level <= 3);
    // SAFETY: the runtime passes non-null views of the record's target and message, valid for
    // the duration of this call, and both are read only inside it.
    let (target, message) = unsafe { ((*target).to_str(), (*message).to_str()) };
    let t = target.expect("the runtime passes log targets as UTF-8 `Str`s");
    let m = message.expect("the runtime passes log messages as UTF-8 `Str`s");
    if t == "fixture" && m == "hello from init" {
        LOGGED.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe extern "C" fn c_free(user: *mut c_void) {
    assert_eq!(user as usize, 0xfeed);
    FREED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn config_is_reconciled_and_the_log_sink_is_called() {
    // SAFETY: an all-zero `RuntimeConfig` is valid (null pointers and `None` callbacks) and is
    // overwritten by `pp_config_init`; every config passed is a live local whose `struct_size`
    // bytes are readable (`Newer` holds the larger size it claims); `c_log` and `c_free` match
    // the callback types and accept the 0xfeed user value; each runtime from `pp_runtime_new` is
    // freed once.
    unsafe {
        let mut cfg: RuntimeConfig = std::mem::zeroed();
        assert_eq!(pp_config_init(&mut cfg), OK);
        cfg.log = Some(c_log);
        cfg.log_user = 0xfeed as *mut c_void;
        cfg.log_user_free = Some(c_free);
        let mut rt = null_mut();
        assert_eq!(pp_runtime_new(&cfg, &mut rt), OK);
        let b = make_bundle(&BundleSpec::counter("logs"));
        let dir = CString::new(b.path().to_str().unwrap()).unwrap();
        assert_eq!(
            pp_load_bundle(rt, dir.as_ptr(), null_mut()),
            OK,
            "{}",
            errmsg()
        );
        assert_eq!(LOGGED.load(Ordering::SeqCst), 1);
        pp_runtime_free(rt);
        assert_eq!(
            FREED.load(Ordering::SeqCst),
            1,
            "the user pointer's finaliser runs once at free"
        );

        // Too small: below the first published size.
        let mut small = cfg;
        small.struct_size = 8;
        let mut rt2 = null_mut();
        assert_eq!(pp_runtime_new(&small, &mut rt2), Status::AbiMismatch as u32);
        assert!(rt2.is_null());
        // A newer host's larger struct with a non-zero unknown tail is refused.
        #[repr(C)]
        struct Newer {
            cfg: RuntimeConfig,
            extra: u64,
        }
        let mut newer = Newer { cfg, extra: 1 };
        newer.cfg.struct_size = std::mem::size_of::<Newer>() as u32;
        newer.cfg.log = None;
        newer.cfg.log_user_free = None;
        assert_eq!(
            pp_runtime_new(&newer.cfg, &mut rt2),
            Status::AbiMismatch as u32
        );
        assert!(errmsg().contains("not zero"));
        newer.extra = 0;
        assert_eq!(pp_runtime_new(&newer.cfg, &mut rt2), OK);
        pp_runtime_free(rt2);
        // An older host's struct without the log fields is zero-extended.
        let mut older = cfg;
        older.struct_size = std::mem::offset_of!(RuntimeConfig, log) as u32;
        older.log_max_level = 0;
        assert_eq!(pp_runtime_new(&older, &mut rt2), OK);
        pp_runtime_free(rt2);
    }
}

// ---- a foreign loader, reached only through its vtable ----

static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
static P: [polyplug::abi::FieldDesc; 1] = [polyplug::abi::FieldDesc::new("x", &U32)];
static FUNCS: [FuncDesc; 1] = [FuncDesc::new("double", &P, Some(&U32))];
static CONTRACT: ContractDesc =
    ContractDesc::new("test:fake/doubler", Version::new(1, 0, 0), &FUNCS);
unsafe extern "C" fn double(
    _: *mut c_void,
    args: *const c_void,
    ret: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    // SAFETY: `double(x: u32) -> u32`: its only caller, the `pp_call` below, passes `args`
    // pointing to a live u32 and `ret` to a writable u32.
    unsafe { *(ret as *mut u32) = *(args as *const u32) * 2 };
    0
}
static TABLE: [Option<polyplug::abi::ContractFn>; 1] = [Some(double)];
static IFACE: Interface = Interface {
    struct_size: std::mem::size_of::<Interface>() as u32,
    func_count: 1,
    contract: &CONTRACT,
    funcs: TABLE.as_ptr(),
    provider: null_mut(),
    create_instance: None,
    destroy_instance: None,
};
static LOADS: AtomicUsize = AtomicUsize::new(0);
static UNLOADS: AtomicUsize = AtomicUsize::new(0);
static DESTROYS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn fake_load(
    state: *mut c_void,
    host: *const HostApi,
    bundle: *const BundleInfo,
    reg: *mut Registrar,
    out: *mut *mut c_void,
    ctx: *mut CallCtx,
) -> u32 {
    assert_eq!(state as usize, 0xabc);
    // SAFETY: the runtime passes a `BundleInfo` that, with the views in it, is valid for this
    // call.
    let name = unsafe { (*bundle).name.to_str() }
        .expect("the bundle name comes from a parsed bundle.toml, so it is UTF-8");
    // SAFETY: `host` is the runtime's host table, alive for this call.
    let host_api = unsafe { &*host };
    if name == "fail-me" {
        let msg = b"the fake loader refuses fail-me";
        let set_error = host_api
            .set_error
            .expect("the runtime's host table always has set_error");
        // SAFETY: `ctx` is the load's call context from the runtime, and `msg` is `len`
        // readable bytes.
        unsafe { set_error(ctx, msg.as_ptr(), msg.len()) };
        return Status::LoadFailed as u32;
    }
    let register = host_api
        .register_provider
        .expect("the runtime's host table always has register_provider");
    // SAFETY: `reg` is the open transaction the runtime passed to this load, and `IFACE`, its
    // table and contract are statics, valid for as long as the provider stays registered.
    let st = unsafe { register(host, reg, &IFACE) };
    if st != 0 {
        return st;
    }
    LOADS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: `out` is the runtime's writable slot for this loader's per-bundle state.
    unsafe { out.write(0x1234 as *mut c_void) };
    0
}
unsafe extern "C" fn fake_unload(_: *mut c_void, bundle: *mut c_void) -> u32 {
    assert_eq!(bundle as usize, 0x1234);
    UNLOADS.fetch_add(1, Ordering::SeqCst);
    0
}
unsafe extern "C" fn fake_destroy(_: *mut c_void) {
    DESTROYS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn foreign_loaders_work_through_the_vtable() {
    let vt = LoaderVtable {
        struct_size: std::mem::size_of::<LoaderVtable>() as u32,
        abi_version: ABI_VERSION,
        name: Str::new("fake"),
        file_kinds: Str::new("fake"),
        state: 0xabc as *mut c_void,
        load: Some(fake_load),
        unload: Some(fake_unload),
        destroy: Some(fake_destroy),
        reload: None,
    };
    // SAFETY: `rt` comes from `new_runtime` and is freed once at the end; the loader tables are
    // live locals the runtime copies, and their functions and `state` (a tag, never
    // dereferenced) stay valid for the runtime's whole life; strings are `CString`s; `x` and `y`
    // are the one-u32 argument and writable u32 result of `double`; `cx` comes from
    // `pp_context_new` and is freed once.
    unsafe {
        let rt = new_runtime();
        assert_eq!(pp_add_loader(rt, &vt), OK, "{}", errmsg());
        assert_eq!(pp_add_loader(rt, &vt), Status::AlreadyExists as u32);
        let mut bad = vt;
        bad.abi_version = 7 << 16;
        bad.name = Str::new("other");
        assert_eq!(pp_add_loader(rt, &bad), Status::AbiMismatch as u32);
        let mut no_load = vt;
        no_load.load = None;
        no_load.name = Str::new("third");
        assert_eq!(pp_add_loader(rt, &no_load), Status::AbiMismatch as u32);

        let spec = BundleSpec::new("doubler")
            .loader("fake")
            .provides("test:fake/doubler@1.0.0")
            .library_bytes(b"data".to_vec());
        let b = make_bundle(&spec);
        let dir = CString::new(b.path().to_str().unwrap()).unwrap();
        assert_eq!(
            pp_load_bundle(rt, dir.as_ptr(), null_mut()),
            OK,
            "{}",
            errmsg()
        );
        let name = CString::new("test:fake/doubler").unwrap();
        let mut h = Handle::NULL;
        assert_eq!(
            pp_find(rt, name.as_ptr(), &Version::new(1, 0, 0), &mut h),
            OK
        );
        let mut cx = null_mut();
        assert_eq!(pp_context_new(rt, &mut cx), OK);
        let (x, mut y) = (21u32, 0u32);
        assert_eq!(
            pp_call(
                rt,
                &h,
                0,
                &x as *const u32 as *const c_void,
                &mut y as *mut u32 as *mut c_void,
                cx
            ),
            OK
        );
        assert_eq!(y, 42);
        pp_context_free(cx);

        let failing = make_bundle(
            &BundleSpec::new("fail-me")
                .loader("fake")
                .provides("test:fake/doubler@1.0.0"),
        );
        let dir = CString::new(failing.path().to_str().unwrap()).unwrap();
        assert_eq!(
            pp_load_bundle(rt, dir.as_ptr(), null_mut()),
            Status::LoadFailed as u32
        );
        assert!(
            errmsg().contains("the fake loader refuses fail-me"),
            "{}",
            errmsg()
        );
        pp_runtime_free(rt);
    }
    assert_eq!(LOADS.load(Ordering::SeqCst), 1);
    assert_eq!(UNLOADS.load(Ordering::SeqCst), 1);
    assert_eq!(DESTROYS.load(Ordering::SeqCst), 1);
}

#[test]
fn loader_libraries_need_the_entry_symbol() {
    // SAFETY: `rt` comes from `new_runtime` and is freed once at the end, and `path` is a
    // `CString`.
    unsafe {
        let rt = new_runtime();
        let path = CString::new(rust_fixture().to_str().unwrap()).unwrap();
        assert_eq!(
            pp_add_loader_library(rt, path.as_ptr()),
            Status::LoadFailed as u32
        );
        assert!(errmsg().contains("pp_loader_entry"), "{}", errmsg());
        pp_runtime_free(rt);
    }
}

// ---- lifecycle: unload, reload and guarded sections ----

const VALUE: &str = reload::NAME;
const BUSY: u32 = Status::Busy as u32;

/// Loads `b` through the C API and returns its id.
///
/// # Safety
/// `rt` must be a live runtime.
unsafe fn load(rt: *const Runtime, b: &Bundle) -> u64 {
    let dir = b.path().to_str().expect("temporary paths are UTF-8");
    let dir = CString::new(dir).expect("paths hold no NUL");
    let mut id = 0u64;
    // SAFETY: live runtime (the caller's promise), NUL-terminated dir, writable id.
    let st = unsafe { pp_load_bundle(rt, dir.as_ptr(), &mut id) };
    assert_eq!(st, OK, "{}", errmsg());
    id
}

/// The highest-priority provider of `name` at 1.0.0 or later.
///
/// # Safety
/// `rt` must be a live runtime.
unsafe fn find(rt: *const Runtime, name: &str) -> Result<Handle, u32> {
    let name = CString::new(name).expect("contract names hold no NUL");
    let mut h = Handle::NULL;
    // SAFETY: live runtime, NUL-terminated name, valid version and out-parameter.
    match unsafe { pp_find(rt, name.as_ptr(), &Version::new(1, 0, 0), &mut h) } {
        OK => Ok(h),
        st => Err(st),
    }
}

/// A `u32 -> u32` (or `() -> u32`) function of the reload fixture through `pp_call`, on a
/// fresh context.
///
/// # Safety
/// `rt` must be a live runtime; `func` a reload fixture function.
unsafe fn call(rt: *const Runtime, h: &Handle, func: u32, x: u32) -> Result<u32, u32> {
    let mut cx = null_mut();
    // SAFETY: live runtime, writable out-parameter.
    assert_eq!(unsafe { pp_context_new(rt, &mut cx) }, OK);
    let mut out = 0u32;
    // SAFETY: every reload fixture function takes at most one u32 and returns one u32; `cx`
    // is live and freed once just below.
    let st = unsafe {
        let st = pp_call(
            rt,
            h,
            func,
            &x as *const u32 as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            cx,
        );
        pp_context_free(cx);
        st
    };
    if st == OK {
        Ok(out)
    } else {
        Err(st)
    }
}

#[test]
fn unload_through_the_c_api() {
    // SAFETY: `rt` comes from `new_runtime` and is freed once at the end; every handle and
    // out-parameter is a live local.
    unsafe {
        assert_eq!(pp_unload_bundle(null(), 1, 0), NULL);
        assert!(errmsg().contains("rt is NULL"), "{}", errmsg());
        let rt = new_runtime();
        let value = reload_bundle("value", reload::V1);
        let dep = make_bundle(&BundleSpec::counter("dep").requires(reload::PROVIDES));
        let value_id = load(rt, &value);
        let dep_id = load(rt, &dep);
        let h = find(rt, VALUE).unwrap();
        let counter_h = find(rt, counter::NAME).unwrap();

        for flags in [2, PP_UNLOAD_CASCADE | 4, u32::MAX] {
            assert_eq!(
                pp_unload_bundle(rt, value_id, flags),
                Status::InvalidArgument as u32
            );
            assert!(
                errmsg().contains(&format!("{flags:#x}")),
                "{flags:#x}: {}",
                errmsg()
            );
        }
        assert_eq!(pp_unload_bundle(rt, 999, 0), Status::NotFound as u32);
        assert!(errmsg().contains("999"), "{}", errmsg());
        assert_eq!(pp_bundle_count(rt), 2, "nothing was unloaded");

        // The dependent blocks the unload, and the message names it.
        assert_eq!(pp_unload_bundle(rt, value_id, 0), BUSY);
        let msg = errmsg();
        assert!(msg.contains("`value`") && msg.contains("[dep]"), "{msg}");
        assert_eq!(pp_bundle_count(rt), 2);
        assert_eq!(call(rt, &h, reload::GET, 4), Ok(41));

        // Not from inside a guarded section.
        pp_guard_enter();
        assert_eq!(pp_unload_bundle(rt, dep_id, 0), BUSY);
        assert!(errmsg().contains("guarded"), "{}", errmsg());
        pp_guard_exit();
        assert_eq!(pp_bundle_count(rt), 2);

        // Cascade unloads the dependent too.
        assert_eq!(
            pp_unload_bundle(rt, value_id, PP_UNLOAD_CASCADE),
            OK,
            "{}",
            errmsg()
        );
        assert_eq!(pp_bundle_count(rt), 0);
        let stale = Status::StaleHandle as u32;
        assert_eq!(call(rt, &h, reload::GET, 4), Err(stale));
        assert_eq!(call(rt, &counter_h, counter::INC, 4), Err(stale));
        let mut iface = null();
        assert_eq!(pp_resolve(rt, &h, &mut iface, null_mut()), stale);
        assert_eq!(find(rt, VALUE), Err(Status::NotFound as u32));
        assert_eq!(
            pp_unload_bundle(rt, value_id, 0),
            Status::NotFound as u32,
            "already gone"
        );

        // Without dependents, flags 0 unloads.
        let value_id = load(rt, &value);
        assert_eq!(pp_unload_bundle(rt, value_id, 0), OK, "{}", errmsg());
        assert_eq!(pp_bundle_count(rt), 0);
        pp_runtime_free(rt);
    }
}

/// What the C reload observer was told: `(bundle, name, phase, message)`.
type ReloadLog = Mutex<Vec<(u64, String, u32, String)>>;

unsafe extern "C" fn on_reload(
    user: *mut c_void,
    bundle: u64,
    name: *const Str,
    phase: u32,
    message: *const Str,
) {
    // SAFETY: `user` is the test's `ReloadLog`, which outlives the runtime; the views are
    // valid for this call.
    let (log, name, message) = unsafe {
        (
            &*(user as *const ReloadLog),
            (*name).to_str().expect("bundle names are UTF-8").to_owned(),
            (*message).to_str().expect("messages are UTF-8").to_owned(),
        )
    };
    log.lock()
        .expect("the reload log lock")
        .push((bundle, name, phase, message));
}

#[test]
fn reload_through_the_c_api() {
    let events: ReloadLog = Mutex::new(Vec::new());
    let take = || std::mem::take(&mut *events.lock().unwrap());
    // SAFETY: every runtime comes from `pp_runtime_new` and is freed once; the config is a
    // live local, `on_reload` matches the callback type and `events` outlives the runtime; the
    // handles and out-parameters are live locals.
    unsafe {
        assert_eq!(pp_reload_bundle(null(), 1), NULL);

        // Without the flag: Unsupported.
        let cold = new_runtime();
        let b = reload_bundle("value", reload::V1);
        let id = load(cold, &b);
        assert_eq!(pp_reload_bundle(cold, id), Status::Unsupported as u32);
        assert!(errmsg().contains("hot reload"), "{}", errmsg());
        pp_runtime_free(cold);

        let mut cfg: RuntimeConfig = std::mem::zeroed();
        assert_eq!(pp_config_init(&mut cfg), OK);
        cfg.flags = RuntimeConfig::FLAG_HOT_RELOAD;
        cfg.reload_event = Some(on_reload);
        cfg.reload_user = &events as *const ReloadLog as *mut c_void;
        let mut rt = null_mut();
        assert_eq!(pp_runtime_new(&cfg, &mut rt), OK);
        let b = reload_bundle("value", reload::V1);
        let id = load(rt, &b);
        let h = find(rt, VALUE).unwrap();
        assert_eq!(call(rt, &h, reload::GET, 4), Ok(41));
        assert_eq!(pp_reload_bundle(rt, 999), Status::NotFound as u32);
        assert!(take().is_empty());

        b.swap_library(reload::V2);
        assert_eq!(pp_reload_bundle(rt, id), OK, "{}", errmsg());
        assert_eq!(
            call(rt, &h, reload::GET, 4),
            Ok(42),
            "same handle, new code"
        );
        assert_eq!(
            take(),
            [
                (id, "value".to_owned(), 1, String::new()),
                (id, "value".to_owned(), 2, String::new())
            ]
        );

        // A failing init: reported with its message, and build 2 keeps serving.
        b.swap_library(reload::INIT_FAILS);
        assert_eq!(pp_reload_bundle(rt, id), Status::InitFailed as u32);
        assert!(
            errmsg().contains(reload::INIT_FAILS_MESSAGE),
            "{}",
            errmsg()
        );
        let seen = take();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0], (id, "value".to_owned(), 1, String::new()));
        assert_eq!((seen[1].0, seen[1].1.as_str(), seen[1].2), (id, "value", 3));
        assert!(
            seen[1].3.contains(reload::INIT_FAILS_MESSAGE),
            "{:?}",
            seen[1].3
        );
        assert_eq!(call(rt, &h, reload::GET, 4), Ok(42));

        // Not from inside a guarded section (and nothing is reported).
        b.swap_library(reload::V1);
        pp_guard_enter();
        assert_eq!(pp_reload_bundle(rt, id), BUSY);
        pp_guard_exit();
        assert!(take().is_empty());
        assert_eq!(pp_reload_bundle(rt, id), OK, "{}", errmsg());
        assert_eq!(call(rt, &h, reload::GET, 5), Ok(51));
        assert_eq!(take().len(), 2);
        pp_runtime_free(rt);
    }
}

#[test]
fn guarded_sections_around_cached_calls_through_the_c_api() {
    // SAFETY: `rt` comes from `new_runtime` and is freed once at the end, after the scoped
    // holder thread has been joined; `iface` and `rev` come from a successful `pp_resolve` and
    // are used only while the revision word shows them current inside a guarded section (or
    // the revision word alone, which lives as long as the runtime); `get`, `hold` and
    // `in-flight` take at most one u32 and return one u32.
    unsafe {
        let rt = new_runtime();
        let b = reload_bundle("value", reload::V1);
        let id = load(rt, &b);
        let h = find(rt, VALUE).unwrap();
        let (mut iface, mut rev) = (null(), null());
        assert_eq!(pp_resolve(rt, &h, &mut iface, &mut rev), OK);
        // `pp_revision_load` is a header inline: an acquire load of the word.
        let word: &AtomicU32 = &*(rev as *const AtomicU32);
        let revision = || word.load(Ordering::Acquire);
        let seen = revision();
        let iface: &Interface = &*iface;
        let mut cx = null_mut();
        assert_eq!(pp_context_new(rt, &mut cx), OK);
        let direct = |func: u32, x: u32| {
            let mut out = 0u32;
            let f = (*iface.funcs.add(func as usize)).unwrap();
            let st = f(
                iface.provider,
                &x as *const u32 as *const c_void,
                &mut out as *mut u32 as *mut c_void,
                pp_context_begin(cx),
            );
            assert_eq!(st, OK);
            out
        };

        // Unpaired exits are ignored.
        pp_guard_exit();
        pp_guard_exit();
        pp_guard_enter();
        assert_eq!(revision(), seen);
        assert_eq!(direct(reload::GET, 9), 91);
        // The section is open: lifecycle changes are refused on this thread.
        assert_eq!(pp_unload_bundle(rt, id, 0), BUSY);
        pp_guard_exit();
        pp_guard_exit();

        // Another thread calls through the cached interface inside its section; the unload
        // returns only after that section closed.
        let closed = AtomicBool::new(false);
        let mut ms = 300u32;
        let rt_addr = rt as usize;
        loop {
            let unloaded = std::thread::scope(|s| {
                let holder = s.spawn(|| {
                    pp_guard_enter();
                    assert_eq!(revision(), seen, "still current inside the section");
                    let mut hcx = null_mut();
                    assert_eq!(pp_context_new(rt_addr as *const Runtime, &mut hcx), OK);
                    let mut out = 0u32;
                    let f = (*iface.funcs.add(reload::HOLD as usize)).unwrap();
                    let st = f(
                        iface.provider,
                        &ms as *const u32 as *const c_void,
                        &mut out as *mut u32 as *mut c_void,
                        pp_context_begin(hcx),
                    );
                    closed.store(true, Ordering::SeqCst);
                    pp_guard_exit();
                    pp_context_free(hcx);
                    (st, out)
                });
                loop {
                    if call(rt, &h, reload::IN_FLIGHT, 0) == Ok(1) {
                        assert_eq!(pp_unload_bundle(rt, id, 0), OK, "{}", errmsg());
                        assert!(
                            closed.load(Ordering::SeqCst),
                            "pp_unload_bundle returned inside another thread's section"
                        );
                        assert_eq!(holder.join().unwrap(), (OK, 1));
                        return true;
                    }
                    if holder.is_finished() {
                        // Finished before it was seen (a slow machine): hold longer.
                        assert_eq!(holder.join().unwrap(), (OK, 1));
                        return false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            });
            if unloaded {
                break;
            }
            closed.store(false, Ordering::SeqCst);
            ms *= 2;
        }
        assert_ne!(revision(), seen, "the unload moved the revision word");
        assert_eq!(
            call(rt, &h, reload::GET, 1),
            Err(Status::StaleHandle as u32)
        );
        pp_context_free(cx);
        pp_runtime_free(rt);
    }
}
