/*
 * A provider of test:shapes/geometry@1.0.0 written against the generated header only: the
 * header's thunks unpack the argument structs, this file implements the typed functions.
 *
 * The same source compiles as C11 and as C++17 (crates/polyplugc/tests/c_codegen.rs builds
 * both). As C++, boom() throws, and the header's thunk must turn the exception into
 * PP_STATUS_PANIC with its message.
 *
 * What each function answers is what tests/c/geometry_host.c checks (see its header comment).
 */
#define TEST_SHAPES_GEOMETRY_IMPLEMENTATION
#define TEST_SHAPES_GEOMETRY_STATEFUL
#include "test_shapes_geometry.h"

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
    (void)instance;
    if (!copy_str(ctx, name.ptr, name.len, &out->text)) {
        return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "describe: arena exhausted");
    }
    out->area = (w > 0 && h > 0) ? (uint64_t)w * (uint64_t)h : 0;
    out->kind.is_some = out->area != 0;
    out->kind.value = 0;
    if (out->kind.is_some) {
        out->kind.value = w == h   ? TEST_SHAPES_GEOMETRY_SHAPE_KIND_SQUARE
                          : w > h ? TEST_SHAPES_GEOMETRY_SHAPE_KIND_WIDE
                                  : TEST_SHAPES_GEOMETRY_SHAPE_KIND_TALL;
    }
    out->style = 0;
    if (out->area != 0) out->style |= TEST_SHAPES_GEOMETRY_STYLE_FILLED;
    if (out->kind.is_some && out->kind.value == TEST_SHAPES_GEOMETRY_SHAPE_KIND_SQUARE) {
        out->style |= TEST_SHAPES_GEOMETRY_STYLE_BOLD;
    }
    if (name.len == 0) out->style |= TEST_SHAPES_GEOMETRY_STYLE_DASHED;
    /* tags: the name, then the kind (or "empty"). */
    tags = (pp_str *)pp_arena_alloc(ctx->arena, 2 * sizeof(pp_str), sizeof(void *));
    if (tags == NULL) return fail_with(ctx, PP_STATUS_OUT_OF_MEMORY, "describe: arena exhausted");
    tags[0] = out->text;
    tags[1] = lit(out->kind.is_some ? KIND_NAMES[out->kind.value] : "empty");
    out->tags.ptr = tags;
    out->tags.len = 2;
    return PP_STATUS_OK;
}

uint32_t test_shapes_geometry_checksum_impl(void *instance, pp_bytes data, uint64_t *out,
                                            pp_call_ctx *ctx) {
    uint64_t sum = 0;
    size_t i;
    (void)instance;
    (void)ctx;
    for (i = 0; i < data.len; i++) sum += data.ptr[i];
    *out = sum;
    return PP_STATUS_OK;
}

/* An optional '-' and decimal digits, at least one; advances *p. */
static int parse_int(const uint8_t **p, const uint8_t *end, int32_t *out) {
    int neg = 0;
    int64_t v = 0;
    const uint8_t *s = *p;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    if (s == end || *s < '0' || *s > '9') return 0;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 2147483648LL) return 0;
        s++;
    }
    if (!neg && v > 2147483647LL) return 0;
    *out = (int32_t)(neg ? -v : v);
    *p = s;
    return 1;
}

uint32_t test_shapes_geometry_parse_point_impl(void *instance, pp_str text,
                                               test_shapes_geometry_result_point_string *out,
                                               pp_call_ctx *ctx) {
    const uint8_t *p = text.ptr, *end = text.ptr + text.len;
    test_shapes_geometry_point pt;
    (void)instance;
    (void)ctx;
    if (text.len != 0 && parse_int(&p, end, &pt.x) && p < end && *p == ',' && (++p, 1) &&
        parse_int(&p, end, &pt.y) && p == end) {
        out->is_err = false;
        out->payload.ok = pt;
    } else {
        out->is_err = true;
        out->payload.err = lit("expected `x,y`");
    }
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
