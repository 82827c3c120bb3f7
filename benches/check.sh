#!/usr/bin/env bash
# Latency of the pre-commit hook: `ifd-batch check` with one staged file in a
# repository of thousands of .nix files and a manifest. Target: well under
# 50 ms. Usage: benches/check.sh [FILES] (default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
cargo build --release -q
bin=$PWD/target/release/ifd-batch
work=$PWD/bench-work/check-$n
if [ ! -f "$work/.stamp" ]; then
  rm -rf "$work"; mkdir -p "$work/pkgs"
  for i in $(seq 1 "$n"); do
    d=$work/pkgs/$((i % 100))
    mkdir -p "$d"
    printf '{ lib, stdenv, fetchurl }:\nstdenv.mkDerivation rec {\n  pname = "p%s";\n  version = "1.%s";\n  src = fetchurl { url = "https://example.org/p%s.tar.gz"; sha256 = "0000"; };\n  meta = with lib; { license = licenses.mit; };\n}\n' "$i" "$i" "$i" > "$d/p$i.nix"
  done
  cat > "$work/overlay.nix" <<'NIX'
self: super: {
  aeson = self.callHackage "aeson" "2.1.2.1" { };
  text = self.callHackage "text" "2.0.2" { };
  lens = self.callHackage "lens" "5.2.3" { };
}
NIX
  "$bin" rewrite "$work" --write > /dev/null
  touch "$work/.stamp"
fi
echo "repository: $(find "$work" -name '*.nix' | wc -l) .nix files; staged: overlay.nix"
cd "$work"
hyperfine --warmup 3 --runs 30 -N \
  "$bin check overlay.nix nix/ifd-batch.nix" \
  "$bin check --all" \
  "$bin scan --format json ."
