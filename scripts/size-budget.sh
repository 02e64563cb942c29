#!/usr/bin/env bash
# Fails when examples/tiny.rs, built the way an embedder would (`--profile
# tiny --no-default-features`), is larger than a hello world built the same
# way plus the budget in size/budget.toml. Run by .ci/run.
set -euo pipefail
source "$(dirname "$0")/size-common.sh"

budget="$(sed -n 's/^max_bytes_over_hello *= *\([0-9]*\).*/\1/p' "$size_root/size/budget.toml")"
if [[ -z "$budget" ]]; then
  echo "size/budget.toml: no max_bytes_over_hello" >&2
  exit 1
fi

hello="$(hello_size tiny)"
tiny="$(built_size tiny --no-default-features --example tiny)"
over=$((tiny - hello))

echo "examples/tiny.rs: $tiny B; hello world: $hello B; over: $over B; budget: $budget B over"
if ((over > budget)); then
  echo "examples/tiny.rs is $((over - budget)) B over its size budget (size/budget.toml);" \
    "docs/tiny-binaries.md says how to see where the bytes go" >&2
  exit 1
fi
