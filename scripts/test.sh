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
# The real pre-commit framework, for the hook test.
command -v pre-commit >/dev/null 2>&1 || python3 -m pip install -q pre-commit
command -v pre-commit >/dev/null 2>&1 ||
  export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"

# deadnix: every Nix file we generate must pass it (users run its hook too).
command -v deadnix >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/deadnix" ] ||
  cargo install --quiet --locked deadnix@1.3.1
export PATH="$PATH:$HOME/.cargo/bin"

# Nix as the tests run it: no binary cache (there is no network), no sandbox,
# no build users (we run as root or as the store owner).
export NIX_CONFIG=$'substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command'

cargo test --all-targets "$@"
