#!/usr/bin/env bash
# `ifd-batch extract` against GNU tar and the decompression limits, side by
# side in one hyperfine run, on the realistic synthetic index (≈ 175,000
# package versions, ≈ 350,000 files, ≈ 100 MB gzipped).
#
#   benches/extract.sh [--runs N] [--smoke] [--index-only]
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
#
# Then the seekable index (`ifd-batch index`, `extract --index`), per span
# (1, 4, 16 MiB; 4 KiB to 1 MiB in smoke mode): the index's size, its build
# time, and extracting one member (the middle file, list `one`) and spread50
# with it, beside the streaming extract of the same lists. And the
# alternative design, re-packing the archive into independently compressed
# 1 MiB frames: its size (each frame deflated at zlib level 6, gzip's
# default; python3's zlib). `--index-only` runs just this part (hyperfine
# when installed, else N timed runs after one warm-up).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
INDEX_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    --index-only) INDEX_ONLY=1; shift ;;
    *) echo "usage: $0 [--runs N] [--smoke] [--index-only]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
if [ "$SMOKE" = 0 ] && [ "$INDEX_ONLY" = 0 ]; then
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
[ -f "$W/half.tar.gz" ] || [ "$INDEX_ONLY" = 1 ] || "$xtask" synth-index --out "$W/half.tar.gz" "${half[@]}" >&2

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
sed -n "$((n / 2))p" "$W/all.txt" > "$W/one.txt"
start=$((n / 200))
sed -n "$((start + 1)),$((start + 50))p" "$W/all.txt" > "$W/early50.txt"
for l in one spread50 spread500 early50; do
  sed "s|^|$top/|" "$W/$l.txt" > "$W/$l.tar-list"
done
pkg=$(sed -n "$((n / 2))p" "$W/all.txt" | cut -d/ -f1)

echo "index: $W/index.tar.gz ($(du -h "$W/index.tar.gz" | cut -f1), $n files); wildcard package: $pkg" >&2

I=$W/index.tar.gz
O=$W/out
prep="rm -rf $O && mkdir -p $O"
if [ "$INDEX_ONLY" = 0 ]; then
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

if [ -x /usr/bin/time ]; then
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
fi
fi

# The seekable index, per span.
spans=(1M 4M 16M)
[ "$SMOKE" = 0 ] || spans=(4K 64K 1M)
for sp in "${spans[@]}"; do
  [ -s "$W/index-$sp.idx" ] && [ "$W/index-$sp.idx" -nt "$B" ] ||
    "$B" index "$I" --out "$W/index-$sp.idx" --span "$sp" 2>/dev/null || bench_sanity "index --span $sp failed"
done
if [ "$SMOKE" = 1 ]; then
  # Every list with every index: tar's files, byte for byte.
  for sp in "${spans[@]}"; do
    for l in one spread50 spread500 early50; do
      rm -rf "$O" "$O.tar" && mkdir -p "$O" "$O.tar"
      "$B" extract "$I" --index "$W/index-$sp.idx" --members "$W/$l.txt" --out "$O" ||
        bench_sanity "extract --index (span $sp) $l failed"
      tar -xzf "$I" -C "$O.tar" --strip-components=1 --files-from="$W/$l.tar-list"
      diff -r "$O" "$O.tar" > /dev/null || bench_sanity "extract --index (span $sp) $l differs from tar's"
    done
    echo "extract --index (span $sp): the same files as tar"
  done
  "$B" index "$I" --out "$W/again.idx" --span "${spans[0]}" 2>/dev/null
  cmp -s "$W/again.idx" "$W/index-${spans[0]}.idx" || bench_sanity "indexing twice gave different bytes"
  rm -rf "$O" "$O.tar"
fi
iruns=$runs
[ "$SMOKE" = 0 ] || iruns=1
cmds=()
for sp in "${spans[@]}"; do
  cmds+=("index build $sp" "" "$B index $I --out $W/bench-$sp.idx --span $sp")
  for l in one spread50; do
    cmds+=("index $sp $l" "$prep" "$B extract $I --index $W/index-$sp.idx --members $W/$l.txt --out $O")
  done
done
for l in one spread50; do
  cmds+=("stream $l" "$prep" "$B extract $I --members $W/$l.txt --out $O")
done
if command -v hyperfine > /dev/null; then
  hargs=(--runs "$iruns" --style basic --export-json "$W/timings-index.json")
  [ "$SMOKE" = 1 ] || hargs+=(--warmup 1)
  for ((i = 0; i < ${#cmds[@]}; i += 3)); do
    hargs+=(-n "${cmds[i]}")
    [ -z "${cmds[i + 1]}" ] || hargs+=(--prepare "${cmds[i + 1]}")
    hargs+=("${cmds[i + 2]}")
  done
  hyperfine "${hargs[@]}" >&2
else
  # No hyperfine (smoke mode, or a quick look): one warm-up, then N timed
  # runs of each command, the same JSON shape.
  python3 - "$W/timings-index.json" "$iruns" "${cmds[@]}" <<'PY'
import json, statistics, subprocess, sys, time
out, runs, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = []
for name, prep, cmd in zip(rest[0::3], rest[1::3], rest[2::3]):
    ts = []
    for k in range(runs + (runs > 1)):
        if prep:
            subprocess.run(prep, shell=True, check=True)
        t = time.monotonic()
        subprocess.run(cmd, shell=True, check=True, stderr=subprocess.DEVNULL)
        if runs == 1 or k > 0:
            ts.append(time.monotonic() - t)
    sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
    res.append({"command": name, "mean": statistics.mean(ts), "stddev": sd, "min": min(ts)})
json.dump({"results": res}, open(out, "w"))
PY
fi

# The alternative design: re-pack into independently compressed 1 MiB
# frames (each deflated at level 6, gzip's default) plus an offset table.
frames=$(gzip -dc "$I" | python3 -c '
import sys, zlib
total = frames = 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    total += len(c.compress(b) + c.flush())
    frames += 1
print(total + 16 * frames)')

python3 - "$W/timings-index.json" "$(stat -c %s "$I")" "$frames" "${spans[@]}" <<'PY'
import json, os, sys
rs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
archive, frames, spans = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
w = os.path.dirname(sys.argv[1])
mib = lambda b: f"{b / 2**20:.2f} MiB"
t = lambda k: f'{rs[k]["mean"]:.3f} ± {rs[k]["stddev"]:.3f}' if k in rs else "–"
size = {sp: os.path.getsize(os.path.join(w, f"index-{sp}.idx")) for sp in spans}
print()
print("| span | index size | build (s) | extract --index one (s) | extract --index spread50 (s) |")
print("|---|---|---|---|---|")
for sp in spans:
    print(f"| {sp} | {mib(size[sp])} | {t('index build ' + sp)} | {t('index ' + sp + ' one')} | {t('index ' + sp + ' spread50')} |")
print(f"| streaming, no index | – | – | {t('stream one')} | {t('stream spread50')} |")
print()
print("| store | size |")
print("|---|---|")
print(f"| the archive (.tar.gz), as fetched | {mib(archive)} |")
for sp in spans:
    print(f"| + index, span {sp} | {mib(size[sp])} more |")
print(f"| alternative: re-packed into 1 MiB frames + offset table (a second copy; plus a member table) | {mib(frames)} |")
PY
