//! Every supported kind through the generated code, both ways: a host caller encodes values,
//! the guest glue decodes them, an identity implementation returns them, the guest encodes the
//! result into the call arena and the host decodes it. Names that collide with Rust keywords or
//! with the generated code's own items are escaped (`r#type`, `self_`, `cx_`, `find_`,
//! `ResultType`).

use polyplug::{Runtime, Status};
use polyplug_guest::Error as GuestError;
use polyplug_typed_host::kinds_guest::{self as g, Everything};
use polyplug_typed_host::kinds_host::{self as h, EverythingCaller};

/// Returns what it is given.
struct Identity;

impl Everything for Identity {
    fn round_trip(&self, n: g::Nested) -> Result<g::Nested, GuestError> {
        Ok(n)
    }
    fn plain(&self, s: g::Sample, many: &[g::Sample]) -> Result<Vec<g::Sample>, GuestError> {
        Ok(many.iter().copied().chain([s]).collect())
    }
    fn mixed(
        &self,
        s: g::Scalars,
        b: bool,
        c: char,
        k: g::Color,
        w: g::Wide,
    ) -> Result<(g::Scalars, bool, char, g::Color, g::Wide), GuestError> {
        Ok((s, b, c, k, w))
    }
    fn keywords(
        &self,
        r#type: &str,
        cx: u32,
        self_: Vec<String>,
        arena: Option<u8>,
    ) -> Result<String, GuestError> {
        Ok(format!("{type}/{cx}/{}/{arena:?}", self_.join("+")))
    }
    fn find(&self) -> Result<u32, GuestError> {
        Ok(42)
    }
    fn nothing(&self) -> Result<(), GuestError> {
        Err(GuestError::with_status(Status::Busy, "nothing to do"))
    }
    fn options(
        &self,
        a: Option<Option<u32>>,
        b: Vec<Option<String>>,
    ) -> Result<Option<Vec<Option<String>>>, GuestError> {
        Ok(match a {
            Some(Some(_)) => Some(b),
            Some(None) => Some(Vec::new()),
            None => None,
        })
    }
}

fn scalars(yes: bool, letter: char, color: h::Color, r#type: u32) -> h::Scalars {
    h::Scalars {
        yes,
        letter,
        color,
        r#type,
    }
}

fn sample(n: i8) -> h::Sample {
    h::Sample {
        a: n,
        b: 200,
        c: -300,
        d: 60_000,
        e: -70_000,
        f: 4_000_000_000,
        g: i64::MIN,
        h: u64::MAX,
        i: 1.5,
        j: -2.25,
        w: h::Wide::F0 | h::Wide::F31,
    }
}

#[test]
fn every_kind_round_trips() {
    let rt = Runtime::new().expect("runtime");
    let handle = rt
        .register_host_provider(g::provider(Identity).leak(), 0)
        .expect("register");
    let mut c = EverythingCaller::from_handle(&rt, handle).expect("caller");
    let mut cx = rt.call_context().expect("context");

    let nested = h::Nested {
        scalars: scalars(true, '∑', h::Color::Blue, 7),
        samples: vec![sample(1), sample(-2)],
        words: vec![
            vec![],
            vec!["a".into(), "ünï".into()],
            vec!["x".repeat(5000)],
        ],
        maybe: Some(vec!["m".into()]),
        pairs: vec![("p".into(), true), (String::new(), false)],
        outcome: Ok(scalars(false, 'z', h::Color::Red, 0)),
        bare: Err(()),
        left: Ok(9),
        right: Err("right".into()),
        blob: vec![0, 1, 255],
        flags: vec![true, false, true],
        res: h::ResultType {
            ok: Some("inner".into()),
        },
    };
    assert_eq!(c.round_trip(&mut cx, &nested).unwrap(), nested);
    let other = h::Nested {
        maybe: None,
        outcome: Err(h::Color::Green),
        bare: Ok(()),
        left: Err(()),
        right: Ok(()),
        samples: vec![],
        words: vec![],
        pairs: vec![],
        blob: vec![],
        flags: vec![],
        res: h::ResultType { ok: None },
        ..nested.clone()
    };
    assert_eq!(c.round_trip(&mut cx, &other).unwrap(), other);

    assert_eq!(
        c.plain(&mut cx, &sample(3), &[sample(4), sample(5)])
            .unwrap(),
        [sample(4), sample(5), sample(3)]
    );
    let mixed = (
        scalars(true, '\u{10FFFF}', h::Color::Green, u32::MAX),
        false,
        '\0',
        h::Color::Red,
        h::Wide::all() - h::Wide::F1,
    );
    assert_eq!(
        c.mixed(&mut cx, &mixed.0, mixed.1, mixed.2, mixed.3, mixed.4)
            .unwrap(),
        mixed
    );
    assert_eq!(
        c.keywords(&mut cx, "t", 3, &["a".into(), "b".into()], &Some(8))
            .unwrap(),
        "t/3/a+b/Some(8)"
    );
    assert_eq!(c.find_(&mut cx).unwrap(), 42);
    let e = c.nothing(&mut cx).unwrap_err();
    assert_eq!(e.status(), Status::Busy);
    assert!(e.to_string().contains("nothing to do"), "{e}");
    let strings = vec![Some("s".to_owned()), None, Some(String::new())];
    assert_eq!(
        c.options(&mut cx, &Some(Some(1)), &strings).unwrap(),
        Some(strings.clone())
    );
    assert_eq!(
        c.options(&mut cx, &Some(None), &strings).unwrap(),
        Some(vec![])
    );
    assert_eq!(c.options(&mut cx, &None, &strings).unwrap(), None);
}

#[test]
fn generated_types_behave() {
    assert_eq!(h::Color::from_raw(2), Some(h::Color::Blue));
    assert_eq!(h::Color::from_raw(3), None);
    assert_eq!(h::Color::ALL.map(h::Color::name), ["red", "green", "blue"]);
    assert_eq!(u32::from(h::Color::Green), 1);
    let w = h::Wide::F2 | h::Wide::F5;
    assert_eq!(w.bits(), 0b100100);
    assert!(w.contains(h::Wide::F2) && !w.contains(h::Wide::F2 | h::Wide::F3));
    assert!(w.intersects(h::Wide::F5 | h::Wide::F9));
    assert_eq!(h::Wide::all().bits(), u32::MAX);
    assert_eq!(format!("{w:?}"), "Wide(f2 | f5)");
    assert_eq!(format!("{:?}", h::Wide::empty()), "Wide()");
    let mut x = w;
    x &= h::Wide::F5;
    x ^= h::Wide::F0;
    assert_eq!(x, h::Wide::F0 | h::Wide::F5);
    assert_eq!(g::NAME, "test:kinds/everything");
    assert_eq!((h::VERSION.major, h::VERSION.minor), (1, 2));
    assert_eq!(h::func::FIND, 4);
}
