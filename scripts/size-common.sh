# Shared by scripts/size-table.sh and scripts/size-budget.sh: build one
# binary and print its size in bytes. Source this file; it defines functions
# only.
#
# Sizes are of the file cargo writes: the `tiny` and `dist` profiles strip
# it (Cargo.toml), so there is no separate strip step.

# The repository root, whatever directory the caller runs from.
size_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# built_size PROFILE CARGO-BUILD-ARGS...: builds tandem with `--profile
# PROFILE` and the given arguments (one binary target and its features), and
# prints the size in bytes of the executable cargo reports.
built_size() {
  (cd "$size_root" && built_size_here "$@")
}

# built_size_here PROFILE CARGO-BUILD-ARGS...: the same, for the package in
# the current directory.
built_size_here() {
  local profile="$1"
  shift
  local executable
  executable="$(cargo build --quiet --profile "$profile" "$@" \
      --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
  if [[ -z "$executable" ]]; then
    echo "size: cargo build --profile $profile $* produced no executable" >&2
    return 1
  fi
  stat -c %s "$executable"
}

# hello_size PROFILE: the size of size/hello, a hello world, built with the
# same toolchain and PROFILE. Its own workspace; its target directory sits
# beside tandem's so repeated runs are incremental.
hello_size() {
  local profile="$1"
  local target="${CARGO_TARGET_DIR:-$size_root/target}/size-hello"
  (cd "$size_root/size/hello" && CARGO_TARGET_DIR="$target" built_size_here "$profile")
}

# package_count CARGO-TREE-ARGS...: how many packages (tandem included) a
# build with these features compiles: normal dependencies, this machine's
# target.
package_count() {
  (cd "$size_root" && cargo tree --quiet -e normal --prefix none "$@") |
    sed 's/ (\*)$//' | sort -u | grep -c .
}
