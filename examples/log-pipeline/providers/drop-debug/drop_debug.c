/*
 * `drop-debug`, the last stage of the log pipeline (priority 10): a provider of
 * demo:logs/filter@1.0.0 written in C against the header polyplugc generates from
 * examples/log-pipeline/wit/filter.wit (demo_logs_filter.h).
 *
 * It drops every line whose level token (the second word of `<timestamp> <level> ...`) is
 * exactly `DEBUG`, and keeps every other line. It relies on the `levels` stage before it to
 * have normalised `debug`, `level=debug` and `[D]` to `DEBUG`. Counters: `dropped`, `kept`.
 *
 * The counters live in this library's memory: a hot reload maps a fresh copy of the library,
 * so they start again from zero in the new code (the demo shows both halves).
 */
#define DEMO_LOGS_FILTER_IMPLEMENTATION
#include "demo_logs_filter.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic uint64_t DROPPED, KEPT;

/* The provider pointer passed to every _impl function: this stage has no per-caller state. */
static int PROVIDER;

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether the second word of [s, end) is exactly `DEBUG`. */
static int is_debug(const uint8_t *s, const uint8_t *end) {
    const uint8_t *tok;
    while (s < end && is_space(*s)) s++;
    while (s < end && !is_space(*s)) s++;
    while (s < end && is_space(*s)) s++;
    tok = s;
    while (s < end && !is_space(*s)) s++;
    return s - tok == 5 && memcmp(tok, "DEBUG", 5) == 0;
}

uint32_t demo_logs_filter_process_impl(void *instance, pp_str line, demo_logs_filter_verdict *out,
                                       pp_call_ctx *ctx) {
    int drop = line.len != 0 && is_debug(line.ptr, line.ptr + line.len);
    (void)instance;
    (void)ctx;
    atomic_fetch_add_explicit(drop ? &DROPPED : &KEPT, 1, memory_order_relaxed);
    out->action = drop ? DEMO_LOGS_FILTER_ACTION_DROP : DEMO_LOGS_FILTER_ACTION_KEEP;
    out->line.ptr = NULL;
    out->line.len = 0;
    return PP_STATUS_OK;
}

uint32_t demo_logs_filter_counters_impl(void *instance, demo_logs_filter_list_counter *out,
                                        pp_call_ctx *ctx) {
    static const char *const NAMES[2] = {"dropped", "kept"};
    demo_logs_filter_counter *list;
    size_t i;
    (void)instance;
    list = (demo_logs_filter_counter *)pp_arena_alloc(ctx->arena, 2 * sizeof *list,
                                                      _Alignof(demo_logs_filter_counter));
    if (list == NULL) {
        static const char msg[] = "drop-debug: arena exhausted";
        pp_set_error(ctx->host, ctx, msg, sizeof msg - 1);
        return PP_STATUS_OUT_OF_MEMORY;
    }
    list[0].value = atomic_load_explicit(&DROPPED, memory_order_relaxed);
    list[1].value = atomic_load_explicit(&KEPT, memory_order_relaxed);
    for (i = 0; i < 2; i++) {
        list[i].name.ptr = (const uint8_t *)NAMES[i];
        list[i].name.len = strlen(NAMES[i]);
    }
    out->ptr = list;
    out->len = 2;
    return PP_STATUS_OK;
}

/* ---- entry points ---- */

const uint32_t pp_plugin_abi_version = PP_ABI_VERSION;

uint32_t pp_plugin_init(const pp_host_api *host, const pp_bundle_info *bundle, pp_registrar *reg,
                        pp_call_ctx *ctx);

uint32_t pp_plugin_init(const pp_host_api *host, const pp_bundle_info *bundle, pp_registrar *reg,
                        pp_call_ctx *ctx) {
    (void)bundle;
    (void)ctx;
    return demo_logs_filter_register(host, reg, &PROVIDER);
}
