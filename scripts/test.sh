#!/usr/bin/env bash
# The whole test suite: every crate's unit and integration tests (including the C and C++
# hosts, compiled with the system gcc/g++), each benchmark run once in test mode, and the
# doc tests. Needs only Rust, gcc/g++ and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cc c++ make; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' (gcc/g++ and make) is required by the C/C++ host and scaffold tests" >&2; exit 1; }
done
cargo test --workspace --all-targets
cargo test --workspace --doc
