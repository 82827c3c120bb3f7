{ lib, haskell }:
let
  inherit (haskell.lib) dontCheck doJailbreak;
  lensVersion = "5.2.3";
in
self: _super: let ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" self; in {
  # plain
  aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { };
  # wrapped, with explicit arguments
  lens = dontCheck (doJailbreak (ifdBatch.callHackage "lens" lensVersion { inherit (self) aeson; }));
  # through super, piped
  servant = lib.pipe (ifdBatch.callHackage "servant" "0.20.1" { }) [ dontCheck ];
  # overridden
  hspec = haskell.lib.overrideCabal (ifdBatch.callHackage "hspec" "2.11.7" { }) (old: { doCheck = false; });
  foldl = (ifdBatch.callHackage "foldl" "1.4.15" { }).overrideAttrs (_: { });
}
