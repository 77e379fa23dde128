#!/usr/bin/env python3
"""Summarise a criterion run: the issue's goals and the ratios against each raw baseline.

usage: scripts/bench_report.py [CRITERION_DIR]   (default: target/criterion)

The goals cover the runtime's benches (`cargo bench -p polyplug`), the typed and dynamic
callers' (`cargo bench -p polyplug-typed-host`, group `dynamic_call`) and the loader kit's
(`cargo bench -p polyplug-loader`, groups `kit_dispatch` and `walker`); run them first.

Reads each bench's median from <dir>/<group>/<arm>/new/estimates.json. Ratios are taken from
one run, so they compare like with like on the same (noisy, shared) machine. Prints Markdown
tables ready for docs/PERFORMANCE.md; exits 1 if a goal is missed, 2 if a result is missing.
"""
import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


def norm(key):
    # Criterion turns '/' inside a function name into '_' in directory names.
    return key.replace("_", "/").replace(" ", "/").strip("/").lower()


def index():
    found = {}
    for dirpath, _, files in os.walk(ROOT):
        if os.path.basename(dirpath) == "new" and "estimates.json" in files:
            found[norm(os.path.relpath(os.path.dirname(dirpath), ROOT))] = dirpath
    return found


RESULTS = index()


def result(bench_id):
    """(median ns, elements per iteration) of a bench id like 'counter_inc/ffi/by_value'."""
    d = RESULTS.get(norm(bench_id))
    if d is None:
        return None
    with open(os.path.join(d, "estimates.json")) as f:
        ns = json.load(f)["median"]["point_estimate"]
    elems = 1
    meta = os.path.join(d, "benchmark.json")
    if os.path.exists(meta):
        with open(meta) as f:
            t = json.load(f).get("throughput") or {}
        elems = t.get("Elements") or t.get("Bytes") or 1
    return ns, elems


def per_element(bench_id):
    r = result(bench_id)
    return None if r is None else r[0] / r[1]


# (label, numerator, denominator, kind, bound): kind "ratio" is time/time <= bound,
# "tput" is throughput/throughput >= bound, "diff" is time - time in ns <= bound (medians per
# iteration, as `bench-ratio diff` takes them: the `guarded` group times one call per iteration).
# A bound of None prints the figure without judging it (no bound has been set for it).
GOALS = [
    ("dispatch vs raw dlsym", "counter_inc/polyplug/dispatch", "counter_inc/ffi/by_value", "ratio", 1.15),
    ("resolve, 100000 vs 10 providers", "resolve/registry_100000", "resolve/registry_10", "ratio", 1.2),
    ("find, 100000 vs 10 providers", "find/registry_100000", "find/registry_10", "ratio", 1.2),
    ("uncached throughput, 2 vs 1 thread", "contention/uncached/2", "contention/uncached/1", "tput", 1.7),
    ("guarded call - cached call (ns)", "guarded/guarded_call", "guarded/cached_call", "diff", 3.0),
    ("staleness check + dispatch vs dispatch only", "revision_check/staleness_check_then_dispatch",
     "revision_check/dispatch_only", "ratio", None),
    ("typed caller (guarded) vs raw hand-written call", "dynamic_call/typed/struct_arg_and_return",
     "dynamic_call/raw/struct_arg_and_return", "ratio", 1.15),
    ("cached typed caller vs raw hand-written call", "dynamic_call/typed_cached/struct_arg_and_return",
     "dynamic_call/raw/struct_arg_and_return", "ratio", None),
    ("dynamic (JSON) vs typed caller, struct", "dynamic_call/dynamic/struct_arg_and_return",
     "dynamic_call/typed/struct_arg_and_return", "ratio", None),
    ("dynamic (JSON) vs typed caller, 256-byte string", "dynamic_call/dynamic/string_roundtrip_256",
     "dynamic_call/typed/string_roundtrip_256", "ratio", None),
    ("kit closure provider - plain extern \"C\" provider (ns)", "kit_dispatch/trampoline/add",
     "kit_dispatch/native/add", "diff", 1.5),
    ("walker vs hand-written, struct argument to tables", "walker/kit/read_struct_arg",
     "walker/handwritten/read_struct_arg", "ratio", 1.15),
    ("walker vs hand-written, 256-byte string result", "walker/kit/write_string_256",
     "walker/handwritten/write_string_256", "ratio", 1.15),
    ("walker vs hand-written, struct argument to a tape", "walker/kit/read_struct_arg_tape",
     "walker/handwritten/read_struct_arg_tape", "ratio", None),
] + [
    (f"guarded vs cached throughput, {t} thread{'s' if t > 1 else ''}", f"contention/guarded/{t}",
     f"contention/cached/{t}", "tput", None)
    for t in (1, 2, 4, 8)
] + [
    ("guarded throughput, 2 vs 1 thread", "contention/guarded/2", "contention/guarded/1", "tput", None),
    ("cached throughput, 2 vs 1 thread", "contention/cached/2", "contention/cached/1", "tput", None),
]

BASELINES = [
    ("counter_inc/native/inline_never", "counter_inc/ffi/by_value"),
    ("counter_inc/native/abi_marshalled", "counter_inc/ffi/by_value"),
    ("counter_inc/polyplug/dispatch", "counter_inc/ffi/by_value"),
    ("counter_inc/polyplug/dispatch", "counter_inc/native/abi_marshalled"),
    ("contract_dispatch/cross_plugin", "contract_dispatch/noop"),
    ("cold_start/cold/first_dispatch", "cold_start/warm/find_resolve_dispatch"),
    ("cold_start/warm/find_resolve_dispatch", "cold_start/warm/cached_dispatch"),
    ("amortization/load_bundle", "amortization/raw/dlopen_dlsym"),
    ("call_arena/overflow/cold_first_block", "call_arena/overflow/warm_reuse"),
    ("guest_host_call/host_log/delivered", "guest_host_call/host_contract_call/native"),
    ("amortization/hot_reload_swap", "amortization/unload_then_load"),
    ("revision_check/staleness_check_then_dispatch", "revision_check/dispatch_only"),
    ("revision_check/dispatch_only", "counter_inc/polyplug/dispatch"),
    ("guarded/cached_call", "counter_inc/polyplug/dispatch"),
    ("guarded/guarded_call", "guarded/cached_call"),
    ("guarded/section_batch_16", "guarded/cached_call"),
    ("guarded/by_handle", "guarded/guarded_call"),
    ("dynamic_call/typed/struct_arg_and_return", "dynamic_call/raw/struct_arg_and_return"),
    ("dynamic_call/typed_cached/struct_arg_and_return", "dynamic_call/raw/struct_arg_and_return"),
    ("dynamic_call/raw_struct_copy/struct_arg_and_return", "dynamic_call/raw/struct_arg_and_return"),
    ("dynamic_call/raw_begin/struct_arg_and_return", "dynamic_call/raw/struct_arg_and_return"),
    ("dynamic_call/typed_cached/struct_arg_and_return", "dynamic_call/raw_begin/struct_arg_and_return"),
    ("dynamic_call/typed/struct_arg_and_return", "dynamic_call/typed_cached/struct_arg_and_return"),
    ("dynamic_call/dynamic/struct_arg_and_return", "dynamic_call/typed/struct_arg_and_return"),
    ("dynamic_call/dynamic/string_roundtrip_256", "dynamic_call/typed/string_roundtrip_256"),
]


def main():
    missed = missing = False
    print("| goal | figure | bound | met |\n|---|---|---|---|")
    for label, a, b, kind, bound in GOALS:
        ra, rb = result(a), result(b)
        if ra is None or rb is None:
            print(f"| {label} | missing result | {bound} | ? |")
            missing = True
            continue
        if kind == "ratio":
            fig, rel = ra[0] / rb[0], "<="
        elif kind == "diff":
            fig, rel = ra[0] - rb[0], "<="
        else:
            fig, rel = (ra[1] / ra[0]) / (rb[1] / rb[0]), ">="
        if bound is None:
            print(f"| {label} | {fig:.3f} | (none set) | - |")
            continue
        ok = fig <= bound if rel == "<=" else fig >= bound
        missed |= not ok
        print(f"| {label} | {fig:.3f} | {rel} {bound} | {'yes' if ok else 'NO'} |")
    print("\n| arm | ns per call | baseline | ns per call | ratio |\n|---|---|---|---|---|")
    for a, b in BASELINES:
        na, nb = per_element(a), per_element(b)
        if na is None or nb is None:
            print(f"| {a} | missing | {b} | missing | |")
            continue
        print(f"| {a} | {na:.2f} | {b} | {nb:.2f} | {na / nb:.2f} |")
    print("\n| contention | aggregate calls/s |\n|---|---|")
    for mode in ("uncached", "cached", "guarded"):
        for t in (1, 2, 4, 8):
            r = result(f"contention/{mode}/{t}")
            if r is not None:
                print(f"| {mode}/{t} | {r[1] / r[0] * 1e9 / 1e6:.1f} M |")
    sys.exit(2 if missing else 1 if missed else 0)


main()
