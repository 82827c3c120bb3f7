#!/usr/bin/env bash
# Evaluation wall time of N callHackage sites three ways, side by side in one
# run: nixpkgs-style (one serial IFD per site), the IFD batch (`rewrite`),
# and the materialized backend (`rewrite --backend materialized`: no IFD),
# each cold (fresh derivations: a new `salt` in the test world) and warm
# (the same evaluation again), on the realistic synthetic index of
# benches/nixlib-eval.sh.
#
#   benches/materialized.sh [--n 50] [--smoke]
#
# --smoke: N = 2 on a tiny index, debug build (benches/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=50
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --smoke) SMOKE=1 n=2; shift ;;
    *) echo "usage: $0 [--n N] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
bench_build
bench_index
work=$(bench_dir materialized)

rm -rf "$work"; mkdir -p "$work/orig"
# N distinct packages spread over the index (as nixlib-eval.sh picks them).
bench_pick "$n" > "$work/pins.txt"
{
  echo "self: super: {"
  while read -r name version; do echo "  \"$name\" = self.callHackage \"$name\" \"$version\" { };"; done < "$work/pins.txt"
  echo "}"
} > "$work/orig/overlay.nix"
cat > "$work/orig/default.nix" <<NIX
{ salt ? "" }:
let
  pkgs = import $root/fixtures/mini-nixpkgs { all-cabal-hashes = $index; inherit salt; };
  hp = pkgs.haskellPackages.override { overrides = import ./overlay.nix; };
in
{ sites = builtins.mapAttrs (n: _: hp.\${n}) (import ./overlay.nix { } { }); }
NIX
cp -r "$work/orig" "$work/ifd"; cp -r "$work/orig" "$work/mat"
(cd "$work" && git init -q)
"$bin" rewrite "$work/ifd" --write > /dev/null
t0=$(now)
"$bin" rewrite "$work/mat" --backend materialized --target default.nix:sites --write > /dev/null
t1=$(now); m=$(secs "$t0" "$t1")

run() { # dir salt extra... -> seconds
  local dir=$1 salt=$2 t0 t1; shift 2
  t0=$(now)
  (cd "$dir" && nix-instantiate --eval --strict --json --read-write-mode -j auto "$@" \
    -E "builtins.mapAttrs (n: v: v.drvPath) (import ./. { salt = \"$salt\"; }).sites" > out.json 2> log.txt)
  t1=$(now); secs "$t0" "$t1"
}

echo "# materialized: N = $n, $(nproc) cores, $(nix-instantiate --version); materializing took ${m}s (rewrite --backend materialized, batch built once)"
printf '%-16s %10s %10s %8s %s\n' variant cold warm "cold x" "IFD disabled"
salt=mat-$(date +%s%N)
o_cold=$(run "$work/orig" "$salt-o"); o_warm=$(run "$work/orig" "$salt-o")
b_cold=$(run "$work/ifd" "$salt-b"); b_warm=$(run "$work/ifd" "$salt-b")
m_cold=$(run "$work/mat" "$salt-m"); m_warm=$(run "$work/mat" "$salt-m")
if run "$work/mat" "$salt-m2" --option allow-import-from-derivation false > /dev/null; then noifd=passes; else noifd=FAILS; bench_sanity "materialized needs IFD"; fi
ratio() { awk -v a="$o_cold" -v b="$1" 'BEGIN { printf "%.1fx", a / b }'; }
printf '%-16s %9ss %9ss %8s %s\n' nixpkgs-style "$o_cold" "$o_warm" 1.0x "fails (IFD)"
printf '%-16s %9ss %9ss %8s %s\n' "IFD batch" "$b_cold" "$b_warm" "$(ratio "$b_cold")" "fails (IFD)"
printf '%-16s %9ss %9ss %8s %s\n' materialized "$m_cold" "$m_warm" "$(ratio "$m_cold")" "$noifd"
# Same drvPaths: the three variants at one salt.
run "$work/orig" same >/dev/null; cp "$work/orig/out.json" "$work/a.json"
run "$work/mat" same >/dev/null
if cmp -s "$work/a.json" "$work/mat/out.json"; then echo "drvPaths: materialized = nixpkgs-style ($n packages)"; else echo "drvPaths: DIFFERENT"; bench_sanity "materialized drvPaths differ"; fi
