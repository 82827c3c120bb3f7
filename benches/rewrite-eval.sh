#!/usr/bin/env bash
# Evaluation wall time before and after `ifd-batch rewrite`, on REWRITTEN code
# (not hand-written batch code): a repository whose overlay has N
# `self.callHackage "name" "version" { }` sites, on the realistic synthetic
# index (≈ 350,000 members). For each N the repository is generated, copied,
# rewritten with `ifd-batch rewrite --write --verify`, and both trees are
# instantiated with `nix-instantiate -j auto`, side by side, each with a
# fresh salt so every build really happens.
#
#   benches/rewrite-eval.sh [--sizes "10 50 200"] [--max-old N] [--smoke]
#
# --max-old N skips the (slow, serial) original evaluation above N sites.
# --smoke: N = 2 on a tiny index, debug build (benches/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10 50 200"
max_old=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --max-old) max_old=$2; shift 2 ;;
    --smoke) SMOKE=1 sizes=2; shift ;;
    *) echo "usage: $0 [--sizes \"10 50 200\"] [--max-old N] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
bench_build
bench_index
work=$(bench_dir rewrite)

pick() { bench_pick "$1"; }
repo() { # n dir: a repository as a user would have it
  local n=$1 d=$2
  rm -rf "$d"; mkdir -p "$d"
  cat > "$d/default.nix" <<NIX
{ salt, pkgs ? import $root/fixtures/mini-nixpkgs { all-cabal-hashes = $index; inherit salt; } }:
let hp = pkgs.haskellPackages.override { overrides = import ./overlay.nix; };
in builtins.listToAttrs (map (name: { inherit name; value = hp.\${name}; }) (builtins.attrNames (import ./overlay.nix { } { })))
NIX
  {
    echo "self: super: {"
    pick "$n" | while read -r name version; do echo "  \"$name\" = self.callHackage \"$name\" \"$version\" { };"; done
    echo "}"
  } > "$d/overlay.nix"
  git -C "$d" init -q
}
inst() { # dir salt -> seconds
  local t0 t1
  t0=$(now)
  nix-instantiate --read-write-mode -j auto "$1" --argstr salt "$2" > "$1.out" 2> "$1.log"
  t1=$(now)
  secs "$t0" "$t1"
}

nix-instantiate --eval --read-write-mode -E "builtins.seq (builtins.path { path = $index; name = \"all-cabal-hashes.tar.gz\"; }) null" > /dev/null
echo "# rewrite-eval: $(nproc) cores, $(nix-instantiate --version), index $(du -m "$index" | cut -f1) MB gz"
printf '%6s  %12s  %12s  %8s  %s\n' N before after speedup "same drvs"
declare -A after_t
for n in $sizes; do
  repo "$n" "$work/before-$n"
  rm -rf "$work/after-$n"; cp -r "$work/before-$n" "$work/after-$n"
  "$bin" rewrite "$work/after-$n" --write > "$work/rewrite-$n.txt"
  grep -q "ifdBatch.callHackage" "$work/after-$n/overlay.nix"
  # One fresh salt for both: their IFD derivations differ (per-package
  # components vs one extraction), so neither reuses the other's builds,
  # and their final drvPaths can be compared.
  salt="rw-$n-$(date +%s%N)"
  a=$(inst "$work/after-$n" "$salt")
  after_t[$n]=$a
  if [ "$n" -le "$max_old" ]; then
    b=$(inst "$work/before-$n" "$salt")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1fx", b / a }')
    if cmp -s <(sort "$work/before-$n.out") <(sort "$work/after-$n.out"); then same=yes; else same=NO; bench_sanity "N = $n: different drvPaths"; fi
  else
    b="(skipped)"; ratio="-"; same="-"
  fi
  printf '%6s  %11ss  %11ss  %8s  %s\n' "$n" "$b" "$a" "$ratio" "$same"
done
first=${sizes%% *}; last=${sizes##* }
echo "after-rewrite t($last)/t($first) = $(awk -v a="${after_t[$first]}" -v b="${after_t[$last]}" 'BEGIN { printf "%.2f", b / a }')"
