# One file with both generic IFD groups and Haskell sites (issue 21): the
# manifest's origins name lines of the rewritten file, group lines
# included, so a second rewrite changes nothing.
{ pkgs }:
let
  ifdBatchGroup = (import ./nix/ifd-batch.nix).group [ a b ];
  a = pkgs.runCommand "a" { } "echo 1 > $out";
  b = pkgs.runCommand "b" { } "echo 2 > $out";
  versions = builtins.fromJSON (builtins.readFile (ifdBatchGroup.ready a));
  more = builtins.readFile (ifdBatchGroup.ready b);
in
self: super: let ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" self; in {
  aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { };
  app = ifdBatch.callCabal2nix "app" ./app { };
  inherit versions more;
}
