# Sets named explicitly inside `.override` / `.extend`: the un-overridden set
# is not the overlay's, so each gets its own batch, bound at the overlay.
{ pkgs }:
{
  ghc96 = pkgs.haskell.packages.ghc96.override {
    overrides = self: super: let
      ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" self;
      ifdBatch'ghc96 = import ./nix/ifd-batch.nix "overlay.nix" pkgs.haskell.packages.ghc96;
    in {
      aeson = ifdBatch'ghc96.callHackage "aeson" "2.2.1.0" { };
      text = ifdBatch.callHackage "text" "2.1" { };
    };
  };
  ghc94 = pkgs.haskell.packages.ghc94.extend (hself: _: let
    ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" hself;
    ifdBatch'ghc94 = import ./nix/ifd-batch.nix "overlay.nix" pkgs.haskell.packages.ghc94;
    hl = pkgs.haskell.lib;
  in {
    lens = hl.dontCheck (ifdBatch'ghc94.callHackage "lens" "5.2.3" { });
    extra = ifdBatch.callHackage "extra" "1.7.14" { };
  });
}
