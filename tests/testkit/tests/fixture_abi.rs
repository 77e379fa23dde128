//! Drives the Rust fixture plugin through the raw ABI with a minimal fake host, so the fixture
//! is known to be right before the runtime's tests rely on it (and the testkit's constants are
//! checked against it).

use core::ffi::c_void;
use core::mem::{offset_of, size_of};
use core::ptr;
use libloading::Library;
use polyplug_abi::ext::{reconcile, ReconcileError};
use polyplug_abi::layout::{args_layout, result_layout};
use polyplug_abi::{
    BundleInfo, Bytes, CallArena, CallCtx, ContractDesc, ContractFn, Handle, HostApi, Interface,
    PluginFiniFn, PluginInitFn, Registrar, Status, Str, Version, ABI_VERSION,
};
use polyplug_testkit::{counter, make_bundle, modes, other, Bundle, BundleSpec};
use std::sync::Mutex;

// ---- the fake host ----------------------------------------------------------------------------

/// What the fake host observed during one init.
#[derive(Default)]
struct Seen {
    /// Declared `struct_size` and the reconciled table of every registration.
    registrations: Vec<(u32, Result<Interface, ReconcileError>)>,
    logs: Vec<(u32, String, String)>,
}

/// The state behind `HostApi::context`: shared, so the callbacks only need `&State`.
struct State {
    seen: Mutex<Seen>,
    /// Whether `find` knows `test:host/clock`.
    has_clock: bool,
}

struct FakeHost {
    api: HostApi,
    state: Box<State>,
}

impl FakeHost {
    fn new(max_log_level: u32, has_clock: bool) -> FakeHost {
        let state = Box::new(State {
            seen: Mutex::new(Seen::default()),
            has_clock,
        });
        FakeHost {
            api: HostApi {
                struct_size: size_of::<HostApi>() as u32,
                abi_version: ABI_VERSION,
                max_log_level,
                flags: 0,
                context: ptr::from_ref::<State>(&state).cast_mut().cast(),
                capability: Some(capability),
                log: Some(log),
                register_provider: Some(register_provider),
                find: Some(find),
                find_all: None,
                resolve: Some(resolve),
                set_error: Some(set_error),
                call: None,
                guard_enter: None,
                guard_exit: None,
            },
            state,
        }
    }

    /// The state behind a table handed to the plugin.
    ///
    /// # Safety
    /// `api` must be the `api` of a live `FakeHost`.
    unsafe fn of<'a>(api: *const HostApi) -> &'a State {
        // SAFETY: `context` points to the boxed `State` the `FakeHost` owns.
        unsafe { &*(*api).context.cast::<State>() }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.state.seen()
    }
}

impl State {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .expect("no test thread panicked while holding the lock")
    }
}

unsafe extern "C" fn capability(_host: *const HostApi, _cap: u32) -> u32 {
    0
}

unsafe extern "C" fn log(
    host: *const HostApi,
    level: u32,
    target: *const Str,
    message: *const Str,
) {
    // SAFETY: the plugin passes our table and two views valid for the call.
    let (host, target, message) = unsafe {
        (
            FakeHost::of(host),
            String::from_utf8_lossy((*target).as_bytes()).into_owned(),
            String::from_utf8_lossy((*message).as_bytes()).into_owned(),
        )
    };
    host.seen().logs.push((level, target, message));
}

unsafe extern "C" fn register_provider(
    host: *const HostApi,
    _reg: *mut Registrar,
    iface: *const Interface,
) -> u32 {
    // SAFETY: the plugin passes our table and an interface readable up to its `struct_size`.
    let (host, size, table) = unsafe {
        (
            FakeHost::of(host),
            iface.cast::<u32>().read(),
            reconcile(iface),
        )
    };
    let status = if table.is_ok() {
        Status::Ok
    } else {
        Status::AbiMismatch
    };
    host.seen().registrations.push((size, table));
    status.raw()
}

const CLOCK_NOW: u64 = 1_700_000_000;

unsafe extern "C" fn clock_now(
    _instance: *mut c_void,
    _args: *const c_void,
    ret: *mut c_void,
    _ctx: *mut CallCtx,
) -> u32 {
    // SAFETY: `now()` returns a `u64`, so `ret` points to one.
    unsafe { ret.cast::<u64>().write(CLOCK_NOW) };
    Status::Ok.raw()
}

static CLOCK_FNS: [Option<ContractFn>; 1] = [Some(clock_now)];
static CLOCK_IFACE: Interface = Interface {
    struct_size: size_of::<Interface>() as u32,
    func_count: 1,
    // The fixture only calls function 0; this fake host never hands out the descriptor.
    contract: ptr::null(),
    funcs: CLOCK_FNS.as_ptr(),
    provider: ptr::null_mut(),
    create_instance: None,
    destroy_instance: None,
};
const CLOCK_HANDLE: Handle = Handle {
    index: 1,
    generation: 1,
};

unsafe extern "C" fn find(
    host: *const HostApi,
    contract: *const Str,
    min_version: *const Version,
    out: *mut Handle,
) -> u32 {
    // SAFETY: the plugin passes our table, a contract name, a version and an out slot.
    unsafe {
        let wanted = (*contract).as_bytes() == modes::HOST_CLOCK.as_bytes()
            && Version::new(1, 0, 0).satisfies(&*min_version);
        if FakeHost::of(host).has_clock && wanted {
            out.write(CLOCK_HANDLE);
            Status::Ok.raw()
        } else {
            Status::NotFound.raw()
        }
    }
}

unsafe extern "C" fn resolve(
    _host: *const HostApi,
    handle: *const Handle,
    out_iface: *mut *const Interface,
    _out_revision: *mut *const u32,
) -> u32 {
    // SAFETY: the plugin passes a handle and an out slot.
    unsafe {
        if *handle != CLOCK_HANDLE {
            return Status::StaleHandle.raw();
        }
        out_iface.write(&CLOCK_IFACE);
    }
    Status::Ok.raw()
}

unsafe extern "C" fn set_error(ctx: *mut CallCtx, message: *const u8, len: usize) {
    // SAFETY: the plugin passes its call context and a readable message.
    unsafe { (*ctx).set_error(core::slice::from_raw_parts(message, len)) };
}

// ---- loading the fixture ----------------------------------------------------------------------

/// A private copy of the fixture, loaded and initialised under `name`.
struct Loaded {
    status: Status,
    error: Option<String>,
    host: FakeHost,
    // Dropped last: the registered tables point into the library.
    lib: Library,
    _bundle: Bundle,
}

impl Loaded {
    fn init(name: &str, host: FakeHost) -> Loaded {
        let bundle = make_bundle(&BundleSpec::counter(name));
        // SAFETY: the fixture has no library constructors beyond Rust's own runtime setup.
        let lib = unsafe { Library::new(bundle.library_path()) }.expect("load the fixture");
        // SAFETY: the symbol has the `PluginInitFn` type in the fixture.
        let init = unsafe { lib.get::<PluginInitFn>(polyplug_abi::PLUGIN_INIT_SYMBOL) }
            .expect("init symbol");
        let info = BundleInfo {
            struct_size: size_of::<BundleInfo>() as u32,
            flags: 0,
            name: Str::new(name),
            version: Version::new(1, 0, 0),
            dir: Str::EMPTY,
            entry: Str::EMPTY,
            manifest: Str::EMPTY,
        };
        let mut arena = CallArena::new(256).expect("arena");
        let mut ctx = CallCtx::new(arena.as_raw(), &host.api);
        // SAFETY: every pointer is live for the call; the fake host ignores the registrar.
        let status = unsafe { init(&host.api, &info, ptr::null_mut(), &mut ctx) };
        // SAFETY: the arena was not reset since the call.
        let error = unsafe { ctx.error_bytes() }.map(|b| String::from_utf8_lossy(b).into_owned());
        Loaded {
            status: Status::from_raw(status),
            error,
            host,
            lib,
            _bundle: bundle,
        }
    }

    fn default_host(name: &str) -> Loaded {
        Loaded::init(name, FakeHost::new(3, false))
    }

    /// The contract names of the registrations, in order.
    fn registered(&self) -> Vec<String> {
        self.host
            .seen()
            .registrations
            .iter()
            .map(|(_, table)| match table {
                // SAFETY: the fixture's descriptors are static data of the loaded library.
                Ok(iface) => unsafe { contract_name(&*iface.contract) },
                Err(e) => format!("refused: {e}"),
            })
            .collect()
    }

    /// The only registered table, which must have been accepted.
    fn only_iface(&self) -> Interface {
        let seen = self.host.seen();
        assert_eq!(seen.registrations.len(), 1, "{:?}", self.registered_sizes());
        seen.registrations[0].1.expect("accepted table")
    }

    fn registered_sizes(&self) -> Vec<u32> {
        self.host.seen().registrations.iter().map(|r| r.0).collect()
    }

    fn symbol<T: Copy>(&self, name: &str) -> T {
        // SAFETY: each caller names the symbol's real type.
        *unsafe { self.lib.get::<T>(name) }.expect("fixture symbol")
    }
}

/// # Safety
/// `desc` must be a valid contract descriptor.
unsafe fn contract_name(desc: &ContractDesc) -> String {
    // SAFETY: the descriptor's name is static data.
    let name = unsafe { desc.name.to_str() }.expect("UTF-8 contract name");
    format!("{name}@{}", desc.version)
}

/// Calls function `index` with a fresh arena; returns the status and the error message.
fn call<A, R>(iface: &Interface, index: u32, args: &A, ret: &mut R) -> (Status, Option<String>) {
    let mut arena = CallArena::new(64).expect("arena");
    let mut ctx = CallCtx::new(arena.as_raw(), ptr::null());
    // SAFETY: the fixture's table has `func_count` entries.
    let f = unsafe { iface.func(index) }.expect("function present");
    // SAFETY: `A`/`R` match the function's layout, as each test states.
    let status = unsafe {
        f(
            iface.provider,
            ptr::from_ref(args).cast(),
            ptr::from_mut(ret).cast(),
            &mut ctx,
        )
    };
    // SAFETY: the arena was not reset since the call.
    let error = unsafe { ctx.error_bytes() }.map(|b| String::from_utf8_lossy(b).into_owned());
    (Status::from_raw(status), error)
}

// ---- tests ------------------------------------------------------------------------------------

#[test]
fn exports_match_the_abi() {
    let l = Loaded::default_host("plain");
    let version = l.symbol::<*const u32>(polyplug_abi::PLUGIN_ABI_VERSION_SYMBOL);
    // SAFETY: the symbol is a `u32` static.
    assert_eq!(unsafe { *version }, ABI_VERSION);
    let bench = l.symbol::<extern "C" fn(u32) -> u32>("pp_bench_inc");
    assert_eq!((bench(41), bench(u32::MAX)), (42, 0));

    let fini = l.symbol::<PluginFiniFn>(polyplug_abi::PLUGIN_FINI_SYMBOL);
    let count = l.symbol::<extern "C" fn() -> u32>("pp_fixture_fini_count");
    assert_eq!(count(), 0);
    // SAFETY: the fixture's fini ignores the host pointer.
    unsafe { fini(&l.host.api) };
    assert_eq!(count(), 1);

    // Another copy of the library has its own statics.
    let other = Loaded::default_host("plain");
    assert_eq!(
        other.symbol::<extern "C" fn() -> u32>("pp_fixture_fini_count")(),
        0
    );
}

#[test]
fn counter_contract_is_described_and_works() {
    let l = Loaded::default_host("plain");
    assert_eq!(l.status, Status::Ok);
    assert_eq!(l.registered(), [counter::PROVIDES]);
    let iface = l.only_iface();
    assert_eq!(iface.func_count, counter::FUNC_COUNT);
    // SAFETY: static descriptors of the loaded library.
    let desc = unsafe { &*iface.contract };
    // SAFETY: as above.
    let funcs = unsafe { core::slice::from_raw_parts(desc.funcs, desc.func_count as usize) };
    let names: Vec<&str> = funcs
        .iter()
        // SAFETY: as above.
        .map(|f| unsafe { f.name.to_str() }.expect("UTF-8"))
        .collect();
    assert_eq!(
        names,
        [
            "inc",
            "noop",
            "sum-len",
            "add-points",
            "greet",
            "fail",
            "whoami",
            "boom"
        ]
    );
    // The argument/result structs below must match what the runtime computes.
    let layouts: Vec<(u32, u32)> = funcs
        .iter()
        .map(|f| {
            // SAFETY: as above.
            let (a, r) = unsafe { (args_layout(f, None), result_layout(f)) };
            (a.expect("args").size, r.expect("result").size)
        })
        .collect();
    let w = size_of::<usize>() as u32;
    assert_eq!(
        layouts,
        [
            (4, 4),
            (0, 0),
            (2 * w, 8),
            (16, 8),
            (2 * w, 2 * w),
            (0, 0),
            (0, 2 * w),
            (0, 0)
        ]
    );

    let mut out32 = 0u32;
    assert_eq!(
        call(&iface, counter::INC, &41u32, &mut out32),
        (Status::Ok, None)
    );
    assert_eq!(out32, 42);
    assert_eq!(call(&iface, counter::NOOP, &(), &mut ()).0, Status::Ok);

    let data = [7u8, 1, 2];
    let mut out64 = 0u64;
    assert_eq!(
        call(&iface, counter::SUM_LEN, &Bytes::new(&data), &mut out64).0,
        Status::Ok
    );
    assert_eq!(out64, 10);
    assert_eq!(
        call(&iface, counter::SUM_LEN, &Bytes::EMPTY, &mut out64).0,
        Status::Ok
    );
    assert_eq!(out64, 0);

    let points = [[1i32, i32::MAX], [2, 1]];
    let mut sum = [0i32; 2];
    assert_eq!(
        call(&iface, counter::ADD_POINTS, &points, &mut sum).0,
        Status::Ok
    );
    assert_eq!(sum, [3, i32::MIN]);

    let mut s = Str::EMPTY;
    assert_eq!(call(&iface, counter::WHOAMI, &(), &mut s).0, Status::Ok);
    // SAFETY: static memory of the loaded library.
    assert_eq!(unsafe { s.to_str() }, Ok("rust"));

    let (status, error) = call(&iface, counter::FAIL, &(), &mut ());
    assert_eq!(
        (status, error.as_deref()),
        (Status::Error, Some(counter::FAIL_MESSAGE))
    );
    let (status, error) = call(&iface, counter::BOOM, &(), &mut ());
    assert_eq!(
        (status, error.as_deref()),
        (Status::Panic, Some(counter::BOOM_MESSAGE))
    );
}

#[test]
fn greet_allocates_in_the_callers_arena() {
    let l = Loaded::default_host("plain");
    let iface = l.only_iface();
    // SAFETY: the fixture's table has `func_count` entries.
    let greet = unsafe { iface.func(counter::GREET) }.expect("greet");
    let mut arena = CallArena::new(64).expect("arena");
    let mut ctx = CallCtx::new(arena.as_raw(), ptr::null());
    let name = Str::new("bob");
    let mut out = Str::EMPTY;
    // SAFETY: `greet(name: string) -> string`: a `Str` in, a `Str` out.
    let status = unsafe {
        greet(
            ptr::null_mut(),
            ptr::from_ref(&name).cast(),
            ptr::from_mut(&mut out).cast(),
            &mut ctx,
        )
    };
    assert_eq!(Status::from_raw(status), Status::Ok);
    // SAFETY: the arena was not reset.
    assert_eq!(unsafe { out.to_str() }, Ok("hello, bob from rust"));
    assert!(arena.capacity() > 0);

    // No arena: nowhere to put the result.
    let mut bare = CallCtx::new(ptr::null_mut(), ptr::null());
    // SAFETY: as above.
    let status = unsafe {
        greet(
            ptr::null_mut(),
            ptr::from_ref(&name).cast(),
            ptr::from_mut(&mut out).cast(),
            &mut bare,
        )
    };
    assert_eq!(Status::from_raw(status), Status::OutOfMemory);

    // Null arguments are refused, not dereferenced.
    // SAFETY: the fixture checks for null before reading.
    let status = unsafe { greet(ptr::null_mut(), ptr::null(), ptr::null_mut(), &mut bare) };
    assert_eq!(Status::from_raw(status), Status::NullPointer);
}

#[test]
fn init_failures_are_reported() {
    let l = Loaded::default_host(modes::INIT_FAILS);
    assert_eq!(l.status, Status::InitFailed);
    assert_eq!(l.error.as_deref(), Some(modes::INIT_FAILS_MESSAGE));
    assert!(l.registered().is_empty());

    let l = Loaded::default_host(modes::INIT_PANICS);
    assert_eq!(l.status, Status::Panic);
    assert_eq!(l.error.as_deref(), Some(modes::INIT_PANICS_MESSAGE));
    assert!(l.registered().is_empty());
}

#[test]
fn registration_modes() {
    let l = Loaded::default_host(modes::REGISTERS_OTHER);
    assert_eq!(
        (l.status, l.registered()),
        (Status::Ok, vec![other::PROVIDES.to_owned()])
    );

    let l = Loaded::default_host(modes::REGISTERS_TWICE);
    assert_eq!(l.status, Status::Ok);
    assert_eq!(l.registered(), [counter::PROVIDES, counter::PROVIDES]);

    let l = Loaded::default_host(modes::REGISTERS_EXTRA);
    assert_eq!(l.status, Status::Ok);
    assert_eq!(l.registered(), [counter::PROVIDES, other::PROVIDES]);

    let l = Loaded::default_host(modes::COLLIDES);
    assert_eq!(l.status, Status::Ok);
    let names = l.registered();
    assert_eq!(names.len(), 1);
    assert!(names[0].ends_with("@1.0.0"), "{names:?}");
    assert_eq!(l.only_iface().func_count, 1);
}

#[test]
fn table_size_modes() {
    let l = Loaded::default_host(modes::OLDER_PEER);
    assert_eq!(
        l.registered_sizes(),
        [offset_of!(Interface, create_instance) as u32]
    );
    assert_eq!(
        (l.status, l.registered()),
        (Status::Ok, vec![counter::PROVIDES.to_owned()])
    );

    let newer = (size_of::<Interface>() + size_of::<u64>()) as u32;
    let l = Loaded::default_host(modes::NEWER_PEER);
    assert_eq!(l.registered_sizes(), [newer]);
    assert_eq!(l.status, Status::Ok);

    let l = Loaded::default_host(modes::NEWER_PEER_DIRTY);
    assert_eq!(l.registered_sizes(), [newer]);
    assert_eq!(
        l.status,
        Status::AbiMismatch,
        "the host's refusal is passed on"
    );
    assert!(matches!(
        l.host.seen().registrations[0].1,
        Err(ReconcileError::UnknownTail { .. })
    ));
}

#[test]
fn logs_only_when_the_host_wants_info() {
    let l = Loaded::init(modes::LOGS, FakeHost::new(3, false));
    assert_eq!(l.status, Status::Ok);
    assert_eq!(
        l.host.seen().logs,
        [(
            3,
            modes::LOGS_TARGET.to_owned(),
            modes::LOGS_MESSAGE.to_owned()
        )]
    );
    assert_eq!(l.registered(), [counter::PROVIDES]);

    let quiet = Loaded::init(modes::LOGS, FakeHost::new(2, false));
    assert_eq!(quiet.status, Status::Ok);
    assert!(quiet.host.seen().logs.is_empty());
}

#[test]
fn finds_the_host_clock() {
    let l = Loaded::init(modes::FINDS_HOST, FakeHost::new(3, true));
    assert_eq!(l.status, Status::Ok);
    assert_eq!(
        l.symbol::<extern "C" fn() -> u64>("pp_fixture_clock_seen")(),
        CLOCK_NOW
    );
    assert_eq!(l.registered(), [counter::PROVIDES]);

    let missing = Loaded::init(modes::FINDS_HOST, FakeHost::new(3, false));
    assert_eq!(missing.status, Status::MissingDependency);
    assert!(missing.registered().is_empty());
    assert_eq!(
        missing.symbol::<extern "C" fn() -> u64>("pp_fixture_clock_seen")(),
        0
    );
}
