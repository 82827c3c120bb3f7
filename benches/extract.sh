#!/usr/bin/env bash
# `ifd-batch extract` against GNU tar and the decompression limits, side by
# side in one hyperfine run, on the realistic synthetic index (≈ 175,000
# package versions, ≈ 350,000 files, ≈ 100 MB gzipped).
#
#   benches/extract.sh [--runs N] [--smoke]
#
# --smoke: a tiny index (300 packages), each command once without hyperfine,
# ifd-batch's output compared with tar's, debug build (benches/lib.sh).
#
# Work files go to bench-work/extract/ (gitignored); the index is generated
# once with `cargo xtask synth-index` (deterministic), plus a half-size index
# for the memory check. Member lists are deterministic:
#   spread50 / spread500 — evenly spaced through the archive, the last file
#                          of the archive included (nothing to stop early on);
#   early50              — 50 consecutive files ≈ 0.5 % into the archive.
# Rows:
#   ifd-batch extract LIST      — this tool;
#   tar exact LIST              — GNU tar -xzf --files-from with exact names;
#   tar --wildcards one package — GNU tar, `<top>/<pkg>/*`;
#   gzip -dc > /dev/null        — GNU gzip's decompress-only pass;
#   decompress-only             — `ifd-batch extract --decompress-only`
#                                 (hidden flag): this tool's inflate, no tar.
# Ratios are against decompress-only (the floor of a one-pass extraction) and
# tar exact / ifd-batch extract for the same list. Peak RSS with
# /usr/bin/time at full and half size (it must not grow with the archive).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    *) echo "usage: $0 [--runs N] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
if [ "$SMOKE" = 0 ]; then
  bench_need_hyperfine
  [ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }
fi

W=$(bench_dir extract)
bench_build
B=$bin
size=(--packages 17500 --versions 10)
half=(--packages 8750 --versions 10)
[ "$SMOKE" = 0 ] || { size=(--packages 300 --versions 3); half=(--packages 150 --versions 3); }
[ -f "$W/index.tar.gz" ] || "$xtask" synth-index --out "$W/index.tar.gz" "${size[@]}" >&2
[ -f "$W/half.tar.gz" ] || "$xtask" synth-index --out "$W/half.tar.gz" "${half[@]}" >&2

top=$(tar -tzf "$W/index.tar.gz" 2>/dev/null | head -n 1) || true  # tar dies of SIGPIPE
top=${top%%/*}
if [ ! -s "$W/all.txt" ]; then
  tar -tzf "$W/index.tar.gz" | grep -v '/$' | sed "s|^$top/||" > "$W/all.txt"
fi
n=$(wc -l < "$W/all.txt")

# K members evenly spaced, the archive's last file included.
awk -v n="$n" -v k=50 'BEGIN { for (i = 1; i <= k; i++) want[int(i * n / k)] = 1 } NR in want' \
  "$W/all.txt" > "$W/spread50.txt"
awk -v n="$n" -v k=500 'BEGIN { for (i = 1; i <= k; i++) want[int(i * n / k)] = 1 } NR in want' \
  "$W/all.txt" > "$W/spread500.txt"
start=$((n / 200))
sed -n "$((start + 1)),$((start + 50))p" "$W/all.txt" > "$W/early50.txt"
for l in spread50 spread500 early50; do
  sed "s|^|$top/|" "$W/$l.txt" > "$W/$l.tar-list"
done
pkg=$(sed -n "$((n / 2))p" "$W/all.txt" | cut -d/ -f1)

echo "index: $W/index.tar.gz ($(du -h "$W/index.tar.gz" | cut -f1), $n files); wildcard package: $pkg" >&2

I=$W/index.tar.gz
O=$W/out
prep="rm -rf $O && mkdir -p $O"
args=(--runs "$runs" --warmup 1 --style basic --export-json "$W/hyperfine.json")
for l in spread50 spread500 early50; do
  args+=(-n "ifd-batch extract $l" --prepare "$prep" "$B extract $I --members $W/$l.txt --out $O")
  args+=(-n "tar exact $l" --prepare "$prep" "tar -xzf $I -C $O --strip-components=1 --files-from=$W/$l.tar-list")
done
args+=(-n "ifd-batch extract spread50, one thread" --prepare "$prep" "IFD_BATCH_EXTRACT_THREADS=1 $B extract $I --members $W/spread50.txt --out $O")
args+=(-n "tar --wildcards $pkg/*" --prepare "$prep" "tar -xzf $I -C $O --strip-components=1 --wildcards '$top/$pkg/*'")
args+=(-n "gzip -dc > /dev/null" --prepare "$prep" "gzip -dc $I > /dev/null")
args+=(-n "decompress-only" --prepare "$prep" "$B extract --decompress-only $I > /dev/null")
if [ "$SMOKE" = 1 ]; then
  # Each command once; ifd-batch's members must be tar's, byte for byte.
  for l in spread50 spread500 early50; do
    rm -rf "$O" "$O.tar" && mkdir -p "$O" "$O.tar"
    "$B" extract "$I" --members "$W/$l.txt" --out "$O" || bench_sanity "extract $l failed"
    tar -xzf "$I" -C "$O.tar" --strip-components=1 --files-from="$W/$l.tar-list"
    diff -r "$O" "$O.tar" > /dev/null || bench_sanity "extract $l differs from tar's"
    echo "extract $l: the same files as tar"
  done
  "$B" extract --decompress-only "$I" > /dev/null || bench_sanity "decompress-only failed"
  rm -rf "$O" "$O.tar"
  [ -x /usr/bin/time ] || exit 0
else
hyperfine "${args[@]}" >&2

python3 - "$W/hyperfine.json" <<'EOF'
import json, sys
rs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
floor = rs["decompress-only"]
print("| command | mean ± sd (s) | min (s) | user (s) | / decompress-only (mean, min) | tar exact / extract (mean, min) |")
print("|---|---|---|---|---|---|")
for name, r in rs.items():
    vs = f'{r["mean"] / floor["mean"]:.2f}×, {r["min"] / floor["min"]:.2f}×'
    tvx = ""
    t = rs.get("tar exact " + name.removeprefix("ifd-batch extract "))
    if name.startswith("ifd-batch extract ") and t:
        tvx = f'{t["mean"] / r["mean"]:.1f}×, {t["min"] / r["min"]:.1f}×'
    print(f'| {name} | {r["mean"]:.3f} ± {r["stddev"]:.3f} | {r["min"]:.3f} | {r["user"]:.3f} | {vs} | {tvx} |')
EOF
fi

echo
echo "| peak RSS | half index | full index |"
echo "|---|---|---|"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
for what in "extract spread500" "decompress-only"; do
  row="| ifd-batch $what |"
  for idx in "$W/half.tar.gz" "$W/index.tar.gz"; do
    rm -rf "$O"
    if [ "$what" = "decompress-only" ]; then
      kb=$(rss "$B" extract --decompress-only "$idx")
    else
      # Lists of the full index: in the half index most are missing (exit 0 with --missing).
      kb=$(rss "$B" extract "$idx" --members "$W/spread500.txt" --out "$O" --missing "$W/missing.txt")
    fi
    row="$row $kb KiB |"
  done
  echo "$row"
done
rm -rf "$O"
