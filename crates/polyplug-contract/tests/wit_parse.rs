//! WIT inside polyplug's subset: every supported kind, aliases, `use`, several interfaces and
//! files, and the round trip through `Contract::to_wit`.

mod common;

use common::dedent;
use polyplug_contract::wit::{parse_dir, parse_file, parse_path, parse_str};
use polyplug_contract::{Contract, Function, Param, Type, Version};

fn parse_one(source: &str) -> Contract {
    let mut contracts = parse_str("contract.wit", &dedent(source)).expect("valid WIT");
    assert_eq!(contracts.len(), 1);
    contracts.remove(0)
}

fn record(name: &str, fields: &[(&str, Type)]) -> Type {
    Type::Record {
        name: name.into(),
        fields: fields
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
    }
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

const EVERY_KIND: &str = "
    /// Docs are ignored.
    package demo:kinds@1.2.3;

    interface everything {
        record point {
            x: s32,
            y: s32,
        }
        enum color { red, green, blue }
        flags perms { read, write, exec }
        type size = u32;
        type coords = list<point>;

        scalars: func(a: bool, b: s8, c: u8, d: s16, e: u16, f: s32, g: u32, h: s64, i: u64, j: f32, k: f64, l: char, m: string);
        bytes: func(data: list<u8>) -> list<u8>;
        lists: func(names: list<string>, nested: list<list<u16>>) -> coords;
        named: func(p: point, c: color, f: perms) -> option<point>;
        results: func() -> tuple<result, result<size>, result<_, color>, result<string, color>>;
        aliased: func(n: size) -> size;
        %keywords: func(%type: u8, %list: u8);
    }
";

#[test]
fn every_supported_kind() {
    let c = parse_one(EVERY_KIND);
    assert_eq!(c.name, "demo:kinds/everything");
    assert_eq!(c.version, Version::new(1, 2, 3));
    assert_eq!(
        c.id(),
        polyplug_abi::contract_id("demo:kinds/everything", 1)
    );

    let point = record("point", &[("x", Type::S32), ("y", Type::S32)]);
    let color = Type::Enum {
        name: "color".into(),
        cases: labels(&["red", "green", "blue"]),
    };
    let perms = Type::Flags {
        name: "perms".into(),
        flags: labels(&["read", "write", "exec"]),
    };
    let scalars = [
        Type::Bool,
        Type::S8,
        Type::U8,
        Type::S16,
        Type::U16,
        Type::S32,
        Type::U32,
        Type::S64,
        Type::U64,
        Type::F32,
        Type::F64,
        Type::Char,
        Type::String,
    ];
    let expected = vec![
        Function::new(
            "scalars",
            scalars
                .iter()
                .zip('a'..)
                .map(|(t, n)| Param::new(n.to_string(), t.clone()))
                .collect(),
            None,
        ),
        Function::new(
            "bytes",
            vec![Param::new("data", Type::Bytes)],
            Some(Type::Bytes),
        ),
        Function::new(
            "lists",
            vec![
                Param::new("names", Type::list(Type::String)),
                Param::new("nested", Type::list(Type::list(Type::U16))),
            ],
            Some(Type::list(point.clone())),
        ),
        Function::new(
            "named",
            vec![
                Param::new("p", point.clone()),
                Param::new("c", color.clone()),
                Param::new("f", perms),
            ],
            Some(Type::option(point)),
        ),
        Function::new(
            "results",
            vec![],
            Some(Type::Tuple(vec![
                Type::result(None, None),
                Type::result(Some(Type::U32), None),
                Type::result(None, Some(color.clone())),
                Type::result(Some(Type::String), Some(color)),
            ])),
        ),
        Function::new("aliased", vec![Param::new("n", Type::U32)], Some(Type::U32)),
        Function::new(
            "keywords",
            vec![Param::new("type", Type::U8), Param::new("list", Type::U8)],
            None,
        ),
    ];
    assert_eq!(c.functions, expected);
    c.validate().expect("a parsed contract is valid");
}

#[test]
fn wit_round_trip() {
    let c = parse_one(EVERY_KIND);
    let text = c.to_wit();
    let again = parse_str("rendered.wit", &text).expect("rendered WIT parses");
    assert_eq!(again, vec![c], "{text}");
}

#[test]
fn several_interfaces_in_source_order_with_use() {
    let cs = parse_str(
        "contract.wit",
        &dedent(
            "
            package demo:text@0.3.1;

            interface filter {
                use types.{line, error-code as err};
                process: func(l: line) -> result<line, err>;
            }

            interface types {
                record line { text: string, number: u64 }
                enum error-code { too-long, invalid }
            }

            interface empty {}

            world plugin {
                import types;
                export filter;
            }
            ",
        ),
    )
    .expect("valid");
    let names: Vec<_> = cs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["demo:text/filter", "demo:text/types", "demo:text/empty"]
    );
    assert!(cs.iter().all(|c| c.version == Version::new(0, 3, 1)));
    let line = record("line", &[("text", Type::String), ("number", Type::U64)]);
    let err = Type::Enum {
        name: "error-code".into(),
        cases: labels(&["too-long", "invalid"]),
    };
    assert_eq!(
        cs[0].functions,
        [Function::new(
            "process",
            vec![Param::new("l", line.clone())],
            Some(Type::result(Some(line), Some(err)))
        )]
    );
    assert!(cs[1].functions.is_empty() && cs[2].functions.is_empty());
}

#[test]
fn types_from_a_nested_package() {
    let c = parse_one(
        "
        package demo:app@2.0.0;
        interface api {
            use demo:shared/common@1.0.0.{id};
            lookup: func(key: id) -> option<id>;
        }
        package demo:shared@1.0.0 {
            interface common {
                type id = u64;
            }
        }
        ",
    );
    assert_eq!(c.name, "demo:app/api");
    assert_eq!(
        c.functions[0],
        Function::new(
            "lookup",
            vec![Param::new("key", Type::U64)],
            Some(Type::option(Type::U64))
        )
    );
}

#[test]
fn files_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.wit"),
        "package demo:split@1.0.0;\ninterface api {\n    use types.{pair};\n    swap: func(p: pair) -> pair;\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.wit"),
        "interface types {\n    type pair = tuple<u32, string>;\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not WIT").unwrap();
    let cs = parse_dir(dir.path()).expect("valid");
    assert_eq!(cs.len(), 2);
    let pair = Type::Tuple(vec![Type::U32, Type::String]);
    assert_eq!(cs[0].functions[0].params[0].ty, pair);
    assert_eq!(parse_path(dir.path()).expect("valid"), cs);

    let file = dir.path().join("single.wit");
    std::fs::write(
        &file,
        "package demo:one@1.0.0;\ninterface api {\n    f: func();\n}\n",
    )
    .unwrap();
    let one = parse_file(&file).expect("valid");
    assert_eq!(one[0].name, "demo:one/api");
    assert_eq!(parse_path(&file).expect("valid"), one);
}

#[test]
fn parsed_contracts_compile() {
    for c in parse_str("contract.wit", &dedent(EVERY_KIND)).expect("valid") {
        let compiled = c.clone().compile().expect("compiles");
        assert_eq!(compiled.layouts().len(), c.functions.len());
    }
}
