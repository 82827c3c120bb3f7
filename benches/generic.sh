#!/usr/bin/env bash
# Generic import-from-derivation batching: a file reading N generated
# inputs (each build sleeping --delay seconds), evaluated as written (N
# serial barriers) and after `ifd-batch rewrite` (one barrier), side by side
# in one run, with the physical limit for reference. The builds sleep rather
# than compute, so Nix may run all N at once (`--jobs`, default N: the limit
# is then one build's time); `--jobs auto` gives one per core.
#
#   benches/generic.sh [--n 8] [--delay 1] [--jobs N|auto] [--smoke]
#
# --smoke: N = 2, no delay, debug build (benches/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=8 delay=1 jobs=
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --smoke) SMOKE=1 n=2 delay=0; shift ;;
    *) echo "usage: $0 [--n N] [--delay S] [--jobs N|auto] [--smoke]" >&2; exit 2 ;;
  esac
done
jobs=${jobs:-$n}
slots=$([ "$jobs" = auto ] && nproc || echo "$jobs")
. benches/lib.sh
bench_build
work=$(bench_dir generic)
rm -rf "$work"; mkdir -p "$work/orig"
{
  echo "{ salt ? \"\" }:"
  echo "let"
  echo "  pkgs = import $root/fixtures/mini-nixpkgs { inherit salt; };"
  for i in $(seq 1 "$n"); do
    echo "  input$i = pkgs.runCommand \"input$i\" { } \"sleep $delay; echo $i > \$out\";"
  done
  for i in $(seq 1 "$n"); do echo "  value$i = builtins.readFile input$i;"; done
  echo "in"
  echo "  builtins.concatStringsSep \",\" [ $(for i in $(seq 1 "$n"); do printf 'value%s ' "$i"; done)]"
} > "$work/orig/default.nix"
cp -r "$work/orig" "$work/batch"
(cd "$work" && git init -q)
"$bin" rewrite "$work/batch" --write > /dev/null

run() { # dir salt -> seconds
  local t0 t1
  t0=$(now)
  (cd "$1" && nix-instantiate --eval --strict --read-write-mode -j "$jobs" -E "import ./. { salt = \"$2\"; }" > out.txt 2> log.txt)
  t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
salt=generic-$(date +%s%N)
o=$(run "$work/orig" "$salt-o")
b=$(run "$work/batch" "$salt-b")
cmp -s "$work/orig/out.txt" "$work/batch/out.txt" && same=yes || { same=NO; bench_sanity "different values"; }
echo "# generic: N = $n inputs, ${delay}s each (sleeping), $(nproc) cores, -j $jobs, $(nix-instantiate --version)"
printf '%-22s %8s\n' variant seconds
printf '%-22s %7ss\n' "as written (N IFD)" "$o"
printf '%-22s %7ss\n' "ifd-batch (1 barrier)" "$b"
printf '%-22s %7ss\n' "limit: ceil(N/jobs)×delay" "$(awk -v n="$n" -v c="$slots" -v d="$delay" 'BEGIN { printf "%.2f", int((n + c - 1) / c) * d }')"
echo "speed-up: $(awk -v a="$o" -v b="$b" 'BEGIN { printf "%.1fx", a / b }'); same value: $same"
