# An example repository for ifd-batch: a Haskell package set extended with an
# overlay full of import-from-derivation sites, on the bundled test world.
#
#   nix-instantiate --read-write-mode examples/haskell-overlay -A haskellPackages.aeson
#   cargo run --release -- scan examples/haskell-overlay
{ pkgs ? import ../../fixtures/mini-nixpkgs { } }:
let
  haskellPackages = pkgs.haskellPackages.override {
    overrides = import ./overlay.nix { inherit pkgs; };
  };
  overlayNames = builtins.attrNames (import ./overlay.nix { inherit pkgs; } { } { });
in
{
  inherit haskellPackages;
  # Every package the overlay defines.
  sites = pkgs.lib.genAttrs overlayNames (name: haskellPackages.${name});
  app = haskellPackages.local-pkg;
}
