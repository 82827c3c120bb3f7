# One file with both generic IFD groups and Haskell sites (issue 21): the
# manifest's origins name lines of the rewritten file, group lines
# included, so a second rewrite changes nothing.
{ pkgs }:
let
  a = pkgs.runCommand "a" { } "echo 1 > $out";
  b = pkgs.runCommand "b" { } "echo 2 > $out";
  versions = builtins.fromJSON (builtins.readFile a);
  more = builtins.readFile b;
in
self: super: {
  aeson = self.callHackage "aeson" "2.1.2.1" { };
  app = self.callCabal2nix "app" ./app { };
  inherit versions more;
}
