/*
 * A provider of test:shapes/geometry@1.0.0 written against the generated header only: the
 * header's thunks unpack the argument structs, this file implements the typed functions.
 *
 * The same source compiles as C11 and as C++17 (crates/polyplugc/tests/c_codegen.rs builds
 * both). As C++, boom() throws, and the header's thunk must turn the exception into
 * PP_STATUS_PANIC with its message.
 *
 * It answers exactly as the Rust guest fixture (tests/fixtures/guest-plugin, documented in
 * polyplug_testkit::geometry), so one host (tests/c/geometry_host.c) checks both.
 */
#define TEST_SHAPES_GEOMETRY_IMPLEMENTATION
#define TEST_SHAPES_GEOMETRY_STATEFUL
#include "test_shapes_geometry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __cplusplus
#include <stdexcept>
#endif

/* The state of one instance: the provider's own (calls without an instance), or one made by
 * create_instance. */
typedef struct {
    uint64_t count;
} geometry_state;

static geometry_state STATE;

uint32_t test_shapes_geometry_create_instance_impl(void *provider, void **out, pp_call_ctx *ctx) {
    geometry_state *s = (geometry_state *)calloc(1, sizeof *s);
    (void)provider;
    if (s == NULL) {
        pp_set_error(ctx->host, ctx, "out of memory", 13);
        return PP_STATUS_OUT_OF_MEMORY;
    }
    *out = s;
    return PP_STATUS_OK;
}

void test_shapes_geometry_destroy_instance_impl(void *provider, void *instance) {
    (void)provider;
    free(instance);
}

static uint32_t fail_with(pp_call_ctx *ctx, uint32_t status, const char *msg) {
    pp_set_error(ctx->host, ctx, msg, strlen(msg));
    return status;
}

/* A copy of `s` in the caller's arena. */
static int copy_str(pp_call_ctx *ctx, const uint8_t *ptr, size_t len, pp_str *out) {
    uint8_t *p;
    if (len == 0) {
        out->ptr = NULL;
        out->len = 0;
        return 1;
    }
    p = (uint8_t *)pp_arena_alloc(ctx->arena, len, 1);
    if (p == NULL) return 0;
    memcpy(p, ptr, len);
    out->ptr = p;
    out->len = len;
    return 1;
}

static pp_str lit(const char *s) {
    pp_str v;
    v.ptr = (const uint8_t *)s;
    v.len = strlen(s);
    return v;
}

uint32_t test_shapes_geometry_translate_impl(void *instance, test_shapes_geometry_rect r,
                                             test_shapes_geometry_point by,
                                             test_shapes_geometry_rect *out, pp_call_ctx *ctx) {
    (void)instance;
    (void)ctx;
    out->origin.x = (int32_t)((uint32_t)r.origin.x + (uint32_t)by.x);
    out->origin.y = (int32_t)((uint32_t)r.origin.y + (uint32_t)by.y);
    out->size = r.size;
    return PP_STATUS_OK;
}

static const char *const KIND_NAMES[] = {"square", "wide", "tall"};

uint32_t test_shapes_geometry_describe_impl(void *instance, test_shapes_geometry_rect r, pp_str name,
                                            test_shapes_geometry_label *out, pp_call_ctx *ctx) {
    int32_t w = r.size.x, h = r.size.y;
    pp_str *tags;
    char *text;
    int len;
    (void)instance;
    /* text: "<name>: <w>x<h> at (<x>, <y>)" */
    len = snprintf(NULL, 0, "%.*s: %dx%d at (%d, %d)", (int)name.len,
                   name.ptr ? (const char *)name.ptr : "", w, h, r.origin.x, r.origin.y);
    text = (char *)pp_arena_alloc(ctx->arena, (size_t)len + 1, 1);
    if (len < 0 || text == NULL) {
        return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "describe: arena exhausted");
    }
    snprintf(text, (size_t)len + 1, "%.*s: %dx%d at (%d, %d)", (int)name.len,
             name.ptr ? (const char *)name.ptr : "", w, h, r.origin.x, r.origin.y);
    out->text.ptr = (const uint8_t *)text;
    out->text.len = (size_t)len;
    /* kind by the size's sides: none when one is 0 */
    out->kind.is_some = w != 0 && h != 0;
    out->kind.value = 0;
    if (out->kind.is_some) {
        out->kind.value = w == h   ? TEST_SHAPES_GEOMETRY_SHAPE_KIND_SQUARE
                          : w > h ? TEST_SHAPES_GEOMETRY_SHAPE_KIND_WIDE
                                  : TEST_SHAPES_GEOMETRY_SHAPE_KIND_TALL;
    }
    out->area = (uint64_t)(w < 0 ? -(int64_t)w : w) * (uint64_t)(h < 0 ? -(int64_t)h : h);
    out->style = TEST_SHAPES_GEOMETRY_STYLE_FILLED;
    if (out->area > 100) out->style |= TEST_SHAPES_GEOMETRY_STYLE_BOLD;
    if (name.len == 0) out->style |= TEST_SHAPES_GEOMETRY_STYLE_DASHED;
    /* tags: the name, then the kind when there is one */
    tags = (pp_str *)pp_arena_alloc(ctx->arena, 2 * sizeof(pp_str), sizeof(void *));
    if (tags == NULL) return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "describe: arena exhausted");
    if (!copy_str(ctx, name.ptr, name.len, &tags[0])) {
        return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "describe: arena exhausted");
    }
    out->tags.len = 1;
    if (out->kind.is_some) tags[out->tags.len++] = lit(KIND_NAMES[out->kind.value]);
    out->tags.ptr = tags;
    return PP_STATUS_OK;
}

/* FNV-1a, 64 bits. */
uint32_t test_shapes_geometry_checksum_impl(void *instance, pp_bytes data, uint64_t *out,
                                            pp_call_ctx *ctx) {
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    size_t i;
    (void)instance;
    (void)ctx;
    for (i = 0; i < data.len; i++) hash = (hash ^ data.ptr[i]) * UINT64_C(0x100000001b3);
    *out = hash;
    return PP_STATUS_OK;
}

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* An s32 in [p, end), surrounding whitespace allowed, an optional sign. */
static int parse_int(const uint8_t *p, const uint8_t *end, int32_t *out) {
    int neg = 0;
    int64_t v = 0;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    if (p == end) return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (*p - '0');
        if (v > INT64_C(2147483648)) return 0;
    }
    if (!neg && v > INT64_C(2147483647)) return 0;
    *out = (int32_t)(neg ? -v : v);
    return 1;
}

uint32_t test_shapes_geometry_parse_point_impl(void *instance, pp_str text,
                                               test_shapes_geometry_result_point_string *out,
                                               pp_call_ctx *ctx) {
    const uint8_t *end = text.ptr + text.len;
    const uint8_t *comma = text.len ? (const uint8_t *)memchr(text.ptr, ',', text.len) : NULL;
    test_shapes_geometry_point pt;
    char *msg;
    int len;
    (void)instance;
    if (comma != NULL && parse_int(text.ptr, comma, &pt.x) && parse_int(comma + 1, end, &pt.y)) {
        out->is_err = false;
        out->payload.ok = pt;
        return PP_STATUS_OK;
    }
    /* "`<text>` is not `x,y`" */
    len = (int)text.len + (int)strlen("`` is not `x,y`");
    msg = (char *)pp_arena_alloc(ctx->arena, (size_t)len, 1);
    if (msg == NULL) return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "parse-point: arena exhausted");
    msg[0] = '`';
    if (text.len) memcpy(msg + 1, text.ptr, text.len);
    memcpy(msg + 1 + text.len, "` is not `x,y`", strlen("` is not `x,y`"));
    out->is_err = true;
    out->payload.err.ptr = (const uint8_t *)msg;
    out->payload.err.len = (size_t)len;
    return PP_STATUS_OK;
}

uint32_t test_shapes_geometry_sum_impl(void *instance, test_shapes_geometry_list_f64 values,
                                       double *out, pp_call_ctx *ctx) {
    double sum = 0;
    size_t i;
    (void)instance;
    (void)ctx;
    for (i = 0; i < values.len; i++) sum += values.ptr[i];
    *out = sum;
    return PP_STATUS_OK;
}

uint32_t test_shapes_geometry_swap_impl(void *instance, test_shapes_geometry_tuple2_u8_u64 a,
                                        test_shapes_geometry_tuple2_u64_u8 *out, pp_call_ctx *ctx) {
    (void)instance;
    (void)ctx;
    out->f0 = a.f1;
    out->f1 = a.f0;
    return PP_STATUS_OK;
}

/* The first scalar value of UTF-8 `s` (valid by the ABI's rules). */
uint32_t test_shapes_geometry_initial_impl(void *instance, pp_str s,
                                           test_shapes_geometry_option_char *out,
                                           pp_call_ctx *ctx) {
    uint32_t c;
    size_t n, i;
    (void)instance;
    out->is_some = s.len != 0;
    out->value = 0;
    if (s.len == 0) return PP_STATUS_OK;
    c = s.ptr[0];
    n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > s.len) return fail_with(ctx, PP_STATUS_INVALID_ARGUMENT, "initial: truncated UTF-8");
    c = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (i = 1; i < n; i++) c = (c << 6) | (s.ptr[i] & 0x3Fu);
    out->value = c;
    return PP_STATUS_OK;
}

uint32_t test_shapes_geometry_echo_impl(void *instance, pp_str s, pp_str *out, pp_call_ctx *ctx) {
    (void)instance;
    if (!copy_str(ctx, s.ptr, s.len, out)) {
        return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "echo: arena exhausted");
    }
    return PP_STATUS_OK;
}

uint32_t test_shapes_geometry_fail_impl(void *instance, pp_str message, uint32_t *out,
                                        pp_call_ctx *ctx) {
    (void)instance;
    *out = 0;
    pp_set_error(ctx->host, ctx, (const char *)message.ptr, message.len);
    return PP_STATUS_ERROR;
}

uint32_t test_shapes_geometry_boom_impl(void *instance, uint32_t *out, pp_call_ctx *ctx) {
    (void)instance;
    (void)out;
#ifdef __cplusplus
    (void)ctx;
    throw std::runtime_error("boom requested (a C++ exception)");
#else
    /* C has no exceptions: report what a caught one looks like. */
    return fail_with(ctx, PP_STATUS_PANIC, "boom requested");
#endif
}

uint32_t test_shapes_geometry_count_impl(void *instance, uint64_t *out, pp_call_ctx *ctx) {
    geometry_state *state = (geometry_state *)instance;
    (void)ctx;
    if (state == NULL) return PP_STATUS_NULL_POINTER;
    *out = ++state->count;
    return PP_STATUS_OK;
}

/* ---- entry points ---- */

#ifdef __cplusplus
extern "C" {
#endif

/* `extern` so that C++ gives the constant external linkage. */
extern const uint32_t pp_plugin_abi_version;
const uint32_t pp_plugin_abi_version = PP_ABI_VERSION;

uint32_t pp_plugin_init(const pp_host_api *host, const pp_bundle_info *bundle, pp_registrar *reg,
                        pp_call_ctx *ctx);

uint32_t pp_plugin_init(const pp_host_api *host, const pp_bundle_info *bundle, pp_registrar *reg,
                        pp_call_ctx *ctx) {
    (void)bundle;
    (void)ctx;
    return test_shapes_geometry_register(host, reg, &STATE);
}

#ifdef __cplusplus
}
#endif
