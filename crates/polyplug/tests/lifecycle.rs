//! Reload, unload and the guarded call path, single-threaded and deterministic.

use polyplug::{ContractKey, Error, Handle, Runtime, Status, Version};
use polyplug_testkit::{fixture_lib, make_bundle, reload, Bundle, BundleSpec};
use std::path::Path;

const VALUE: ContractKey<'static> = ContractKey::new(reload::NAME, 1);
const V1_0: Version = Version::new(1, 0, 0);

fn reload_bundle(name: &str, build: &str) -> Bundle {
    make_bundle(
        &BundleSpec::new(name)
            .library(fixture_lib(build))
            .provides(reload::PROVIDES),
    )
}

/// Replaces a bundle's library the safe way: a new file renamed over the old one, so the
/// mapped original is never rewritten in place.
fn swap_library(bundle: &Bundle, build: &str) {
    let dest = bundle.library_path();
    let tmp = dest.with_extension("next");
    std::fs::copy(fixture_lib(build), &tmp).unwrap();
    std::fs::rename(&tmp, dest).unwrap();
}

fn get(rt: &Runtime, h: Handle, x: u32) -> Result<u32, Error> {
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u32;
    // SAFETY: `get(x: u32) -> u32`.
    unsafe { rt.call_typed(h, reload::GET, &x, &mut out, &mut cx) }.map(|()| out)
}

fn hot() -> Runtime {
    Runtime::builder().hot_reload(true).build().unwrap()
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
    swap_library(&b, reload::V2);
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
    assert!(matches!(rt.resolve(h), Err(Error::StaleHandle { .. })));
    assert!(matches!(get(&rt, h, 1), Err(Error::StaleHandle { .. })));
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
    assert!(matches!(rt.unload_bundle(id), Err(Error::NoSuchBundle(i)) if i == id));
    // And it loads again.
    rt.load_bundle(b.path()).unwrap();
    let h2 = rt.find(VALUE, &V1_0).unwrap();
    assert_ne!(h2, h);
    assert_eq!(get(&rt, h2, 1).unwrap(), 11);
}
