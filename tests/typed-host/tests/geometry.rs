//! The generated host callers of `test:shapes/geometry` against the guest fixture plugin
//! (`tests/fixtures/guest-plugin`, written with `polyplug-guest`): every function through the
//! guarded caller, the cached caller and per-instance callers; errors and panics; instances;
//! reload and unload.

use polyplug::{CallContext, Error, ErrorKind, Invoke, Runtime, Status};
use polyplug_testkit::{geometry, guest_fixture, make_bundle, Bundle, BundleSpec};
use polyplug_typed_host::host::{
    GeometryCachedCaller, GeometryCaller, GeometryClient, Label, Point, Rect, ShapeKind, Style,
};

fn geometry_bundle(name: &str) -> Bundle {
    make_bundle(
        &BundleSpec::new(name)
            .library(guest_fixture())
            .provides(geometry::PROVIDES),
    )
}

fn runtime(hot_reload: bool) -> Runtime {
    Runtime::builder()
        .hot_reload(hot_reload)
        .build()
        .expect("runtime")
}

fn rect(x: i32, y: i32, w: i32, h: i32) -> Rect {
    Rect {
        origin: Point { x, y },
        size: Point { x: w, y: h },
    }
}

/// Asserts `e` is a failed call of `function` with `status` and `message`.
#[track_caller]
fn assert_failed(e: Error, function: &str, status: Status, message: &str) {
    match e.into_kind() {
        ErrorKind::CallFailed {
            contract,
            function: f,
            status: s,
            message: m,
        } => {
            assert_eq!(contract, geometry::NAME);
            assert_eq!(f, function);
            assert_eq!(s, status);
            assert!(m.contains(message), "`{m}` lacks `{message}`");
        }
        other => panic!("expected a failed call of {function}, got {other:?}"),
    }
}

/// Calls every function of the contract through `c` and checks every answer (except
/// `count`, which depends on the instance).
fn exercise<P: Invoke>(c: &mut GeometryClient<P>, cx: &mut CallContext) {
    // translate: plain data in and out.
    assert_eq!(
        c.translate(cx, &rect(1, 2, 3, 4), &Point { x: 10, y: -20 })
            .expect("succeeds"),
        rect(11, -18, 3, 4)
    );
    assert_eq!(
        c.translate(cx, &rect(i32::MAX, 0, 1, 1), &Point { x: 1, y: 0 })
            .expect("succeeds"),
        rect(i32::MIN, 0, 1, 1)
    );

    // describe: strings, a list of strings, flags, an option of an enum.
    let label = c
        .describe(cx, &rect(1, 2, 20, 10), "box")
        .expect("succeeds");
    assert_eq!(
        label,
        Label {
            text: geometry::describe_text("box", 1, 2, 20, 10),
            tags: vec!["box".to_owned(), "wide".to_owned()],
            style: Style::FILLED | Style::BOLD,
            kind: Some(ShapeKind::Wide),
            area: 200,
        }
    );
    let square = c.describe(cx, &rect(0, 0, 3, 3), "").expect("succeeds");
    assert_eq!(square.kind, Some(ShapeKind::Square));
    assert_eq!(square.style, Style::FILLED | Style::DASHED);
    assert!(!square.style.contains(Style::BOLD));
    assert_eq!(square.tags, ["", "square"]);
    let tall = c.describe(cx, &rect(0, 0, 2, 5), "t").expect("succeeds");
    assert_eq!(tall.kind, Some(ShapeKind::Tall));
    let flat = c.describe(cx, &rect(0, 0, 0, 5), "flat").expect("succeeds");
    assert_eq!((flat.kind, flat.tags.len(), flat.area), (None, 1, 0));

    // checksum: a byte list, also empty and larger than the arena's first block.
    for data in [&b""[..], b"abc", &[0xff; 10_000][..]] {
        assert_eq!(
            c.checksum(cx, data).expect("succeeds"),
            geometry::checksum(data)
        );
    }

    // parse-point: both sides of a result.
    assert_eq!(
        c.parse_point(cx, "3, -4").expect("succeeds"),
        Ok(Point { x: 3, y: -4 })
    );
    assert_eq!(
        c.parse_point(cx, "nope").expect("succeeds"),
        Err(geometry::parse_error("nope"))
    );

    // sum: a list of floats, passed as a view of the slice.
    assert_eq!(c.sum(cx, &[1.5, 2.25, -0.75]).expect("succeeds"), 3.0);
    assert_eq!(c.sum(cx, &[]).expect("succeeds"), 0.0);

    // swap: tuples both ways.
    assert_eq!(c.swap(cx, &(7, u64::MAX)).expect("succeeds"), (u64::MAX, 7));

    // initial: an option of a char.
    assert_eq!(c.initial(cx, "élan").expect("succeeds"), Some('é'));
    assert_eq!(c.initial(cx, "🦀!").expect("succeeds"), Some('🦀'));
    assert_eq!(c.initial(cx, "").expect("succeeds"), None);

    // echo: strings round trip, also ones larger than the arena's first block.
    for s in ["", "hello", "ünïcødé ✓", &"x".repeat(100_000)] {
        assert_eq!(c.echo(cx, s).expect("succeeds"), s);
    }

    // fail: the provider's error and message.
    let e = c.fail(cx, "it went wrong").expect_err("fails");
    assert_eq!(e.status(), Status::Error);
    assert_failed(e, "fail", Status::Error, "it went wrong");

    // boom: a panic inside the provider is a `Panic` status with the panic's message.
    assert_failed(
        c.boom(cx).expect_err("fails"),
        "boom",
        Status::Panic,
        geometry::BOOM_MESSAGE,
    );

    // The caller is still fine after failures.
    assert_eq!(c.echo(cx, "after").expect("succeeds"), "after");
}

#[test]
fn every_function_through_the_guarded_caller() {
    let rt = runtime(false);
    let b = geometry_bundle("geometry");
    rt.load_bundle(b.path()).expect("succeeds");
    let mut cx = rt.call_context().expect("succeeds");
    let mut caller = GeometryCaller::find(&rt).expect("succeeds");
    exercise(&mut caller, &mut cx);
    // Calls without an instance reach the provider's default instance.
    assert_eq!(caller.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(caller.count(&mut cx).expect("succeeds"), 2);
}

#[test]
fn every_function_through_the_cached_caller() {
    let rt = runtime(false);
    let b = geometry_bundle("geometry");
    rt.load_bundle(b.path()).expect("succeeds");
    let mut cx = rt.call_context().expect("succeeds");
    let mut cached = GeometryCachedCaller::find(&rt).expect("succeeds");
    exercise(&mut cached, &mut cx);
    // The cached and the guarded caller reach the same default instance.
    let mut guarded = GeometryCaller::from_handle(&rt, cached.handle()).expect("succeeds");
    assert_eq!(cached.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(guarded.count(&mut cx).expect("succeeds"), 2);
}

#[test]
fn instances_count_separately() {
    let rt = runtime(false);
    let b = geometry_bundle("geometry");
    rt.load_bundle(b.path()).expect("succeeds");
    let mut cx = rt.call_context().expect("succeeds");
    let mut caller = GeometryCaller::find(&rt).expect("succeeds");
    let mut one = caller.create_instance(&mut cx).expect("succeeds");
    let mut two = caller.create_instance(&mut cx).expect("succeeds");
    assert!(one.path().is_current());
    assert_eq!(one.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(one.count(&mut cx).expect("succeeds"), 2);
    assert_eq!(two.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(
        caller.count(&mut cx).expect("succeeds"),
        1,
        "the default instance"
    );
    assert_eq!(one.count(&mut cx).expect("succeeds"), 3);
    // Every function works on an instance.
    exercise(&mut two, &mut cx);
    drop(one);
    let mut three = caller.create_instance(&mut cx).expect("succeeds");
    assert_eq!(three.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(two.count(&mut cx).expect("succeeds"), 2);
}

/// Replaces a bundle's library the safe way (a new file renamed over the old one).
fn replace_library(bundle: &Bundle) {
    let dest = bundle.library_path();
    let tmp = dest.with_extension("new");
    std::fs::copy(guest_fixture(), &tmp).expect("succeeds");
    std::fs::rename(&tmp, dest).expect("succeeds");
}

#[test]
fn callers_follow_a_reload() {
    let rt = runtime(true);
    let b = geometry_bundle("geometry");
    let id = rt.load_bundle(b.path()).expect("succeeds");
    let mut cx = rt.call_context().expect("succeeds");
    let mut caller = GeometryCaller::find(&rt).expect("succeeds");
    let mut cached = GeometryCachedCaller::find(&rt).expect("succeeds");
    let mut instance = caller.create_instance(&mut cx).expect("succeeds");
    assert_eq!(caller.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(caller.count(&mut cx).expect("succeeds"), 2);
    assert_eq!(instance.count(&mut cx).expect("succeeds"), 1);

    replace_library(&b);
    rt.reload_bundle(id).expect("succeeds");

    // Same handle, new code: the default instance starts over.
    assert_eq!(caller.count(&mut cx).expect("succeeds"), 1);
    assert_eq!(cached.count(&mut cx).expect("succeeds"), 2);
    exercise(&mut caller, &mut cx);
    exercise(&mut cached, &mut cx);
    // An instance belongs to the code that made it.
    assert!(!instance.path().is_current());
    assert!(matches!(
        instance.count(&mut cx).map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    let mut fresh = caller.create_instance(&mut cx).expect("succeeds");
    assert_eq!(fresh.count(&mut cx).expect("succeeds"), 1);
}

#[test]
fn callers_of_an_unloaded_provider_fail_with_stale_handle() {
    let rt = runtime(false);
    let b = geometry_bundle("geometry");
    let id = rt.load_bundle(b.path()).expect("succeeds");
    let mut cx = rt.call_context().expect("succeeds");
    let mut caller = GeometryCaller::find(&rt).expect("succeeds");
    let mut cached = GeometryCachedCaller::find(&rt).expect("succeeds");
    let mut instance = caller.create_instance(&mut cx).expect("succeeds");
    assert_eq!(caller.echo(&mut cx, "x").expect("succeeds"), "x");

    rt.unload_bundle(id).expect("succeeds");

    let stale = |r: polyplug::Result<String>| match r {
        Err(e) if matches!(e.kind(), ErrorKind::StaleHandle { .. }) => {
            assert_eq!(e.status(), Status::StaleHandle)
        }
        other => panic!("expected StaleHandle, got {other:?}"),
    };
    stale(caller.echo(&mut cx, "x"));
    stale(cached.echo(&mut cx, "x"));
    stale(instance.echo(&mut cx, "x"));
    assert!(matches!(
        caller
            .translate(&mut cx, &rect(0, 0, 1, 1), &Point::default())
            .map_err(Error::into_kind),
        Err(ErrorKind::StaleHandle { .. })
    ));
    assert!(matches!(
        GeometryCaller::find(&rt).map_err(Error::into_kind),
        Err(ErrorKind::NotFound { .. })
    ));
}

#[test]
fn a_provider_of_another_contract_is_refused() {
    let rt = runtime(false);
    let b = make_bundle(&BundleSpec::counter("counter"));
    rt.load_bundle(b.path()).expect("succeeds");
    let counter = rt
        .find_ref(polyplug_testkit::counter::PROVIDES)
        .expect("counter provider");
    for e in [
        GeometryCaller::from_handle(&rt, counter).expect_err("fails"),
        GeometryCachedCaller::from_handle(&rt, counter).expect_err("fails"),
    ] {
        assert_eq!(e.status(), Status::InvalidArgument, "{e}");
        assert!(e.to_string().contains("test:counter/counter"), "{e}");
    }
}
