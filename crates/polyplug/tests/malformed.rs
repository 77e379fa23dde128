//! Every way a bundle can be malformed gets its own error, never a crash, and leaves nothing
//! loaded or registered.

use polyplug::abi::{CallCtx, ContractDesc, FuncDesc, Interface};
use polyplug::{Error, ErrorKind, Runtime, Status, Version};
use polyplug_testkit::{counter, fixture_lib, make_bundle, modes, other, rust_fixture, BundleSpec};
use std::ffi::c_void;
use std::path::Path;

fn load(spec: &BundleSpec) -> (Runtime, Error) {
    let rt = Runtime::new()
        .expect("a fresh default runtime only adds its built-in loader, which cannot clash");
    let b = make_bundle(spec);
    let e = rt
        .load_bundle(b.path())
        .expect_err("the bundle must be refused");
    assert_eq!(rt.bundle_count(), 0, "a refused bundle stays unloaded");
    assert_eq!(rt.provider_count(), 0, "a refused bundle registers nothing");
    (rt, e)
}

/// The status and message of a bundle the native loader refused, checking that the error names
/// the bundle and the loader.
fn native_failure<'e>(e: &'e Error, bundle: &str) -> (Status, &'e str) {
    match e.kind() {
        ErrorKind::LoaderFailed {
            loader,
            bundle: b,
            status,
            message,
        } => {
            assert_eq!(loader, polyplug::NATIVE_LOADER, "{e}");
            assert_eq!(b, bundle, "{e}");
            assert_eq!(*status, e.status());
            (*status, message.as_str())
        }
        other => panic!("expected LoaderFailed, got {other}"),
    }
}

fn c_fixture(name: &str, lib: &str) -> BundleSpec {
    BundleSpec::counter(name).library(fixture_lib(lib))
}

#[test]
fn missing_bundle_directory_or_manifest() {
    let rt = Runtime::new().unwrap();
    let e = rt.load_bundle("/nonexistent/polyplug/bundle").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::BundleIo { .. }), "{e}");
    assert_eq!(e.status(), Status::NotFound);
    let empty = tempfile::tempdir().unwrap();
    let e = rt.load_bundle(empty.path()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::BundleIo { ref path, .. } if path.ends_with("bundle.toml")),
        "{e}"
    );
}

#[test]
fn missing_library_file() {
    let (_, e) = load(&BundleSpec::counter("gone").without_library());
    let (status, message) = native_failure(&e, "gone");
    assert_eq!(status, Status::NotFound);
    assert!(message.ends_with(".so does not exist"), "{e}");
}

#[test]
fn not_a_shared_library() {
    let (_, e) = load(
        &BundleSpec::counter("text").library_bytes(b"#!/bin/sh\necho not a library\n".to_vec()),
    );
    let (status, message) = native_failure(&e, "text");
    assert_eq!(status, Status::LoadFailed);
    assert!(
        message.ends_with("is not a shared library: no ELF magic number"),
        "{e}"
    );
    let (_, e) = load(&BundleSpec::counter("empty").library_bytes(Vec::new()));
    let (status, message) = native_failure(&e, "empty");
    assert_eq!(status, Status::LoadFailed);
    assert!(message.contains("is not a shared library"), "{e}");
}

#[test]
fn truncated_library() {
    let whole = std::fs::read(rust_fixture()).unwrap();
    for cut in [40, whole.len() / 3, whole.len() - 1] {
        let (_, e) = load(&BundleSpec::counter("cut").library_bytes(whole[..cut].to_vec()));
        let (status, message) = native_failure(&e, "cut");
        assert_eq!(status, Status::LoadFailed);
        assert!(message.contains(" is truncated: "), "cut at {cut}: {e}");
    }
}

#[test]
fn missing_entry_symbol() {
    let (_, e) = load(&c_fixture("no-init", "no_init"));
    let (status, message) = native_failure(&e, "no-init");
    assert_eq!(status, Status::LoadFailed);
    assert!(
        message.ends_with("libno_init.so does not export `pp_plugin_init`"),
        "{e}"
    );
    let (_, e) = load(&c_fixture("no-version", "no_abi_version"));
    let (status, message) = native_failure(&e, "no-version");
    assert_eq!(status, Status::LoadFailed);
    assert!(
        message.ends_with("libno_abi_version.so does not export `pp_plugin_abi_version`"),
        "{e}"
    );
}

#[test]
fn abi_version_mismatch() {
    let (_, e) = load(&c_fixture("future", "bad_abi"));
    let (status, message) = native_failure(&e, "future");
    assert_eq!(status, Status::AbiMismatch);
    assert!(
        message.ends_with(&format!(
            "libbad_abi.so was built for ABI 0x90000, but this runtime speaks ABI {:#x}",
            polyplug::abi::ABI_VERSION
        )),
        "{e}"
    );
}

#[test]
fn init_returns_an_error() {
    let (_, e) = load(&BundleSpec::counter(modes::INIT_FAILS));
    let (status, message) = native_failure(&e, modes::INIT_FAILS);
    assert_eq!(status, Status::InitFailed);
    assert_eq!(
        message,
        format!(
            "pp_plugin_init failed (InitFailed): {}",
            modes::INIT_FAILS_MESSAGE
        )
    );
}

#[test]
fn init_panics() {
    let (_, e) = load(&BundleSpec::counter(modes::INIT_PANICS));
    let (status, message) = native_failure(&e, modes::INIT_PANICS);
    assert_eq!(status, Status::Panic);
    assert!(
        message.starts_with("pp_plugin_init panicked: ")
            && message.contains(modes::INIT_PANICS_MESSAGE),
        "{e}"
    );
}

#[test]
fn declared_and_registered_providers_differ() {
    let (_, e) = load(&BundleSpec::counter(modes::REGISTERS_OTHER));
    match e.kind() {
        ErrorKind::ProvidersMismatch {
            missing,
            unexpected,
            ..
        } => {
            assert_eq!(*missing, vec![counter::PROVIDES.to_owned()]);
            assert_eq!(*unexpected, vec![other::PROVIDES.to_owned()]);
        }
        other => panic!("expected ProvidersMismatch, got {other}"),
    }
    // Declaring a version the plugin does not register is a mismatch too.
    let (_, e) = load(&BundleSpec::new("wrong-version").provides("test:counter/counter@1.3.0"));
    assert!(
        matches!(e.kind(), ErrorKind::ProvidersMismatch { .. }),
        "{e}"
    );
    assert_eq!(e.status(), Status::ContractMismatch);
}

#[test]
fn duplicate_provider() {
    let (_, e) = load(&BundleSpec::counter(modes::REGISTERS_TWICE));
    assert!(
        matches!(e.kind(), ErrorKind::DuplicateProvider { ref contract, .. } if contract == counter::NAME),
        "{e}"
    );
    assert_eq!(e.status(), Status::AlreadyExists);
}

// Two names whose ids collide (FNV-1a 64 of "name@1"); the fixture's `collides` mode
// registers the second. See tests/fixtures/rust-plugin/src/collision.rs.
const COLLIDING_A: &str = "t:c/ice4e2fa7a0d3220f";
const COLLIDING_B: &str = "t:c/idabcfec5a3d5fc97";

static PING: [FuncDesc; 1] = [FuncDesc::new("ping", &[], None)];
static CONTRACT_A: ContractDesc = ContractDesc::new(COLLIDING_A, Version::new(1, 0, 0), &PING);
unsafe extern "C" fn ping(
    _: *mut c_void,
    _: *const c_void,
    _: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    0
}
static PING_TABLE: [Option<polyplug::abi::ContractFn>; 1] = [Some(ping)];
static IFACE_A: Interface = Interface {
    struct_size: std::mem::size_of::<Interface>() as u32,
    func_count: 1,
    contract: &CONTRACT_A,
    funcs: PING_TABLE.as_ptr(),
    provider: std::ptr::null_mut(),
    create_instance: None,
    destroy_instance: None,
};

#[test]
fn contract_id_collision() {
    assert_eq!(
        polyplug::abi::contract_id(COLLIDING_A, 1),
        polyplug::abi::contract_id(COLLIDING_B, 1)
    );
    let rt = Runtime::new().unwrap();
    rt.register_host_provider(&IFACE_A, 0).unwrap();
    let b = make_bundle(&BundleSpec::new(modes::COLLIDES).provides(format!("{COLLIDING_B}@1.0.0")));
    let e = rt.load_bundle(b.path()).unwrap_err();
    match e.kind() {
        ErrorKind::ContractIdCollision {
            contract,
            existing,
            id,
        } => {
            assert_eq!(contract, COLLIDING_B);
            assert_eq!(existing, COLLIDING_A);
            assert_eq!(*id, polyplug::abi::contract_id(COLLIDING_A, 1));
        }
        other => panic!("expected ContractIdCollision, got {other}"),
    }
    assert_eq!(e.status(), Status::IdCollision);
    assert_eq!(rt.bundle_count(), 0);
    // The existing contract is untouched and a lookup by the other name finds nothing.
    assert!(rt.find_ref(&format!("{COLLIDING_A}@1.0.0")).is_ok());
    assert!(rt.find_ref(&format!("{COLLIDING_B}@1.0.0")).is_err());
}

#[test]
fn malformed_manifests() {
    let cases: &[(&str, &str)] = &[
        ("name = \"x\"\nversion = ", "line 2"),
        ("name = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\nlibrary = \"l.so\"\nprovides = [\"a:b/c@1\"]\nsurprise = 1\n", "surprise"),
        ("name = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\nprovides = [\"a:b/c@1\"]\n", "library"),
        ("name = \"x\"\nversion = \"v1\"\nloader = \"native\"\nlibrary = \"l.so\"\nprovides = [\"a:b/c@1\"]\n", "MAJOR"),
        ("name = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\nlibrary = \"l.so\"\nprovides = [\"not-a-contract\"]\n", "provides"),
        ("name = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\nlibrary = \"../l.so\"\nprovides = [\"a:b/c@1\"]\n", "relative path"),
        ("name = \"x\"\nversion = \"1.0.0\"\nloader = \"native\"\nlibrary = \"l.so\"\nprovides = [\"a:b/c@1\"]\nrequires = [\"a:b/d\"]\n", "requires"),
        ("\u{0}\u{1}binary", "line 1"),
    ];
    for (text, needle) in cases {
        let (_, e) = load(&BundleSpec::new("x").raw_manifest(*text));
        match e.kind() {
            ErrorKind::InvalidManifest { message, path } => {
                assert!(
                    message.contains(needle),
                    "`{needle}` not in `{message}` for {text:?}"
                );
                assert!(path.ends_with("bundle.toml"));
            }
            other => panic!("expected InvalidManifest for {text:?}, got {other}"),
        }
        assert_eq!(e.status(), Status::InvalidManifest);
    }
}

#[test]
fn unknown_loader() {
    let (_, e) = load(&BundleSpec::counter("lua-thing").loader("lua"));
    assert!(
        matches!(e.kind(), ErrorKind::UnknownLoader { ref loader, .. } if loader == "lua"),
        "{e}"
    );
    assert_eq!(e.status(), Status::NotFound);
}

#[test]
fn a_refused_bundle_does_not_disturb_loaded_ones() {
    let rt = Runtime::new().unwrap();
    let good = make_bundle(&BundleSpec::counter("good"));
    rt.load_bundle(good.path()).unwrap();
    for spec in [
        BundleSpec::counter(modes::INIT_PANICS),
        BundleSpec::counter(modes::REGISTERS_TWICE),
        c_fixture("future", "bad_abi"),
        BundleSpec::counter("junk").library_bytes(b"junk".to_vec()),
    ] {
        let b = make_bundle(&spec);
        assert!(rt.load_bundle(b.path()).is_err());
    }
    assert_eq!(rt.bundle_count(), 1);
    let h = rt.find_ref(&format!("{}@1.0", counter::NAME)).unwrap();
    let mut cx = rt.call_context().unwrap();
    let mut out = 0u32;
    // SAFETY: `inc(x: u32) -> u32`: the argument struct is one u32 and `out` a writable u32.
    unsafe { rt.call_typed(h, counter::INC, &1u32, &mut out, &mut cx) }.unwrap();
    assert_eq!(out, 2);
    assert!(Path::new(good.path()).exists());
}
