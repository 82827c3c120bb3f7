# Shared by the benchmarks (sourced, not run): the build, the synthetic
# index, and the smoke mode. Everything works from a fresh clone: work files
# go under bench-work/ (gitignored), created here.
#
# Smoke mode (each bench's --smoke; scripts/bench-smoke.sh runs them all):
# the same script at a tiny size, in seconds, to show it still runs. It
# builds the debug binaries (the ones the tests already built), uses a tiny
# index and its own work directory (bench-work/smoke/), times nothing with
# hyperfine, asserts no figure, and turns the scripts' own sanity checks
# (same drvPaths, same output) into failures.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SMOKE=${SMOKE:-0}

# bench_dir NAME: the work directory of a bench (bench-work/NAME, or
# bench-work/smoke/NAME), created.
bench_dir() {
  local d=$root/bench-work/$1
  [ "$SMOKE" = 0 ] || d=$root/bench-work/smoke/$1
  mkdir -p "$d"
  echo "$d"
}

# bench_build: builds ifd-batch and xtask; sets bin and xtask.
bench_build() {
  local profile=release
  if [ "$SMOKE" = 1 ]; then
    profile=debug
    (cd "$root" && cargo build --quiet -p ifd-batch -p xtask)
  else
    (cd "$root" && cargo build --quiet --release -p ifd-batch -p xtask)
  fi
  local target=${CARGO_TARGET_DIR:-$root/target}
  case $target in /*) ;; *) target=$root/$target ;; esac
  bin=$target/$profile/ifd-batch
  xtask=$target/$profile/xtask
}

# bench_index: the realistic synthetic all-cabal-hashes (≈ 100 MB gz,
# generated once), or a tiny one in smoke mode; sets index and cabals (its
# .cabal members, one a line). Needs bench_build first.
bench_index() {
  local dir gen=(--realistic)
  dir=$(bench_dir index)
  [ "$SMOKE" = 0 ] || gen=(--packages 40 --versions 2)
  index=$dir/all-cabal-hashes.tar.gz
  cabals=$dir/cabals.txt
  if [ ! -f "$index" ]; then
    echo "generating the synthetic index (once) ..." >&2
    "$xtask" synth-index --out "$index" "${gen[@]}"
  fi
  if [ ! -f "$cabals" ] || [ "$cabals" -ot "$index" ]; then
    tar -tzf "$index" | grep '\.cabal$' > "$cabals"
  fi
}

# bench_pick N: N distinct packages ("name version"), spread evenly over the
# index.
bench_pick() {
  awk -F/ '!seen[$2]++ { print $2 " " $3 }' "$cabals" \
    | awk -v n="$1" '{ a[NR] = $0 } END { step = int(NR / n); for (i = 0; i < n; i++) print a[1 + i * step] }'
}

# bench_sanity MESSAGE: a sanity check failed (different drvPaths, a
# failed run). A benchmark reports it and goes on; a smoke run fails.
bench_sanity() {
  echo "SANITY: $*" >&2
  [ "$SMOKE" = 0 ] || exit 1
}

# bench_need_hyperfine: hyperfine, or a clear message (smoke mode needs none).
bench_need_hyperfine() {
  command -v hyperfine > /dev/null ||
    { echo "$(basename "$0"): needs hyperfine (cargo install --locked hyperfine); --smoke does not" >&2; exit 2; }
}

export NIX_CONFIG=${NIX_CONFIG:-$'substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command'}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
