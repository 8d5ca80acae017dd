#!/bin/sh
# Runs tinyglib's pure-Rust unit tests under Miri (needs the nightly toolchain with the
# miri component: `rustup toolchain install nightly --component miri rust-src`).
# The C parts (variadic functions, C behaviour tests) and the GLib differential tests
# are not run: Miri cannot execute foreign code.
set -eu
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-tinyglib}-miri"
# Pointers travel through integers (GUINT_TO_POINTER, 32-bit key storage): keep
# the permissive provenance model (and silence its per-cast warnings).
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-permissive-provenance"
exec cargo +nightly miri test -p tinyglib --lib "$@"
