#!/usr/bin/env bash
# The lifecycle stress tests, the leak test, the loader-library tests and the C host that adds a
# loader library under valgrind's memcheck, with small counts: fails unless memcheck reports zero
# errors (invalid reads or writes, uses of uninitialised or freed memory, definite leaks) and
# every test passes.
#
# The tests are built in debug, like the rest of the suite, and run one test at a time
# (--test-threads=1); each stress test still runs its own caller threads, which valgrind
# serialises. The stress tests run twice: once with the reader the runtime picks, and once with
# POLYPLUG_NO_MEMBARRIER=1, which forces the fence-per-call fallback that Linux CI otherwise
# never runs. Whether valgrind passes membarrier(2) through depends on its version (3.19 does;
# older ones refuse it and the runtime falls back to fences by itself); the tests print which
# reader ran (`membarrier: true/false`). Counts can be raised through the usual variables, e.g.
#   POLYPLUG_STRESS_RELOADS=500 ./scripts/valgrind.sh
# The C loader host (tests/hosts/c/loader_host.c) runs under memcheck through its Rust test in
# c_hosts.rs, which starts it under POLYPLUG_HOST_RUNNER. Needs valgrind, python3 and gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "error: valgrind is not installed" >&2; exit 1; }

export POLYPLUG_STRESS_THREADS="${POLYPLUG_STRESS_THREADS:-2}"
export POLYPLUG_STRESS_RELOADS="${POLYPLUG_STRESS_RELOADS:-100}"
export POLYPLUG_STRESS_UNLOADS="${POLYPLUG_STRESS_UNLOADS:-50}"
export POLYPLUG_LEAK_CYCLES="${POLYPLUG_LEAK_CYCLES:-200}"
export POLYPLUG_LEAK_WARMUP="${POLYPLUG_LEAK_WARMUP:-50}"
# Under valgrind the process's RSS grows with valgrind's own bookkeeping for each library
# mapping (the leak test maps the library anew every cycle), so the test's RSS limit is lifted
# here; memcheck's leak report (definite leaks are errors) is the leak check under valgrind.
export POLYPLUG_LEAK_MAX_GROWTH_KIB="${POLYPLUG_LEAK_MAX_GROWTH_KIB:-1048576}"
export POLYPLUG_LOADER_RELOADS="${POLYPLUG_LOADER_RELOADS:-5}"

MEMCHECK=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite)

# The path of integration test `$1`'s executable, built if needed.
test_exe() {
    cargo test --no-run --message-format=json -p polyplug --test "$1" |
        python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
            and msg["target"]["name"] == name and msg["target"]["kind"] == ["test"]):
        print(msg["executable"])
        break
else:
    sys.exit("no executable for test " + name)
' "$1"
}

stress=$(test_exe stress)
leak=$(test_exe leak)
loader_library=$(test_exe loader_library)
c_hosts=$(test_exe c_hosts)

failed=()
# run LABEL [VAR=value...] -- COMMAND...: one run of COMMAND with extra variables, reported. The
# test executables run one test at a time under memcheck.
run() {
    local label=$1
    shift
    local vars=()
    while [ "$1" != "--" ]; do vars+=("$1"); shift; done
    shift
    echo "== valgrind: $label"
    local start=$SECONDS rc=0
    env "${vars[@]}" "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "== $label: no memcheck errors ($((SECONDS - start)) s)"
    else
        echo "== $label: FAILED (exit $rc; 99 means memcheck found errors) after $((SECONDS - start)) s" >&2
        failed+=("$label")
    fi
}

run "stress" -- "${MEMCHECK[@]}" "$stress" --test-threads=1 --nocapture
run "stress, fence fallback" POLYPLUG_NO_MEMBARRIER=1 -- "${MEMCHECK[@]}" "$stress" --test-threads=1 --nocapture
run "leak" -- "${MEMCHECK[@]}" "$leak" --test-threads=1 --nocapture
run "loader library" -- "${MEMCHECK[@]}" "$loader_library" --test-threads=1 --nocapture
# The test itself runs natively; the host it builds runs under memcheck and exits 99 on errors.
run "C loader host" POLYPLUG_HOST_RUNNER="${MEMCHECK[*]}" -- \
    "$c_hosts" c_host_drives_a_loader_library --exact --nocapture

if [ ${#failed[@]} -ne 0 ]; then
    echo "valgrind: failed: ${failed[*]}" >&2
    exit 1
fi
echo "valgrind: all runs clean"
