#!/usr/bin/env bash
# Evaluation wall time before and after `ifd-batch rewrite`, on REWRITTEN code
# (not hand-written batch code): a repository whose overlay has N
# `self.callHackage "name" "version" { }` sites, on the realistic synthetic
# index (≈ 350,000 members). For each N the repository is generated, copied,
# rewritten with `ifd-batch rewrite --write --verify`, and both trees are
# instantiated with `nix-instantiate -j auto`, side by side, each with a
# fresh salt so every build really happens.
#
#   benches/rewrite-eval.sh [--sizes "10 50 200"] [--max-old N]
#
# --max-old N skips the (slow, serial) original evaluation above N sites.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10 50 200"
max_old=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --max-old) max_old=$2; shift 2 ;;
    *) echo "usage: $0 [--sizes \"10 50 200\"] [--max-old N]" >&2; exit 2 ;;
  esac
done
export NIX_CONFIG=${NIX_CONFIG:-$'substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command'}
root=$PWD
work=$root/bench-work/rewrite
index=$root/bench-work/index/all-cabal-hashes.tar.gz
mkdir -p "$work" "$(dirname "$index")"
cargo build --release -q
bin=$root/target/release/ifd-batch
if [ ! -f "$index" ]; then
  echo "generating the realistic index (once) ..." >&2
  cargo xtask synth-index --out "$index" --realistic
fi
cabals=$root/bench-work/index/cabals.txt
[ -f "$cabals" ] && [ "$cabals" -nt "$index" ] || tar -tzf "$index" | grep '\.cabal$' > "$cabals"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
pick() { # N distinct packages spread over the index
  awk -F/ '!seen[$2]++ { print $2 " " $3 }' "$cabals" \
    | awk -v n="$1" '{ a[NR] = $0 } END { step = int(NR / n); for (i = 0; i < n; i++) print a[1 + i * step] }'
}
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
    if cmp -s <(sort "$work/before-$n.out") <(sort "$work/after-$n.out"); then same=yes; else same=NO; fi
  else
    b="(skipped)"; ratio="-"; same="-"
  fi
  printf '%6s  %11ss  %11ss  %8s  %s\n' "$n" "$b" "$a" "$ratio" "$same"
done
first=${sizes%% *}; last=${sizes##* }
echo "after-rewrite t($last)/t($first) = $(awk -v a="${after_t[$first]}" -v b="${after_t[$last]}" 'BEGIN { printf "%.2f", b / a }')"
