#!/usr/bin/env bash
# The oracle: the test world rebuilt from a REAL nixpkgs tree — its `lib/` and
# its Haskell infrastructure (haskell-modules/{make-package-set,default}.nix,
# haskell-modules/lib/{compose,default}.nix, top-level/splice.nix) — with the
# world's stand-ins only for what cannot build offline (stdenv, the generic
# builder, cabal2nix, GHC, fetchers). Then the Nix tests run in it: every
# equivalence case, the isolation and fidelity checks, the bundled example
# and the rewrite tests.
#
#   scripts/oracle.sh [NIXPKGS] [-- CARGO-TEST-ARGS...]
#
# NIXPKGS: a nixpkgs checkout (default: $IFD_BATCH_NIXPKGS, else .oracle/nixpkgs,
# an ignored folder). nixpkgs' files are copied into target/oracle/ at run
# time, never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

src=${IFD_BATCH_NIXPKGS:-.oracle/nixpkgs}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then src=$1; shift; fi
[ "${1:-}" != "--" ] || shift

files=(
  pkgs/development/haskell-modules/make-package-set.nix
  pkgs/development/haskell-modules/default.nix
  pkgs/development/haskell-modules/lib/compose.nix
  pkgs/development/haskell-modules/lib/default.nix
  pkgs/top-level/splice.nix
)
for f in lib/default.nix "${files[@]}"; do
  [ -f "$src/$f" ] || { echo "oracle: $src/$f is missing (is $src a nixpkgs tree?)" >&2; exit 2; }
done

tree=target/oracle/nixpkgs
rm -rf "$tree"
mkdir -p "$tree"
cp -r "$src/lib" "$tree/lib"
for f in "${files[@]}"; do
  mkdir -p "$tree/$(dirname "$f")"
  cp "$src/$f" "$tree/$f"
done
# make-package-set.nix calls ./generic-builder.nix: the world's stand-in.
cp fixtures/mini-nixpkgs/haskell/generic-builder.nix "$tree/pkgs/development/haskell-modules/"

if [ -e "$src/.git" ]; then where=$(git -C "$src" rev-parse HEAD)
else where=$(cat "$src/SOURCE" 2>/dev/null || echo "unknown commit"); fi
echo "oracle: nixpkgs from $src ($where), lib $(cat "$tree/lib/.version" 2>/dev/null || echo '?')" >&2

export IFD_BATCH_NIXPKGS="$PWD/$tree"
export NIX_CONFIG=${NIX_CONFIG:-$'substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command'}
cargo test --release --test it "$@" -- world:: rewrite_nix:: profile::
