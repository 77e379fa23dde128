//! The Rust emitter's output for the shared test contract (`tests/fixtures/wit/geometry.wit`):
//! deterministic, written incrementally, and with the API the SDKs document. (That the output
//! compiles under the workspace's lints and works is tested by `tests/typed-host`.)

use polyplugc::emit::{language, GeneratedFile};
use polyplugc::{generate, load_contracts};
use std::fs;
use std::path::{Path, PathBuf};

fn geometry_wit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/wit/geometry.wit")
}

fn rust_files() -> Vec<GeneratedFile> {
    let contracts = load_contracts(geometry_wit()).expect("geometry.wit compiles");
    let rust = language("rust").expect("the rust emitter");
    contracts.iter().flat_map(|c| rust.files(c)).collect()
}

fn file<'a>(files: &'a [GeneratedFile], name: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == Path::new(name))
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| panic!("no {name} among {files:?}"))
}

#[test]
fn one_guest_and_one_host_file_per_contract() {
    let files = rust_files();
    let names: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        names,
        [
            PathBuf::from("test_shapes_geometry_guest.rs"),
            PathBuf::from("test_shapes_geometry_host.rs")
        ]
    );
}

#[test]
fn output_is_deterministic() {
    assert_eq!(rust_files(), rust_files());
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(geometry_wit(), "rust", a.path()).unwrap();
    generate(geometry_wit(), "rust", b.path()).unwrap();
    for f in rust_files() {
        let (x, y) = (
            fs::read(a.path().join(&f.path)).unwrap(),
            fs::read(b.path().join(&f.path)).unwrap(),
        );
        assert_eq!(x, y, "{}", f.path.display());
        assert_eq!(x, f.contents.as_bytes());
    }
}

#[test]
fn regenerating_leaves_files_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(geometry_wit(), "rust", dir.path()).unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|w| w.changed));
    let stamps: Vec<_> = first
        .iter()
        .map(|w| fs::metadata(&w.path).unwrap().modified().unwrap())
        .collect();
    let again = generate(geometry_wit(), "rust", dir.path()).unwrap();
    assert!(again.iter().all(|w| !w.changed), "{again:?}");
    for (w, stamp) in again.iter().zip(stamps) {
        assert_eq!(fs::metadata(&w.path).unwrap().modified().unwrap(), stamp);
    }
    // A file that drifted is rewritten, and only that one.
    fs::write(&first[1].path, "stale").unwrap();
    let repaired = generate(geometry_wit(), "rust", dir.path()).unwrap();
    assert_eq!(
        repaired.iter().map(|w| w.changed).collect::<Vec<_>>(),
        [false, true]
    );
}

#[test]
fn the_guest_file_has_the_documented_api() {
    let files = rust_files();
    let guest = file(&files, "test_shapes_geometry_guest.rs");
    for needle in [
        "use ::polyplug_guest as pp;",
        "pub static CONTRACT: pp::abi::ContractDesc",
        "pub trait Geometry: Send + Sync + 'static {",
        "fn translate(&self, r: Rect, by: Point) -> Result<Rect, pp::Error>;",
        "fn describe(&self, r: Rect, name: &str) -> Result<Label, pp::Error>;",
        "fn checksum(&self, data: &[u8]) -> Result<u64, pp::Error>;",
        "fn parse_point(&self, text: &str) -> Result<Result<Point, String>, pp::Error>;",
        "fn sum(&self, values: &[f64]) -> Result<f64, pp::Error>;",
        "fn swap(&self, a: (u8, u64)) -> Result<(u64, u8), pp::Error>;",
        "fn count(&self) -> Result<u64, pp::Error>;",
        "pub fn provider<T: Geometry>(imp: T) -> pp::Provider {",
        "pub fn stateful_provider<T: Geometry>(",
        "pub(super) unsafe extern \"C\" fn translate<T: Geometry>(",
        // Plain data is one repr(C) type for the API and the wire.
        "#[repr(C)]\n#[derive(Clone, Copy, Debug, Default, PartialEq)]\npub struct Point {",
        "pub type TranslateRet = Rect;",
        // Enums travel as u32; flags are a transparent newtype.
        "pub kind: pp::rt::RawOption<u32>,",
        "#[repr(transparent)]",
        "pub struct Style(u32);",
        "#[cfg(target_pointer_width = \"64\")]",
        // Decoding fails with the ABI checks' one error type; the thunk names the argument.
        "unsafe fn lift_tuple0(r: &raw::Tuple0) -> Result<(u8, u64), pp::rt::Malformed> {",
        ".map_err(|e| pp::Error::from(e).context(\"argument `a`\"))?",
    ] {
        assert!(guest.contains(needle), "guest file lacks `{needle}`");
    }
    assert!(
        !guest.contains("pp::codec"),
        "the guest file uses the host codec"
    );
}

#[test]
fn the_host_file_has_the_documented_api() {
    let files = rust_files();
    let host = file(&files, "test_shapes_geometry_host.rs");
    for needle in [
        "use ::polyplug as pp;",
        "pub type GeometryCaller<'rt> = GeometryClient<pp::GuardedProvider<'rt>>;",
        "pub type GeometryCachedCaller<'rt> = GeometryClient<pp::ResolvedProvider<'rt>>;",
        "pub type GeometryInstance<'rt> = GeometryClient<pp::ProviderInstance<'rt>>;",
        "pub fn find(rt: &'rt pp::Runtime) -> pp::Result<Self> {",
        "pub fn from_handle(rt: &'rt pp::Runtime, handle: pp::Handle) -> pp::Result<Self> {",
        "pub fn translate(&mut self, cx: &mut pp::CallContext, r: &Rect, by: &Point) -> pp::Result<Rect> {",
        "pub fn describe(&mut self, cx: &mut pp::CallContext, r: &Rect, name: &str) -> pp::Result<Label> {",
        "pub fn sum(&mut self, cx: &mut pp::CallContext, values: &[f64]) -> pp::Result<f64> {",
        // Strings and plain lists are views of the caller's memory.
        "pp::abi::Str::new(name)",
        "pp::abi::List::new(values)",
        "pp::codec::check_provider(rt, handle, NAME, VERSION, &FUNCS)?;",
        // An enum is checked against its case count, which its message names.
        "pp::codec::enum_from(*v, ShapeKind::from_raw, \"shape-kind\", 3)",
    ] {
        assert!(host.contains(needle), "host file lacks `{needle}`");
    }
    assert!(
        !host.contains("pp::rt::"),
        "the host file uses the guest codec"
    );
    assert!(
        !host.contains("CONTRACT"),
        "the host file needs no descriptor"
    );
}

#[test]
fn a_plain_data_call_adds_nothing_but_the_call() {
    // The body of `translate`: start the context, copy the arguments, call, return the result
    // (read field by field, see `emit::rust::host`), all inlined into the caller.
    let files = rust_files();
    let host = file(&files, "test_shapes_geometry_host.rs");
    let start = host.find("pub fn translate(").unwrap();
    let body = &host[start..start + host[start..].find("\n    }\n").unwrap()];
    let attribute = &host[host[..start].rfind("#[inline").unwrap()..start];
    assert_eq!(attribute.trim(), "#[inline(always)]");
    assert!(
        body.contains("let pp_args = raw::TranslateArgs { r: *r, by: *by };"),
        "{body}"
    );
    assert!(
        body.trim_end()
            .ends_with("Ok(unsafe { (&raw const pp_ret).read_volatile() })"),
        "{body}"
    );
    assert!(!body.contains("lift_") && !body.contains("arena"), "{body}");
    // A call that decodes its result from the arena is not forced inline.
    let describe = host.find("pub fn describe(").unwrap();
    let attribute = &host[host[..describe].rfind("#[inline").unwrap()..describe];
    assert_eq!(attribute.trim(), "#[inline]");
}
