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
# Usage:
#   benches/corpus.sh [BINARY] [LABEL]
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
# Results: $WORK/corpus-results/LABEL/{table.txt,reasons.txt,possible.txt,json/}.
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
BIN=${1:-$here/target/release/ifd-batch}
LABEL=${2:-$(git -C "$here" rev-parse --short HEAD)}
WORK=${WORK:-$here/bench-work}
MIRRORS=${MIRRORS:-/work/.mirror}
LIST=${LIST:-$here/benches/corpus.txt}
CORPUS=$WORK/corpus
OUT=$WORK/corpus-results/$LABEL

command -v jq >/dev/null || { echo "corpus.sh: needs jq" >&2; exit 2; }
[ -x "$BIN" ] || { echo "corpus.sh: no binary at $BIN (cargo build --release)" >&2; exit 2; }
mkdir -p "$CORPUS" "$OUT/json"

checkout() { # owner/name commit -> directory on stdout, or nothing
    local name=$1 commit=$2 slug=${1/\//+}
    local dir=$CORPUS/$slug
    if [ ! -f "$dir/.corpus-commit" ] || [ "$(cat "$dir/.corpus-commit")" != "$commit" ]; then
        local git_dir=$MIRRORS/$slug/repo
        if ! git --git-dir="$git_dir" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "skip $name: no mirror with $commit under $MIRRORS (fetch github:$name)" >&2
            return 0
        fi
        rm -rf "$dir" && mkdir -p "$dir"
        # Mirrors lack files of 4 MiB and more: leave those out of the archive.
        local missing=() blobs
        blobs=$(git --git-dir="$git_dir" ls-tree -r "$commit" | awk '$2 == "blob"')
        while IFS= read -r path; do
            [ -n "$path" ] && missing+=(":(exclude,literal)$path")
        done < <(awk '{ print $3 }' <<<"$blobs" | git --git-dir="$git_dir" cat-file --batch-check |
            awk 'NR == FNR { if ($2 == "missing") gone[$1] = 1; next }
                 { split($0, a, "\t"); split(a[1], m, " ") } m[3] in gone { print a[2] }' - <(printf '%s\n' "$blobs"))
        git --git-dir="$git_dir" archive "$commit" -- . "${missing[@]}" | tar -x -C "$dir"
        echo "$commit" >"$dir/.corpus-commit"
    fi
    echo "$dir"
}

rewrite_check() { # dir slug -> "edited<TAB>status"
    local dir=$1 slug=$2 tmp edited status=ok out f
    tmp=$(mktemp -d)
    cp -a "$dir/." "$tmp/"
    set +e
    out=$("$BIN" rewrite "$tmp" --write 2>&1)
    local rc=$?
    set -e
    echo "$out" >"$OUT/json/$slug.rewrite"
    edited=$(sed -n 's/^rewrite: \([0-9]*\) sites edited.*/\1/p' <<<"$out" | head -n 1)
    if grep -q panicked <<<"$out"; then
        status=PANIC
    elif [ "$rc" -ne 0 ]; then
        status=refused # (the plan has errors: files that do not parse)
    else
        again=$("$BIN" rewrite "$tmp" 2>&1) || :
        grep -q 'nothing to change' <<<"$again" || status=NOT-IDEMPOTENT
        while IFS= read -r f; do
            nix-instantiate --parse "$tmp/$f" >/dev/null 2>&1 || status=NO-PARSE
        done < <(cd "$tmp" && find . -name '*.nix' -newer "$OUT/json/$slug.json" | sed 's|^\./||')
    fi
    rm -rf "$tmp"
    printf '%s\t%s' "${edited:-0}" "$status"
}

rows=()
panics=0
while read -r name commit style; do
    case "$name" in '' | '#'*) continue ;; esac
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
    rows+=("$row"$'\t'"$rw")
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

echo "ifd-batch corpus: $BIN ($LABEL)"
cat "$OUT/table.txt"
echo
echo "left alone, by kind and reason (all kinds):"
sed 's/^/  /' "$OUT/reasons.txt"
echo
echo "possible sites: $(wc -l <"$OUT/possible.txt") (listed in $OUT/possible.txt)"
[ "$panics" -eq 0 ] || { echo "PANICS: $panics" >&2; exit 1; }
