{ pkgs }:
{
  ghc94 = pkgs.haskell.packages.ghc94.override {
    overrides = self: super: { aeson = self.callHackage "aeson" "2.0.3.0" { }; };
  };
  ghc96 = pkgs.haskell.packages.ghc96.extend (hself: hsuper: {
    aeson = hself.callHackage "aeson" "2.2.1.0" { };
  });
}
