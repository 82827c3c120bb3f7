{ lib, haskell }:
let
  inherit (haskell.lib) dontCheck doJailbreak;
  lensVersion = "5.2.3";
in
self: super: {
  # plain
  aeson = self.callHackage "aeson" "2.1.2.1" { };
  # wrapped, with explicit arguments
  lens = dontCheck (doJailbreak (self.callHackage "lens" lensVersion { inherit (self) aeson; }));
  # through super, piped
  servant = lib.pipe (super.callHackage "servant" "0.20.1" { }) [ dontCheck ];
  # overridden
  hspec = haskell.lib.overrideCabal (self.callHackage "hspec" "2.11.7" { }) (old: { doCheck = false; });
  foldl = (self.callHackage "foldl" "1.4.15" { }).overrideAttrs (_: { });
}
