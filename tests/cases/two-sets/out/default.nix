{ pkgs }:
{
  ghc94 = pkgs.haskell.packages.ghc94.override {
    overrides = self: super: let ifdBatch = import ./nix/ifd-batch.nix "default.nix" self; in { aeson = ifdBatch.callHackage "aeson" "2.0.3.0" { }; };
  };
  ghc96 = pkgs.haskell.packages.ghc96.extend (hself: hsuper: let ifdBatch = import ./nix/ifd-batch.nix "default.nix" hself; in {
    aeson = ifdBatch.callHackage "aeson" "2.2.1.0" { };
  });
}
