#!/usr/bin/env bash
# Where the bytes of examples/tiny.rs go: its .text per crate, then its
# largest functions, from a `tiny` build that keeps its symbols (in
# target/size-symbols, so the stripped build stays as it is). Needs
# cargo-bloat: `cargo install cargo-bloat`.
#
#   scripts/size-by-crate.sh                      # examples/tiny.rs
#   scripts/size-by-crate.sh --example 02_fetch_and_analyze
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-bloat >/dev/null; then
  echo "needs cargo-bloat: cargo install cargo-bloat" >&2
  exit 1
fi
target=(--example tiny)
if (($# > 0)); then
  target=("$@")
fi
export CARGO_PROFILE_TINY_STRIP=false
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/size-symbols"
cargo bloat --profile tiny --no-default-features "${target[@]}" --crates
cargo bloat --profile tiny --no-default-features "${target[@]}" -n 40
