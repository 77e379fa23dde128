//! The generated guest glue in process: a `Geometry` implementation registered as a host
//! provider (no library), called through the generated host caller and through raw calls with
//! malformed arguments; a provider that returns malformed results; and the static descriptor.

use polyplug::abi::{Interface, List, Str};
use polyplug::{CallContext, Error, ErrorKind, Runtime, Status};
use polyplug_contract::{wit, Contract};
use polyplug_guest::Error as GuestError;
use polyplug_typed_host::guest::{self, Geometry};
use polyplug_typed_host::host::{self as h, GeometryCaller};
use std::ffi::c_void;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// A second implementation, so the test does not depend on the fixture's.
#[derive(Default)]
struct Doubler {
    calls: AtomicU64,
}

impl Geometry for Doubler {
    fn translate(&self, r: guest::Rect, by: guest::Point) -> Result<guest::Rect, GuestError> {
        Ok(guest::Rect {
            origin: guest::Point {
                x: r.origin.x + 2 * by.x,
                y: r.origin.y + 2 * by.y,
            },
            size: r.size,
        })
    }
    fn describe(&self, r: guest::Rect, name: &str) -> Result<guest::Label, GuestError> {
        Ok(guest::Label {
            text: name.repeat(2),
            tags: vec![name.to_owned(); r.size.x.max(0) as usize],
            style: guest::Style::all(),
            kind: guest::ShapeKind::from_raw(r.size.y as u32),
            area: 0,
        })
    }
    fn checksum(&self, data: &[u8]) -> Result<u64, GuestError> {
        Ok(data.len() as u64 * 2)
    }
    fn parse_point(&self, text: &str) -> Result<Result<guest::Point, String>, GuestError> {
        Ok(Err(text.repeat(2)))
    }
    fn sum(&self, values: &[f64]) -> Result<f64, GuestError> {
        Ok(values.iter().sum::<f64>() * 2.0)
    }
    fn swap(&self, a: (u8, u64)) -> Result<(u64, u8), GuestError> {
        Ok((a.1 * 2, a.0))
    }
    fn initial(&self, s: &str) -> Result<Option<char>, GuestError> {
        Ok(s.chars().last())
    }
    fn echo(&self, s: &str) -> Result<String, GuestError> {
        Ok(s.repeat(2))
    }
    fn fail(&self, message: &str) -> Result<u32, GuestError> {
        Err(GuestError::with_status(Status::Busy, message.to_owned()))
    }
    fn boom(&self) -> Result<u32, GuestError> {
        let v: Vec<u32> = Vec::new();
        Ok(v[3])
    }
    fn count(&self) -> Result<u64, GuestError> {
        Ok(self.calls.fetch_add(2, Ordering::Relaxed) + 2)
    }
}

fn wit_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/wit/geometry.wit"
    ))
}

#[test]
fn the_static_descriptor_is_the_wit_contract() {
    let parsed = wit::parse_path(wit_path()).expect("geometry.wit");
    // SAFETY: `CONTRACT` is a complete static graph.
    let described = unsafe { Contract::from_desc(&guest::CONTRACT) }.expect("valid descriptor");
    assert_eq!(described, parsed[0]);
    assert_eq!(guest::NAME, h::NAME);
    assert_eq!(guest::VERSION, h::VERSION);
    assert_eq!(guest::func::COUNT, 10);
}

fn in_process(rt: &Runtime, provider: polyplug_guest::Provider) -> GeometryCaller<'_> {
    let handle = rt
        .register_host_provider(provider.leak(), 0)
        .expect("register");
    GeometryCaller::from_handle(rt, handle).expect("caller")
}

#[test]
fn a_guest_implementation_registered_in_process() {
    let rt = Runtime::new().expect("succeeds");
    let mut c = in_process(&rt, guest::provider(Doubler::default()));
    let mut cx = rt.call_context().expect("succeeds");
    let r = h::Rect {
        origin: h::Point { x: 1, y: 1 },
        size: h::Point { x: 3, y: 2 },
    };
    assert_eq!(
        c.translate(&mut cx, &r, &h::Point { x: 1, y: -1 })
            .expect("succeeds"),
        h::Rect {
            origin: h::Point { x: 3, y: -1 },
            ..r
        }
    );
    let label = c.describe(&mut cx, &r, "ab").expect("succeeds");
    assert_eq!(label.text, "abab");
    assert_eq!(label.tags, ["ab", "ab", "ab"]);
    assert_eq!(label.style, h::Style::all());
    assert_eq!(
        format!("{:?}", label.style),
        "Style(bold | dashed | filled)"
    );
    assert_eq!(label.kind, Some(h::ShapeKind::Tall));
    assert_eq!(c.checksum(&mut cx, b"abc").expect("succeeds"), 6);
    assert_eq!(
        c.parse_point(&mut cx, "q").expect("succeeds"),
        Err("qq".to_owned())
    );
    assert_eq!(c.sum(&mut cx, &[1.0, 2.0]).expect("succeeds"), 6.0);
    assert_eq!(c.swap(&mut cx, &(1, 2)).expect("succeeds"), (4, 1));
    assert_eq!(c.initial(&mut cx, "xyz").expect("succeeds"), Some('z'));
    assert_eq!(c.echo(&mut cx, "ho").expect("succeeds"), "hoho");
    let e = c.fail(&mut cx, "later").expect_err("fails");
    assert_eq!(e.status(), Status::Busy);
    assert!(e.to_string().contains("later"), "{e}");
    let e = c.boom(&mut cx).expect_err("fails");
    assert_eq!(e.status(), Status::Panic);
    assert!(e.to_string().contains("index out of bounds"), "{e}");
    // Stateless: instances are the provider itself and share its state.
    assert_eq!(c.count(&mut cx).expect("succeeds"), 2);
    let mut i = c.create_instance(&mut cx).expect("succeeds");
    assert_eq!(i.count(&mut cx).expect("succeeds"), 4);
}

#[test]
fn a_stateful_guest_makes_an_implementation_per_instance() {
    let rt = Runtime::new().expect("succeeds");
    let mut c = in_process(&rt, guest::stateful_provider(Doubler::default));
    let mut cx = rt.call_context().expect("succeeds");
    let mut one = c.create_instance(&mut cx).expect("succeeds");
    let mut two = c.create_instance(&mut cx).expect("succeeds");
    assert_eq!(one.count(&mut cx).expect("succeeds"), 2);
    assert_eq!(one.count(&mut cx).expect("succeeds"), 4);
    assert_eq!(two.count(&mut cx).expect("succeeds"), 2);
    assert_eq!(c.count(&mut cx).expect("succeeds"), 2);
}

/// Calls function `func` of the provider `c` is bound to with raw `args`, returning the status
/// and message.
fn raw_call<A>(
    rt: &Runtime,
    c: &GeometryCaller<'_>,
    func: u32,
    args: *const A,
    ret: *mut c_void,
) -> (Status, String) {
    let mut cx = rt.call_context().expect("succeeds");
    // SAFETY: the arguments are deliberately malformed views; the provider must refuse them
    // without reading past what they claim, and `ret` has room for the result.
    match unsafe { rt.call(c.handle(), func, args.cast(), ret, &mut cx) }.map_err(Error::into_kind)
    {
        Ok(()) => (Status::Ok, String::new()),
        Err(ErrorKind::CallFailed {
            status, message, ..
        }) => (status, message),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[test]
fn malformed_arguments_are_refused_by_the_guest() {
    let rt = Runtime::new().expect("succeeds");
    let c = in_process(&rt, guest::provider(Doubler::default()));
    let mut ret = [0u64; 8];
    let ret = ret.as_mut_ptr().cast::<c_void>();

    let bad_utf8 = [0xffu8, 0xfe, 0x41];
    let args = h::raw::EchoArgs {
        s: Str {
            ptr: bad_utf8.as_ptr(),
            len: bad_utf8.len(),
        },
    };
    let (status, message) = raw_call(&rt, &c, h::func::ECHO, &args, ret);
    assert_eq!(status, Status::InvalidArgument);
    assert!(message.contains("argument `s`"), "{message}");
    assert!(message.contains("not UTF-8"), "{message}");

    let args = h::raw::EchoArgs {
        s: Str {
            ptr: std::ptr::null(),
            len: 5,
        },
    };
    let (status, message) = raw_call(&rt, &c, h::func::ECHO, &args, ret);
    assert_eq!(status, Status::InvalidArgument);
    assert!(
        message.contains("string view has a null pointer and length 5"),
        "{message}"
    );

    let floats = [1.0f64, 2.0, 3.0];
    let args = h::raw::SumArgs {
        values: List {
            // SAFETY: one byte into `floats`: in bounds, misaligned on purpose.
            ptr: unsafe { floats.as_ptr().cast::<u8>().add(1) }.cast(),
            len: 1,
        },
    };
    let (status, message) = raw_call(&rt, &c, h::func::SUM, &args, ret);
    assert_eq!(status, Status::InvalidArgument);
    assert!(message.contains("argument `values`"), "{message}");
    assert!(message.contains("aligned"), "{message}");

    let (status, message) = raw_call::<u8>(&rt, &c, h::func::ECHO, std::ptr::null(), ret);
    assert_eq!(status, Status::NullPointer);
    assert!(message.contains("null argument"), "{message}");

    let args = h::raw::EchoArgs { s: Str::new("x") };
    let (status, _) = raw_call(&rt, &c, h::func::ECHO, &args, std::ptr::null_mut());
    assert_eq!(status, Status::NullPointer);

    // A well-formed call through the same path works.
    let mut out = Str::EMPTY;
    let (status, _) = raw_call(&rt, &c, h::func::ECHO, &args, (&raw mut out).cast());
    assert_eq!(status, Status::Ok);
}

#[test]
fn a_result_without_an_arena_is_out_of_memory() {
    let rt = Runtime::new().expect("succeeds");
    let c = in_process(&rt, guest::provider(Doubler::default()));
    let iface = rt.resolve(c.handle()).expect("succeeds");
    let args = h::raw::EchoArgs { s: Str::new("x") };
    let mut out = Str::EMPTY;
    let mut ctx = polyplug::abi::CallCtx::new(std::ptr::null_mut(), std::ptr::null());
    // SAFETY: echo's raw structs; a context without an arena.
    let status = unsafe {
        iface.call_raw(
            h::func::ECHO,
            (&raw const args).cast(),
            (&raw mut out).cast(),
            &mut ctx,
        )
    };
    assert_eq!(Status::from_raw(status), Status::OutOfMemory);
}

// ---- a provider that breaks the contract in its results -----------------------------------

unsafe extern "C" fn bad_initial(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut polyplug::abi::CallCtx,
) -> u32 {
    // SAFETY: `ret` points to `initial`'s result: an option of a char, given a surrogate.
    unsafe {
        ret.cast::<h::raw::InitialRet>()
            .write(polyplug::codec::RawOption::some(0xD800))
    };
    0
}

unsafe extern "C" fn bad_echo(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut polyplug::abi::CallCtx,
) -> u32 {
    static BAD: [u8; 2] = [0xc3, 0x28];
    // `echo`'s result is a string view; this one is invalid UTF-8.
    let view = Str {
        ptr: BAD.as_ptr(),
        len: BAD.len(),
    };
    // SAFETY: as above.
    unsafe { ret.cast::<Str>().write(view) };
    0
}

unsafe extern "C" fn bad_parse_point(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut polyplug::abi::CallCtx,
) -> u32 {
    let mut r = h::raw::ParsePointRet::ok(h::Point { x: 1, y: 2 });
    r.is_err = 7;
    // SAFETY: `ret` points to `parse-point`'s result, given a bad tag.
    unsafe { ret.cast::<h::raw::ParsePointRet>().write(r) };
    0
}

unsafe extern "C" fn bad_describe(
    _: *mut c_void,
    _: *const c_void,
    ret: *mut c_void,
    _: *mut polyplug::abi::CallCtx,
) -> u32 {
    let label = h::raw::Label {
        text: Str::new("fine"),
        tags: List::EMPTY,
        style: h::Style::empty(),
        kind: polyplug::codec::RawOption::some(9),
        area: 0,
    };
    // SAFETY: `ret` points to `describe`'s result, given an enum case that does not exist.
    unsafe { ret.cast::<h::raw::Label>().write(label) };
    0
}

#[test]
fn malformed_results_are_refused_by_the_host() {
    let good = guest::provider(Doubler::default()).leak();
    // SAFETY: the provider's table holds `func_count` entries.
    let mut funcs: Vec<_> = (0..good.func_count)
        .map(|i| unsafe { good.func(i) })
        .collect();
    funcs[h::func::INITIAL as usize] = Some(bad_initial);
    funcs[h::func::ECHO as usize] = Some(bad_echo);
    funcs[h::func::PARSE_POINT as usize] = Some(bad_parse_point);
    funcs[h::func::DESCRIBE as usize] = Some(bad_describe);
    let bad: &'static Interface = Box::leak(Box::new(Interface {
        funcs: funcs.leak().as_ptr(),
        ..*good
    }));
    let rt = Runtime::new().expect("succeeds");
    let handle = rt.register_host_provider(bad, 0).expect("succeeds");
    let mut c = GeometryCaller::from_handle(&rt, handle).expect("succeeds");
    let mut cx: CallContext = rt.call_context().expect("succeeds");
    let check = |e: Error, function: &str, what: &str| match e.into_kind() {
        ErrorKind::CallFailed {
            function: f,
            status,
            message,
            ..
        } => {
            assert_eq!((f.as_str(), status), (function, Status::InvalidArgument));
            assert!(message.starts_with("malformed result"), "{message}");
            assert!(message.contains(what), "{message}");
        }
        other => panic!("expected a malformed result, got {other:?}"),
    };
    check(
        c.initial(&mut cx, "x").expect_err("fails"),
        "initial",
        "not a Unicode scalar value",
    );
    check(
        c.echo(&mut cx, "x").expect_err("fails"),
        "echo",
        "not UTF-8",
    );
    check(
        c.parse_point(&mut cx, "x").expect_err("fails"),
        "parse-point",
        "result tag is 7 (must be 0 for ok or 1 for err)",
    );
    let r = h::Rect::default();
    check(
        c.describe(&mut cx, &r, "x").expect_err("fails"),
        "describe",
        "case index 9 is out of range for enum `shape-kind` (3 cases)",
    );
    // The untouched functions still work.
    assert_eq!(c.checksum(&mut cx, b"ab").expect("succeeds"), 4);
}
