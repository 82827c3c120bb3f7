#!/usr/bin/env bash
# Evaluation wall time of N callHackage sites, nixpkgs-style vs nixlib's batch,
# on a realistic synthetic all-cabal-hashes (≈ 175,000 versions, ≈ 100 MB gz).
#
#   benches/nixlib-eval.sh [--sizes "10 50 200"] [--max-old N] [--no-cold] [--smoke]
#
# --smoke: N = 2 on a tiny index, debug build (benches/lib.sh).
#
# - The index is generated once into bench-work/index/ (gitignored) with
#   `cargo xtask synth-index --realistic`.
# - For each N, an overlay with N `callHackage` sites (N distinct packages
#   spread over the index) is instantiated with `nix-instantiate -j auto`,
#   through the batch then nixpkgs-style, side by side. Each N uses a fresh
#   `salt` in the test world, so every derivation is new and all the work
#   (tar passes, cabal2nix runs) really happens in both styles; the two
#   styles share no IFD derivation, and must give the same drvPaths.
# - nixpkgs-style runs with N > --max-old (default: no limit) are skipped and
#   reported as such.
# - Incremental: with the N-entry overlay built, ONE entry is added (the
#   same salt, so everything else is warm) and evaluated again, both styles:
#   derivations built (counted from Nix's `building` lines) and wall time.
# - Finally: the batch's one-pass extraction of the 2×max(N) members, timed
#   as a plain `tar` command (what the extraction derivation runs), against
#   one `gzip -dc` of the archive. All timings are wall clock: other load on
#   the machine shows in them.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="10 50 200"
max_old=1000000
no_cold=
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --max-old) max_old=$2; shift 2 ;;
    --no-cold) no_cold=1; shift ;;
    --smoke) SMOKE=1 sizes=2; shift ;;
    *) echo "usage: $0 [--sizes \"10 50 200\"] [--max-old N] [--no-cold] [--smoke]" >&2; exit 2 ;;
  esac
done

. benches/lib.sh
bench_build
bench_index
work=$(bench_dir nixlib)

max_n=0
for n in $sizes; do [ "$n" -gt "$max_n" ] && max_n=$n; done

pick() { bench_pick "$1"; }

# One package never among pick's (its second name; pick takes the first,
# then every step-th): the entry the incremental run adds.
extra() {
  awk -F/ '!seen[$2]++ { n++; if (n == 2) { print $2 " " $3; exit } }' "$cabals"
}

# An overlay with N callHackage sites (N+1 with a second argument: one
# added); style selects the functions.
overlay() {
  local n=$1 plus=${2:-} f="$work/overlay-$1${2:+-plus}.nix"
  {
    echo "{ pkgs, style, nixlib ? import $root/nixlib }:"
    echo "let"
    echo "  manifest = { hackage = {"
    { pick "$n"; [ -z "$plus" ] || extra; } | while read -r name version; do echo "    \"$name\" = \"$version\";"; done
    echo "  }; };"
    echo "  hp = pkgs.haskellPackages.override { overrides = self: super:"
    echo "    let c = if style == \"batch\" then nixlib.batch { hself = self; inherit manifest; } else self; in"
    echo "    builtins.mapAttrs (name: version: c.callHackage name version { }) manifest.hackage; };"
    echo "in builtins.mapAttrs (name: _: hp.\${name}) manifest.hackage"
  } > "$f"
  echo "$f"
}

run() { # style n salt [plus] -> seconds
  local style=$1 n=$2 salt=$3 plus=${4:-} f t0 t1
  f=$(overlay "$n" "$plus")
  t0=$(now)
  nix-instantiate --read-write-mode -j auto "$f" \
    --arg pkgs "import ./fixtures/mini-nixpkgs { all-cabal-hashes = $index; salt = \"$salt\"; }" \
    --argstr style "$style" > "$work/out-$style-$n$plus.txt" 2> "$work/log-$style-$n$plus.txt"
  t1=$(now)
  echo "$(secs "$t0" "$t1")"
}

# Copy the index into the store once, outside the measurements.
nix-instantiate --eval --read-write-mode -E "builtins.seq (builtins.path { path = $index; name = \"all-cabal-hashes.tar.gz\"; }) null" > /dev/null

builds() { grep -c "^building '" "$work/log-$1.txt" || :; }

echo "# nixlib-eval: $(nproc) cores, $(nix-instantiate --version), index $(du -m "$index" | cut -f1) MB gz, $(wc -l < "$cabals") versions"
printf '%6s  %14s  %10s  %8s  %s\n' N "nixpkgs-style" batch speedup "same drvs"
declare -A batch_t salts
for n in $sizes; do
  salts[$n]="bench-$n-$(date +%s%N)"
  [ -z "$no_cold" ] || continue
  # One fresh salt per N, shared by both styles so their drvPaths can be
  # compared: the styles' IFD derivations differ (per-package components vs
  # one extraction; generators read different paths), so neither reuses the
  # other's builds. The batch runs first.
  salt=${salts[$n]}
  b=$(run batch "$n" "$salt")
  batch_t[$n]=$b
  if [ "$n" -le "$max_old" ]; then
    o=$(run nixpkgs "$n" "$salt")
    ratio=$(awk -v a="$o" -v b="$b" 'BEGIN { printf "%.1fx", a / b }')
    if cmp -s <(sort "$work/out-batch-$n.txt") <(sort "$work/out-nixpkgs-$n.txt"); then same=yes; else same=NO; bench_sanity "N = $n: different drvPaths"; fi
  else
    o="(skipped)"; ratio="-"; same="-"
  fi
  printf '%6s  %13ss  %9ss  %8s  %s\n' "$n" "$o" "$b" "$ratio" "$same"
done
first=${sizes%% *}; last=${sizes##* }
[ -n "$no_cold" ] || echo "batch t($last)/t($first) = $(awk -v a="${batch_t[$first]}" -v b="${batch_t[$last]}" 'BEGIN { printf "%.2f", b / a }')"

# Incremental: the N-entry overlay warm, then one entry added.
echo
echo "# incremental: N entries built, one added ($(extra | tr ' ' '-'))"
printf '%6s  %22s  %22s\n' N "nixpkgs-style builds/s" "batch builds/s"
for n in $sizes; do
  salt=${salts[$n]}-incr
  run batch "$n" "$salt" > /dev/null
  b=$(run batch "$n" "$salt" plus)
  bb=$(builds "batch-${n}plus")
  if [ "$n" -le "$max_old" ]; then
    run nixpkgs "$n" "$salt" > /dev/null
    o=$(run nixpkgs "$n" "$salt" plus)
    ob=$(builds "nixpkgs-${n}plus")
    old="$ob / ${o}s"
  else
    old="(skipped)"
  fi
  printf '%6s  %22s  %22s\n' "$n" "$old" "$bb / ${b}s"
done

# One pass for 2×max_n members vs one decompression.
top=$(head -n 1 "$cabals" | cut -d/ -f1)
pick "$max_n" | awk -v t="$top" '{ print t "/" $1 "/" $2 "/" $1 ".cabal"; print t "/" $1 "/" $2 "/" $1 ".json" }' > "$work/members.txt"
rm -rf "$work/extract" && mkdir -p "$work/extract"
t0=$(now); gzip -dc "$index" > /dev/null; t1=$(now); g=$(secs "$t0" "$t1")
# As nixlib's extraction does: exact names of the members' version directories.
sed 's|/[^/]*$|/|' "$work/members.txt" | LC_ALL=C sort -u > "$work/wanted.txt"
t0=$(now); tar -xzf "$index" -C "$work/extract" --strip-components=1 --files-from="$work/wanted.txt"; t1=$(now); x=$(secs "$t0" "$t1")
t0=$(now); tar --wildcards -xzf "$index" -C "$work/extract" "*/$(sed -n 1p "$work/members.txt" | cut -d/ -f2-)"; t1=$(now); w=$(secs "$t0" "$t1")
echo "gzip -dc of the archive: ${g}s; one-pass exact-name extraction of $(wc -l < "$work/members.txt") members ($(wc -l < "$work/wanted.txt") directories): ${x}s; one --wildcards pass for 1 member: ${w}s"
