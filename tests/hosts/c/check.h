/*
 * What the C hosts share: one line per check on stdout, and on the first failure a message on
 * stderr (with the source line and pp_errmsg()) and exit status 1.
 */
#ifndef POLYPLUG_TEST_CHECK_H
#define POLYPLUG_TEST_CHECK_H

#include <polyplug.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define PRINTF_LIKE(fmt, first)
#endif

static unsigned checks_passed;

static inline void check_at(const char *file, int line, bool ok, const char *fmt, ...) PRINTF_LIKE(4, 5);

static inline void check_at(const char *file, int line, bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (ok) {
        checks_passed++;
        printf("ok %3u - ", checks_passed);
        vprintf(fmt, ap);
        putchar('\n');
        va_end(ap);
        return;
    }
    fflush(stdout);
    fprintf(stderr, "FAIL (%s:%d) - ", file, line);
    vfprintf(stderr, fmt, ap);
    /* It describes the last failed pp_* call, which may precede this check. */
    fprintf(stderr, "\n  pp_errmsg() of the last failed call: \"%s\"\n", pp_errmsg());
    va_end(ap);
    exit(1);
}

#define CHECK(cond, ...) check_at(__FILE__, __LINE__, (cond), __VA_ARGS__)

/* The header's enum names, so a failure says which code came back. */
static inline const char *status_name(uint32_t st) {
    switch (st) {
    case PP_STATUS_OK: return "PP_STATUS_OK";
    case PP_STATUS_ERROR: return "PP_STATUS_ERROR";
    case PP_STATUS_INVALID_ARGUMENT: return "PP_STATUS_INVALID_ARGUMENT";
    case PP_STATUS_NULL_POINTER: return "PP_STATUS_NULL_POINTER";
    case PP_STATUS_NOT_FOUND: return "PP_STATUS_NOT_FOUND";
    case PP_STATUS_STALE_HANDLE: return "PP_STATUS_STALE_HANDLE";
    case PP_STATUS_ALREADY_EXISTS: return "PP_STATUS_ALREADY_EXISTS";
    case PP_STATUS_PANIC: return "PP_STATUS_PANIC";
    case PP_STATUS_BUFFER_TOO_SMALL: return "PP_STATUS_BUFFER_TOO_SMALL";
    case PP_STATUS_UNSUPPORTED: return "PP_STATUS_UNSUPPORTED";
    case PP_STATUS_BUSY: return "PP_STATUS_BUSY";
    /* The header asks for a default branch: newer libraries may return other codes. */
    default: return pp_errstr(st);
    }
}

#define CHECK_STATUS(call, want, what)                                                          \
    do {                                                                                        \
        uint32_t got_ = (call);                                                                 \
        bool ok_ = got_ == (uint32_t)(want);                                                    \
        CHECK(ok_, "%s -> %s%s%s", what, status_name(want), ok_ ? "" : ", but got ",            \
              ok_ ? "" : status_name(got_));                                                    \
    } while (0)

static inline bool str_eq(pp_str s, const char *want) {
    size_t n = strlen(want);
    return s.len == n && (n == 0 || memcmp(s.ptr, want, n) == 0);
}

#endif /* POLYPLUG_TEST_CHECK_H */
