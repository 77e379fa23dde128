/*
 * `levels`, the second stage of the log pipeline (priority 30): a provider of
 * demo:logs/filter@1.0.0 written in C against the header polyplugc generates from
 * examples/log-pipeline/wit/filter.wit (demo_logs_filter.h).
 *
 * A line is `<timestamp> <level> <service>: <message>`. The level token comes in many
 * spellings; this stage rewrites it to one canonical token, DEBUG, INFO, WARN or ERROR:
 *
 *   DEBUG debug level=debug [D] dbg          -> DEBUG
 *   INFO  info  level=info  [I]              -> INFO
 *   WARN  warn  level=warn  [W] WARNING      -> WARN
 *   ERROR error level=error [E] ERR          -> ERROR
 *
 * (words in any ASCII case). A line whose token is already canonical is kept as it is; one whose
 * token is none of these (or that has no second word) is kept unchanged and counted as
 * `unknown`. Counters: `debug`, `info`, `warn`, `error` (lines seen per canonical level, whatever
 * the spelling) and `unknown`.
 */
#define DEMO_LOGS_FILTER_IMPLEMENTATION
#include "demo_logs_filter.h"

#include <stdatomic.h>
#include <string.h>

enum { LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR, LEVEL_UNKNOWN, LEVEL_COUNT };

static const char *const CANONICAL[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const COUNTER_NAMES[LEVEL_COUNT] = {"debug", "info", "warn", "error", "unknown"};

/* Lines seen per level: calls may come from any thread. */
static _Atomic uint64_t SEEN[LEVEL_COUNT];

/* The provider pointer passed to every _impl function: this stage has no per-caller state. */
static int PROVIDER;

/* Spellings per level, compared without regard to ASCII case after `level=` or inside `[...]`
 * has been stripped. */
static const char *const WORDS[][4] = {
    {"debug", "dbg", "d", NULL},
    {"info", "i", NULL, NULL},
    {"warn", "warning", "w", NULL},
    {"error", "err", "e", NULL},
};

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c; }

/* Whether [p, p + n) equals NUL-terminated `word` without regard to ASCII case. */
static int same_word(const uint8_t *p, size_t n, const char *word) {
    size_t i;
    if (strlen(word) != n) return 0;
    for (i = 0; i < n; i++) {
        if (lower(p[i]) != (uint8_t)word[i]) return 0;
    }
    return 1;
}

/* The level a token spells, or LEVEL_UNKNOWN. One-letter words count only inside brackets. */
static int classify(const uint8_t *p, size_t n) {
    int bracketed = 0, level, k;
    if (n >= 6 && same_word(p, 6, "level=")) {
        p += 6;
        n -= 6;
    } else if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        p += 1;
        n -= 2;
        bracketed = 1;
    }
    if (n == 0 || (n == 1 && !bracketed)) return LEVEL_UNKNOWN;
    for (level = 0; level < LEVEL_UNKNOWN; level++) {
        for (k = 0; k < 4 && WORDS[level][k] != NULL; k++) {
            if (same_word(p, n, WORDS[level][k])) return level;
        }
    }
    return LEVEL_UNKNOWN;
}

static uint32_t fail_with(pp_call_ctx *ctx, uint32_t status, const char *msg) {
    pp_set_error(ctx->host, ctx, msg, strlen(msg));
    return status;
}

uint32_t demo_logs_filter_process_impl(void *instance, pp_str line, demo_logs_filter_verdict *out,
                                       pp_call_ctx *ctx) {
    const uint8_t *s = line.ptr, *end = line.ptr + line.len, *tok, *tok_end;
    size_t canon_len, new_len;
    uint8_t *text;
    int level;
    (void)instance;
    out->action = DEMO_LOGS_FILTER_ACTION_KEEP;
    out->line.ptr = NULL;
    out->line.len = 0;
    /* The second word: skip the timestamp and the blanks around it. */
    level = LEVEL_UNKNOWN;
    tok = tok_end = end;
    if (line.len != 0) {
        while (s < end && is_space(*s)) s++;
        while (s < end && !is_space(*s)) s++;
        while (s < end && is_space(*s)) s++;
        tok = tok_end = s;
        while (tok_end < end && !is_space(*tok_end)) tok_end++;
        if (tok_end > tok) level = classify(tok, (size_t)(tok_end - tok));
    }
    atomic_fetch_add_explicit(&SEEN[level], 1, memory_order_relaxed);
    if (level == LEVEL_UNKNOWN) return PP_STATUS_OK;
    canon_len = strlen(CANONICAL[level]);
    if ((size_t)(tok_end - tok) == canon_len && memcmp(tok, CANONICAL[level], canon_len) == 0) {
        return PP_STATUS_OK; /* already canonical */
    }
    /* The rewritten line, in the caller's arena: prefix, canonical token, rest. */
    new_len = line.len - (size_t)(tok_end - tok) + canon_len;
    text = (uint8_t *)pp_arena_alloc(ctx->arena, new_len, 1);
    if (text == NULL) return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "levels: arena exhausted");
    memcpy(text, line.ptr, (size_t)(tok - line.ptr));
    memcpy(text + (tok - line.ptr), CANONICAL[level], canon_len);
    memcpy(text + (tok - line.ptr) + canon_len, tok_end, (size_t)(end - tok_end));
    out->action = DEMO_LOGS_FILTER_ACTION_REWRITE;
    out->line.ptr = text;
    out->line.len = new_len;
    return PP_STATUS_OK;
}

uint32_t demo_logs_filter_counters_impl(void *instance, demo_logs_filter_list_counter *out,
                                        pp_call_ctx *ctx) {
    demo_logs_filter_counter *list;
    size_t i;
    (void)instance;
    list = (demo_logs_filter_counter *)pp_arena_alloc(
        ctx->arena, LEVEL_COUNT * sizeof *list, _Alignof(demo_logs_filter_counter));
    if (list == NULL) return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "levels: arena exhausted");
    for (i = 0; i < LEVEL_COUNT; i++) {
        /* Names are static: they outlive the caller's arena. */
        list[i].name.ptr = (const uint8_t *)COUNTER_NAMES[i];
        list[i].name.len = strlen(COUNTER_NAMES[i]);
        list[i].value = atomic_load_explicit(&SEEN[i], memory_order_relaxed);
    }
    out->ptr = list;
    out->len = LEVEL_COUNT;
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
