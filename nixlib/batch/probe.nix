# `probe GENERATOR`: the generator wrapped so that its failure is recorded in
# $out/FAILED, not raised (for another system's set while materializing, the
# generator built on this machine, `ifdBatchHere`); a generator without
# overrideAttrs is returned as it is.
let
  # A build script that never fails: it runs the generator's own script
  # (`$ifdBatchCommandPath`, with stdenv's shell options) and records a
  # failure in $out/FAILED instead of failing, so that one broken entry cannot
  # fail the barrier every other entry waits for. On success, a `src = <store
  # path>;` line is replaced (callCabal2nix puts the caller's src back), so
  # the result has no store references and is substitutable.
  probeCommand = ''
    if bash -e -o pipefail -O inherit_errexit "$ifdBatchCommandPath" > "$TMPDIR/ifd-batch.log" 2>&1; then
      cat "$TMPDIR/ifd-batch.log" >&2
      store=''${NIX_STORE:-/nix/store}
      sed -i -e "s|^  src = $store/[^;]*;\$|  src = null; # restored by ifd-batch with overrideCabal, as nixpkgs does|" \
        "$out/default.nix"
    else
      status=$?
      rm -rf "$out"
      mkdir -p "$out"
      # (store paths masked: a log must not become a runtime reference)
      { echo "exit status $status"
        tail -n 30 "$TMPDIR/ifd-batch.log" | sed -e 's|/nix/store/[a-z0-9]\{32\}-|/nix/store/…-|g'
      } > "$out/FAILED"
    fi
  '';
in
gen0:
let gen = gen0.ifdBatchHere or gen0; in
if gen ? overrideAttrs then
  gen.overrideAttrs (old: {
    buildCommand = probeCommand;
    ifdBatchCommand = old.buildCommand;
    # nixpkgs' haskellSrc2nix says preferLocalBuild: Nix would then never
    # hand a generator to a remote builder while this machine can build.
    preferLocalBuild = false;
    passAsFile = (old.passAsFile or [ ]) ++ [ "ifdBatchCommand" ];
  })
else gen
