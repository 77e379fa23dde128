//! WIT outside polyplug's subset, or malformed: each error names the file, line and column of the
//! offending item and says what is wrong. The crate's dev-dependency on itself enables the `wit`
//! feature, so these run in a plain `cargo test`.

mod common;

use common::dedent;
use polyplug_contract::wit::{parse_dir, parse_file, parse_str, WitError};

const FILE: &str = "contract.wit";

/// Parses `source` (dedented), expecting an error at `line`:`column` whose message contains
/// `needle`.
#[track_caller]
fn fails(source: &str, line: u32, column: u32, needle: &str) -> WitError {
    let e = parse_str(FILE, &dedent(source)).expect_err("the source must be refused");
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        (FILE, line, column),
        "wrong place: {e}"
    );
    assert!(e.message.contains(needle), "wrong message: {e}");
    assert_eq!(
        e.to_string(),
        format!("{FILE}:{line}:{column}: {}", e.message)
    );
    assert!(!e.message.contains('\n'), "multi-line message: {e}");
    e
}

#[test]
fn syntax_error_from_wit_parser() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            f: func(x: u32)
            g: func();
        }",
        4,
        5,
        "expected ';', found an identifier",
    );
}

#[test]
fn invalid_character() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            f: func($x: u32);
        }",
        3,
        13,
        "unexpected character '$'",
    );
}

#[test]
fn unknown_type_name() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            f: func(x: payload);
        }",
        3,
        16,
        "`payload` does not exist",
    );
}

#[test]
fn package_without_version() {
    fails(
        "
        // A comment before the header.
        package demo:x;

        interface api {
            f: func();
        }",
        2,
        9,
        "package `demo:x` has no version",
    );
}

#[test]
fn pre_release_version() {
    fails(
        "
        package demo:x@1.0.0-rc.1;
        interface api {
            f: func();
        }",
        1,
        9,
        "pre-release",
    );
}

#[test]
fn uppercase_package_name() {
    fails(
        "
        package DEMO:x@1.0.0;
        interface api {}",
        1,
        9,
        "`DEMO` in package",
    );
}

#[test]
fn resource_and_its_functions() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            record point { x: u32 }
            resource file {
                constructor(path: string);
                read: func() -> list<u8>;
                open: static func() -> file;
            }
        }",
        4,
        14,
        "resources are not supported by polyplug (nor their constructors, methods and static functions)",
    );
}

#[test]
fn borrow_handle() {
    // The function comes before the resource, so the handle is the first thing refused; wit-parser
    // places the handle at the resource's name inside it.
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            close: func(f: borrow<file>);
            resource file;
        }",
        3,
        27,
        "`borrow<T>` handles are not supported",
    );
}

#[test]
fn own_handle() {
    // wit-parser keeps no position for this handle; the error falls back to the function.
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            open: func(path: string) -> own<file>;
            resource file;
        }",
        3,
        5,
        "`own<T>` handles are not supported",
    );
}

#[test]
fn variant_suggests_enum_or_result() {
    let e = fails(
        "
        package demo:x@1.0.0;
        interface api {
            variant shape {
                circle(f64),
                square(f64),
            }
            area: func(s: shape) -> f64;
        }",
        3,
        13,
        "variants are not supported",
    );
    assert!(e.message.contains("`enum`") && e.message.contains("`result`"));
}

#[test]
fn future_and_stream() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            wait: func(f: future<u32>);
        }",
        3,
        19,
        "`future<T>` is not supported",
    );
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            type chunks = stream<u8>;
        }",
        3,
        10,
        "`stream<T>` is not supported",
    );
}

#[test]
fn error_context() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            fail: func(code: u32, why: error-context);
        }",
        3,
        27,
        "`error-context` is not supported",
    );
}

#[test]
fn map_type() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            record env {
                vars: map<string, string>,
            }
        }",
        4,
        15,
        "`map<K, V>` is not supported: use `list<tuple<K, V>>`",
    );
}

#[test]
fn fixed_length_list() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            hash: func(data: list<u8>) -> list<u8, 32>;
        }",
        3,
        35,
        "fixed-length lists",
    );
}

#[test]
fn function_in_world() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            f: func();
        }
        world plugin {
            export api;
            export run: func();
        }",
        7,
        12,
        "function `run` is declared in a world",
    );
}

#[test]
fn inline_interface_in_world() {
    fails(
        "
        package demo:x@1.0.0;
        world plugin {
            import host: interface {
                log: func(msg: string);
            }
        }",
        3,
        12,
        "interface declared inline in a world",
    );
}

#[test]
fn use_of_an_unsupported_type_points_at_the_use() {
    // The resource lives in another package, which is not a contract here: the `use` is refused.
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            use demo:io/files@1.0.0.{file};
            f: func();
        }
        package demo:io@1.0.0 {
            interface files {
                resource file;
            }
        }",
        3,
        30,
        "resources are not supported",
    );
}

#[test]
fn async_function() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            fetch: async func(url: string) -> list<u8>;
        }",
        3,
        5,
        "async functions are not supported",
    );
}

#[test]
fn too_many_flags() {
    // wit-parser refuses a 33rd flag, before polyplug's own bound of 64 applies.
    let flags: Vec<String> = (0..33).map(|i| format!("b{i}")).collect();
    let source = format!(
        "package demo:x@1.0.0;\ninterface api {{\n    flags wide {{ {} }}\n}}\n",
        flags.join(", ")
    );
    let e = parse_str(FILE, &source).expect_err("refused");
    let column = source.lines().nth(2).and_then(|l| l.find("b32")).unwrap() as u32 + 1;
    assert_eq!((e.line, e.column), (3, column), "{e}");
    assert!(e.message.contains("more than 32 flags"), "{e}");
}

#[test]
fn nesting_too_deep() {
    // 33 options around a u32: the 33rd option is one level too many.
    let ty = format!("{}u32{}", "option<".repeat(33), ">".repeat(33));
    let source = format!("package demo:x@1.0.0;\ninterface api {{\n    f: func(x: {ty});\n}}\n");
    let e = parse_str(FILE, &source).expect_err("refused");
    let column = "    f: func(x: ".len() + 32 * "option<".len() + 1;
    assert_eq!((e.line, e.column), (3, column as u32), "{e}");
    assert!(e.message.contains("nest deeper than 32 levels"), "{e}");
}

#[test]
fn recursive_type() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            record node {
                next: option<node>,
            }
        }",
        4,
        22,
        "type `node` depends on itself",
    );
}

#[test]
fn multiple_return_values() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            div: func(a: u32, b: u32) -> (q: u32, r: u32);
        }",
        3,
        34,
        "expected a type",
    );
}

#[test]
fn uppercase_names() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            get-URL: func();
        }",
        3,
        5,
        "`get-URL` is not a valid polyplug function name",
    );
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            enum level { debug, INFO }
        }",
        3,
        25,
        "`INFO` is not a valid polyplug enum case name",
    );
}

#[test]
fn two_types_with_one_name() {
    fails(
        "
        package demo:x@1.0.0;
        interface a { record point { x: u32 } }
        interface b { record point { y: u32 } }
        interface c {
            use a.{point};
            use b.{point as other};
            f: func(p: point, q: other);
        }",
        7,
        5,
        "two different types are named `point`",
    );
}

#[test]
fn unknown_package() {
    fails(
        "
        package demo:x@1.0.0;
        interface api {
            use wasi:io/streams@0.2.0.{input-stream};
        }",
        3,
        9,
        "package 'wasi:io@0.2.0' not found",
    );
}

#[test]
fn errors_in_source_order_across_interfaces() {
    // `b` depends on `a`, so wit-parser lists `a` first; the first error in the file is in `b`.
    fails(
        "
        package demo:x@1.0.0;
        interface b {
            use a.{t};
            f: func(x: t) -> future<u8>;
        }
        interface a {
            type t = u32;
            g: func() -> stream<u8>;
        }",
        4,
        22,
        "`future<T>`",
    );
}

#[test]
fn errors_name_the_file_among_several() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "a.wit",
        "package demo:x@1.0.0;\ninterface api {\n    use types.{t};\n    f: func(x: t);\n}\n",
    );
    write(
        "b.wit",
        "interface types {\n    variant t { a, b(u8) }\n}\n",
    );
    // `api` comes first (a.wit is read first) and reaches the variant of `types` through its
    // `use`: the error is at the `use`, in a.wit.
    let e = parse_dir(dir.path()).expect_err("refused");
    assert!(e.file.ends_with("a.wit"), "{e}");
    assert_eq!((e.line, e.column), (3, 16), "{e}");
    assert!(e.message.contains("variants are not supported"), "{e}");

    write(
        "a.wit",
        "package demo:x@1.0.0;\ninterface api {\n    f: func();\n}\n",
    );
    let e = parse_dir(dir.path()).expect_err("refused");
    assert!(e.file.ends_with("b.wit"), "{e}");
    assert_eq!((e.line, e.column), (2, 13), "{e}");
    assert!(e.message.contains("variants are not supported"), "{e}");
}

#[test]
fn unreadable_files_have_no_position() {
    let e = parse_file("/nonexistent/contract.wit").expect_err("refused");
    assert_eq!((e.line, e.column), (0, 0));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/contract.wit: cannot read"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let e = parse_dir(dir.path()).expect_err("refused");
    assert!(e.message.contains("no `.wit` files"), "{e}");
}
