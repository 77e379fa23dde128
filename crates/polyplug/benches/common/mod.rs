//! Setup shared by the benches: fixture bundles, in-process host providers, and the contract
//! argument structs. Nothing here is timed.

// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

use polyplug::abi::{
    CallCtx, ContractDesc, ContractFn, FieldDesc, FuncDesc, Interface, Status, Str, TypeDesc,
    TypeKind,
};
use polyplug::{CachedProvider, ContractKey, Handle, Runtime, Version};
use polyplug_testkit::{counter, fixture_lib, make_bundle, Bundle, BundleSpec};
use std::ffi::c_void;
use std::path::Path;

/// `test:counter/counter@1` (the Rust and C fixtures both provide it).
pub const COUNTER: ContractKey<'static> = ContractKey::new(counter::NAME, 1);
/// `test:relay/relay@1` (the C fixture's plugin-to-plugin contract).
pub const RELAY: ContractKey<'static> = ContractKey::new("test:relay/relay", 1);
/// The C fixture's `provides` entry for the relay.
pub const RELAY_PROVIDES: &str = "test:relay/relay@1.0.0";
/// Any 1.x satisfies the benches.
pub const V1: Version = Version::new(1, 0, 0);

/// Argument struct of `inc(x: u32)` (and of the relay's `inc-via`).
#[repr(C)]
pub struct IncArgs {
    pub x: u32,
}

/// `record point { x: s32, y: s32 }`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

/// Argument struct of `add-points(a: point, b: point)`.
#[repr(C)]
pub struct AddPointsArgs {
    pub a: Point,
    pub b: Point,
}

/// A runtime with bundles loaded. Field order is drop order: the runtime unloads its bundles
/// before their temporary directories are removed.
pub struct Loaded {
    pub rt: Runtime,
    pub bundles: Vec<Bundle>,
}

impl Loaded {
    /// The library file the `i`-th bundle loaded (its private copy).
    pub fn library(&self, i: usize) -> &Path {
        self.bundles[i].library_path()
    }

    /// The highest-priority provider of `key`, resolved for repeated calls.
    pub fn resolve(&self, key: ContractKey<'_>) -> CachedProvider<'_> {
        let h = self.rt.find(key, &V1).expect("provider registered");
        self.rt.resolve(h).expect("fresh handle resolves")
    }
}

/// A bundle of the Rust fixture providing the counter.
pub fn rust_counter_bundle(name: &str) -> Bundle {
    make_bundle(&BundleSpec::counter(name))
}

/// A bundle of the C fixture providing the counter and the relay.
pub fn c_counter_bundle(name: &str) -> Bundle {
    make_bundle(
        &BundleSpec::counter(name)
            .provides(RELAY_PROVIDES)
            .library(fixture_lib("counter_c")),
    )
}

/// A runtime with the Rust fixture's counter loaded.
pub fn rust_counter() -> Loaded {
    let rt = Runtime::new().expect("runtime");
    let bundle = rust_counter_bundle("bench-rust");
    rt.load_bundle(bundle.path()).expect("Rust fixture loads");
    Loaded {
        rt,
        bundles: vec![bundle],
    }
}

/// A runtime with the Rust fixture loaded first (so its counter ranks first at equal priority)
/// and then the C fixture, whose relay calls the top counter.
pub fn rust_and_c() -> Loaded {
    let mut loaded = rust_counter();
    let c = c_counter_bundle("bench-c");
    loaded.rt.load_bundle(c.path()).expect("C fixture loads");
    loaded.bundles.push(c);
    loaded
}

// ---- in-process host providers ------------------------------------------------------------------

static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
static U64: TypeDesc = TypeDesc::scalar(TypeKind::U64);
static INC_PARAMS: [FieldDesc; 1] = [FieldDesc::new("x", &U32)];
static INC_FUNCS: [FuncDesc; 1] = [FuncDesc::new("inc", &INC_PARAMS, Some(&U32))];
static PING_FUNCS: [FuncDesc; 1] = [FuncDesc::new("ping", &[], None)];
static NOW_FUNCS: [FuncDesc; 1] = [FuncDesc::new("now", &[], Some(&U64))];

/// Name of the in-process counter host contract.
pub const HOST_COUNTER_NAME: &str = "bench:host/counter";
/// Its lookup key.
pub const HOST_COUNTER: ContractKey<'static> = ContractKey::new(HOST_COUNTER_NAME, 1);
static HOST_COUNTER_DESC: ContractDesc =
    ContractDesc::new(HOST_COUNTER_NAME, Version::new(1, 0, 0), &INC_FUNCS);
static HOST_COUNTER_FNS: [Option<ContractFn>; 1] = [Some(host_inc)];
/// An in-process counter provider: `inc(x) -> x + 1` with the fixture's null checks.
pub static HOST_COUNTER_IFACE: Interface = interface(&HOST_COUNTER_DESC, &HOST_COUNTER_FNS);

/// Name of the host clock contract (`now() -> u64`).
pub const CLOCK_NAME: &str = "test:host/clock";
static CLOCK_DESC: ContractDesc = ContractDesc::new(CLOCK_NAME, Version::new(1, 0, 0), &NOW_FUNCS);
static CLOCK_FNS: [Option<ContractFn>; 1] = [Some(host_now)];
/// The host clock provider. Its `now()` returns a fixed reading so the bench times the call,
/// not a clock source.
pub static CLOCK_IFACE: Interface = interface(&CLOCK_DESC, &CLOCK_FNS);
/// What [`CLOCK_IFACE`]'s `now()` returns.
pub const CLOCK_READING: u64 = 1_700_000_000;

static PING_FNS: [Option<ContractFn>; 1] = [Some(host_ping)];

const fn interface(
    contract: &'static ContractDesc,
    funcs: &'static [Option<ContractFn>],
) -> Interface {
    Interface {
        struct_size: std::mem::size_of::<Interface>() as u32,
        func_count: funcs.len() as u32,
        contract,
        funcs: funcs.as_ptr(),
        provider: std::ptr::null_mut(),
        create_instance: None,
        destroy_instance: None,
    }
}

/// `inc` in our calling convention, statically linked: the host counter's function, and the
/// `native/abi_marshalled` arm of `counter_inc`.
pub unsafe extern "C" fn host_inc(
    _instance: *mut c_void,
    args: *const c_void,
    ret: *mut c_void,
    _ctx: *mut CallCtx,
) -> u32 {
    if args.is_null() || ret.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: non-null pointers to the `inc` argument and result structs (ContractFn contract).
    unsafe { *(ret as *mut u32) = (*(args as *const IncArgs)).x.wrapping_add(1) };
    Status::Ok.raw()
}

unsafe extern "C" fn host_now(
    _instance: *mut c_void,
    _args: *const c_void,
    ret: *mut c_void,
    _ctx: *mut CallCtx,
) -> u32 {
    if ret.is_null() {
        return Status::NullPointer.raw();
    }
    // SAFETY: a non-null pointer to the `u64` result (ContractFn contract).
    unsafe { *(ret as *mut u64) = CLOCK_READING };
    Status::Ok.raw()
}

unsafe extern "C" fn host_ping(
    _instance: *mut c_void,
    _args: *const c_void,
    _ret: *mut c_void,
    _ctx: *mut CallCtx,
) -> u32 {
    Status::Ok.raw()
}

/// A runtime (without the native loader: nothing is loaded from disk) holding `n` host
/// providers of `n` distinct contracts `bench:reg/c{i}@1.0.0`, registered in one transaction.
/// Returns the runtime and every handle, in contract order.
pub fn registry_of(n: usize) -> (Runtime, Vec<Handle>) {
    let rt = Runtime::builder()
        .native_loader(false)
        .build()
        .expect("runtime");
    let ifaces: Vec<(*const Interface, i32)> = (0..n)
        .map(|i| {
            // Leaked: the runtime keeps pointers to the description for its whole life, and
            // the bench process ends soon after.
            let name: &'static str = Box::leak(registry_name(i).into_boxed_str());
            let desc: &'static ContractDesc =
                Box::leak(Box::new(ContractDesc::new(name, V1, &PING_FUNCS)));
            let iface: &'static Interface = Box::leak(Box::new(interface(desc, &PING_FNS)));
            (iface as *const Interface, 0)
        })
        .collect();
    // One transaction: registering one by one would copy the snapshot `n` times.
    // SAFETY: every interface, description and function table above lives forever.
    let handles = unsafe { rt.register_host_providers_raw(&ifaces) }.expect("providers register");
    assert_eq!(handles.len(), n);
    (rt, handles)
}

/// The contract name of provider `i` of [`registry_of`].
pub fn registry_name(i: usize) -> String {
    format!("bench:reg/c{i}")
}

/// Views `s` for the host table (the caller keeps `s` alive).
pub fn view(s: &str) -> Str {
    Str::new(s)
}

/// One `inc(x)` through a resolved provider; returns `(result, status)`.
#[inline(always)]
pub fn inc_through(p: &CachedProvider<'_>, x: u32, ctx: *mut CallCtx) -> (u32, u32) {
    let args = IncArgs { x };
    let mut out = 0u32;
    // SAFETY: function 0 of both counters is `inc(x: u32) -> u32`; `ctx` is the caller's live
    // context, and `inc` returns nothing in its arena.
    let status = unsafe {
        p.call_raw(
            0,
            &args as *const IncArgs as *const c_void,
            &mut out as *mut u32 as *mut c_void,
            ctx,
        )
    };
    (out, status)
}
