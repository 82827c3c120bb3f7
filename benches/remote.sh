#!/usr/bin/env bash
# Nix's remote builders for the batch's generators: N callHackage sites
# rewritten by `ifd-batch rewrite`, each generator sleeping --delay seconds
# (the world's cabal2nix behind fixtures/remote/slow-cabal2nix.nix; the
# generated expressions are the same), evaluated cold twice in one run:
# this machine only (`-j JOBS`), then this machine plus a remote builder
# with REMOTE_JOBS slots (`--builders 'ssh://ifd-remote SYSTEM - REMOTE_JOBS'`).
# The remote is a second Nix store on this machine behind sshd on 127.0.0.1
# (fixtures/remote/builder.sh): its slots are real Nix build slots and its
# builds really go through ssh (copy in, build, copy back), but it shares
# this machine's cores, so the builds sleep rather than compute (a
# generator's time is waiting, as on another machine).
#
#   benches/remote.sh [--n 50] [--delay 1] [--jobs 4] [--remote-jobs 4] [--ssh-ng] [--smoke]
#
# --ssh-ng: the remote as `ssh-ng://` (nix-daemon --stdio) instead of `ssh://`
# (nix-store --serve).
#
# Needs sshd (openssh-server), root (a mount namespace per ssh session).
# --smoke: N = 4, delay 1, tiny index, debug build (benches/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=50 delay=1 jobs=4 rjobs=4 proto=ssh
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --remote-jobs) rjobs=$2; shift 2 ;;
    --ssh-ng) proto=ssh-ng; shift ;;
    --smoke) SMOKE=1 n=4; shift ;;
    *) echo "usage: $0 [--n N] [--delay S] [--jobs N] [--remote-jobs N] [--ssh-ng] [--smoke]" >&2; exit 2 ;;
  esac
done
. benches/lib.sh
bench_build
bench_index
work=$(bench_dir remote)
rm -rf "$work"; mkdir -p "$work/repo" "$work/builder"

# The remote builder; stopped on exit.
eval "$(fixtures/remote/builder.sh start "$work/builder")"
export NIX_SSHOPTS
trap 'fixtures/remote/builder.sh stop "$work/builder"' EXIT

cp fixtures/remote/default.nix fixtures/remote/slow-cabal2nix.nix "$work/repo/"
bench_pick "$n" > "$work/pins.txt"
{
  echo "self: super: {"
  while read -r name version; do echo "  \"$name\" = self.callHackage \"$name\" \"$version\" { };"; done < "$work/pins.txt"
  echo "}"
} > "$work/repo/overlay.nix"
(cd "$work" && git init -q)
"$bin" rewrite "$work/repo" --write > /dev/null
system=$(nix-instantiate --eval -E builtins.currentSystem | tr -d '"')

run() { # name salt builders -> seconds; log in $work/NAME.log
  local t0 t1
  t0=$(now)
  nix-instantiate --eval --strict --json --read-write-mode -j "$jobs" --builders "$3" \
    --log-format internal-json -v \
    -E "builtins.mapAttrs (n: v: v.drvPath) (import $work/repo {
          world = $root/fixtures/mini-nixpkgs; all-cabal-hashes = $index;
          salt = \"$2\"; delay = $delay; }).sites" > "$work/$1.json" 2> "$work/$1.log" ||
    { grep -o '"msg":"[^"]*"' "$work/$1.log" | tail -n 5 >&2; bench_sanity "$1: evaluation failed"; }
  t1=$(now); secs "$t0" "$t1"
}
# Generators (`cabal2nix-<pkg>-<ver>.drv`) whose build started (actBuild
# events) on MACHINE ("" = here), one a line. (An ssh-ng remote's daemon
# forwards its own events too, with no machine: "here" leaves out what
# started on the remote.)
started() { grep '"type":105' "$work/$1.log" | grep '"action":"start"' |
  grep -E -o -- '/nix/store/[a-z0-9]{32}-cabal2nix-[^"]*-[0-9][0-9.]*\.drv","'"$2"'"' | cut -d'"' -f1 | sort -u; }
built() {
  if [ -n "$2" ]; then started "$1" "$2" | wc -l
  else comm -23 <(started "$1" "") <(started "$1" "$proto://ifd-remote") | wc -l; fi
}

salt=remote-$(date +%s%N)
l=$(run local "$salt-l" "")
r=$(run remote "$salt-r" "$proto://ifd-remote $system - $rjobs 1")
l_here=$(built local "") r_here=$(built remote "") r_there=$(built remote "$proto://ifd-remote")
[ "$l_here" = "$n" ] || bench_sanity "local only: $l_here of $n generators built"
[ $((r_here + r_there)) = "$n" ] || bench_sanity "with the remote: $((r_here + r_there)) of $n generators built"
[ "$r_there" -gt 0 ] || bench_sanity "no generator ran on the remote (preferLocalBuild?)"
store=$work/builder/root/store
if ls "$store" | grep -q -e all-cabal-hashes -e ifd-batch-cabal-hashes; then
  index_copied=YES; bench_sanity "the index or the extraction was copied to the remote"
else
  index_copied=no
fi
entries=$(ls "$store" | grep -c -- '-hackage-' || :)

echo "# remote: N = $n generators, ${delay}s each (sleeping), $(nproc) cores, $(nix-instantiate --version)"
echo "# this machine -j $jobs; remote ($proto://): a second store behind sshd on 127.0.0.1, $rjobs slots"
printf '%-26s %8s %s\n' variant seconds "generators built (here + remote)"
printf '%-26s %7ss %s\n' "this machine only" "$l" "$l_here + 0"
printf '%-26s %7ss %s\n' "this machine + remote" "$r" "$r_here + $r_there"
printf '%-26s %7ss\n' "limit: ceil(N/jobs)×delay" "$(awk -v n="$n" -v c="$jobs" -v d="$delay" 'BEGIN { printf "%.2f", int((n + c - 1) / c) * d }')"
printf '%-26s %7ss\n' "limit with the remote" "$(awk -v n="$n" -v c="$((jobs + rjobs))" -v d="$delay" 'BEGIN { printf "%.2f", int((n + c - 1) / c) * d }')"
echo "ratio (local only / with remote): $(awk -v a="$l" -v b="$r" 'BEGIN { printf "%.2fx", a / b }')"
echo "copied to the remote: $entries entry directories ($(du -sh "$store" | cut -f1) in its store); index ($(du -h "$index" | cut -f1)) copied: $index_copied"
