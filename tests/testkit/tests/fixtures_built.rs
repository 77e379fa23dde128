//! The build script produced the fixtures, and bundles round-trip through `make_bundle`.

use polyplug_testkit::{
    counter, fixture_dir, make_bundle, rust_fixture, BundleSpec, MANIFEST_FILE, RUST_FIXTURE,
};
use std::fs;

#[test]
fn rust_fixture_is_built() {
    let path = rust_fixture();
    assert!(path.starts_with(fixture_dir()));
    let len = fs::metadata(&path).expect("fixture metadata").len();
    assert!(len > 0, "{} is empty", path.display());
}

#[test]
#[should_panic(expected = "fixture library")]
fn missing_fixture_panics_clearly() {
    polyplug_testkit::fixture_lib("no_such_fixture");
}

#[test]
fn manifest_round_trips_through_make_bundle() {
    let spec = BundleSpec::counter("round-trip")
        .priority(7)
        .requires("test:host/clock@1.0.0");
    let bundle = make_bundle(&spec);
    let text = fs::read_to_string(bundle.manifest_path()).expect("read bundle.toml");
    assert_eq!(text, spec.manifest());
    assert!(text.contains("name = \"round-trip\""), "{text}");
    assert!(
        text.contains(&format!("provides = [\"{}\"]", counter::PROVIDES)),
        "{text}"
    );
    assert!(
        text.contains("requires = [\"test:host/clock@1.0.0\"]"),
        "{text}"
    );
    assert!(text.contains("priority = 7"), "{text}");
    assert!(bundle.manifest_path().ends_with(MANIFEST_FILE));

    // The library is a private copy, not a link to the shared build output.
    let lib = bundle.library_path();
    assert!(lib.starts_with(bundle.path()));
    assert!(lib.to_string_lossy().contains(RUST_FIXTURE));
    assert!(!fs::symlink_metadata(lib)
        .expect("lib")
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read(lib).expect("copied library"),
        fs::read(rust_fixture()).expect("built library")
    );
    let dir = bundle.path().to_path_buf();
    drop(bundle);
    assert!(!dir.exists(), "the bundle directory is removed on drop");
}

#[test]
fn raw_manifests_and_raw_libraries_are_written_verbatim() {
    let spec = BundleSpec::new("broken")
        .raw_manifest("name = [not toml")
        .library_bytes(&b"\x7fELF truncated"[..])
        .library_name("libbroken.so");
    let bundle = make_bundle(&spec);
    assert_eq!(
        fs::read_to_string(bundle.manifest_path()).expect("manifest"),
        "name = [not toml"
    );
    assert!(bundle.library_path().ends_with("libbroken.so"));
    assert_eq!(
        fs::read(bundle.library_path()).expect("library"),
        b"\x7fELF truncated"
    );

    let absent = make_bundle(&BundleSpec::counter("absent").without_library());
    assert!(!absent.library_path().exists());
    let text = fs::read_to_string(absent.manifest_path()).expect("manifest");
    assert!(text.contains("library = "), "{text}");
}

#[test]
fn table_loader_is_built_and_table_bundles_are_written() {
    use polyplug_testkit::table;
    assert!(polyplug_testkit::table_loader().starts_with(fixture_dir()));
    let bundle = table::bundle("answers", &table::answers(3));
    let text = fs::read_to_string(bundle.manifest_path()).expect("read bundle.toml");
    assert!(
        text.contains("loader = \"table\"\nentry = \"answers.toml\"\n"),
        "{text}"
    );
    let wit = fs::read_to_string(bundle.path().join(table::WIT_FILE)).expect("the WIT");
    assert_eq!(wit, table::WIT);
    let answers = bundle.path().join(table::ANSWERS_FILE);
    assert!(fs::read_to_string(&answers)
        .expect("answers")
        .contains("big = 3\n"));
    bundle.replace_file(table::ANSWERS_FILE, table::answers(4));
    assert!(fs::read_to_string(&answers)
        .expect("answers")
        .contains("big = 4\n"));
}
