# Pins and local packages. Each callHackage / callCabal2nix /
# callHackageDirect below is one import-from-derivation: evaluated one after
# the other, each one a full pass over the all-cabal-hashes tarball.
{ pkgs }:
self: super:
let
  inherit (pkgs) lib;
  hl = pkgs.haskell.lib;

  # Versions we need that the package set does not have.
  pins = {
    prettyprinter = "1.7.1";
    unliftio = "0.2.25.0";
    microlens = "0.4.13.1";
    split = "0.2.5";
    safe-exceptions = "0.1.7.4";
  };
in
lib.mapAttrs (name: version: self.callHackage name version { }) pins // {
  aeson = self.callHackage "aeson" "2.2.1.0" { };
  text = hl.dontCheck (self.callHackage "text" "2.1" { });
  lens = hl.doJailbreak (self.callHackage "lens" "5.2.3" { });
  servant = lib.pipe (self.callHackage "servant" "0.20.1" { }) [
    hl.dontCheck
    hl.dontHaddock
  ];
  servant-server = self.callHackage "servant-server" "0.20" { };
  warp = hl.dontCheck (self.callHackage "warp" "3.3.30" { });
  yaml = self.callHackage "yaml" "0.11.11.2" { };
  megaparsec = self.callHackage "megaparsec" "9.6.1" { };
  conduit = self.callHackage "conduit" "1.3.5" { };
  dhall = hl.dontCheck (self.callHackage "dhall" "1.42.1" { });

  # Our own code, next to this file.
  local-pkg = self.callCabal2nix "local-pkg" ./local-pkg { };

  # Not in our all-cabal-hashes snapshot yet: straight from Hackage.
  retry = self.callHackageDirect {
    pkg = "retry";
    ver = "0.9.3.1";
    sha256 = "1aziga83nrk31mfwpbwnkx02dfvw0sgljdw75lh9rzwzi6ldw31s";
  } { };
}
