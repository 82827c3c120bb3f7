#!/usr/bin/env bash
# A modern Nix (Debian sid's nix-bin, 2.34) beside the host's Nix, in an
# isolated root made with mmdebstrap from the host's own Debian mirror. The
# host's Nix and /nix are never touched: the root has its own /nix.
#
#   scripts/modern-nix.sh ensure          make the root (once; cached), print its path
#   scripts/modern-nix.sh path            print the root's path; exit 1 if not made yet
#   scripts/modern-nix.sh run CMD [ARG…]  run CMD inside the root, in the current directory
#   scripts/modern-nix.sh test [ARG…] [-- FILTER…]
#                                         the version matrix: build the test binaries
#                                         here (`cargo test ARG…`), run them inside the
#                                         root (with FILTER…, e.g. `world:: dynamic::`)
#
# `run` bind-mounts /proc, /dev, /dev/pts, /tmp, the project directory and the
# current directory at the same paths, in a private mount namespace (nothing
# stays mounted after it returns). Nix runs as root, without a daemon, with
# ROOT/etc/nix/nix.conf: no sandbox, no build users, no substituters, the
# experimental features the dynamic-derivations backend needs
# (dynamic-derivations ca-derivations recursive-nix) and
# `system-features = recursive-nix`. A NIX_CONFIG in the environment is kept;
# those features are appended to it (`extra-…`).
#
# The root (~240 MB) lives in $IFD_BATCH_MODERN_ROOT, default
# /var/cache/ifd-batch/sid-root (outside the repository, kept between runs).
# Needs root (or sudo): mmdebstrap, mount and chroot do. Extra directories to
# bind (colon-separated): $IFD_BATCH_MODERN_BIND.
set -euo pipefail

project=$(cd "$(dirname "$0")/.." && pwd)
root=${IFD_BATCH_MODERN_ROOT:-/var/cache/ifd-batch/sid-root}
stamp=$root/.ifd-batch-modern-nix

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
die() { echo "modern-nix: $*" >&2; exit 1; }

# The host's own Debian mirror (deb822 sources, else sources.list).
mirror() {
  local m=
  [ -f /etc/apt/sources.list.d/debian.sources ] &&
    m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  [ -n "$m" ] || [ ! -f /etc/apt/sources.list ] ||
    m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  echo "${m:-http://deb.debian.org/debian}"
}

nix_conf() {
  cat <<'CONF'
# Written by ifd-batch's scripts/modern-nix.sh.
sandbox = false
build-users-group =
substituters =
experimental-features = nix-command flakes dynamic-derivations ca-derivations recursive-nix
extra-system-features = recursive-nix
CONF
}

ensure() {
  if [ -f "$stamp" ]; then
    echo "$root"
    return
  fi
  as_root mkdir -p "$(dirname "$root")"
  # One maker at a time (parallel tests may all ask).
  exec 9>"${TMPDIR:-/tmp}/ifd-batch-modern-nix.lock"
  flock 9
  if [ ! -f "$stamp" ]; then
    if ! command -v mmdebstrap >/dev/null 2>&1; then
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2
    fi
    local tmp=$root.tmp.$$
    as_root rm -rf "$tmp"
    # The archive's sid Release file may be past its Valid-Until date.
    echo "modern-nix: making a Debian sid root with nix-bin in $root (once) ..." >&2
    as_root mmdebstrap --quiet --variant=minbase \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      --include=nix-bin,git sid "$tmp" "$(mirror)" >&2 ||
      { as_root rm -rf "$tmp"; die "mmdebstrap failed (is $(mirror) reachable?)"; }
    as_root mkdir -p "$tmp/etc/nix" "$tmp/nix"
    nix_conf | as_root tee "$tmp/etc/nix/nix.conf" >/dev/null
    as_root rm -rf "$root"
    as_root mv "$tmp" "$root"
    local version
    version=$(in_root nix --version) || die "nix does not run in $root"
    echo "$version" | as_root tee "$stamp" >/dev/null
    echo "modern-nix: $version ready" >&2
  fi
  flock -u 9
  echo "$root"
}

run() {
  [ -f "$stamp" ] || die "no modern Nix root at $root: run \`$0 ensure\` first"
  [ $# -gt 0 ] || die "usage: $0 run CMD [ARG...]"
  in_root "$@"
}

# Run "$@" inside the root, in a private mount namespace.
in_root() {
  local binds=(/proc /dev /dev/pts /tmp "$project" "$PWD")
  local extra
  IFS=: read -r -a extra <<<"${IFD_BATCH_MODERN_BIND:-}"
  binds+=("${extra[@]}")
  local features=$'extra-experimental-features = nix-command flakes dynamic-derivations ca-derivations recursive-nix\nextra-system-features = recursive-nix'
  as_root env NIX_CONFIG="${NIX_CONFIG:+$NIX_CONFIG$'\n'}$features" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    unshare --mount --propagation private \
    bash -euc '
      root=$1 cwd=$2 n=$3; shift 3
      for ((i = 0; i < n; i++)); do
        d=$1; shift
        [ -n "$d" ] && [ -d "$d" ] || continue
        mkdir -p "$root$d"
        mount --rbind "$d" "$root$d"
      done
      exec chroot "$root" /usr/bin/env -C "$cwd" "$@"
    ' modern-nix "$root" "$PWD" "${#binds[@]}" "${binds[@]}" "$@"
}

# The version matrix: the test executables, built on the host, run inside the
# root, so that they, the ifd-batch binary they start and every Nix command
# use the modern Nix. Arguments as for `cargo test`: before `--` they choose
# what to build (e.g. `--test it`), after it they go to every test executable
# (e.g. `world:: dynamic::`, test paths to run).
matrix() {
  ensure >/dev/null
  local cargo_args=() test_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cargo_args+=("$1"); shift; done
  [ $# -eq 0 ] || { shift; test_args=("$@"); }
  local exes
  exes=$(cd "$project" && cargo test --no-run --message-format=json "${cargo_args[@]}" |
    grep -E '"profile":\{[^}]*"test":true' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | sort -u)
  [ -n "$exes" ] || die "no test executables (cargo test --no-run ${cargo_args[*]})"
  echo "modern-nix: $(cat "$stamp") runs: $(echo "$exes" | xargs -n1 basename | tr '\n' ' ')${test_args[*]:+-- ${test_args[*]}}" >&2
  local status=0 exe
  for exe in $exes; do
    (cd "$project" && run env -u NIX_CONFIG CI="${CI:-}" IFD_BATCH_NIX=modern "$exe" "${test_args[@]}") || status=1
  done
  return $status
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  ensure) ensure ;;
  path) [ -f "$stamp" ] && echo "$root" ;;
  run) run "$@" ;;
  test) matrix "$@" ;;
  *) echo "usage: $0 ensure | path | run CMD [ARG...] | test [CARGO TEST ARGS...] [-- FILTER...]" >&2; exit 2 ;;
esac
