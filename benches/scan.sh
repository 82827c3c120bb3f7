#!/usr/bin/env bash
# Scan benchmark: `ifd-batch scan` against the rnix parse-only limit and
# against deadnix, side by side in ONE hyperfine run, plus peak memory of the
# scan at two corpus sizes.
#
# What it measures, over the same deterministic corpus (default 25,000 `.nix`
# files, ~120 MB of nixpkgs-like Nix, made by `cargo xtask gen-corpus`):
#   scan        target/release/ifd-batch scan --format json CORPUS  (> /dev/null)
#   parse-only  target/release/xtask parse-only CORPUS
#               walk + read + rnix::Root::parse with the scanner's own walk and
#               rayon strategy, nothing else: the limit for any rnix tool
#   deadnix     deadnix CORPUS (> /dev/null), single-threaded by design
#   scan-1t     the scan with RAYON_NUM_THREADS=1, to compare per core
#               with deadnix (skip with SINGLE_THREAD=0)
# and, with GNU time, the peak RSS of the scan (and of parse-only) over the
# corpus and over a corpus twice its size (2×N files, same generator).
#
# Targets (from the issue): scan <= 1.3x parse-only; scan >= 2x faster than
# deadnix; scan peak memory flat in corpus size (no tree outlives its file).
# The script prints PASS/MISS for each; it is a benchmark, not a test: it
# exits 0 whatever the figures (non-zero only if something could not run).
#
# Run from anywhere:
#   benches/scan.sh                     # defaults below
#   FILES=10000 RUNS=3 benches/scan.sh  # quicker
#   benches/scan.sh --smoke             # 200 files, every tool once, no
#                                       # timing, debug build (benches/lib.sh);
#                                       # deadnix only if installed
# Knobs (environment): FILES (25000), SEED (33405564), RUNS (5), WARMUP (1),
#   SINGLE_THREAD (1), MEMORY (1), IR (1), IR_FILES (2000),
#   WORK (bench-work; gitignored).
# With IR=1 (and valgrind installed) it also counts instructions (callgrind)
# of the three tools over a small corpus of IR_FILES files: a deterministic
# cross-check of the ratios that other load on the machine cannot skew
# (instructions are not time: cache misses and allocation count for less).
# Needs: cargo, hyperfine (cargo-installed into $WORK/tools if missing),
#   GNU time (/usr/bin/time; apt-get installed if missing and root), python3.
# deadnix is cargo-installed (--locked) into $WORK/tools on first run.
# The corpus is generated once per (FILES, SEED, generator source) and kept
# in $WORK/corpus-FILES-SEED with a stamp; a changed generator regenerates it.
# Results: $WORK/results/{hyperfine.json,hyperfine.md,summary.txt}.
# These machines are noisy (2 cores, shared): read the ratios, not the
# absolute times, and rerun when a figure looks off.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
case "${1:-}" in
  "") ;;
  --smoke) SMOKE=1 FILES=${FILES:-200} MEMORY=0 IR=0 WORK=${WORK:-bench-work/smoke} ;;
  *) echo "usage: $0 [--smoke] (knobs: environment, see the top of this file)" >&2; exit 2 ;;
esac
. benches/lib.sh

FILES=${FILES:-25000}
SEED=${SEED:-33405564}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SINGLE_THREAD=${SINGLE_THREAD:-1}
MEMORY=${MEMORY:-1}
IR=${IR:-1}
IR_FILES=${IR_FILES:-2000}
WORK=${WORK:-bench-work}
case $WORK in /*) ;; *) WORK=$ROOT/$WORK ;; esac
TOOLS=$WORK/tools
RESULTS=$WORK/results
mkdir -p "$TOOLS" "$RESULTS"
export PATH=$TOOLS/bin:$PATH

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'scan.sh: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- tools
say "building the binaries"
bench_build
SCAN=$bin
XTASK=$xtask

if [ "$SMOKE" = 1 ]; then
  : # no installs: deadnix is checked if it is there, nothing is timed
elif ! command -v deadnix >/dev/null 2>&1; then
  say "installing deadnix into $TOOLS (cargo install --locked)"
  cargo install deadnix --locked --quiet --root "$TOOLS"
fi
DEADNIX=$(command -v deadnix || :)
DEADNIX_VERSION=$([ -z "$DEADNIX" ] || "$DEADNIX" --version)

if [ "$SMOKE" = 0 ] && ! command -v hyperfine >/dev/null 2>&1; then
  say "installing hyperfine into $TOOLS (cargo install --locked)"
  cargo install hyperfine --locked --quiet --root "$TOOLS"
fi
GNU_TIME=/usr/bin/time
if [ "$MEMORY" = 1 ] && ! "$GNU_TIME" -f %M true >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    say "installing GNU time (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; } >&2 \
      || die "could not install GNU time; rerun with MEMORY=0"
  else
    die "GNU time (/usr/bin/time) is missing; install it or rerun with MEMORY=0"
  fi
fi
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the summary"

# ---------------------------------------------------------------- corpus
# corpus N -> prints the directory of a generated corpus of N files.
corpus() {
  local n=$1 dir=$WORK/corpus-$1-$SEED
  local stamp
  stamp="gen-corpus files=$n seed=$SEED src=$(sha256sum xtask/src/gen_corpus.rs | cut -c1-16)"
  if [ -d "$dir" ] && [ "$(cat "$dir.stamp" 2>/dev/null)" = "$stamp" ]; then
    [ -d "$dir/.git" ] || git init -q "$dir"
    echo "$dir"
    return
  fi
  say "generating corpus: $n files into $dir"
  rm -rf "$dir" "$dir.stamp"
  "$XTASK" gen-corpus --out "$dir" --files "$n" --seed "$SEED" >&2
  # Its own repository root: inside this checkout, whose .gitignore names
  # bench-work/, the scanner (git's file set) would see no file at all.
  git init -q "$dir"
  echo "$stamp" >"$dir.stamp"
  echo "$dir"
}

CORPUS=$(corpus "$FILES")
NIX_FILES=$(find "$CORPUS" -name '*.nix' -type f | wc -l)
NIX_BYTES=$(find "$CORPUS" -name '*.nix' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
LARGEST=$(find "$CORPUS" -name '*.nix' -type f -printf '%s\n' | sort -n | tail -1)

# ---------------------------------------------------------------- sanity
# Every tool must see the same files, and the scan must succeed, or the
# times compare nothing.
say "checking that every tool sees the same $NIX_FILES files"
set +e
"$SCAN" scan --format json "$CORPUS" >"$RESULTS/scan.json"
scan_rc=$?
set -e
[ "$scan_rc" = 0 ] || die "ifd-batch scan exited $scan_rc on the corpus (see $RESULTS/scan.json)"
SCAN_STATS=$(python3 - "$RESULTS/scan.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print(s["files_scanned"], s["sites"], len(d["errors"]))
EOF
)
read -r SCANNED SITES SCAN_ERRORS <<<"$SCAN_STATS"
[ "$SCANNED" = "$NIX_FILES" ] || die "scan saw $SCANNED files, the corpus has $NIX_FILES"
PARSE_LINE=$("$XTASK" parse-only "$CORPUS") || die "parse-only failed: $PARSE_LINE"
PARSED=$(awk '{print $2}' <<<"$PARSE_LINE")
[ "$PARSED" = "$NIX_FILES" ] || die "parse-only saw $PARSED files, the corpus has $NIX_FILES"
# deadnix walks with walkdir: every *.nix below the root, hidden ones skipped
# (the corpus has none), so it reads the same files.
[ -z "$DEADNIX" ] || "$DEADNIX" "$CORPUS" >/dev/null || die "deadnix failed on the corpus"
if [ "$SMOKE" = 1 ]; then
  echo "scan smoke: $NIX_FILES files; scan ($SITES sites, $SCAN_ERRORS file errors), parse-only${DEADNIX:+ and deadnix} ran"
  exit 0
fi

# ---------------------------------------------------------------- timing
say "hyperfine: warmup $WARMUP, $RUNS runs each"
cmds=(
  -n scan "$SCAN scan --format json $CORPUS"
  -n parse-only "$XTASK parse-only $CORPUS"
  -n deadnix "$DEADNIX $CORPUS"
)
if [ "$SINGLE_THREAD" = 1 ]; then
  cmds+=(-n scan-1t "RAYON_NUM_THREADS=1 $SCAN scan --format json $CORPUS")
fi
hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" --output null \
  --export-json "$RESULTS/hyperfine.json" --export-markdown "$RESULTS/hyperfine.md" \
  "${cmds[@]}" >&2

# ---------------------------------------------------------------- memory
MEM_LINES=""
if [ "$MEMORY" = 1 ]; then
  CORPUS2=$(corpus $((FILES * 2)))
  BYTES2=$(find "$CORPUS2" -name '*.nix' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  say "peak RSS (GNU time, best of 3) at $FILES and $((FILES * 2)) files"
  # peak_kb CMD... -> smallest max-RSS (KiB) over 3 runs (least noisy).
  peak_kb() {
    local best="" kb
    for _ in 1 2 3; do
      kb=$("$GNU_TIME" -f %M "$@" 2>&1 >/dev/null | tail -1)
      if [ -z "$best" ] || [ "$kb" -lt "$best" ]; then best=$kb; fi
    done
    echo "$best"
  }
  MEM_LINES=$(
    for tool in scan parse-only; do
      for c in "$CORPUS:$NIX_BYTES" "$CORPUS2:$BYTES2"; do
        dir=${c%%:*} bytes=${c##*:}
        files=$(basename "$dir" | cut -d- -f2)
        case $tool in
          scan) kb=$(peak_kb "$SCAN" scan --format json "$dir") ;;
          parse-only) kb=$(peak_kb "$XTASK" parse-only "$dir") ;;
        esac
        echo "$tool $files $bytes $kb"
      done
    done
  )
fi

# ---------------------------------------------------------------- instructions
IR_LINES=""
if [ "$IR" = 1 ]; then
  if command -v valgrind >/dev/null 2>&1; then
    CORPUS_IR=$(corpus "$IR_FILES")
    say "instruction counts (callgrind) over $IR_FILES files"
    # ir CMD... -> instructions executed (all threads), from callgrind.
    ir() {
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
        | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' | tail -1
    }
    IR_LINES=$(
      echo "scan $(ir "$SCAN" scan --format json "$CORPUS_IR")"
      echo "parse-only $(ir "$XTASK" parse-only "$CORPUS_IR")"
      echo "deadnix $(ir "$DEADNIX" "$CORPUS_IR")"
    )
  else
    say "valgrind not installed: instruction counts skipped"
  fi
fi

# ---------------------------------------------------------------- summary
python3 - "$RESULTS/hyperfine.json" >"$RESULTS/summary.txt" <<EOF
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def mean(n): return res[n]["mean"]
def line(n, note=""):
    r = res[n]
    print(f"  {n:<11} {r['mean']:8.3f} s  ± {r['stddev'] or 0:6.3f}  (min {r['min']:.3f}, max {r['max']:.3f}){note}")
print("ifd-batch scan benchmark")
print(f"  corpus     $NIX_FILES files, $NIX_BYTES bytes ({$NIX_BYTES/1e6:.1f} MB), largest file {$LARGEST/1e6:.1f} MB, seed $SEED")
print(f"  scan found $SITES sites, $SCAN_ERRORS file errors")
print(f"  machine    $(nproc) cores; rayon uses all of them unless noted")
print(f"  deadnix    $DEADNIX_VERSION (single-threaded)")
print()
print(f"wall time, mean of $RUNS runs after $WARMUP warmup (hyperfine):")
line("scan")
line("parse-only", "  walk+read+rnix parse, no detection")
line("deadnix", "  single-threaded")
if "scan-1t" in res:
    line("scan-1t", "  scan with RAYON_NUM_THREADS=1")
print()
def fastest(n): return res[n]["min"]
def cpu(n): return res[n]["user"] + res[n]["system"]
def verdict(ok): return "PASS" if ok else "MISS"
r1 = mean("scan") / mean("parse-only")
r2 = mean("deadnix") / mean("scan")
print("ratios (verdict on mean wall time; min wall and CPU time = user+sys as")
print("cross-checks, CPU being the least sensitive to other load on the machine):")
print(f"  {'':<19}   {'mean':>6}  {'min':>6}  {'CPU':>6}")
print(f"  scan / parse-only   {r1:6.2f}x {fastest('scan') / fastest('parse-only'):6.2f}x {cpu('scan') / cpu('parse-only'):6.2f}x"
      f"   target <= 1.30x  {verdict(r1 <= 1.3)}")
print(f"  deadnix / scan      {r2:6.2f}x {fastest('deadnix') / fastest('scan'):6.2f}x {cpu('deadnix') / cpu('scan'):6.2f}x"
      f"   target >= 2.00x  {verdict(r2 >= 2.0)}")
if "scan-1t" in res:
    r3 = mean("deadnix") / mean("scan-1t")
    print(f"  deadnix / scan-1t   {r3:6.2f}x {fastest('deadnix') / fastest('scan-1t'):6.2f}x {cpu('deadnix') / cpu('scan-1t'):6.2f}x"
          f"   (one core each; informative)")
ir = dict(l.split() for l in """$IR_LINES""".strip().splitlines() if len(l.split()) == 2)
if len(ir) == 3:
    ir = {k: int(v) for k, v in ir.items()}
    print()
    print(f"instructions (callgrind, all threads, $IR_FILES-file corpus of the same generator):")
    for k in ("scan", "parse-only", "deadnix"):
        print(f"  {k:<11} {ir[k]/1e9:7.3f} G")
    print(f"  scan / parse-only   {ir['scan'] / ir['parse-only']:6.2f}x")
    print(f"  deadnix / scan      {ir['deadnix'] / ir['scan']:6.2f}x")
mem = [l.split() for l in """$MEM_LINES""".strip().splitlines() if l.strip()]
if mem:
    print()
    print("peak RSS (GNU time max resident, best of 3):")
    by = {}
    for tool, files, nbytes, kb in mem:
        by.setdefault(tool, []).append((int(files), int(nbytes), int(kb)))
        print(f"  {tool:<11} {int(files):>6} files {int(nbytes)/1e6:7.1f} MB   {int(kb)/1024:8.1f} MiB")
    for tool, rows in by.items():
        (f1, b1, k1), (f2, b2, k2) = rows
        ratio = k2 / k1
        extra = ""
        if tool == "scan":
            extra = f"   target ~1.0x (flat)  {verdict(ratio <= 1.25)}"
        print(f"  {tool:<11} RSS x{b2/b1:.1f} corpus = {ratio:4.2f}x{extra}")
    print("  (parse-only is the floor set by the trees in flight; scan RSS above it")
    print("  grows with what the scan keeps for its report, i.e. with sites found)")
EOF
cat "$RESULTS/summary.txt"
echo
echo "hyperfine table: $RESULTS/hyperfine.md; raw: $RESULTS/hyperfine.json" >&2
