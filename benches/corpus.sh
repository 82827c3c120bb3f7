#!/usr/bin/env bash
# Real-repository corpus: what `ifd-batch scan` finds in public repositories
# of many styles (Haskell overlays, flakes, IFD frameworks), per repository
# and in total:
#   files     .nix files scanned
#   haskell   Haskell sites (hackage, hackage-direct, cabal2nix, source-overrides)
#   batch     of those, batchable; left = the rest (reasons listed below the table)
#   generic   import-drv + read-drv sites; builtin = builtin-fetch sites
#   possible  sites whose derivation could not be decided statically
#   rounds    serial IFD rounds for a full evaluation, before / after batching
#   time      wall time of one `scan --format json`
#   err       files that could not be read or parsed; panic: 1 if the scan panicked
#   edited    sites `rewrite --write` edits (on a copy); rewrite: ok when a
#             second run changes nothing and every written file parses with
#             nix-instantiate --parse; refused when the repository has files
#             that do not parse (nothing written), else what failed
#
# Coverage against an independent denominator (issue 21 §3): for every
# repository, benches/count-calls.py (plain text, no ifd-batch) counts the
# literal Haskell calls (callHackage, callHackageDirect, callCabal2nix,
# callCabal2nixWithOptions, packageSourceOverrides, haskellSrc2nix,
# developPackage) in the .nix files git tracks, per file:line; each is
# matched with the scanner's Haskell sites (same file, the line of the call
# or of its selection chain's start) and with `rewrite --write --format
# json` (action edited or routed) on a copy. coverage.txt:
#   calls     literal calls (independent count)
#   scanned   of those, reported by `scan` as a Haskell site
#   batched   of those, edited or already routed by `rewrite --write`
#             (0 when the rewrite refuses: a file does not parse)
#   missed    calls `scan` does not report at all (listed in missed.txt)
#   cov%      batched / calls
#   broken    written files that do not parse with nix-instantiate --parse,
#             plus 1 when a second `rewrite --write` would change anything
# missed.txt: repo, file:line, callee, the source line: the developers' input.
# The total is over every repository of the half; the figure that counts is
# the holdout half's, run once, after development.
#
# Recorded (issue 21 §3, 41938fa, tune half: 41 repositories, 18 with
# calls): 119 literal calls, 114 scanned, 79 batched = 66.4%; 5 missed
# (haskellSrc2nix in helpers, callCabal2nix/callHackage bound by a helper's
# parameters); broken 1 (vaibhavsagar/notebooks: a second rewrite changes
# the manifest); refused 2 (hnix, nixpkgs-fmt: test fixtures that do not
# parse).
# After issue 21's fixes (26c5dff): tune 119 calls, 117 scanned, 86 batched
# = 72.3%, broken 0 (2 missed: helpers named like the callees). Holdout,
# looked at once, after the fixes (50 repositories, 14 with calls): 173
# calls, 171 scanned, 161 batched = 93.1%, broken 0, 1 refused
# (haskell-nix-cookiecutter: a template that does not parse); without
# reflex-platform (121 calls) 44 of 52 = 84.6%; per repository, the mean
# is 70%. Left alone: non-literal names (5), a second caller-given source
# for one name in an overlay (2), developPackage (1), options bound below
# the overlay (1), non-literal packageSourceOverrides (1).
#
# Usage:
#   benches/corpus.sh [--half tune|holdout|all] [BINARY] [LABEL]
# --half picks the repositories by corpus.txt's half column (default tune).
# Develop against tune only; the holdout half is not looked at until a
# change is done, then:
#   benches/corpus.sh --half holdout target/release/ifd-batch holdout-$(git rev-parse --short HEAD)
# BINARY defaults to target/release/ifd-batch (build it first), LABEL to the
# short commit. Compare two builds side by side, e.g. the commit you start
# from:
#   git worktree add /tmp/base HEAD && (cd /tmp/base && cargo build --release)
#   benches/corpus.sh /tmp/base/target/release/ifd-batch before
#   benches/corpus.sh target/release/ifd-batch after
#
# The repositories and commits are in benches/corpus.txt. Their code is never
# committed: each is checked out from a bare mirror ($MIRRORS/owner+name/repo,
# default /work/.mirror, as the search tool's `fetch` leaves it) into
# $WORK/corpus/owner+name (WORK defaults to bench-work/, gitignored). A
# repository without a mirror is skipped with a note.
# Results: $WORK/corpus-results/LABEL/{table.txt,coverage.txt,missed.txt,
# reasons.txt,possible.txt,json/ (scan), rewrite/ (rewrite --format json),
# calls/ (count-calls.py --json)}.
# possible.txt lists every `possible` site (file:line, kind, target): read it.
# It is a measurement, not a test: it exits 0 unless a scan panicked or a
# tool is missing.
#
# Recorded (28 repositories, 6,136 files; issue 13), 53f62e4 → this script's
# commit: possible sites 279 → 128 (none a flake input or a nixpkgs
# import); serial rounds 648+ → 401+ (definite sites only), after batching
# 420 → 287; import-drv + read-drv sites 268 → 164; Haskell sites 204 (108
# batchable) unchanged; files that do not parse 10 → 9 (a lone CR ends a
# comment); no panic. Scan time is the same single-threaded (≈0.47 s on the
# 4,671 files of haskell.nix).
#
# Then (issue 13, Haskell side: wrapped callCabal2nix sources, inherit (self)
# callHackage, one definition of batchable): Haskell sites 204, batchable
# 108 → 183 (90%); rounds after batching 287 → 214; rewrite of every
# repository: 259 sites edited, every second run a no-op, every written file
# parses (3 repositories refused: they have files that do not parse).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
HALF=tune
pos=()
while [ $# -gt 0 ]; do
    case "$1" in
    --half) HALF=${2:-}; shift 2 ;;
    --half=*) HALF=${1#--half=}; shift ;;
    *) pos+=("$1"); shift ;;
    esac
done
case "$HALF" in tune | holdout | all) ;; *) echo "corpus.sh: --half tune|holdout|all" >&2; exit 2 ;; esac
BIN=${pos[0]:-$here/target/release/ifd-batch}
LABEL=${pos[1]:-$(git -C "$here" rev-parse --short HEAD)-$HALF}
WORK=${WORK:-$here/bench-work}
MIRRORS=${MIRRORS:-/work/.mirror}
LIST=${LIST:-$here/benches/corpus.txt}
CORPUS=$WORK/corpus
OUT=$WORK/corpus-results/$LABEL

command -v jq >/dev/null || { echo "corpus.sh: needs jq" >&2; exit 2; }
command -v python3 >/dev/null || { echo "corpus.sh: needs python3" >&2; exit 2; }
[ -x "$BIN" ] || { echo "corpus.sh: no binary at $BIN (cargo build --release)" >&2; exit 2; }
mkdir -p "$CORPUS" "$OUT/json" "$OUT/rewrite" "$OUT/calls"
: >"$OUT/repos.tsv"

checkout() { # owner/name commit -> directory on stdout, or nothing
    local name=$1 commit=$2 slug=${1/\//+}
    local dir=$CORPUS/$slug
    if [ ! -f "$dir/.corpus-commit" ] || [ "$(cat "$dir/.corpus-commit")" != "$commit blobwise" ]; then
        local git_dir=$MIRRORS/$slug/repo
        [ -d "$git_dir/.git" ] && git_dir=$git_dir/.git # a snapshot with a work tree
        if ! git --git-dir="$git_dir" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "skip $name: no mirror with $commit under $MIRRORS (fetch github:$name)" >&2
            return 0
        fi
        rm -rf "$dir" && mkdir -p "$dir"
        # Mirrors lack files of 4 MiB and more, and some blobs (git archive
        # stops at the first one, leaving the rest of the tree out): write
        # the tree blob by blob, leaving out the ones the mirror lacks.
        python3 - "$git_dir" "$commit" "$dir" "$name" <<'PY'
import os, subprocess, sys
git_dir, commit, dest, name = sys.argv[1:]
git = ["git", "--git-dir=" + git_dir]
ls = subprocess.run(git + ["ls-tree", "-r", "-z", commit], capture_output=True, check=True).stdout
entries = []
for rec in ls.split(b"\0"):
    if not rec:
        continue
    meta, path = rec.split(b"\t", 1)
    mode, kind, sha = meta.split()
    if kind == b"blob":
        entries.append((mode, sha, path))
cat = subprocess.Popen(git + ["cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
lost = 0
for mode, sha, path in entries:
    cat.stdin.write(sha + b"\n")
    cat.stdin.flush()
    head = cat.stdout.readline().split()
    if len(head) < 3 or head[1] != b"blob":
        lost += 1
        continue
    data = cat.stdout.read(int(head[2]))
    cat.stdout.read(1)
    out = os.path.join(dest.encode(), path)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if mode == b"120000":
        os.symlink(data, out)
    else:
        with open(out, "wb") as f:
            f.write(data)
        if mode == b"100755":
            os.chmod(out, 0o755)
cat.stdin.close()
cat.wait()
if lost:
    print("%s: %d of %d files not in the mirror, left out" % (name, lost, len(entries)), file=sys.stderr)
PY
        echo "$commit blobwise" >"$dir/.corpus-commit"
    fi
    # Its own repository root, as a user's checkout is: else the scanner's
    # walk reads this repository's .gitignore, which ignores bench-work/, and
    # scans nothing. (No files are added: count-calls.py then reads every
    # file of the archive, which holds exactly the tracked files.)
    [ -d "$dir/.git" ] || git init -q "$dir"
    echo "$dir"
}

rewrite_check() { # dir slug -> "edited<TAB>status<TAB>broken"; leaves rewrite/slug.json
    local dir=$1 slug=$2 tmp edited status=ok broken=0 f rc
    tmp=$(mktemp -d)
    cp -a "$dir/." "$tmp/"
    set +e
    "$BIN" rewrite "$tmp" --write --format json >"$OUT/rewrite/$slug.json" 2>"$OUT/rewrite/$slug.stderr"
    rc=$?
    set -e
    edited=$(jq '[.sites[] | select(.action == "edited")] | length' "$OUT/rewrite/$slug.json" 2>/dev/null) || edited=0
    if grep -q panicked "$OUT/rewrite/$slug.stderr"; then
        status=PANIC
    elif [ "$rc" -ne 0 ]; then
        status=refused # (the plan has errors: files that do not parse)
    else
        while IFS= read -r f; do
            [ -n "$f" ] || continue
            nix-instantiate --parse "$tmp/$f" >/dev/null 2>&1 || { status=NO-PARSE; broken=$((broken + 1)); }
        done < <(jq -r '(.changed_files[]), (if .manifest_changed then .manifest else empty end)' "$OUT/rewrite/$slug.json" | sort -u)
        "$BIN" rewrite "$tmp" --format json >"$OUT/rewrite/$slug.again.json" 2>/dev/null || :
        if ! jq -e '(.changed_files | length) == 0 and (.manifest_changed | not)' "$OUT/rewrite/$slug.again.json" >/dev/null 2>&1; then
            status=NOT-IDEMPOTENT
            broken=$((broken + 1))
        fi
    fi
    rm -rf "$tmp"
    printf '%s\t%s\t%s' "${edited:-0}" "$status" "$broken"
}

rows=()
panics=0
while read -r name commit style half _query; do
    case "$name" in '' | '#'*) continue ;; esac
    [ "$HALF" = all ] || [ "$half" = "$HALF" ] || continue
    dir=$(checkout "$name" "$commit")
    [ -n "$dir" ] || continue
    slug=${name/\//+}
    json=$OUT/json/$slug.json
    start=$(date +%s%N)
    set +e
    "$BIN" scan --format json "$dir" >"$json" 2>"$OUT/json/$slug.stderr"
    rc=$?
    set -e
    end=$(date +%s%N)
    panic=0
    if [ "$rc" -gt 1 ] || grep -q 'panicked' "$OUT/json/$slug.stderr"; then
        panic=1
        panics=$((panics + 1))
    fi
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    row=$(jq -r --arg name "$name" --arg style "$style" --arg secs "$secs" --arg panic "$panic" '
        def haskell: .kind == "hackage" or .kind == "hackage-direct" or .kind == "cabal2nix" or .kind == "source-overrides";
        [ $name, $style, .summary.files_scanned,
          ([.sites[] | select(haskell)] | length),
          ([.sites[] | select(haskell and .batchable)] | length),
          ([.sites[] | select(haskell and (.batchable | not))] | length),
          ([.sites[] | select(.kind == "import-drv" or .kind == "read-drv")] | length),
          ([.sites[] | select(.kind == "builtin-fetch")] | length),
          ([.sites[] | select(.confidence == "possible")] | length),
          ((.summary.rounds | tostring) + (if .summary.rounds_exact then "" else "+" end)),
          .summary.rounds_after_batching,
          $secs, (.errors | length), $panic ] | @tsv' "$json" 2>/dev/null) ||
        row=$(printf '%s\t%s\t?\t?\t?\t?\t?\t?\t?\t?\t?\t%s\t?\t%s' "$name" "$style" "$secs" "$panic")
    # The rewrite, on a copy: sites it edits, then a second run must change
    # nothing and every written file must parse with Nix.
    rw=$(rewrite_check "$dir" "$slug")
    rows+=("$row"$'\t'"${rw%$'\t'*}")
    # The independent count, matched with the scan and the rewrite.
    python3 "$here/benches/count-calls.py" "$dir" --json >"$OUT/calls/$slug.json"
    printf '%s\t%s\t%s\t%s\n' "$name" "$half" "$dir" "${rw##*$'\t'}" >>"$OUT/repos.tsv"
    jq -r --arg name "$name" '.sites[] | select(.confidence == "possible")
        | "\($name)\t\(.file):\(.line)\t\(.kind)\t\(.call) \(.args.target // .args.url // "")"' \
        "$json" 2>/dev/null
done <"$LIST" >"$OUT/possible.txt"

{
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        repo style files haskell batch left generic builtin possible rounds after time err panic edited rewrite
    printf '%s\n' "${rows[@]}"
    printf '%s\n' "${rows[@]}" | awk -F'\t' '
        { for (i = 3; i <= 15; i++) { v = $i; sub(/\+$/, "", v); if ($i ~ /\+$/) plus = "+"; t[i] += v } n++
          if ($16 != "ok") bad[$16]++ }
        END { printf "TOTAL (%d repos)\t-", n
              for (i = 3; i <= 15; i++) printf "\t%s%s", (i == 12 ? sprintf("%.2f", t[i]) : t[i]), (i == 10 ? plus : "")
              s = ""; for (k in bad) s = s (s == "" ? "" : ",") k "=" bad[k]
              printf "\t%s\n", (s == "" ? "all-ok" : s) }'
} | column -t -s $'\t' >"$OUT/table.txt"

jq -rs '[.[] | .sites[] | select(.batchable | not) | "\(.kind): \(.reason)"]
    | group_by(.) | map([length, .[0]]) | sort_by(-.[0]) | .[] | "\(.[0])\t\(.[1])"' \
    "$OUT"/json/*.json >"$OUT/reasons.txt"

# Coverage: the independent count matched with the scan and the rewrite.
python3 - "$OUT" <<'PY'
import collections, json, os, sys
out = sys.argv[1]
HASKELL = {"hackage", "hackage-direct", "cabal2nix", "source-overrides"}

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def match(calls, sites):
    """Indices of calls matched by a site: same file, the site's line is the
    call's line or its chain's first line; each site matches one call."""
    free = collections.defaultdict(list)
    for s in sites:
        free[(s["file"], s["line"])].append(s)
    hit = set()
    for pass_ in (0, 1):  # same callee first, then any Haskell site there
        for i, c in enumerate(calls):
            if i in hit:
                continue
            for line in dict.fromkeys((c["chain_line"], c["line"])):
                pool = free.get((c["file"], line), [])
                k = next((k for k, s in enumerate(pool) if pass_ or str(s.get("call", "")).rsplit(".", 1)[-1] == c["callee"]), None)
                if k is not None:
                    pool.pop(k)
                    hit.add(i)
                    break
    return hit

rows, missed = [], []
tot = collections.Counter()
with open(os.path.join(out, "repos.tsv")) as f:
    repos = [l.rstrip("\n").split("\t") for l in f if l.strip()]
for name, half, cdir, broken in repos:
    slug = name.replace("/", "+")
    counted = load(os.path.join(out, "calls", slug + ".json")) or {"calls": []}
    scan = load(os.path.join(out, "json", slug + ".json")) or {"sites": []}
    rw = load(os.path.join(out, "rewrite", slug + ".json")) or {"sites": [], "errors": [1]}
    calls = counted["calls"]
    scanned = match(calls, [s for s in scan["sites"] if s["kind"] in HASKELL])
    ok = not rw.get("errors") and rw.get("written") is not None or (not rw.get("errors") and not rw.get("changed_files"))
    done = [s for s in rw.get("sites", []) if s["kind"] in HASKELL and s.get("action") in ("edited", "routed")]
    batched = match(calls, done) if ok else set()
    n = len(calls)
    cov = "%.1f" % (100.0 * len(batched) / n) if n else "-"
    rows.append((name, half, n, len(scanned), len(batched), n - len(scanned), cov, broken if ok else broken + "(refused)"))
    tot.update(calls=n, scanned=len(scanned), batched=len(batched), missed=n - len(scanned), broken=int(broken), repos=1, haskell=1 if n else 0)
    for i, c in enumerate(calls):
        if i not in scanned:
            try:
                with open(os.path.join(cdir, c["file"]), encoding="utf-8", errors="replace") as g:
                    text = g.read().split("\n")[c["line"] - 1].strip()
            except (OSError, IndexError):
                text = ""
            missed.append("%s\t%s:%d\t%s\t%s" % (name, c["file"], c["line"], c["callee"], text[:160]))
w = max([len(r[0]) for r in rows] + [4])
with open(os.path.join(out, "coverage.txt"), "w") as f:
    f.write("%-*s  %-7s  %6s  %7s  %7s  %6s  %6s  %s\n" % (w, "repo", "half", "calls", "scanned", "batched", "missed", "cov%", "broken"))
    for r in rows:
        f.write("%-*s  %-7s  %6d  %7d  %7d  %6d  %6s  %s\n" % ((w,) + r))
    n = tot["calls"]
    f.write("%-*s  %-7s  %6d  %7d  %7d  %6d  %6s  %d\n" % (w, "TOTAL (%d repos, %d with calls)" % (tot["repos"], tot["haskell"]), "-", n, tot["scanned"], tot["batched"], tot["missed"], "%.1f" % (100.0 * tot["batched"] / n) if n else "-", tot["broken"]))
with open(os.path.join(out, "missed.txt"), "w") as f:
    f.write("".join(m + "\n" for m in missed))
PY

echo "ifd-batch corpus: $BIN ($LABEL)"
cat "$OUT/table.txt"
echo
echo "left alone, by kind and reason (all kinds):"
sed 's/^/  /' "$OUT/reasons.txt"
echo
echo "possible sites: $(wc -l <"$OUT/possible.txt") (listed in $OUT/possible.txt)"
echo
echo "coverage against the independent count (benches/count-calls.py), half $HALF:"
cat "$OUT/coverage.txt"
echo "calls the scanner does not report: $(wc -l <"$OUT/missed.txt") (listed in $OUT/missed.txt)"
[ "$panics" -eq 0 ] || { echo "PANICS: $panics" >&2; exit 1; }
