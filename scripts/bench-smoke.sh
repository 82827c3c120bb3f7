#!/usr/bin/env bash
# Every benchmark's smoke mode (`benches/X.sh --smoke`: the same script at a
# tiny size, debug build, no figures asserted; see benches/lib.sh), from
# this checkout. Fails if any fails; prints each one's wall time. Seconds in
# all once the debug binaries are built (the tests build them).
#
#   scripts/bench-smoke.sh [BENCH...]     default: all of them
#
# benches/corpus.sh is not here: it needs the mirrors of public repositories.
# benches/dynamic.sh needs the modern Nix (scripts/modern-nix.sh); when it
# cannot be had it is SKIPPED, except under CI=true, where that fails.
# Work files: bench-work/smoke/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

all=(check extract generic materialized nixlib-eval rewrite-eval scan dynamic remote)
[ $# -gt 0 ] || set -- "${all[@]}"

now() { date +%s.%N; }
t_all=$(now)
failed=()
for b in "$@"; do
  script=benches/$b.sh
  [ -x "$script" ] || { echo "bench-smoke: no $script" >&2; exit 2; }
  if [ "$b" = dynamic ] && ! scripts/modern-nix.sh ensure > /dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
      echo "bench-smoke: dynamic: no modern Nix (scripts/modern-nix.sh ensure failed), and CI=true" >&2
      failed+=("$b")
    else
      echo "bench-smoke: dynamic: SKIPPED (no modern Nix: scripts/modern-nix.sh ensure failed)" >&2
    fi
    continue
  fi
  log=$(mktemp)
  t0=$(now)
  if "$script" --smoke > "$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$b")
  fi
  printf 'bench-smoke: %-14s %-6s %6.1f s\n' "$b" "$status" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')" >&2
  [ "$status" = ok ] || sed 's/^/    /' "$log" | tail -n 30 >&2
  rm -f "$log"
done
printf 'bench-smoke: %d benches, %.1f s\n' "$#" "$(awk -v a="$t_all" -v b="$(now)" 'BEGIN { print b - a }')" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench-smoke: FAILED: ${failed[*]}" >&2
  exit 1
fi
