#!/usr/bin/env bash
# The whole test suite. Installs what the tests need on a fresh Debian machine
# (Nix from Debian's `nix-bin`), then runs `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

command -v nix-instantiate >/dev/null 2>&1 || apt_install nix-bin
command -v git >/dev/null 2>&1 || apt_install git
# sshd and ssh: a remote Nix builder on 127.0.0.1 (tests/it/remote.rs).
{ [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1; } || apt_install openssh-server openssh-client
# The real pre-commit framework, for the hook test.
command -v pre-commit >/dev/null 2>&1 || python3 -m pip install -q pre-commit
command -v pre-commit >/dev/null 2>&1 ||
  export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"

# deadnix: every Nix file we generate must pass it (users run its hook too).
command -v deadnix >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/deadnix" ] ||
  cargo install --quiet --locked deadnix@1.3.1
export PATH="$PATH:$HOME/.cargo/bin"

# A modern Nix (Debian sid's 2.34) in an isolated root, for the
# dynamic-derivations backend's tests (tests/it/dynamic.rs). Under CI=true it
# must be had; elsewhere those tests say SKIPPED.
scripts/modern-nix.sh path >/dev/null || command -v mmdebstrap >/dev/null 2>&1 ||
  apt_install mmdebstrap || :
if ! scripts/modern-nix.sh ensure >/dev/null; then
  [ "${CI:-}" != true ] || { echo "scripts/test.sh: no modern Nix, and CI=true" >&2; exit 1; }
  echo "scripts/test.sh: no modern Nix (scripts/modern-nix.sh ensure failed): the dynamic-backend tests will be SKIPPED" >&2
fi

# Nix as the tests run it: no binary cache (there is no network), no sandbox,
# no build users (we run as root or as the store owner).
export NIX_CONFIG=$'substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command'

cargo test --all-targets "$@"

# The version matrix (on in CI, opt-in elsewhere with IFD_BATCH_MATRIX=1): the
# Nix tests again, with the modern Nix. Nix >= 2.19 changed what our code
# reads (`drv^out` in profile's messages), so both versions are evidence.
if [ "${IFD_BATCH_MATRIX:-${CI:+1}}" = 1 ]; then
  scripts/modern-nix.sh test --test it -- world:: rewrite_nix:: profile:: dynamic:: materialize_systems:: extract_nixlib::
fi

# Every bench runs from this clone: a smoke run of each (tiny sizes, no
# figures asserted; on in CI, opt-in elsewhere with IFD_BATCH_BENCH_SMOKE=1).
if [ "${IFD_BATCH_BENCH_SMOKE:-${CI:+1}}" = 1 ]; then
  scripts/bench-smoke.sh
fi
