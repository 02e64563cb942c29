#!/usr/bin/env bash
# Builds every binary docs/tiny-binaries.md lists and rewrites the table
# between its `<!-- size-table -->` markers: stripped sizes, the difference
# from a hello world built with the same profile, package counts, and what
# each feature costs. Takes several minutes (the dist builds link with LTO).
#
#   scripts/size-table.sh            # rewrite docs/tiny-binaries.md
#   scripts/size-table.sh --print    # print the table only
set -euo pipefail
source "$(dirname "$0")/size-common.sh"

doc="$size_root/docs/tiny-binaries.md"

hello_tiny="$(hello_size tiny)"
hello_dist="$(hello_size dist)"

tiny="$(built_size tiny --no-default-features --example tiny)"
tiny_tls="$(built_size tiny --no-default-features --features tls --example tiny)"
tiny_image="$(built_size tiny --no-default-features --features image --example tiny)"
ex01="$(built_size tiny --no-default-features --example 01_run_in_pool)"
ex02="$(built_size tiny --no-default-features --example 02_fetch_and_analyze)"
ex03="$(built_size tiny --no-default-features --features image --example 03_download_and_resize)"
ex05_dist="$(built_size dist --no-default-features --features image --example 05_pipeline)"
cli_dist="$(built_size dist --bin tandem)"
cli_dist_no_tls="$(built_size dist --no-default-features --features cli --bin tandem)"
cli_dist_tls="$(built_size dist --no-default-features --features cli,tls --bin tandem)"

packages_none="$(package_count --no-default-features)"
packages_tls="$(package_count --no-default-features --features tls)"
packages_image="$(package_count --no-default-features --features image)"
packages_cli="$(package_count --no-default-features --features cli)"
packages_cli_tls="$(package_count --no-default-features --features cli,tls)"
packages_default="$(package_count)"

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1000000 }'; }
# 1234567 -> 1,234,567
commas() { echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
signed() { if (($1 >= 0)); then echo "+$(commas "$1")"; else commas "$1"; fi; }
# row NAME COMMAND BYTES HELLO PACKAGES
row() {
  printf '| %s | `%s` | %s B (%s) | %s B | %s |\n' "$1" "$2" "$(commas "$3")" "$(kib "$3")" "$(signed $(($3 - $4)))" "$5"
}
# cost FEATURE WHERE WITH WITHOUT
cost() {
  printf '| `%s` | %s | %s B (%s) |\n' "$1" "$2" "$(signed $(($3 - $4)))" "$(kib $(($3 - $4)))"
}

table="$(
  echo "Built by \`scripts/size-table.sh\` with $(rustc --version | cut -d' ' -f1-2) for $(rustc -vV | sed -n 's/^host: //p')."
  echo
  echo '| binary | `cargo build` arguments | stripped size | over hello world (same profile) | packages |'
  echo '|---|---|---|---|---|'
  row 'hello world (`size/hello`)' '--profile tiny' "$hello_tiny" "$hello_tiny" 1
  row 'hello world (`size/hello`)' '--profile dist' "$hello_dist" "$hello_dist" 1
  row '`examples/tiny.rs`' '--profile tiny --no-default-features --example tiny' "$tiny" "$hello_tiny" "$packages_none"
  row 'example 01 (pool)' '--profile tiny --no-default-features --example 01_run_in_pool' "$ex01" "$hello_tiny" "$packages_none"
  row 'example 02 (client, demo server, pool)' '--profile tiny --no-default-features --example 02_fetch_and_analyze' "$ex02" "$hello_tiny" "$packages_none"
  row 'example 03 (02 plus resizing)' '--profile tiny --no-default-features --features image --example 03_download_and_resize' "$ex03" "$hello_tiny" "$packages_image"
  row 'example 05 (the pipeline)' '--profile dist --no-default-features --features image --example 05_pipeline' "$ex05_dist" "$hello_dist" "$packages_image"
  row '`tandem` CLI, without TLS' '--profile dist --no-default-features --features cli' "$cli_dist_no_tls" "$hello_dist" "$packages_cli"
  row '`tandem` CLI, with `tls`, without `celery`' '--profile dist --no-default-features --features cli,tls' "$cli_dist_tls" "$hello_dist" "$packages_cli_tls"
  row '`tandem` CLI, default features (`tls` and `celery`)' '--profile dist' "$cli_dist" "$hello_dist" "$packages_default"
  echo
  echo "The CLI without TLS is $(mb "$cli_dist_no_tls"), with TLS $(mb "$cli_dist_tls"), with TLS and the broker (the default) $(mb "$cli_dist") (1 MB = 1,000,000 B)."
  echo
  echo '| feature | measured as | costs |'
  echo '|---|---|---|'
  cost tls 'tiny.rs with `--features tls`, minus tiny.rs' "$tiny_tls" "$tiny"
  cost tls 'the CLI (dist) with `cli,tls`, minus the CLI with `cli` alone' "$cli_dist_tls" "$cli_dist_no_tls"
  cost celery 'the CLI (dist) with default features, minus the CLI with `cli,tls`: the Redis client, the Celery protocol, the worker, serde_json' "$cli_dist" "$cli_dist_tls"
  cost image 'tiny.rs with `--features image`, minus tiny.rs (enabled, never called)' "$tiny_image" "$tiny"
  cost image 'example 03 (tiny), minus example 02: the same fetch-and-pool program plus decode, resize, encode' "$ex03" "$ex02"
  cost cli 'the CLI without `tls` (dist), minus example 05 (dist): arguments, progress, summary, timeline on the same pipeline' "$cli_dist_no_tls" "$ex05_dist"
  echo
  echo "Packages: \`cargo tree -e normal --prefix none\` with the same features, counted once each, tandem included: $packages_none without features, $packages_tls with \`tls\`, $packages_image with \`image\`, $packages_cli with \`cli\`, $packages_cli_tls with \`cli,tls\`, $packages_default with the defaults."
)"

if [[ "${1:-}" == "--print" ]]; then
  echo "$table"
  exit 0
fi

begin='<!-- size-table: generated by scripts/size-table.sh, do not edit by hand -->'
end='<!-- size-table: end -->'
if ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
  echo "$doc: the size-table markers are missing" >&2
  exit 1
fi
tmp="$(mktemp)"
awk -v begin="$begin" -v end="$end" -v table="$table" '
  $0 == begin { print; print table; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$doc" >"$tmp"
mv "$tmp" "$doc"
echo "rewrote the table in docs/tiny-binaries.md"
