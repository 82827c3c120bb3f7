{ pkgs, versions }:
self: super: {
  # version from a function argument: not batchable
  dyn = self.callHackage "dyn" versions.dyn { };
  # another package set than the overlay's
  other = pkgs.haskellPackages.callHackage "other" "1.0" { };
  # fetched source: left alone for now
  up = self.callCabal2nix "up" (pkgs.fetchFromGitHub { owner = "o"; repo = "r"; rev = "v1"; sha256 = "x"; }) { };
  gen = import "${pkgs.runCommand "g" { } "echo {} > $out"}";
}
