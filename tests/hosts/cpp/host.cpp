// A C++17 host over include/polyplug.h: proves the header works from C++ (its extern "C"
// guards and layouts) and shows the usual RAII wrapping of the C API.
//
// Usage: host <rust-counter-bundle-dir> <c-counter-bundle-dir>
//
// crates/polyplug/tests/c_hosts.rs builds and runs it like the C host (tests/hosts/c/host.c),
// with the C bundle at priority 10 and the Rust bundle at priority 5. Each check prints one
// line; a failure throws, so the wrappers below still free the runtime on the way out.
#include <polyplug.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// ---- RAII over the C API ----

// A failed pp_* call: its status and the library's message for it.
class pp_error : public std::runtime_error {
  public:
    pp_error(uint32_t status, const std::string &call)
        : std::runtime_error(call + ": " + pp_errstr(status) + ": " + pp_errmsg()), status_(status) {}
    uint32_t status() const noexcept { return status_; }

  private:
    uint32_t status_;
};

void check_status(uint32_t status, const std::string &call) {
    if (status != PP_STATUS_OK) throw pp_error(status, call);
}

struct runtime_deleter {
    void operator()(pp_runtime *rt) const noexcept { pp_runtime_free(rt); }
};
struct context_deleter {
    void operator()(pp_context *cx) const noexcept { pp_context_free(cx); }
};
using runtime_ptr = std::unique_ptr<pp_runtime, runtime_deleter>;
using context_ptr = std::unique_ptr<pp_context, context_deleter>;

std::string_view view(pp_str s) { return {reinterpret_cast<const char *>(s.ptr), s.len}; }

// A view of `s` for an argument struct; `s` must outlive the call.
pp_str str(std::string_view s) { return {reinterpret_cast<const uint8_t *>(s.data()), s.size()}; }

// A runtime plus one call context: what a single-threaded host needs.
class host {
  public:
    explicit host(const pp_runtime_config *cfg) {
        pp_runtime *rt = nullptr;
        check_status(pp_runtime_new(cfg, &rt), "pp_runtime_new");
        rt_.reset(rt);
        pp_context *cx = nullptr;
        check_status(pp_context_new(rt_.get(), &cx), "pp_context_new");
        cx_.reset(cx);
    }

    const pp_runtime *runtime() const { return rt_.get(); }
    pp_context *context() const { return cx_.get(); }

    void load(const std::string &dir) {
        check_status(pp_load_bundle(rt_.get(), dir.c_str(), nullptr), "pp_load_bundle(" + dir + ")");
    }

    std::vector<pp_handle> find_all(const char *contract, pp_version min) const {
        size_t count = 0;
        check_status(pp_find_all(rt_.get(), contract, &min, nullptr, 0, &count), "pp_find_all(count)");
        std::vector<pp_handle> out(count);
        // A provider registered in between makes the second call short; fine for a test.
        check_status(pp_find_all(rt_.get(), contract, &min, out.data(), out.size(), &count), "pp_find_all");
        out.resize(count);
        return out;
    }

    pp_handle find(const char *contract, pp_version min) const {
        pp_handle h{};
        check_status(pp_find(rt_.get(), contract, &min, &h), std::string("pp_find(") + contract + ")");
        return h;
    }

    // Calls function `func` of `h`; R is the result struct (void for none). Results that are
    // views live in the context's arena until the next call.
    template <class R = void>
    R call(const pp_handle &h, uint32_t func, const void *args = nullptr) {
        if constexpr (std::is_void_v<R>) {
            check_status(pp_call(rt_.get(), &h, func, args, nullptr, cx_.get()), call_name(func));
        } else {
            R ret{};
            check_status(pp_call(rt_.get(), &h, func, args, &ret, cx_.get()), call_name(func));
            return ret;
        }
    }

    std::string_view context_error() const {
        pp_str err{};
        check_status(pp_context_error(cx_.get(), &err), "pp_context_error");
        return view(err);
    }

  private:
    static std::string call_name(uint32_t func) { return "pp_call(function " + std::to_string(func) + ")"; }

    // Declared first so it is destroyed last: the context belongs to the runtime.
    runtime_ptr rt_;
    context_ptr cx_;
};

// ---- checks ----

struct check_failed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

unsigned checks_passed = 0;

void check(bool ok, const std::string &what) {
    if (!ok) throw check_failed(what);
    std::printf("ok %3u - %s\n", ++checks_passed, what.c_str());
}

// Runs `f`, which must throw a pp_error with status `want`; returns it.
template <class F>
pp_error expect_error(uint32_t want, const std::string &what, F &&f) {
    try {
        std::forward<F>(f)();
    } catch (const pp_error &e) {
        check(e.status() == want, what + " fails with status " + std::to_string(want) + " (" + e.what() + ")");
        return e;
    }
    throw check_failed(what + " succeeded, but should fail with status " + std::to_string(want) + " (" +
                       pp_errstr(want) + ")");
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// ---- the contracts ----

constexpr const char *COUNTER = "test:counter/counter";
constexpr pp_version V1{1, 0, 0};
enum counter_fn : uint32_t { INC = 0, NOOP, SUM_LEN, ADD_POINTS, GREET, FAIL, WHOAMI, BOOM };
enum relay_fn : uint32_t { INC_VIA = 0, COUNT_COUNTERS };

struct inc_args {
    uint32_t x;
};
struct point {
    int32_t x, y;
};
struct add_points_args {
    point a, b;
};
struct greet_args {
    pp_str name;
};

void check_counter(host &h, const pp_handle &counter, const std::string &who) {
    const std::string tag = "[" + who + "] ";
    check(view(h.call<pp_str>(counter, WHOAMI)) == who, tag + "whoami() == \"" + who + "\"");

    inc_args ia{41};
    check(h.call<uint32_t>(counter, INC, &ia) == 42, tag + "inc(41) == 42");
    h.call(counter, NOOP);

    add_points_args pa{{1, -2}, {40, 44}};
    point p = h.call<point>(counter, ADD_POINTS, &pa);
    check(p.x == 41 && p.y == 42, tag + "add-points({1,-2}, {40,44}) == {41,42}");

    std::string name = "c++ host";
    greet_args ga{str(name)};
    std::string want = "hello, c++ host from " + who;
    check(view(h.call<pp_str>(counter, GREET, &ga)) == want, tag + "greet(\"c++ host\") == \"" + want + "\"");

    pp_error failed = expect_error(PP_STATUS_ERROR, tag + "fail()", [&] { h.call(counter, FAIL); });
    check(contains(failed.what(), "fixture failure requested"), tag + "the exception carries pp_errmsg()");
    check(contains(h.context_error(), "fixture failure requested"), tag + "pp_context_error holds the message");

    expect_error(PP_STATUS_PANIC, tag + "boom()", [&] { h.call(counter, BOOM); });
    check(h.call<uint32_t>(counter, INC, &ia) == 42, tag + "inc still works after boom()");

    // The hot path: call through the resolved table with a raw call context.
    const pp_interface *iface = nullptr;
    const uint32_t *revision = nullptr;
    check_status(pp_resolve(h.runtime(), &counter, &iface, &revision), "pp_resolve");
    uint32_t rev = pp_revision_load(revision);
    uint32_t out = 0;
    uint32_t st = iface->funcs[INC](iface->provider, &ia, &out, pp_context_begin(h.context()));
    check(st == PP_STATUS_OK && out == 42 && rev != 0 && pp_revision_load(revision) == rev,
          tag + "direct inc(41) == 42 through pp_resolve, revision stable");
}

int run(const std::string &rust_dir, const std::string &c_dir) {
    check(pp_abi_version() == PP_ABI_VERSION, "pp_abi_version() == PP_ABI_VERSION");

    pp_runtime_config cfg{};
    check_status(pp_config_init(&cfg), "pp_config_init");
    cfg.flags = pp_runtime_config_FLAG_LOG_OFF;
    host h(&cfg);
    check(true, "runtime and context created (freed by unique_ptr deleters)");

    h.load(rust_dir);
    h.load(c_dir);
    check(pp_bundle_count(h.runtime()) == 2, "both bundles loaded");
    pp_error missing = expect_error(PP_STATUS_NOT_FOUND, "loading a missing bundle",
                                    [&] { h.load("/nonexistent/polyplug-cpp-host"); });
    check(contains(missing.what(), "/nonexistent/polyplug-cpp-host"), "the exception names the missing dir");

    std::vector<pp_handle> counters = h.find_all(COUNTER, V1);
    check(counters.size() == 2, "find_all finds 2 counters");
    check(view(h.call<pp_str>(counters[0], WHOAMI)) == "c", "the C counter (priority 10) comes first");
    check(view(h.call<pp_str>(counters[1], WHOAMI)) == "rust", "the Rust counter (priority 5) comes second");
    check_counter(h, counters[0], "c");
    check_counter(h, counters[1], "rust");

    pp_handle relay = h.find("test:relay/relay", V1);
    inc_args one{1};
    check(h.call<uint32_t>(relay, INC_VIA, &one) == 2, "relay inc-via(1) == 2");
    check(h.call<uint32_t>(relay, COUNT_COUNTERS) == 2, "relay count-counters() == 2");

    const pp_handle stale{999, 7};
    expect_error(PP_STATUS_STALE_HANDLE, "pp_call({999, 7})", [&] { h.call<uint32_t>(stale, INC, &one); });
    const pp_interface *iface = nullptr;
    check(pp_resolve(h.runtime(), &stale, &iface, nullptr) == PP_STATUS_STALE_HANDLE && iface == nullptr,
          "pp_resolve({999, 7}) -> PP_STATUS_STALE_HANDLE, out_iface untouched");
    expect_error(PP_STATUS_NOT_FOUND, "find(counter@2.0.0)", [&] { h.find(COUNTER, pp_version{2, 0, 0}); });

    std::printf("all %u checks passed\n", checks_passed);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <rust-counter-bundle-dir> <c-counter-bundle-dir>\n", argv[0]);
        return 2;
    }
    try {
        return run(argv[1], argv[2]);
    } catch (const std::exception &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "FAIL - %s\n", e.what());
        return 1;
    }
}
