/*
 * A C11 host that adds a loader library and drives one of its bundles through the C API.
 *
 * Usage: loader_host <table-loader-library> <table-bundle-dir>
 *
 * The loader is tests/fixtures/table-loader; crates/polyplug/tests/c_hosts.rs writes the bundle:
 * answers.toml of generation 1 (`greet` answers "hello 1", `big` 1...) and answers-next.toml of
 * generation 2, which this host renames over answers.toml before it reloads the bundle. Each
 * check prints one line; the first failure exits with status 1. Everything is freed at the end,
 * so the program also runs under valgrind (scripts/valgrind.sh).
 */
#include "check.h"

#include <errno.h>

/* ---- the table contract, test:table/answers@1.0.0 (tests/fixtures/wit/table.wit) ---- */

#define TABLE "test:table/answers"
enum { GREET = 0, ORIGIN = 1, BIG = 5, WEIGH = 7 };

typedef struct { int32_t x, y; } point;
/* weigh(name: string, at: point, tags: list<string>) -> u32 */
typedef struct {
    pp_str name;
    point at;
    pp_list tags;
} weigh_args;

static const pp_version V1_0_0 = {1, 0, 0};

/* ---- the loader's log records (target "table") ---- */

typedef struct {
    unsigned loaded;
    unsigned unloaded;
} table_log;

static bool starts_with(const pp_str *s, const char *prefix) {
    size_t n = strlen(prefix);
    return s->len >= n && memcmp(s->ptr, prefix, n) == 0;
}

static void log_sink(void *user, uint32_t level, const pp_str *target, const pp_str *message) {
    table_log *log = user;
    printf("     log[%u] %.*s: %.*s\n", (unsigned)level, (int)target->len, (const char *)target->ptr,
           (int)message->len, (const char *)message->ptr);
    if (!str_eq(*target, "table")) return;
    if (starts_with(message, "loaded bundle")) log->loaded++;
    if (starts_with(message, "unloaded bundle")) log->unloaded++;
}

/* Calls greet(), big() and origin() and checks they answer generation `gen`. */
static void check_answers(const pp_runtime *rt, pp_context *cx, const pp_handle *h, unsigned gen) {
    char want[32];
    snprintf(want, sizeof want, "hello %u", gen);
    pp_str greeting = {NULL, 0};
    CHECK_STATUS(pp_call(rt, h, GREET, NULL, &greeting, cx), PP_STATUS_OK, "greet()");
    CHECK(str_eq(greeting, want), "greet() == \"%s\" (got \"%.*s\")", want, (int)greeting.len,
          (const char *)greeting.ptr);

    uint64_t big = 0;
    CHECK_STATUS(pp_call(rt, h, BIG, NULL, &big, cx), PP_STATUS_OK, "big()");
    CHECK(big == gen, "big() == %u (got %llu)", gen, (unsigned long long)big);

    point p = {0, 0};
    CHECK_STATUS(pp_call(rt, h, ORIGIN, NULL, &p, cx), PP_STATUS_OK, "origin()");
    CHECK(p.x == (int32_t)gen && p.y == -(int32_t)gen, "origin() == {%u, -%u} (got {%d, %d})", gen, gen,
          (int)p.x, (int)p.y);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <table-loader-library> <table-bundle-dir>\n", argv[0]);
        return 2;
    }
    const char *loader = argv[1], *dir = argv[2];

    pp_runtime_config cfg;
    CHECK_STATUS(pp_config_init(&cfg), PP_STATUS_OK, "pp_config_init");
    cfg.flags = pp_runtime_config_FLAG_HOT_RELOAD;
    table_log log = {0, 0};
    cfg.log = log_sink;
    cfg.log_user = &log;
    pp_runtime *rt = NULL;
    CHECK_STATUS(pp_runtime_new(&cfg, &rt), PP_STATUS_OK, "pp_runtime_new(hot reload)");

    /* The loader library, once. */
    CHECK_STATUS(pp_add_loader_library(rt, loader), PP_STATUS_OK, "pp_add_loader_library(table loader)");
    CHECK_STATUS(pp_add_loader_library(rt, loader), PP_STATUS_ALREADY_EXISTS,
                 "pp_add_loader_library(table loader) again");
    CHECK(strstr(pp_errmsg(), "table") != NULL, "pp_errmsg() names the loader: \"%s\"", pp_errmsg());
    CHECK_STATUS(pp_add_loader_library(rt, NULL), PP_STATUS_NULL_POINTER, "pp_add_loader_library(NULL)");
    /* The call first: pp_errmsg() describes the latest failure only until the next one. */
    uint32_t st = pp_add_loader_library(rt, "/nonexistent/libpolyplug-no-loader.so");
    CHECK(st != PP_STATUS_OK, "pp_add_loader_library(missing file) fails: \"%s\"", pp_errmsg());

    /* A bundle of the loader, called. */
    uint64_t id = 0;
    CHECK_STATUS(pp_load_bundle(rt, dir, &id), PP_STATUS_OK, "pp_load_bundle(table bundle)");
    CHECK(pp_bundle_count(rt) == 1 && log.loaded == 1, "one bundle loaded, and the loader logged it");
    pp_context *cx = NULL;
    CHECK_STATUS(pp_context_new(rt, &cx), PP_STATUS_OK, "pp_context_new");
    pp_handle h = {0, 0};
    CHECK_STATUS(pp_find(rt, TABLE, &V1_0_0, &h), PP_STATUS_OK, "pp_find(" TABLE ")");
    check_answers(rt, cx, &h, 1);

    pp_str tags[2] = {PP_STR("a"), PP_STR("b")};
    weigh_args wa = {PP_STR("box"), {1, 2}, {tags, 2}};
    uint32_t weight = 0;
    CHECK_STATUS(pp_call(rt, &h, WEIGH, &wa, &weight, cx), PP_STATUS_OK, "weigh(\"box\", {1, 2}, [a, b])");
    CHECK(weight == 1, "weigh() == 1 (got %u)", (unsigned)weight);
    /* The loader reads every argument: a string with a NULL pointer and a length is refused. */
    tags[1].ptr = NULL;
    CHECK_STATUS(pp_call(rt, &h, WEIGH, &wa, &weight, cx), PP_STATUS_INVALID_ARGUMENT,
                 "weigh() with tags[1] = {NULL, 1}");
    pp_str why = {NULL, 0};
    CHECK_STATUS(pp_context_error(cx, &why), PP_STATUS_OK, "pp_context_error");
    CHECK(why.len > 0, "the call's error says why: \"%.*s\"", (int)why.len, (const char *)why.ptr);

    /* New answers, reloaded: the same handle answers from the new table. */
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/answers-next.toml", dir);
    snprintf(to, sizeof to, "%s/answers.toml", dir);
    CHECK(rename(from, to) == 0, "rename answers-next.toml over answers.toml (%s)", strerror(errno));
    CHECK_STATUS(pp_reload_bundle(rt, id), PP_STATUS_OK, "pp_reload_bundle");
    CHECK(log.loaded == 2 && log.unloaded == 1, "the loader loaded the new table and unloaded the old");
    check_answers(rt, cx, &h, 2);

    /* Unloaded: the handle is stale. */
    CHECK_STATUS(pp_unload_bundle(rt, id, 0), PP_STATUS_OK, "pp_unload_bundle");
    CHECK(pp_bundle_count(rt) == 0 && log.unloaded == 2, "no bundle left, and the loader logged it");
    uint64_t big = 0;
    CHECK_STATUS(pp_call(rt, &h, BIG, NULL, &big, cx), PP_STATUS_STALE_HANDLE, "big() after the unload");

    pp_context_free(cx);
    pp_runtime_free(rt);
    printf("all %u checks passed\n", checks_passed);
    return 0;
}
