/*
 * A host of test:shapes/geometry@1.0.0 that uses only the generated header's typed caller.
 *
 * Usage: geometry_host <bundle-dir> <boom-message>
 *
 * Loads the bundle, calls every function through the guarded and the cached caller and checks
 * each result; checks an error status with its message (fail), a panic (boom, whose message
 * must contain <boom-message>), the contract check of caller_find against a provider whose
 * contract differs, per-instance calls, the re-resolution after a hot reload, and the stale
 * handle after pp_unload_bundle. It is linked with -Wl,--wrap=pp_guard_enter,--wrap=pp_guard_exit, so it
 * also counts the guarded sections each call path opens. Compiles as C11 and as C++17.
 *
 * What the provider answers is documented in polyplug_testkit::geometry (the Rust guest
 * fixture, tests/fixtures/guest-plugin); tests/c/geometry_provider.c answers the same:
 *   translate(r, by)  r moved by `by`, same size
 *   describe(r, name) text "<name>: <w>x<h> at (<x>, <y>)"; tags [name, kind] (no kind when a
 *                     side is 0); style filled, | bold if area > 100, | dashed if name is "";
 *                     kind square/wide/tall by the size; area |w * h|
 *   checksum(data)    FNV-1a, 64 bits
 *   parse-point(text) ok(x, y) for "x,y" (spaces trimmed), else err("`<text>` is not `x,y`")
 *   sum(values)       the sum
 *   swap((a, b))      (b, a)
 *   initial(s)        the first character, none for ""
 *   echo(s)           s
 *   fail(message)     status ERROR with `message` as the call's error
 *   boom()            status PANIC
 *   count()           1, 2, 3... per instance: the provider's default one (calls through the
 *                     caller) and each one made with instance_new (a stateful provider)
 *
 * Each check prints one line; the first failure exits with status 1.
 */
#include "test_shapes_geometry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- guarded sections, counted through the linker's --wrap ---- */

#ifdef __cplusplus
extern "C" {
#endif
void __real_pp_guard_enter(void);
void __real_pp_guard_exit(void);
void __wrap_pp_guard_enter(void);
void __wrap_pp_guard_exit(void);
#ifdef __cplusplus
}
#endif

static unsigned ENTERS, EXITS;

void __wrap_pp_guard_enter(void) {
    ENTERS++;
    __real_pp_guard_enter();
}

void __wrap_pp_guard_exit(void) {
    EXITS++;
    __real_pp_guard_exit();
}

/* ---- checks ---- */

static unsigned CHECKS;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        CHECKS++;                                                                                 \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fprintf(stderr, "\n");                                                                \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

#define CHECK_OK(expr) check_status((expr), PP_STATUS_OK, #expr, __LINE__)

static pp_context *CX;

static void check_status(uint32_t got, uint32_t want, const char *what, int line) {
    CHECKS++;
    if (got != want) {
        pp_str msg = {NULL, 0};
        if (CX != NULL) pp_context_error(CX, &msg);
        fprintf(stderr, "FAILED line %d: %s returned %u (%s), wanted %u (%s); call error: %.*s; "
                        "pp_errmsg: %s\n",
                line, what, got, pp_errstr(got), want, pp_errstr(want), (int)msg.len,
                msg.ptr ? (const char *)msg.ptr : "", pp_errmsg());
        exit(1);
    }
}

static pp_str str(const char *s) {
    pp_str v;
    v.ptr = (const uint8_t *)s;
    v.len = strlen(s);
    return v;
}

static int str_eq(pp_str a, const char *b) {
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

static int str_contains(pp_str a, const char *b) {
    size_t n = strlen(b), i;
    for (i = 0; i + n <= a.len; i++) {
        if (memcmp(a.ptr + i, b, n) == 0) return 1;
    }
    return n == 0;
}

#define STR_ARGS(s) (int)(s).len, (s).ptr ? (const char *)(s).ptr : ""

/* The guarded and cached callers run the same checks: `cached` selects which one. */
#define CALL(cached, fn, ...)                                                                     \
    ((cached) ? test_shapes_geometry_##fn##_cached(__VA_ARGS__) : test_shapes_geometry_##fn(__VA_ARGS__))

static test_shapes_geometry_rect rect(int32_t x, int32_t y, int32_t w, int32_t h) {
    test_shapes_geometry_rect r;
    r.origin.x = x;
    r.origin.y = y;
    r.size.x = w;
    r.size.y = h;
    return r;
}

/* Every function once, through the guarded (cached = 0) or the cached caller. */
static void check_functions(test_shapes_geometry_caller *c, int cached, const char *boom) {
    const char *path = cached ? "cached" : "guarded";
    unsigned enters = ENTERS, exits = EXITS;
    unsigned calls = 0;

    {
        test_shapes_geometry_point by = {10, -20};
        test_shapes_geometry_rect out;
        CHECK_OK(CALL(cached, translate, c, CX, rect(1, 2, 3, 4), by, &out));
        calls++;
        CHECK(out.origin.x == 11 && out.origin.y == -18 && out.size.x == 3 && out.size.y == 4,
              "translate gave (%d, %d) %dx%d", out.origin.x, out.origin.y, out.size.x, out.size.y);
        printf("ok %s translate\n", path);
    }
    {
        test_shapes_geometry_label l;
        CHECK_OK(CALL(cached, describe, c, CX, rect(0, 0, 4, 2), str("box"), &l));
        calls++;
        CHECK(str_eq(l.text, "box: 4x2 at (0, 0)"), "text `%.*s`", STR_ARGS(l.text));
        CHECK(l.area == 8, "area %llu", (unsigned long long)l.area);
        CHECK(l.kind.is_some && l.kind.value == TEST_SHAPES_GEOMETRY_SHAPE_KIND_WIDE,
              "kind %d/%u", (int)l.kind.is_some, l.kind.value);
        CHECK(l.style == TEST_SHAPES_GEOMETRY_STYLE_FILLED, "style %#x", (unsigned)l.style);
        CHECK(l.tags.len == 2 && str_eq(l.tags.ptr[0], "box") && str_eq(l.tags.ptr[1], "wide"),
              "%zu tags", l.tags.len);

        CHECK_OK(CALL(cached, describe, c, CX, rect(5, 5, 3, 3), str(""), &l));
        calls++;
        CHECK(str_eq(l.text, ": 3x3 at (5, 5)"), "text `%.*s`", STR_ARGS(l.text));
        CHECK(l.area == 9, "area %llu", (unsigned long long)l.area);
        CHECK(l.kind.is_some && l.kind.value == TEST_SHAPES_GEOMETRY_SHAPE_KIND_SQUARE,
              "kind %d/%u", (int)l.kind.is_some, l.kind.value);
        CHECK(l.style == (TEST_SHAPES_GEOMETRY_STYLE_FILLED | TEST_SHAPES_GEOMETRY_STYLE_DASHED),
              "style %#x", (unsigned)l.style);
        CHECK(l.tags.len == 2 && str_eq(l.tags.ptr[0], "") && str_eq(l.tags.ptr[1], "square"),
              "%zu tags", l.tags.len);

        CHECK_OK(CALL(cached, describe, c, CX, rect(1, -2, 20, -10), str("big"), &l));
        calls++;
        CHECK(str_eq(l.text, "big: 20x-10 at (1, -2)"), "text `%.*s`", STR_ARGS(l.text));
        CHECK(l.area == 200, "area %llu", (unsigned long long)l.area);
        CHECK(l.kind.is_some && l.kind.value == TEST_SHAPES_GEOMETRY_SHAPE_KIND_WIDE,
              "kind %d/%u", (int)l.kind.is_some, l.kind.value);
        CHECK(l.style == (TEST_SHAPES_GEOMETRY_STYLE_FILLED | TEST_SHAPES_GEOMETRY_STYLE_BOLD),
              "style %#x", (unsigned)l.style);

        CHECK_OK(CALL(cached, describe, c, CX, rect(0, 0, 2, 7), str("pole"), &l));
        calls++;
        CHECK(l.kind.is_some && l.kind.value == TEST_SHAPES_GEOMETRY_SHAPE_KIND_TALL,
              "kind %d/%u", (int)l.kind.is_some, l.kind.value);

        CHECK_OK(CALL(cached, describe, c, CX, rect(0, 0, 0, 5), str("flat"), &l));
        calls++;
        CHECK(l.area == 0 && !l.kind.is_some && l.style == TEST_SHAPES_GEOMETRY_STYLE_FILLED,
              "area %llu kind %d style %#x", (unsigned long long)l.area, (int)l.kind.is_some,
              (unsigned)l.style);
        CHECK(l.tags.len == 1 && str_eq(l.tags.ptr[0], "flat"), "%zu tags", l.tags.len);
        printf("ok %s describe (record, string, list<string>, flags, option<enum>, u64)\n", path);
    }
    {
        static const uint8_t data[] = {1, 2, 3, 250};
        pp_bytes b = {data, sizeof data};
        pp_bytes none = {NULL, 0};
        uint64_t sum = 0;
        /* FNV-1a 64 of the bytes, and of nothing (the offset basis). */
        CHECK_OK(CALL(cached, checksum, c, CX, b, &sum));
        calls++;
        CHECK(sum == UINT64_C(0xbe7a00775164d8a3), "checksum %#llx", (unsigned long long)sum);
        CHECK_OK(CALL(cached, checksum, c, CX, none, &sum));
        calls++;
        CHECK(sum == UINT64_C(0xcbf29ce484222325), "checksum of nothing %#llx",
              (unsigned long long)sum);
        printf("ok %s checksum (list<u8>)\n", path);
    }
    {
        test_shapes_geometry_result_point_string r;
        CHECK_OK(CALL(cached, parse_point, c, CX, str("12,-7"), &r));
        calls++;
        CHECK(!r.is_err && r.payload.ok.x == 12 && r.payload.ok.y == -7, "is_err %d (%d, %d)",
              (int)r.is_err, r.payload.ok.x, r.payload.ok.y);
        CHECK_OK(CALL(cached, parse_point, c, CX, str(" 3 , 4 "), &r));
        calls++;
        CHECK(!r.is_err && r.payload.ok.x == 3 && r.payload.ok.y == 4, "is_err %d (%d, %d)",
              (int)r.is_err, r.payload.ok.x, r.payload.ok.y);
        CHECK_OK(CALL(cached, parse_point, c, CX, str("twelve"), &r));
        calls++;
        CHECK(r.is_err && str_eq(r.payload.err, "`twelve` is not `x,y`"), "is_err %d `%.*s`",
              (int)r.is_err, STR_ARGS(r.payload.err));
        printf("ok %s parse-point (result<point, string>: ok and err `%.*s`)\n", path,
               STR_ARGS(r.payload.err));
    }
    {
        static const double values[] = {1.5, 2.25, -0.75};
        test_shapes_geometry_list_f64 list = {values, 3};
        test_shapes_geometry_list_f64 empty = {NULL, 0};
        double sum = -1;
        CHECK_OK(CALL(cached, sum, c, CX, list, &sum));
        calls++;
        CHECK(sum == 3.0, "sum %g", sum);
        CHECK_OK(CALL(cached, sum, c, CX, empty, &sum));
        calls++;
        CHECK(sum == 0.0, "sum of nothing %g", sum);
        printf("ok %s sum (list<f64>, f64)\n", path);
    }
    {
        test_shapes_geometry_tuple2_u8_u64 t;
        test_shapes_geometry_tuple2_u64_u8 out;
        t.f0 = 7;
        t.f1 = (uint64_t)1 << 40;
        CHECK_OK(CALL(cached, swap, c, CX, t, &out));
        calls++;
        CHECK(out.f0 == (uint64_t)1 << 40 && out.f1 == 7, "swap gave (%llu, %u)",
              (unsigned long long)out.f0, (unsigned)out.f1);
        printf("ok %s swap (tuples)\n", path);
    }
    {
        test_shapes_geometry_option_char ch;
        CHECK_OK(CALL(cached, initial, c, CX, str("hello"), &ch));
        calls++;
        CHECK(ch.is_some && ch.value == 'h', "initial %d/%u", (int)ch.is_some, ch.value);
        CHECK_OK(CALL(cached, initial, c, CX, str("\xE2\x82\xAC" "uro"), &ch));
        calls++;
        CHECK(ch.is_some && ch.value == 0x20AC, "initial %d/%#x", (int)ch.is_some, ch.value);
        CHECK_OK(CALL(cached, initial, c, CX, str(""), &ch));
        calls++;
        CHECK(!ch.is_some, "initial of nothing is some");
        printf("ok %s initial (option<char>)\n", path);
    }
    {
        pp_str out;
        CHECK_OK(CALL(cached, echo, c, CX, str("hello, polyplug"), &out));
        calls++;
        CHECK(str_eq(out, "hello, polyplug"), "echo `%.*s`", STR_ARGS(out));
        CHECK_OK(CALL(cached, echo, c, CX, str(""), &out));
        calls++;
        CHECK(out.len == 0, "echo of nothing `%.*s`", STR_ARGS(out));
        printf("ok %s echo (string)\n", path);
    }
    {
        uint32_t out = 0;
        pp_str msg = {NULL, 0};
        check_status(CALL(cached, fail, c, CX, str("bad things happened"), &out), PP_STATUS_ERROR,
                     "fail", __LINE__);
        calls++;
        CHECK_OK(pp_context_error(CX, &msg));
        CHECK(str_eq(msg, "bad things happened"), "fail's message `%.*s`", STR_ARGS(msg));
        printf("ok %s fail (status ERROR, message `%.*s`)\n", path, STR_ARGS(msg));

        check_status(CALL(cached, boom, c, CX, &out), PP_STATUS_PANIC, "boom", __LINE__);
        calls++;
        CHECK_OK(pp_context_error(CX, &msg));
        CHECK(str_contains(msg, boom), "boom's message `%.*s` lacks `%s`", STR_ARGS(msg), boom);
        printf("ok %s boom (status PANIC, message `%.*s`)\n", path, STR_ARGS(msg));

        /* The next call starts with a clean error slot. */
        {
            pp_str echo;
            CHECK_OK(CALL(cached, echo, c, CX, str("x"), &echo));
            calls++;
            CHECK_OK(pp_context_error(CX, &msg));
            CHECK(msg.len == 0, "a successful call left the error `%.*s`", STR_ARGS(msg));
        }
    }
    {
        test_shapes_geometry_rect out;
        test_shapes_geometry_point by = {0, 0};
        check_status(CALL(cached, translate, c, CX, rect(0, 0, 0, 0), by, NULL),
                     PP_STATUS_NULL_POINTER, "translate(out = NULL)", __LINE__);
        check_status(CALL(cached, translate, NULL, CX, rect(0, 0, 0, 0), by, &out),
                     PP_STATUS_NULL_POINTER, "translate(caller = NULL)", __LINE__);
        check_status(CALL(cached, translate, c, NULL, rect(0, 0, 0, 0), by, &out),
                     PP_STATUS_NULL_POINTER, "translate(cx = NULL)", __LINE__);
        printf("ok %s NULL arguments\n", path);
    }

    if (cached) {
        CHECK(ENTERS == enters && EXITS == exits, "the cached path opened %u sections (%u closed)",
              ENTERS - enters, EXITS - exits);
        printf("ok cached calls open no guarded section\n");
    } else {
        CHECK(ENTERS - enters == calls && EXITS - exits == calls,
              "%u guarded calls opened %u sections and closed %u", calls, ENTERS - enters,
              EXITS - exits);
        printf("ok each of %u guarded calls opened and closed one guarded section\n", calls);
    }
}

/* ---- a provider whose contract has this name and version but another shape ---- */

static uint32_t dummy_fn(void *instance, const void *args, void *ret, pp_call_ctx *ctx) {
    (void)instance;
    (void)args;
    (void)ret;
    (void)ctx;
    return PP_STATUS_ERROR;
}

static void check_contract_mismatch(pp_runtime *rt) {
    static const pp_type_desc t_u8 = {PP_TYPE_KIND_U8, 0, {NULL, 0}, NULL, NULL, NULL};
    static pp_func_desc funcs[TEST_SHAPES_GEOMETRY_FUNC_COUNT];
    static pp_contract_fn fns[TEST_SHAPES_GEOMETRY_FUNC_COUNT];
    static pp_contract_desc contract;
    pp_interface iface;
    pp_handle h;
    test_shapes_geometry_caller c;
    unsigned i;

    /* The generated contract, except that count() returns a u8 instead of a u64. */
    memcpy(funcs, test_shapes_geometry_contract.funcs, sizeof funcs);
    funcs[TEST_SHAPES_GEOMETRY_COUNT_INDEX].result = &t_u8;
    contract = test_shapes_geometry_contract;
    contract.funcs = funcs;
    for (i = 0; i < TEST_SHAPES_GEOMETRY_FUNC_COUNT; i++) fns[i] = dummy_fn;
    memset(&iface, 0, sizeof iface);
    iface.struct_size = (uint32_t)sizeof iface;
    iface.func_count = TEST_SHAPES_GEOMETRY_FUNC_COUNT;
    iface.contract = &contract;
    iface.funcs = fns;
    CHECK_OK(pp_register_host(rt, &iface, 0, &h));

    memset(&c, 0xAB, sizeof c);
    check_status(test_shapes_geometry_caller_find(rt, &c), PP_STATUS_CONTRACT_MISMATCH,
                 "caller_find on a differently shaped provider", __LINE__);
    CHECK(c.seen == 0xABABABABu, "a failed find wrote the caller");
    check_status(test_shapes_geometry_caller_bind(rt, &h, &c), PP_STATUS_CONTRACT_MISMATCH,
                 "caller_bind on a differently shaped provider", __LINE__);
    CHECK_OK(pp_unregister_host(rt, &h));
    printf("ok a provider of another shape under the same name is refused (CONTRACT_MISMATCH)\n");
}

/* Two instances keep separate state; calls through the caller use neither. Returns one that
 * stays alive (for the reload check). */
static test_shapes_geometry_instance check_instances(test_shapes_geometry_caller *c) {
    test_shapes_geometry_instance a, b;
    uint64_t n = 0;
    pp_str echo;
    unsigned enters = ENTERS, exits = EXITS;

    CHECK_OK(test_shapes_geometry_instance_new(c, CX, &a));
    CHECK_OK(test_shapes_geometry_instance_new(c, CX, &b));
    CHECK(a.owned && b.owned && a.instance != b.instance && a.instance != c->iface->provider,
          "instances: owned %d/%d", (int)a.owned, (int)b.owned);
    CHECK_OK(test_shapes_geometry_count_on(&a, CX, &n));
    CHECK(n == 1, "first count on instance a: %llu", (unsigned long long)n);
    CHECK_OK(test_shapes_geometry_count_on(&a, CX, &n));
    CHECK(n == 2, "second count on instance a: %llu", (unsigned long long)n);
    CHECK_OK(test_shapes_geometry_count_on(&b, CX, &n));
    CHECK(n == 1, "first count on instance b: %llu", (unsigned long long)n);
    CHECK_OK(test_shapes_geometry_count(c, CX, &n));
    CHECK(n == 4, "count through the caller after 1, 2, 3: %llu", (unsigned long long)n);
    CHECK_OK(test_shapes_geometry_echo_on(&b, CX, str("on b"), &echo));
    CHECK(str_eq(echo, "on b"), "echo on b `%.*s`", STR_ARGS(echo));
    CHECK(ENTERS - enters == 7 && EXITS - exits == 7,
          "2 instance_new and 5 calls opened %u sections and closed %u", ENTERS - enters,
          EXITS - exits);
    test_shapes_geometry_instance_free(&b);
    CHECK(b.instance == NULL && !b.owned, "instance_free did not clear the instance");
    check_status(test_shapes_geometry_count_on(&b, CX, &n), PP_STATUS_STALE_HANDLE,
                 "count on a freed instance", __LINE__);
    test_shapes_geometry_instance_free(&b);
    test_shapes_geometry_instance_free(NULL);
    printf("ok instances: separate state per instance, freed ones refused\n");
    return a;
}

int main(int argc, char **argv) {
    pp_runtime_config cfg;
    pp_runtime *rt = NULL;
    test_shapes_geometry_caller c;
    uint64_t id = 0;
    uint32_t seen;
    const pp_interface *iface;
    test_shapes_geometry_instance inst;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <bundle-dir> <boom-message>\n", argv[0]);
        return 2;
    }
    CHECK(pp_abi_version() == PP_ABI_VERSION, "library ABI %#x", pp_abi_version());
    CHECK_OK(pp_config_init(&cfg));
    cfg.flags |= pp_runtime_config_FLAG_HOT_RELOAD;
    CHECK_OK(pp_runtime_new(&cfg, &rt));
    CHECK_OK(pp_context_new(rt, &CX));

    check_status(test_shapes_geometry_caller_find(rt, &c), PP_STATUS_NOT_FOUND,
                 "caller_find before any provider", __LINE__);
    check_contract_mismatch(rt);

    CHECK_OK(pp_load_bundle(rt, argv[1], &id));
    CHECK_OK(test_shapes_geometry_caller_find(rt, &c));
    CHECK(c.rt == rt && c.iface != NULL && c.revision != NULL, "caller not filled in");
    printf("ok caller_find\n");

    check_functions(&c, 0, argv[2]);
    check_functions(&c, 1, argv[2]);
    {
        uint64_t n1 = 0, n2 = 0, n3 = 0;
        CHECK_OK(test_shapes_geometry_count(&c, CX, &n1));
        CHECK_OK(test_shapes_geometry_count_cached(&c, CX, &n2));
        CHECK_OK(test_shapes_geometry_count(&c, CX, &n3));
        CHECK(n1 == 1 && n2 == 2 && n3 == 3, "count gave %llu, %llu, %llu",
              (unsigned long long)n1, (unsigned long long)n2, (unsigned long long)n3);
        printf("ok count (provider state: 1, 2, 3)\n");
    }
    inst = check_instances(&c);

    /* A hot reload: the caller sees the revision change and resolves the new code by itself. */
    seen = c.seen;
    iface = c.iface;
    CHECK_OK(pp_reload_bundle(rt, id));
    CHECK(pp_revision_load(c.revision) != seen, "the reload left the revision word unchanged");
    {
        uint64_t n = 0;
        CHECK_OK(test_shapes_geometry_count(&c, CX, &n));
        CHECK(c.seen != seen, "the caller did not re-resolve");
        CHECK(n == 1, "count after the reload gave %llu: not the new code's fresh state",
              (unsigned long long)n);
        CHECK_OK(test_shapes_geometry_count_cached(&c, CX, &n));
        CHECK(n == 2, "cached count after the reload gave %llu", (unsigned long long)n);
        printf("ok after a reload the same caller calls the new code (revision %u -> %u)\n", seen,
               c.seen);
        /* The instance belongs to the old code: refused, and freeing it abandons it. */
        check_status(test_shapes_geometry_count_on(&inst, CX, &n), PP_STATUS_STALE_HANDLE,
                     "count on an instance of the code before the reload", __LINE__);
        test_shapes_geometry_instance_free(&inst);
        CHECK_OK(test_shapes_geometry_instance_new(&c, CX, &inst));
        CHECK_OK(test_shapes_geometry_count_on(&inst, CX, &n));
        CHECK(n == 1, "count on a new instance after the reload: %llu", (unsigned long long)n);
        printf("ok instances of the old code are stale after a reload; new ones work\n");
    }
    (void)iface;
    check_functions(&c, 0, argv[2]);

    /* Unload: both paths report a stale handle, and never call the released code. */
    CHECK_OK(pp_unload_bundle(rt, id, 0));
    {
        test_shapes_geometry_rect out;
        test_shapes_geometry_point by = {1, 1};
        uint64_t n = 0;
        unsigned enters = ENTERS, exits = EXITS;
        check_status(test_shapes_geometry_translate(&c, CX, rect(0, 0, 1, 1), by, &out),
                     PP_STATUS_STALE_HANDLE, "guarded translate after unload", __LINE__);
        check_status(test_shapes_geometry_count(&c, CX, &n), PP_STATUS_STALE_HANDLE,
                     "guarded count after unload", __LINE__);
        CHECK(ENTERS - enters == 2 && EXITS - exits == 2,
              "stale guarded calls opened %u sections and closed %u", ENTERS - enters,
              EXITS - exits);
        check_status(test_shapes_geometry_translate_cached(&c, CX, rect(0, 0, 1, 1), by, &out),
                     PP_STATUS_STALE_HANDLE, "cached translate after unload", __LINE__);
        check_status(test_shapes_geometry_count_cached(&c, CX, &n), PP_STATUS_STALE_HANDLE,
                     "cached count after unload", __LINE__);
        CHECK(c.iface == NULL, "a stale caller kept its interface");
        check_status(test_shapes_geometry_count_on(&inst, CX, &n), PP_STATUS_STALE_HANDLE,
                     "count on an instance after unload", __LINE__);
        test_shapes_geometry_instance_free(&inst);
        check_status(test_shapes_geometry_caller_find(rt, &c), PP_STATUS_NOT_FOUND,
                     "caller_find after unload", __LINE__);
        printf("ok after pp_unload_bundle: STALE_HANDLE on both paths, NOT_FOUND on find\n");
    }

    pp_context_free(CX);
    CX = NULL;
    pp_runtime_free(rt);
    printf("all %u checks passed\n", CHECKS);
    return 0;
}
