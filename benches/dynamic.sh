#!/usr/bin/env bash
# Wall time of N callHackage sites three ways, side by side in one run, all
# with the modern Nix (Debian sid's, through scripts/modern-nix.sh):
#
#   nixpkgs-style  one serial IFD per site (a tar pass each, then cabal2nix)
#   IFD batch      `ifd-batch rewrite`: the batch's two barriers
#   dynamic        `ifd-batch rewrite --backend dynamic --target default.nix:sites`:
#                  no IFD at evaluation; the producers instantiate at build time
#
# For each: `eval` (every drvPath of `sites`; for dynamic, the placeholders,
# with allow-import-from-derivation = false) and `eval+build` (`nix build` of
# every site), each cold: a fresh `salt` in the test world, so every
# derivation is new and all the work really happens. On the realistic
# synthetic index of benches/nixlib-eval.sh, with a `fetchurl` that builds (as
# fixtures/dynamic does: the world's Hackage hashes are fake). Finally the
# three variants' output paths are compared at one salt.
#
#   benches/dynamic.sh [--sizes "10 50"] [--smoke]
#
# --smoke: N = 2 on a tiny index, debug build (benches/lib.sh); still needs
# the modern Nix (`scripts/modern-nix.sh ensure` makes it, once).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10 50"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --smoke) SMOKE=1 sizes=2; shift ;;
    *) echo "usage: $0 [--sizes \"10 50\"] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
bench_build
bench_index
work=$(bench_dir dynamic)
scripts/modern-nix.sh ensure > /dev/null
modern() { "$root/scripts/modern-nix.sh" run "$@"; }

salt() { echo "\"dyn-$1-$(date +%s%N)\"" > "$2/salt.nix"; }

# repo N: the three variants' repositories (each its own git work tree, the
# store copy of the dynamic one is just its own directory).
repo() {
  local n=$1 d=$work/$1
  rm -rf "$d"; mkdir -p "$d/orig"
  # N distinct packages spread over the index (as nixlib-eval.sh picks them).
  bench_pick "$n" > "$d/pins.txt"
  {
    echo "self: super: {"
    while read -r name version; do echo "  \"$name\" = self.callHackage \"$name\" \"$version\" { };"; done < "$d/pins.txt"
    echo "}"
  } > "$d/orig/overlay.nix"
  cat > "$d/orig/default.nix" <<NIX
{ salt ? import ./salt.nix }:
let
  pkgs = import $root/fixtures/mini-nixpkgs {
    all-cabal-hashes = $index;
    inherit salt;
    overlays = [ (_: prev: { fetchurl = { url, ... }: prev.writeText (baseNameOf url) url; }) ];
  };
  hp = pkgs.haskellPackages.override { overrides = import ./overlay.nix; };
in
{ sites = builtins.mapAttrs (n: _: hp.\${n}) (import ./overlay.nix { } { }); }
NIX
  salt setup "$d/orig"
  for v in ifd dyn; do cp -r "$d/orig" "$d/$v"; done
  # The dynamic backend's store copy holds what git tracks.
  for v in orig ifd dyn; do (cd "$d/$v" && git init -q && git add -A); done
}

# time DIR CMD... -> seconds (stdout to DIR/out.txt, stderr to DIR/log.txt)
time_in() {
  local dir=$1 t0 t1; shift
  t0=$(now)
  (cd "$dir" && modern "$@" > out.txt 2> log.txt) ||
    { echo "FAILED: $* (see $dir/log.txt)" >&2; tail -5 "$dir/log.txt" >&2; bench_sanity "$* failed"; }
  t1=$(now); secs "$t0" "$t1"
}

echo "# dynamic: $(nproc) cores, $(cat "$(scripts/modern-nix.sh path)/.ifd-batch-modern-nix"), index $(du -m "$index" | cut -f1) MB gz"
printf '%4s  %-14s %9s %11s  %s\n' N variant eval eval+build "eval, IFD disabled"
for n in $sizes; do
  repo "$n"
  d=$work/$n
  attrs=$(awk '{ print "sites." $1 }' "$d/pins.txt")
  (cd "$d/ifd" && modern "$bin" rewrite . --write > rewrite.txt 2>&1) ||
    { tail -5 "$d/ifd/rewrite.txt" >&2; exit 1; }
  t0=$(now)
  (cd "$d/dyn" && modern "$bin" rewrite . --backend dynamic --target default.nix:sites --write > rewrite.txt 2>&1) ||
    { tail -5 "$d/dyn/rewrite.txt" >&2; exit 1; }
  t1=$(now); rewrite_secs=$(secs "$t0" "$t1")
  for v in orig ifd dyn; do
    dir=$d/$v
    if [ $v = dyn ]; then file=nix/ifd-batch-dynamic.nix; else file=default.nix; fi
    salt "$n-$v-eval" "$dir"
    if [ $v = dyn ]; then
      e=$(time_in "$dir" nix eval --json -j auto -f "$file" sites --option allow-import-from-derivation false)
    else
      e=$(time_in "$dir" nix eval --json -j auto -f "$file" sites --apply 'builtins.mapAttrs (_: d: d.drvPath)')
    fi
    salt "$n-$v-noifd" "$dir"
    if (cd "$dir" && modern nix eval --json -f "$file" sites --apply 'builtins.mapAttrs (_: toString)' \
      --option allow-import-from-derivation false > /dev/null 2>&1); then noifd=passes; else noifd=fails; fi
    salt "$n-$v-build" "$dir"
    # shellcheck disable=SC2086
    b=$(time_in "$dir" nix build --no-link --print-out-paths -j auto -f "$file" $attrs)
    cp "$dir/out.txt" "$dir/outs.txt"
    case $v in orig) name=nixpkgs-style ;; ifd) name="IFD batch" ;; dyn) name=dynamic ;; esac
    printf '%4s  %-14s %8ss %10ss  %s\n' "$n" "$name" "$e" "$b" "$noifd"
  done
  # The same outputs: the three at the nixpkgs-style build's salt (warm).
  cp "$d/orig/salt.nix" "$d/ifd/salt.nix"; cp "$d/orig/salt.nix" "$d/dyn/salt.nix"
  # shellcheck disable=SC2086
  (cd "$d/ifd" && modern nix build --no-link --print-out-paths -j auto -f default.nix $attrs > same.txt 2> /dev/null)
  # shellcheck disable=SC2086
  (cd "$d/dyn" && modern nix build --no-link --print-out-paths -j auto -f nix/ifd-batch-dynamic.nix $attrs > same.txt 2> /dev/null)
  if cmp -s "$d/orig/outs.txt" "$d/ifd/same.txt" && cmp -s "$d/orig/outs.txt" "$d/dyn/same.txt"; then
    same="identical output paths ($(wc -l < "$d/orig/outs.txt") packages)"
  else
    same="DIFFERENT output paths"
    bench_sanity "N = $n: different output paths"
  fi
  echo "      N = $n: $same; rewrite --backend dynamic took ${rewrite_secs}s (once)"
done
