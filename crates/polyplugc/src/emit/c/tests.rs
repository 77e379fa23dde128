//! Unit tests of the C emitter's text. The tests that compile and run generated headers are in
//! `tests/c_codegen.rs`.

use super::header;
use polyplug_contract::{wit, CompiledContract, Contract, Function, Type, Version};

fn compile(src: &str) -> CompiledContract {
    let mut contracts = wit::parse_str("test.wit", src).expect("valid WIT");
    assert_eq!(contracts.len(), 1);
    contracts.remove(0).compile().expect("a valid contract")
}

fn geometry() -> CompiledContract {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/wit/geometry.wit"
    );
    let mut contracts = wit::parse_path(path).expect("geometry.wit parses");
    contracts.remove(0).compile().expect("geometry compiles")
}

#[test]
fn the_header_is_deterministic() {
    assert_eq!(header(&geometry()), header(&geometry()));
}

#[test]
fn callers_and_stubs_have_the_documented_signatures() {
    let h = header(&geometry());
    for decl in [
        "static inline uint32_t test_shapes_geometry_caller_find(const pp_runtime *rt, \
         test_shapes_geometry_caller *caller) {",
        "static inline uint32_t test_shapes_geometry_translate(test_shapes_geometry_caller *caller, \
         pp_context *cx, test_shapes_geometry_rect r, test_shapes_geometry_point by, \
         test_shapes_geometry_rect *out) {",
        "static inline uint32_t test_shapes_geometry_count_cached(test_shapes_geometry_caller \
         *caller, pp_context *cx, uint64_t *out) {",
        "uint32_t test_shapes_geometry_parse_point_impl(void *instance, pp_str text, \
         test_shapes_geometry_result_point_string *out, pp_call_ctx *ctx);",
        "uint32_t test_shapes_geometry_register(const pp_host_api *host, pp_registrar *reg, void \
         *provider);",
        "#define TEST_SHAPES_GEOMETRY_PARSE_POINT_INDEX 3u",
        "#define TEST_SHAPES_GEOMETRY_STYLE_FILLED (UINT32_C(1) << 2)",
        "#define TEST_SHAPES_GEOMETRY_SHAPE_KIND_TALL UINT32_C(2)",
        "static const pp_contract_desc test_shapes_geometry_contract = {",
        // `bool` (option and result flags) is one byte, checked on every target.
        "PP_STATIC_ASSERT(sizeof(bool) == 1, \"bool: size\");",
        "typedef struct test_shapes_geometry_option_char {\n    bool is_some;\n    uint32_t value;\n}",
    ] {
        assert!(h.contains(decl), "missing `{decl}`:\n{h}");
    }
    assert!(!h.contains("#error"), "geometry has no clashing names");
}

#[test]
fn guarded_callers_open_a_section_and_cached_ones_do_not() {
    let h = header(&geometry());
    let body = |name: &str| {
        let start = h
            .find(&format!("static inline uint32_t {name}("))
            .unwrap_or_else(|| panic!("{name} is missing"));
        let end = start + h[start..].find("\n}\n").expect("a function end");
        h[start..end].to_owned()
    };
    let guarded = body("test_shapes_geometry_echo");
    assert!(
        guarded.contains("pp_guard_enter();") && guarded.contains("pp_guard_exit();"),
        "{guarded}"
    );
    let cached = body("test_shapes_geometry_echo_cached");
    assert!(!cached.contains("pp_guard_"), "{cached}");
    assert!(cached.contains("test_shapes_geometry_caller_current_(caller)"));
}

#[test]
fn clashing_names_stop_the_header_with_an_error() {
    // `record caller` is spelled like the caller type; `f-args` like f's argument struct.
    let c = compile(
        "package a:b@1.0.0;\ninterface c {\n  record caller { x: u32 }\n  \
         record f-args { y: u32 }\n  f: func(c: caller) -> f-args;\n}\n",
    );
    let h = header(&c);
    let errors: Vec<&str> = h.lines().filter(|l| l.starts_with("#error")).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("`a_b_c_caller`") && errors[0].contains("record `caller`"));
    assert!(errors[1].contains("`a_b_c_f_args`"));
    // The errors come before anything they would make fail to compile.
    assert!(h.find("#error") < h.find("typedef"));
}

#[test]
fn keywords_and_generated_names_are_escaped() {
    let c = compile(
        "package a:b@1.0.0;\ninterface c {\n  record r { class: u32, default: bool, out: s8 }\n  \
         f: func(out: r, caller: u8, int: u16) -> r;\n}\n",
    );
    let h = header(&c);
    for decl in [
        "    uint32_t class_;",
        "    bool default_;",
        // A record field may be called `out`: no generated name lives in a struct.
        "    int8_t out;",
        "static inline uint32_t a_b_c_f(a_b_c_caller *caller, pp_context *cx, a_b_c_r out_, \
         uint8_t caller_, uint16_t int_, a_b_c_r *out) {",
        "    args.out_ = out_;",
    ] {
        assert!(h.contains(decl), "missing `{decl}`:\n{h}");
    }
}

#[test]
fn wide_flags_are_64_bits() {
    // WIT stops at 32 flags; a contract built in code (or read from a peer) may have 64.
    let flags = Type::Flags {
        name: "many".into(),
        flags: (0..40).map(|i| format!("bit{i}")).collect(),
    };
    let c = Contract::new(
        "a:b/c",
        Version::new(1, 0, 0),
        vec![Function::new("f", vec![], Some(flags))],
    )
    .compile()
    .expect("a valid contract");
    let h = header(&c);
    assert!(h.contains("typedef uint64_t a_b_c_many;"), "{h}");
    assert!(
        h.contains("#define A_B_C_MANY_BIT39 (UINT64_C(1) << 39)"),
        "{h}"
    );
    assert!(
        h.contains("PP_STATIC_ASSERT(sizeof(a_b_c_many) == 8"),
        "{h}"
    );
}
