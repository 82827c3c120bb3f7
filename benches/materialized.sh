#!/usr/bin/env bash
# Evaluation wall time of N callHackage sites, side by side in one run:
#   nixpkgs-style      one serial IFD per site (a pass over the index each)
#   batch, tar         `rewrite --extractor tar`: one GNU tar pass, then the
#                      generators in parallel
#   batch, seekable    `rewrite` with `ifd-batch` in the package set (the
#                      default then): the extraction reads only around the
#                      members, through the seekable index
#   materialized       `rewrite --backend materialized`: no IFD
# each cold (fresh derivations: a new `salt` in the test world), warm (the
# same evaluation again), after ONE callHackage is added, and after one
# entry's version is changed (both at the warm salt: what a developer's next
# evaluation costs), on the realistic synthetic index of
# benches/nixlib-eval.sh. The seekable index is built once, first (a
# derivation of the index alone, like the index's own fetch: the salt does
# not rebuild it); its size and build time are printed.
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

rm -rf "$work"; mkdir -p "$work/orig" "$work/tool/bin"
cp "$bin" "$work/tool/bin/ifd-batch"
# In the store once, as a package set's `ifd-batch` is (a path would be
# hashed again at every evaluation).
tool=$(nix-store --add "$work/tool")
# N + 1 distinct packages spread over the index (as nixlib-eval.sh picks
# them): N in the overlay, the last one added later; and another version of
# the first package, for the changed entry.
bench_pick $((n + 1)) > "$work/picked.txt"
head -n "$n" "$work/picked.txt" > "$work/pins.txt"
read -r extra_name extra_ver < <(tail -n 1 "$work/picked.txt")
read -r first_name first_ver < "$work/pins.txt"
other_ver=$(awk -F/ -v p="$first_name" -v v="$first_ver" '$2 == p && $3 != v { print $3; exit }' "$cabals")
if [ -z "$other_ver" ]; then echo "no second version of $first_name in the index" >&2; exit 1; fi
{
  echo "self: super: {"
  while read -r name version; do echo "  \"$name\" = self.callHackage \"$name\" \"$version\" { };"; done < "$work/pins.txt"
  echo "}"
} > "$work/orig/overlay.nix"
cat > "$work/orig/default.nix" <<NIX
{ salt ? "" }:
let
  pkgs = import $root/fixtures/mini-nixpkgs { all-cabal-hashes = $index; inherit salt; ifd-batch = builtins.storePath "$tool"; };
  hp = pkgs.haskellPackages.override { overrides = import ./overlay.nix; };
in
{ sites = builtins.mapAttrs (n: _: hp.\${n}) (import ./overlay.nix { } { }); }
NIX
for v in tar seek mat; do cp -r "$work/orig" "$work/$v"; done
(cd "$work" && git init -q)
"$bin" rewrite "$work/tar" --extractor tar --write > /dev/null
"$bin" rewrite "$work/seek" --write > /dev/null
# The seekable index, once (as nixpkgs would substitute or build it once per
# all-cabal-hashes version).
t0=$(now)
seekable=$(cd "$work/seek" && nix-build --no-out-link -E \
  "let pkgs = import $root/fixtures/mini-nixpkgs { all-cabal-hashes = $index; ifd-batch = builtins.storePath \"$tool\"; }; \
   in (import ./nix/ifd-batch.nix \"overlay.nix\" pkgs.haskellPackages).seekable" 2> "$work/seekable.log")
t1=$(now); s_drv=$(secs "$t0" "$t1")
# What that derivation runs, timed here (the derivation may be cached from
# an earlier run with the same binary).
t0=$(now)
"$bin" index "$index" --out "$work/seekable.idx" 2> /dev/null
t1=$(now); s_build=$(secs "$t0" "$t1")
s_size=$(stat -c %s "$seekable")
i_size=$(stat -c %s "$index")

t0=$(now)
"$bin" rewrite "$work/mat" --backend materialized --target default.nix:sites --write > /dev/null
t1=$(now); m=$(secs "$t0" "$t1")


run() { # dir salt extra... -> seconds
  local dir=$1 salt=$2 t0 t1; shift 2
  t0=$(now)
  if ! (cd "$dir" && nix-instantiate --eval --strict --json --read-write-mode -j auto "$@" \
    -E "builtins.mapAttrs (n: v: v.drvPath) (import ./. { salt = \"$salt\"; }).sites" > out.json 2> log.txt); then
    bench_sanity "evaluation failed in $dir (see $dir/log.txt)"
  fi
  t1=$(now); secs "$t0" "$t1"
}
# Add one callHackage / change one entry's version, and let the rewrite
# (the pre-commit hook's job) route it.
add_entry() { # dir
  sed -i '$d' "$1/overlay.nix"
  printf '  "%s" = self.callHackage "%s" "%s" { };\n}\n' "$extra_name" "$extra_name" "$extra_ver" >> "$1/overlay.nix"
}
change_entry() { # dir
  sed -i "s|\"$first_name\" \"$first_ver\"|\"$first_name\" \"$other_ver\"|" "$1/overlay.nix"
}
reroute() { # dir
  [ "${1##*/}" = orig ] || "$bin" rewrite "$1" --write > /dev/null
}

declare -A cold warm added changed
salt=mat-$(date +%s%N)
for v in orig tar seek mat; do
  cold[$v]=$(run "$work/$v" "$salt-$v")
  warm[$v]=$(run "$work/$v" "$salt-$v")
done
for v in orig tar seek mat; do
  add_entry "$work/$v"; reroute "$work/$v"
  added[$v]=$(run "$work/$v" "$salt-$v")
  change_entry "$work/$v"; reroute "$work/$v"
  changed[$v]=$(run "$work/$v" "$salt-$v")
done

echo "# materialized: N = $n, $(nproc) cores, $(nix-instantiate --version); materializing took ${m}s (rewrite --backend materialized, batch built once)"
echo "# seekable index: $(awk -v b="$s_size" 'BEGIN { printf "%.1f MB", b / 1e6 }') in the store for a $(awk -v b="$i_size" 'BEGIN { printf "%.1f MB", b / 1e6 }') index, built in ${s_build}s by \`ifd-batch index\` (its derivation: ${s_drv}s here; once per index version; no store references)"
echo "# +1 entry / 1 changed: one callHackage added, then one entry's version changed, each evaluated at the warm salt (the next evaluation a developer waits for); the materialized backend builds its new file at rewrite time (not counted)"
printf '%-18s %9s %9s %9s %9s %8s %8s %s\n' variant cold warm "+1 entry" "1 changed" "cold x" "+1 x" "IFD disabled"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
fraction() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
row() { # label variant ifd-note
  printf '%-18s %8ss %8ss %8ss %8ss %8s %8s %s\n' "$1" "${cold[$2]}" "${warm[$2]}" "${added[$2]}" "${changed[$2]}" \
    "$(ratio "${cold[orig]}" "${cold[$2]}")" "$(fraction "${added[$2]}" "${added[orig]}")" "$3"
}
if run "$work/mat" "$salt-m2" --option allow-import-from-derivation false > /dev/null; then noifd=passes; else noifd=FAILS; bench_sanity "materialized needs IFD"; fi
row nixpkgs-style orig "fails (IFD)"
row "batch, tar" tar "fails (IFD)"
row "batch, seekable" seek "fails (IFD)"
row materialized mat "$noifd"
echo "(cold x: nixpkgs-style cold / this; +1 x: this +1 entry / nixpkgs-style +1 entry; goals: seekable cold >= 80x, +1 <= 0.2x)"
# Same drvPaths: every variant at the nixpkgs-style run's salt (warm for it,
# so no second cold nixpkgs-style run).
run "$work/orig" "$salt-orig" > /dev/null; cp "$work/orig/out.json" "$work/a.json"
for v in tar seek mat; do
  run "$work/$v" "$salt-orig" > /dev/null
  if cmp -s "$work/a.json" "$work/$v/out.json"; then echo "drvPaths: $v = nixpkgs-style ($((n + 1)) packages)"; else echo "drvPaths: $v DIFFERENT"; bench_sanity "$v drvPaths differ"; fi
done
