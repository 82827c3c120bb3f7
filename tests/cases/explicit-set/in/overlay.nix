# Sets named explicitly inside `.override` / `.extend`: the un-overridden set
# is not the overlay's, so each gets its own batch, bound at the overlay.
{ pkgs }:
{
  ghc96 = pkgs.haskell.packages.ghc96.override {
    overrides = self: super: {
      aeson = pkgs.haskell.packages.ghc96.callHackage "aeson" "2.2.1.0" { };
      text = self.callHackage "text" "2.1" { };
    };
  };
  ghc94 = pkgs.haskell.packages.ghc94.extend (hself: _: let
    hl = pkgs.haskell.lib;
  in {
    lens = hl.dontCheck (pkgs.haskell.packages.ghc94.callHackage "lens" "5.2.3" { });
    extra = hself.callHackage "extra" "1.7.14" { };
  });
}
