# Convenience recipes; each is a plain command you can also run by hand.

# The whole test suite (the README's test command).
test:
    ./scripts/test.sh

# The lifecycle stress and leak tests under valgrind's memcheck (small counts; zero errors).
valgrind:
    ./scripts/valgrind.sh

# What CI runs.
ci:
    ./.ci/run

# The main demo.
demo:
    cargo run --release -p polyplug-cli -- demo

# All criterion benches (figures go to target/criterion).
bench:
    cargo bench -p polyplug
    cargo bench -p polyplug-typed-host
    cargo bench -p polyplug-loader

# The performance goals and baseline ratios of the last bench run, as Markdown tables.
bench-report:
    ./scripts/bench_report.py

# Regenerate include/polyplug.h after changing the ABI or the C API.
bless-header:
    POLYPLUG_BLESS=1 cargo test -p polyplug --test header

# Install the header, libraries and pkg-config file under PREFIX.
install prefix="/usr/local":
    ./scripts/install.sh {{prefix}}
