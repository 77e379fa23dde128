//! Dynamic calls (`Runtime::call_json`, `Runtime::contract_model`) on the real fixtures: the C
//! counter and relay, the Rust counter, and host providers that return malformed results.

use polyplug::abi::{
    CallCtx, ContractDesc, ContractFn, FuncDesc, Interface, Str, TypeDesc, TypeKind,
};
use polyplug::serde_json::{json, Value};
use polyplug::{Error, ErrorKind, Handle, Runtime, Status, Version};
use polyplug_testkit::{counter, fixture_lib, make_bundle, BundleSpec};
use std::ffi::c_void;

fn c_counter(rt: &Runtime) -> (polyplug_testkit::Bundle, Handle) {
    let b = make_bundle(
        &BundleSpec::new("c-counter")
            .library(fixture_lib("counter_c"))
            .provides(counter::PROVIDES)
            .provides("test:relay/relay@1.0.0"),
    );
    rt.load_bundle(b.path())
        .expect("the C counter fixture loads into a fresh runtime");
    let h = rt
        .find_ref(counter::PROVIDES)
        .expect("the C fixture registers the counter");
    (b, h)
}

fn call(rt: &Runtime, h: Handle, f: &str, args: Value) -> polyplug::Result<Value> {
    let mut cx = rt
        .call_context()
        .expect("a call context only allocates its arena");
    rt.call_json(h, f, &args, &mut cx)
}

#[test]
fn every_counter_function_answers_through_json() {
    let rt = Runtime::new().unwrap();
    let (_b, h) = c_counter(&rt);
    assert_eq!(call(&rt, h, "inc", json!([41])).unwrap(), json!(42));
    assert_eq!(call(&rt, h, "inc", json!({"x": 41})).unwrap(), json!(42));
    assert_eq!(
        call(&rt, h, "inc", json!([u32::MAX])).unwrap(),
        json!(0),
        "wraps"
    );
    assert_eq!(call(&rt, h, "noop", json!([])).unwrap(), Value::Null);
    // sum-len: the length plus the first byte.
    assert_eq!(
        call(&rt, h, "sum-len", json!([[7, 1, 1]])).unwrap(),
        json!(10)
    );
    assert_eq!(call(&rt, h, "sum-len", json!(["abc"])).unwrap(), json!(100));
    assert_eq!(call(&rt, h, "sum-len", json!([[]])).unwrap(), json!(0));
    assert_eq!(
        call(
            &rt,
            h,
            "add-points",
            json!([{"x": 1, "y": 2}, {"x": 10, "y": -20}])
        )
        .unwrap(),
        json!({"x": 11, "y": -18})
    );
    assert_eq!(
        call(&rt, h, "greet", json!(["polyplug"])).unwrap(),
        json!("hello, polyplug from c")
    );
    assert_eq!(call(&rt, h, "whoami", json!(null)).unwrap(), json!("c"));
}

#[test]
fn long_arguments_survive_the_results_written_into_the_call_arena() {
    let rt = Runtime::builder().call_arena_size(64).build().unwrap();
    let (_b, h) = c_counter(&rt);
    let name: String = (0..20_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mut cx = rt.call_context().unwrap();
    for _ in 0..3 {
        let got = rt.call_json(h, "greet", &json!([name]), &mut cx).unwrap();
        assert_eq!(got, json!(format!("hello, {name} from c")));
    }
}

#[test]
fn the_rust_fixture_answers_too() {
    let rt = Runtime::new().unwrap();
    let b = make_bundle(&BundleSpec::counter("rust-counter"));
    rt.load_bundle(b.path()).unwrap();
    let h = rt.find_ref(counter::PROVIDES).unwrap();
    assert_eq!(
        call(&rt, h, "greet", json!({"name": "json"})).unwrap(),
        json!("hello, json from rust")
    );
    assert_eq!(
        call(
            &rt,
            h,
            "add-points",
            json!({"a": {"x": -1, "y": 0}, "b": {"x": 1, "y": 5}})
        )
        .unwrap(),
        json!({"x": 0, "y": 5})
    );
}

#[test]
fn a_plugin_calling_another_plugin_works_through_json() {
    let rt = Runtime::new().unwrap();
    let (_b, _) = c_counter(&rt);
    let relay = rt.find_ref("test:relay/relay@1.0.0").unwrap();
    assert_eq!(call(&rt, relay, "inc-via", json!([1])).unwrap(), json!(2));
    assert_eq!(
        call(&rt, relay, "count-counters", json!([])).unwrap(),
        json!(1)
    );
}

#[test]
fn provider_failures_keep_their_status_and_message() {
    let rt = Runtime::new().unwrap();
    let (_b, h) = c_counter(&rt);
    match call(&rt, h, "fail", json!([])).map_err(Error::into_kind) {
        Err(ErrorKind::CallFailed {
            contract,
            function,
            status: Status::Error,
            message,
        }) => {
            assert_eq!(contract, counter::NAME);
            assert_eq!(function, "fail");
            assert_eq!(message, counter::FAIL_MESSAGE);
        }
        other => panic!("expected CallFailed, got {other:?}"),
    }
    match call(&rt, h, "boom", json!([])).map_err(Error::into_kind) {
        Err(ErrorKind::CallFailed {
            status: Status::Panic,
            message,
            ..
        }) => assert_eq!(message, "boom from c"),
        other => panic!("expected CallFailed, got {other:?}"),
    }
}

#[test]
fn unknown_functions_and_bad_arguments_are_invalid_arguments() {
    let rt = Runtime::new().unwrap();
    let (_b, h) = c_counter(&rt);
    let e = call(&rt, h, "nope", json!([])).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(
        e.to_string(),
        "invalid argument: `test:counter/counter@1.2.0` has no function `nope`; its functions \
         are: inc, noop, sum-len, add-points, greet, fail, whoami, boom"
    );
    let cases = [
        (
            "inc",
            json!(["41"]),
            "test:counter/counter.inc: `x`: expected an integer (u32), found the string \"41\"",
        ),
        (
            "inc",
            json!([-1]),
            "test:counter/counter.inc: `x`: -1 is out of range for u32 (0..=4294967295)",
        ),
        (
            "inc",
            json!([1, 2]),
            "test:counter/counter.inc: `inc` takes 1 argument (x), found 2",
        ),
        (
            "add-points",
            json!([{"x": 1, "y": 2}, {"x": 1, "y": 2, "z": 3}]),
            "test:counter/counter.add-points: `b`: unknown field `z` of record `point` (its fields: x, y)",
        ),
        (
            "greet",
            json!({"who": "x"}),
            "test:counter/counter.greet: `greet` has no parameter `who` (its parameters: name)",
        ),
        (
            "sum-len",
            json!([[1, 2, 300]]),
            "test:counter/counter.sum-len: `data[2]`: 300 is out of range for u8 (0..=255)",
        ),
    ];
    for (f, args, want) in cases {
        match call(&rt, h, f, args.clone()).map_err(Error::into_kind) {
            Err(ErrorKind::InvalidArgument(message)) => assert_eq!(message, want, "{f} {args}"),
            other => panic!("{f} {args}: expected InvalidArgument, got {other:?}"),
        }
    }
}

#[test]
fn stale_handles_are_refused() {
    let rt = Runtime::new().unwrap();
    let (_b, h) = c_counter(&rt);
    let id = rt.bundle_id("c-counter").unwrap();
    let model = rt.contract_model(h).unwrap();
    rt.unload_bundle(id).unwrap();
    assert!(matches!(
        call(&rt, h, "inc", json!([1])).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { handle }) if handle == h
    ));
    assert!(matches!(
        rt.contract_model(h).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    // A model handed out earlier stays usable: it is shared, not borrowed from the registry.
    assert_eq!(model.contract().functions.len(), 8);
}

#[test]
fn the_model_is_read_from_the_registered_descriptor() {
    let rt = Runtime::new().unwrap();
    let (_b, h) = c_counter(&rt);
    let model = rt.contract_model(h).unwrap();
    let c = model.contract();
    assert_eq!(c.to_string(), "test:counter/counter@1.2.0");
    let sigs: Vec<String> = c.functions.iter().map(|f| f.wit_signature()).collect();
    assert_eq!(
        sigs,
        [
            "inc: func(x: u32) -> u32",
            "noop: func()",
            "sum-len: func(data: list<u8>) -> u64",
            "add-points: func(a: point, b: point) -> point",
            "greet: func(name: string) -> string",
            "fail: func()",
            "whoami: func() -> string",
            "boom: func()",
        ]
    );
    let info = rt.contract(h).unwrap();
    assert!(std::sync::Arc::ptr_eq(&info.model, &model));
    assert_eq!(info.funcs[3].args, model.layouts()[3].args);
    assert_eq!(model.layouts()[3].param_offsets, [0, 8]);
}

// ---- a host provider whose results are malformed ----

static STRING: TypeDesc = TypeDesc::scalar(TypeKind::String);
static BOOL: TypeDesc = TypeDesc::scalar(TypeKind::Bool);
static FUNCS: [FuncDesc; 3] = [
    FuncDesc::new("bad-utf8", &[], Some(&STRING)),
    FuncDesc::new("bad-bool", &[], Some(&BOOL)),
    FuncDesc::new("null-view", &[], Some(&STRING)),
];
static BROKEN: ContractDesc =
    ContractDesc::new("test:broken/results", Version::new(1, 0, 0), &FUNCS);
static INVALID: [u8; 2] = [0xC3, 0x28];

unsafe extern "C" fn bad_utf8(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    // SAFETY: the caller passes room for the `Str` result.
    unsafe {
        ret.cast::<Str>().write(Str {
            ptr: INVALID.as_ptr(),
            len: 2,
        })
    };
    0
}

unsafe extern "C" fn bad_bool(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    // SAFETY: the caller passes room for the `bool` result.
    unsafe { ret.cast::<u8>().write(7) };
    0
}

unsafe extern "C" fn null_view(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut CallCtx,
) -> u32 {
    // SAFETY: the caller passes room for the `Str` result.
    unsafe {
        ret.cast::<Str>().write(Str {
            ptr: std::ptr::null(),
            len: 5,
        })
    };
    0
}

static TABLE: [Option<ContractFn>; 3] = [Some(bad_utf8), Some(bad_bool), Some(null_view)];
static IFACE: Interface = Interface {
    struct_size: std::mem::size_of::<Interface>() as u32,
    func_count: 3,
    contract: &BROKEN,
    funcs: TABLE.as_ptr(),
    provider: std::ptr::null_mut(),
    create_instance: None,
    destroy_instance: None,
};

#[test]
fn malformed_results_are_errors() {
    let rt = Runtime::new().unwrap();
    let h = rt.register_host_provider(&IFACE, 0).unwrap();
    let cases = [
        (
            "bad-utf8",
            "the provider returned a malformed result: string is not UTF-8: invalid utf-8 sequence of 1 bytes from index 0",
        ),
        (
            "bad-bool",
            "the provider returned a malformed result: bool byte is 7 (must be 0 or 1)",
        ),
        (
            "null-view",
            "the provider returned a malformed result: string view has a null pointer and length 5",
        ),
    ];
    for (f, want) in cases {
        match call(&rt, h, f, json!([])).map_err(Error::into_kind) {
            Err(ErrorKind::CallFailed {
                status: Status::ContractMismatch,
                message,
                function,
                ..
            }) => {
                assert_eq!(function, f);
                assert_eq!(message, want);
            }
            other => panic!("{f}: expected CallFailed, got {other:?}"),
        }
    }
}

// ---- every kind through a real provider: the guest fixture's geometry contract ----

#[test]
fn every_kind_crosses_a_real_provider_through_json() {
    use polyplug_testkit::{geometry, guest_fixture};
    let rt = Runtime::new().unwrap();
    let b = make_bundle(
        &BundleSpec::new("shapes")
            .library(guest_fixture())
            .provides(geometry::PROVIDES),
    );
    rt.load_bundle(b.path()).unwrap();
    let h = rt.find_ref(geometry::PROVIDES).unwrap();
    let rect = json!({"origin": {"x": 1, "y": 2}, "size": {"x": 30, "y": 4}});
    assert_eq!(
        call(&rt, h, "translate", json!([rect, {"x": -1, "y": 10}])).unwrap(),
        json!({"origin": {"x": 0, "y": 12}, "size": {"x": 30, "y": 4}})
    );
    // Records with strings, lists, flags, options and enums in the result.
    assert_eq!(
        call(&rt, h, "describe", json!({"r": rect, "name": "box"})).unwrap(),
        json!({
            "text": geometry::describe_text("box", 1, 2, 30, 4),
            "tags": ["box", "wide"],
            "style": ["bold", "filled"],
            "kind": "wide",
            "area": 120,
        })
    );
    let empty = json!({"origin": {"x": 0, "y": 0}, "size": {"x": 0, "y": 5}});
    let d = call(&rt, h, "describe", json!([empty, ""])).unwrap();
    assert_eq!(d["kind"], Value::Null);
    assert_eq!(d["style"], json!(["dashed", "filled"]));
    assert_eq!(
        call(&rt, h, "checksum", json!(["polyplug"])).unwrap(),
        json!(geometry::checksum(b"polyplug"))
    );
    assert_eq!(
        call(&rt, h, "parse-point", json!([" 3, -4 "])).unwrap(),
        json!({"ok": {"x": 3, "y": -4}})
    );
    assert_eq!(
        call(&rt, h, "parse-point", json!(["nope"])).unwrap(),
        json!({"err": geometry::parse_error("nope")})
    );
    assert_eq!(
        call(&rt, h, "sum", json!([[1.5, 2.25, -1]])).unwrap(),
        json!(2.75)
    );
    assert_eq!(
        call(&rt, h, "swap", json!([[7, u64::MAX]])).unwrap(),
        json!([u64::MAX, 7])
    );
    assert_eq!(
        call(&rt, h, "initial", json!(["élan"])).unwrap(),
        json!("é")
    );
    assert_eq!(call(&rt, h, "initial", json!([""])).unwrap(), Value::Null);
    assert_eq!(call(&rt, h, "echo", json!(["ünï"])).unwrap(), json!("ünï"));
    match call(&rt, h, "fail", json!(["custom"])).map_err(Error::into_kind) {
        Err(ErrorKind::CallFailed {
            status: Status::Error,
            message,
            ..
        }) => assert_eq!(message, "custom"),
        other => panic!("expected CallFailed, got {other:?}"),
    }
}
