{ pkgs, versions }:
self: super: {
  # version from a function argument: not batchable
  dyn = self.callHackage "dyn" versions.dyn { };
  # a bare name from an inner `with` of a set not provably a Haskell package set
  other = with pkgs.someSet; callHackage "other" "1.0" { };
  # source bound between the overlay and the site: the batch cannot see it
  up = let src = ./up; in self.callCabal2nix "up" src { };
  gen = import "${pkgs.runCommand "g" { } "echo {} > $out"}";
}
