#!/usr/bin/env bash
# Latency of the pre-commit hook: `ifd-batch check` with one staged file in a
# repository of thousands of .nix files and a manifest. Target: well under
# 50 ms. Usage: benches/check.sh [FILES] (default 5000) [--smoke]
# (--smoke: 50 files, each command run once without hyperfine, debug build;
# benches/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 n=50; shift ;;
    [0-9]*) n=$1; shift ;;
    *) echo "usage: $0 [FILES] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
[ "$SMOKE" = 1 ] || bench_need_hyperfine
bench_build
work=$(bench_dir "check-$n")
if [ ! -f "$work/.stamp" ] || [ ! -d "$work/.git" ]; then
  rm -rf "$work"; mkdir -p "$work/pkgs"
  # Its own repository (as a user's): inside this checkout, whose
  # .gitignore names bench-work/, the scanner would see no file at all.
  git init -q "$work"
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
cmds=("$bin check overlay.nix nix/ifd-batch.nix" "$bin check --all" "$bin scan --format json .")
if [ "$SMOKE" = 1 ]; then
  for c in "${cmds[@]}"; do
    t0=$(now)
    $c > /dev/null || bench_sanity "$c exited $?"
    echo "$(secs "$t0" "$(now)")s  $c"
  done
else
  hyperfine --warmup 3 --runs 30 -N "${cmds[@]}"
fi
