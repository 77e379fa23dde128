/*
 * A C11 host that drives the polyplug C API through include/polyplug.h only.
 *
 * Usage: host <rust-counter-bundle-dir> <c-counter-bundle-dir>
 *
 * crates/polyplug/tests/c_hosts.rs builds it with the flags from polyplug-uninstalled.pc and
 * gives the C bundle priority 10 and the Rust bundle priority 5. Each check prints one line;
 * the first failure prints what went wrong and exits with status 1. Everything is freed at the
 * end, so the program can also run under valgrind.
 */
#include "check.h"

static bool str_contains(pp_str s, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; n <= s.len && i <= s.len - n; i++) {
        if (memcmp(s.ptr + i, needle, n) == 0) return true;
    }
    return false;
}

static bool same_handle(pp_handle a, pp_handle b) {
    return a.index == b.index && a.generation == b.generation;
}

/* ---- the counter contract, test:counter/counter@1.2.0 ---- */

enum { INC = 0, NOOP = 1, SUM_LEN = 2, ADD_POINTS = 3, GREET = 4, FAIL = 5, WHOAMI = 6, BOOM = 7 };
#define COUNTER "test:counter/counter"
#define FAIL_MESSAGE "fixture failure requested"

/* Argument structs: the C struct of each function's parameters, in order. */
typedef struct { uint32_t x; } inc_args;
typedef struct { pp_bytes data; } sum_len_args;
typedef struct { int32_t x, y; } point;
typedef struct { point a, b; } add_points_args;
typedef struct { pp_str name; } greet_args;

static const pp_version V1_0_0 = {1, 0, 0};

/* Calls every counter function of `h` through pp_call; `who` is "c" or "rust". */
static void check_counter_calls(const pp_runtime *rt, pp_context *cx, const pp_handle *h, const char *who) {
    pp_str me = {NULL, 0};
    CHECK_STATUS(pp_call(rt, h, WHOAMI, NULL, &me, cx), PP_STATUS_OK, "whoami()");
    CHECK(str_eq(me, who), "[%s] whoami() == \"%s\"", who, who);

    inc_args ia = {41};
    uint32_t inc = 0;
    CHECK_STATUS(pp_call(rt, h, INC, &ia, &inc, cx), PP_STATUS_OK, "inc(41)");
    CHECK(inc == 42, "[%s] inc(41) == 42 (got %u)", who, (unsigned)inc);

    CHECK_STATUS(pp_call(rt, h, NOOP, NULL, NULL, cx), PP_STATUS_OK, "noop()");

    add_points_args pa = {{-5, 7}, {105, -9}};
    point sum = {0, 0};
    CHECK_STATUS(pp_call(rt, h, ADD_POINTS, &pa, &sum, cx), PP_STATUS_OK, "add-points");
    CHECK(sum.x == 100 && sum.y == -2, "[%s] add-points({-5,7}, {105,-9}) == {100,-2} (got {%d,%d})",
          who, (int)sum.x, (int)sum.y);

    static uint8_t buf[4096];
    memset(buf, 0xAB, sizeof buf);
    buf[0] = 200;
    sum_len_args sa = {{buf, sizeof buf}};
    uint64_t sl = 0;
    CHECK_STATUS(pp_call(rt, h, SUM_LEN, &sa, &sl, cx), PP_STATUS_OK, "sum-len(4096 bytes)");
    CHECK(sl == 4096 + 200, "[%s] sum-len(4096 bytes, first 200) == 4296 (got %llu)", who,
          (unsigned long long)sl);
    sum_len_args empty = {{NULL, 0}};
    CHECK_STATUS(pp_call(rt, h, SUM_LEN, &empty, &sl, cx), PP_STATUS_OK, "sum-len(empty)");
    CHECK(sl == 0, "[%s] sum-len(empty) == 0", who);

    greet_args ga = {PP_STR("host")};
    pp_str greeting = {NULL, 0};
    char want[64];
    snprintf(want, sizeof want, "hello, host from %s", who);
    CHECK_STATUS(pp_call(rt, h, GREET, &ga, &greeting, cx), PP_STATUS_OK, "greet(\"host\")");
    CHECK(str_eq(greeting, want), "[%s] greet(\"host\") == \"%s\" (got \"%.*s\")", who, want,
          (int)greeting.len, (const char *)greeting.ptr);

    CHECK_STATUS(pp_call(rt, h, FAIL, NULL, NULL, cx), PP_STATUS_ERROR, "fail()");
    pp_str err = {NULL, 0};
    CHECK_STATUS(pp_context_error(cx, &err), PP_STATUS_OK, "pp_context_error after fail()");
    CHECK(str_contains(err, FAIL_MESSAGE), "[%s] pp_context_error holds \"%.*s\"", who, (int)err.len,
          (const char *)err.ptr);
    CHECK(strstr(pp_errmsg(), FAIL_MESSAGE) != NULL, "[%s] pp_errmsg() is \"%s\"", who, pp_errmsg());

    CHECK_STATUS(pp_call(rt, h, BOOM, NULL, NULL, cx), PP_STATUS_PANIC, "boom()");
    CHECK(strstr(pp_errmsg(), "boom") != NULL, "[%s] pp_errmsg() after boom() is \"%s\"", who, pp_errmsg());
    ia.x = 1;
    CHECK_STATUS(pp_call(rt, h, INC, &ia, &inc, cx), PP_STATUS_OK, "inc(1) after boom()");
    CHECK(inc == 2, "[%s] the provider still answers after boom(): inc(1) == 2", who);

    CHECK_STATUS(pp_call(rt, h, 8, NULL, NULL, cx), PP_STATUS_INVALID_ARGUMENT,
                 "pp_call of function 8 (the counter has 8 functions)");
}

/* Calls through the resolved interface, as a host's hot path would. */
static void check_direct_calls(const pp_runtime *rt, pp_context *cx, const pp_handle *h, const char *who) {
    const pp_interface *iface = NULL;
    const uint32_t *revision = NULL;
    CHECK_STATUS(pp_resolve(rt, h, &iface, &revision), PP_STATUS_OK, "pp_resolve(counter)");
    CHECK(iface != NULL && revision != NULL, "[%s] pp_resolve fills the interface and the revision", who);
    CHECK(iface->func_count == 8 && iface->contract != NULL && str_eq(iface->contract->name, COUNTER),
          "[%s] the interface implements " COUNTER " with 8 functions", who);
    CHECK(iface->contract->version.major == 1 && iface->contract->version.minor == 2,
          "[%s] the contract version is 1.2.x", who);
    uint32_t rev = pp_revision_load(revision);
    CHECK(rev != 0, "[%s] pp_revision_load(rev) is non-zero (%u)", who, (unsigned)rev);

    inc_args ia = {99};
    uint32_t inc = 0;
    uint32_t st = iface->funcs[INC](iface->provider, &ia, &inc, pp_context_begin(cx));
    CHECK(st == PP_STATUS_OK && inc == 100, "[%s] direct inc(99) == 100 (%s, got %u)", who,
          status_name(st), (unsigned)inc);

    greet_args ga = {PP_STR("direct")};
    pp_str greeting = {NULL, 0};
    char want[64];
    snprintf(want, sizeof want, "hello, direct from %s", who);
    st = iface->funcs[GREET](iface->provider, &ga, &greeting, pp_context_begin(cx));
    CHECK(st == PP_STATUS_OK && str_eq(greeting, want),
          "[%s] direct greet(\"direct\") == \"%s\" in the context's arena", who, want);

    pp_call_ctx *ctx = pp_context_begin(cx);
    st = iface->funcs[FAIL](iface->provider, NULL, NULL, ctx);
    CHECK(st == PP_STATUS_ERROR && str_contains(ctx->error, FAIL_MESSAGE),
          "[%s] direct fail() leaves its message in pp_call_ctx.error", who);
    pp_str err = {NULL, 0};
    CHECK(pp_context_error(cx, &err) == PP_STATUS_OK && str_contains(err, FAIL_MESSAGE),
          "[%s] pp_context_error sees the direct call's message", who);

    CHECK(pp_revision_load(revision) == rev, "[%s] the revision is stable while the provider stays", who);
}

/* ---- a host contract provided from C: test:host/clock@1.0.0, now() -> u64 ---- */

static const pp_type_desc T_U64 = {PP_TYPE_KIND_U64, 0, {NULL, 0}, NULL, NULL, NULL};
static const pp_func_desc CLOCK_FUNCS[] = {
    {{(const uint8_t *)"now", 3}, NULL, 0, 0, &T_U64},
};
static const pp_contract_desc CLOCK = {
    sizeof(pp_contract_desc), 1, {(const uint8_t *)"test:host/clock", 15}, {1, 0, 0}, CLOCK_FUNCS,
};

typedef struct {
    uint64_t now;
    unsigned calls;
} clock_state;

static uint32_t clock_now(void *instance, const void *args, void *ret, pp_call_ctx *ctx) {
    (void)args;
    (void)ctx;
    clock_state *state = instance;
    if (state == NULL || ret == NULL) return PP_STATUS_NULL_POINTER;
    state->calls++;
    memcpy(ret, &state->now, sizeof state->now);
    return PP_STATUS_OK;
}

/* Not const: pp_interface.funcs is declared as a pointer to mutable function pointers. */
static pp_contract_fn CLOCK_FNS[] = {clock_now};

static void check_host_contract(const pp_runtime *rt, pp_context *cx) {
    clock_state clock = {1234, 0};
    pp_interface iface = {sizeof(pp_interface), 1, &CLOCK, CLOCK_FNS, &clock, NULL, NULL};
    pp_handle registered = {0, 0};
    CHECK_STATUS(pp_register_host(rt, &iface, 0, &registered), PP_STATUS_OK,
                 "pp_register_host(test:host/clock@1.0.0)");
    CHECK(registered.generation != 0, "the host provider's handle is valid");

    pp_handle found = {0, 0};
    CHECK_STATUS(pp_find(rt, "test:host/clock", &V1_0_0, &found), PP_STATUS_OK, "pp_find(test:host/clock)");
    CHECK(same_handle(found, registered), "pp_find returns the registered host provider");
    uint64_t now = 0;
    CHECK_STATUS(pp_call(rt, &found, 0, NULL, &now, cx), PP_STATUS_OK, "pp_call(clock.now)");
    CHECK(now == 1234 && clock.calls == 1, "clock.now() == 1234 through the provider pointer (got %llu)",
          (unsigned long long)now);

    const pp_interface *resolved = NULL;
    const uint32_t *revision = NULL;
    CHECK_STATUS(pp_resolve(rt, &found, &resolved, &revision), PP_STATUS_OK, "pp_resolve(clock)");
    uint32_t rev = pp_revision_load(revision);

    CHECK_STATUS(pp_unregister_host(rt, &registered), PP_STATUS_OK, "pp_unregister_host(clock)");
    CHECK(pp_revision_load(revision) != rev, "unregistering changes the slot's revision");
    CHECK_STATUS(pp_call(rt, &found, 0, NULL, &now, cx), PP_STATUS_STALE_HANDLE, "pp_call(unregistered clock)");
    CHECK_STATUS(pp_find(rt, "test:host/clock", &V1_0_0, &found), PP_STATUS_NOT_FOUND,
                 "pp_find(test:host/clock) after unregistering");
    CHECK_STATUS(pp_unregister_host(rt, &registered), PP_STATUS_STALE_HANDLE, "pp_unregister_host twice");
    CHECK(clock.calls == 1, "the clock was called exactly once");
}

/* ---- argument checks that need a live runtime ---- */

static void check_bad_arguments(const pp_runtime *rt, pp_context *cx, const pp_handle *counter) {
    pp_handle h = {0, 0};
    inc_args ia = {1};
    uint32_t out = 0;
    size_t n = 0;

    CHECK_STATUS(pp_find(NULL, COUNTER, &V1_0_0, &h), PP_STATUS_NULL_POINTER, "pp_find(rt NULL)");
    CHECK_STATUS(pp_find(rt, NULL, &V1_0_0, &h), PP_STATUS_NULL_POINTER, "pp_find(name NULL)");
    CHECK(pp_errmsg()[0] != '\0', "pp_errmsg() explains the NULL name: \"%s\"", pp_errmsg());
    CHECK_STATUS(pp_find(rt, COUNTER, NULL, &h), PP_STATUS_NULL_POINTER, "pp_find(min_version NULL)");
    CHECK_STATUS(pp_find(rt, COUNTER, &V1_0_0, NULL), PP_STATUS_NULL_POINTER, "pp_find(out NULL)");
    CHECK_STATUS(pp_find(rt, "test:\xff/bad", &V1_0_0, &h), PP_STATUS_INVALID_ARGUMENT,
                 "pp_find(name not UTF-8)");
    CHECK_STATUS(pp_find_all(rt, COUNTER, &V1_0_0, NULL, 1, &n), PP_STATUS_NULL_POINTER,
                 "pp_find_all(out NULL, capacity 1)");
    CHECK_STATUS(pp_find_all(rt, COUNTER, &V1_0_0, &h, 1, NULL), PP_STATUS_NULL_POINTER,
                 "pp_find_all(count NULL)");

    CHECK_STATUS(pp_call(rt, NULL, INC, &ia, &out, cx), PP_STATUS_NULL_POINTER, "pp_call(handle NULL)");
    CHECK_STATUS(pp_call(NULL, counter, INC, &ia, &out, cx), PP_STATUS_NULL_POINTER, "pp_call(rt NULL)");
    CHECK_STATUS(pp_call(rt, counter, INC, &ia, &out, NULL), PP_STATUS_NULL_POINTER, "pp_call(cx NULL)");

    const pp_handle never_issued = {999, 7};
    const pp_interface *sentinel = (const pp_interface *)&never_issued;
    const pp_interface *iface = sentinel;
    CHECK_STATUS(pp_resolve(rt, &never_issued, &iface, NULL), PP_STATUS_STALE_HANDLE,
                 "pp_resolve({999, 7}) (never issued)");
    CHECK(iface == sentinel, "a failed pp_resolve leaves out_iface untouched");
    const pp_handle zero = {0, 0};
    CHECK_STATUS(pp_resolve(rt, &zero, &iface, NULL), PP_STATUS_STALE_HANDLE, "pp_resolve({0, 0})");
    CHECK_STATUS(pp_resolve(rt, counter, NULL, NULL), PP_STATUS_NULL_POINTER, "pp_resolve(out_iface NULL)");
    CHECK_STATUS(pp_call(rt, &never_issued, INC, &ia, &out, cx), PP_STATUS_STALE_HANDLE,
                 "pp_call({999, 7})");
    CHECK_STATUS(pp_unregister_host(rt, counter), PP_STATUS_INVALID_ARGUMENT,
                 "pp_unregister_host(a bundle's provider)");

    CHECK_STATUS(pp_register_host(rt, NULL, 0, &h), PP_STATUS_NULL_POINTER, "pp_register_host(iface NULL)");
    CHECK_STATUS(pp_context_new(NULL, NULL), PP_STATUS_NULL_POINTER, "pp_context_new(NULL, NULL)");
    CHECK(pp_context_begin(NULL) == NULL, "pp_context_begin(NULL) is NULL");
    pp_str err;
    CHECK_STATUS(pp_context_error(NULL, &err), PP_STATUS_NULL_POINTER, "pp_context_error(NULL)");
    CHECK(pp_contract_id(NULL, 1) == 0, "pp_contract_id(NULL) is 0");
    CHECK(pp_contract_id(COUNTER, 1) != 0 && pp_contract_id(COUNTER, 1) != pp_contract_id(COUNTER, 2),
          "pp_contract_id depends on the major version");
}

/* ---- lifecycle: the guarded cached path, then unloading the Rust bundle ---- */

static void check_lifecycle(const pp_runtime *rt, pp_context *cx, uint64_t rust_id, uint64_t c_id,
                            const pp_handle *rust_counter, const pp_handle *relay) {
    /* Resolve once; then, per batch of calls: open a section, check the revision, call, close. */
    const pp_interface *iface = NULL;
    const uint32_t *revision = NULL;
    CHECK_STATUS(pp_resolve(rt, rust_counter, &iface, &revision), PP_STATUS_OK, "pp_resolve(rust counter)");
    uint32_t seen = pp_revision_load(revision);
    pp_guard_enter();
    CHECK(pp_revision_load(revision) == seen, "the cached interface is current inside the guarded section");
    inc_args ia = {6};
    uint32_t inc = 0;
    uint32_t st = iface->funcs[INC](iface->provider, &ia, &inc, pp_context_begin(cx));
    CHECK(st == PP_STATUS_OK && inc == 7, "guarded cached inc(6) == 7 (%s, got %u)", status_name(st), (unsigned)inc);
    CHECK_STATUS(pp_unload_bundle(rt, rust_id, 0), PP_STATUS_BUSY, "pp_unload_bundle inside a guarded section");
    CHECK(strstr(pp_errmsg(), "guarded") != NULL, "pp_errmsg() says why: \"%s\"", pp_errmsg());
    pp_guard_exit();
    pp_guard_exit(); /* unpaired: ignored */
    CHECK(pp_bundle_count(rt) == 2, "the refused unload changed nothing, and an unpaired pp_guard_exit is harmless");

    CHECK_STATUS(pp_unload_bundle(NULL, rust_id, 0), PP_STATUS_NULL_POINTER, "pp_unload_bundle(rt NULL)");
    CHECK_STATUS(pp_unload_bundle(rt, rust_id, 0x80), PP_STATUS_INVALID_ARGUMENT, "pp_unload_bundle(unknown flag)");
    CHECK_STATUS(pp_reload_bundle(rt, c_id), PP_STATUS_UNSUPPORTED,
                 "pp_reload_bundle without PP_CONFIG_FLAG_HOT_RELOAD");
    CHECK_STATUS(pp_unload_bundle(rt, rust_id, 0), PP_STATUS_OK, "pp_unload_bundle(rust bundle)");
    CHECK(pp_bundle_count(rt) == 1, "one bundle is left");
    CHECK(pp_revision_load(revision) != seen, "the unload moved the cached interface's revision word");
    CHECK_STATUS(pp_call(rt, rust_counter, INC, &ia, &inc, cx), PP_STATUS_STALE_HANDLE,
                 "pp_call(the unloaded Rust counter's handle)");
    const pp_interface *again = NULL;
    CHECK_STATUS(pp_resolve(rt, rust_counter, &again, NULL), PP_STATUS_STALE_HANDLE,
                 "pp_resolve(the unloaded Rust counter's handle)");
    CHECK_STATUS(pp_unload_bundle(rt, rust_id, 0), PP_STATUS_NOT_FOUND, "pp_unload_bundle(rust bundle) again");

    /* The C bundle is unaffected: its relay now sees one counter, its own. */
    uint32_t n = 0;
    CHECK_STATUS(pp_call(rt, relay, 1, NULL, &n, cx), PP_STATUS_OK, "relay count-counters() after the unload");
    CHECK(n == 1, "relay count-counters() == 1 after the unload (got %u)", (unsigned)n);
    uint32_t via = 0;
    CHECK_STATUS(pp_call(rt, relay, 0, &ia, &via, cx), PP_STATUS_OK, "relay inc-via(6) after the unload");
    CHECK(via == 7, "relay inc-via(6) == 7 through the C counter (got %u)", (unsigned)via);
}

/* ---- a C log sink, to show the callback and its user-data destructor work ---- */

typedef struct {
    unsigned records;
    unsigned freed;
} log_state;

static void log_sink(void *user, uint32_t level, const pp_str *target, const pp_str *message) {
    log_state *state = user;
    state->records++;
    printf("     log[%u] %.*s: %.*s\n", (unsigned)level, (int)target->len, (const char *)target->ptr,
           (int)message->len, (const char *)message->ptr);
}

static void log_free(void *user) { ((log_state *)user)->freed++; }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <rust-counter-bundle-dir> <c-counter-bundle-dir>\n", argv[0]);
        return 2;
    }
    const char *rust_dir = argv[1], *c_dir = argv[2];

    CHECK(pp_abi_version() == PP_ABI_VERSION, "pp_abi_version() == PP_ABI_VERSION (%#x)",
          (unsigned)PP_ABI_VERSION);

    /* Argument checks that need no runtime. */
    CHECK_STATUS(pp_runtime_new(NULL, NULL), PP_STATUS_NULL_POINTER, "pp_runtime_new(NULL, NULL)");
    CHECK(pp_errmsg()[0] != '\0', "pp_errmsg() explains it: \"%s\"", pp_errmsg());
    CHECK_STATUS(pp_config_init(NULL), PP_STATUS_NULL_POINTER, "pp_config_init(NULL)");
    pp_runtime_free(NULL);
    pp_context_free(NULL);
    CHECK(true, "pp_runtime_free(NULL) and pp_context_free(NULL) are no-ops");
    CHECK(pp_errstr(PP_STATUS_NOT_FOUND) != NULL && pp_errstr(0x7fff0000u) != NULL,
          "pp_errstr describes known and unknown codes");
    const pp_version v120 = {1, 2, 0}, v130 = {1, 3, 0}, v200 = {2, 0, 0};
    CHECK(pp_version_satisfies(&v120, &V1_0_0) && !pp_version_satisfies(&v120, &v130) &&
              !pp_version_satisfies(&v200, &V1_0_0) && !pp_version_satisfies(NULL, &V1_0_0),
          "pp_version_satisfies follows semver");

    pp_runtime_config cfg;
    CHECK_STATUS(pp_config_init(&cfg), PP_STATUS_OK, "pp_config_init");
    CHECK(cfg.struct_size == sizeof cfg, "pp_config_init sets struct_size");
    log_state logs = {0, 0};
    cfg.log = log_sink;
    cfg.log_user = &logs;
    cfg.log_user_free = log_free;
    pp_runtime *rt = NULL;
    CHECK_STATUS(pp_runtime_new(&cfg, &rt), PP_STATUS_OK, "pp_runtime_new");
    pp_context *cx = NULL;
    CHECK_STATUS(pp_context_new(rt, &cx), PP_STATUS_OK, "pp_context_new");

    /* Rust first, so the ordering below comes from priorities and not from load order. */
    uint64_t rust_id = 0, c_id = 0, unused_id = 77;
    CHECK_STATUS(pp_load_bundle(rt, rust_dir, &rust_id), PP_STATUS_OK, "pp_load_bundle(rust bundle)");
    CHECK_STATUS(pp_load_bundle(rt, c_dir, &c_id), PP_STATUS_OK, "pp_load_bundle(c bundle)");
    CHECK(rust_id != c_id && pp_bundle_count(rt) == 2, "two bundles with distinct ids are loaded");
    CHECK_STATUS(pp_load_bundle(rt, rust_dir, NULL), PP_STATUS_ALREADY_EXISTS, "pp_load_bundle(rust bundle again)");

    const char *missing = "/nonexistent/polyplug-host-test-bundle";
    CHECK_STATUS(pp_load_bundle(rt, missing, &unused_id), PP_STATUS_NOT_FOUND, "pp_load_bundle(missing dir)");
    CHECK(strstr(pp_errmsg(), missing) != NULL, "pp_errmsg() names the missing dir: \"%s\"", pp_errmsg());
    CHECK(unused_id == 77 && pp_bundle_count(rt) == 2, "a failed load leaves out_id and the bundles alone");
    CHECK_STATUS(pp_load_bundle(rt, NULL, NULL), PP_STATUS_NULL_POINTER, "pp_load_bundle(dir NULL)");

    /* Both counters, highest priority first. */
    size_t count = 0;
    CHECK_STATUS(pp_find_all(rt, COUNTER, &V1_0_0, NULL, 0, &count), PP_STATUS_OK,
                 "pp_find_all(NULL, 0) only counts");
    CHECK(count == 2, "pp_find_all counts 2 counters (got %zu)", count);
    pp_handle first_only[1];
    CHECK_STATUS(pp_find_all(rt, COUNTER, &V1_0_0, first_only, 1, &count), PP_STATUS_BUFFER_TOO_SMALL,
                 "pp_find_all(capacity 1) with 2 providers");
    CHECK(count == 2, "a short buffer still reports the total (got %zu)", count);
    pp_handle counters[4];
    CHECK_STATUS(pp_find_all(rt, COUNTER, &V1_0_0, counters, 4, &count), PP_STATUS_OK, "pp_find_all(capacity 4)");
    CHECK(count == 2, "pp_find_all returns exactly 2 counters (got %zu)", count);
    pp_str who = {NULL, 0};
    CHECK_STATUS(pp_call(rt, &counters[0], WHOAMI, NULL, &who, cx), PP_STATUS_OK, "whoami() of the first");
    CHECK(str_eq(who, "c"), "the C counter (priority 10) comes first");
    CHECK_STATUS(pp_call(rt, &counters[1], WHOAMI, NULL, &who, cx), PP_STATUS_OK, "whoami() of the second");
    CHECK(str_eq(who, "rust"), "the Rust counter (priority 5) comes second");
    pp_handle best = {0, 0};
    CHECK_STATUS(pp_find(rt, COUNTER, &V1_0_0, &best), PP_STATUS_OK, "pp_find(counter@1.0.0)");
    CHECK(same_handle(best, counters[0]), "pp_find returns the highest-priority counter");
    CHECK_STATUS(pp_find_all(rt, COUNTER, &v130, NULL, 0, &count), PP_STATUS_OK, "pp_find_all(counter@1.3.0)");
    CHECK(count == 0, "no counter satisfies 1.3.0");
    CHECK_STATUS(pp_find(rt, COUNTER, &v200, &best), PP_STATUS_NOT_FOUND, "pp_find(counter@2.0.0)");

    const char *names[2] = {"c", "rust"};
    for (int i = 0; i < 2; i++) {
        check_counter_calls(rt, cx, &counters[i], names[i]);
        check_direct_calls(rt, cx, &counters[i], names[i]);
    }

    /* The relay finds and calls a counter through the host API from inside a call. */
    pp_handle relay = {0, 0};
    CHECK_STATUS(pp_find(rt, "test:relay/relay", &V1_0_0, &relay), PP_STATUS_OK, "pp_find(test:relay/relay)");
    inc_args ia = {1};
    uint32_t via = 0;
    CHECK_STATUS(pp_call(rt, &relay, 0, &ia, &via, cx), PP_STATUS_OK, "relay inc-via(1)");
    CHECK(via == 2, "relay inc-via(1) == 2 (got %u)", (unsigned)via);
    uint32_t n = 0;
    CHECK_STATUS(pp_call(rt, &relay, 1, NULL, &n, cx), PP_STATUS_OK, "relay count-counters()");
    CHECK(n == 2, "relay count-counters() == 2 (got %u)", (unsigned)n);

    check_host_contract(rt, cx);
    CHECK_STATUS(pp_call(rt, &relay, 1, NULL, &n, cx), PP_STATUS_OK, "relay count-counters() again");
    CHECK(n == 2, "the host contract did not change the counter count");

    check_bad_arguments(rt, cx, &counters[0]);
    check_lifecycle(rt, cx, rust_id, c_id, &counters[1], &relay);

    pp_context_free(cx);
    pp_runtime_free(rt);
    CHECK(logs.freed == 1, "pp_runtime_free calls log_user_free once (%u log records seen)", logs.records);

    printf("all %u checks passed\n", checks_passed);
    return 0;
}
