#!/bin/sh
# Installs the polyplug C library under PREFIX: the header, the shared and static libraries,
# and a pkg-config file, so C and C++ hosts build with `pkg-config --cflags --libs polyplug`.
#
# Usage: scripts/install.sh PREFIX
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
# pkg-config paths must be absolute.
prefix=$(cd "$1" && pwd)

cd "$root"
cargo build --release -p polyplug
release="${CARGO_TARGET_DIR:-$root/target}/release"

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/polyplug.h "$prefix/include/polyplug.h"
install -m 755 "$release/libpolyplug.so" "$prefix/lib/libpolyplug.so"
install -m 644 "$release/libpolyplug.a" "$prefix/lib/libpolyplug.a"

# crates/polyplug/build.rs wrote polyplug.pc for prefix=/usr/local; only the prefix changes.
# Escape what sed's replacement would interpret: the delimiter, & and backslash.
escaped=$(printf '%s\n' "$prefix" | sed 's/[|&\\]/\\&/g')
sed "s|^prefix=.*|prefix=$escaped|" "$release/polyplug.pc" > "$prefix/lib/pkgconfig/polyplug.pc"

echo "installed polyplug into $prefix"
echo "  PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs polyplug"
