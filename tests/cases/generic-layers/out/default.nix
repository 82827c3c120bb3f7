# Layers (issue 21): derivations made by a package set that is itself read
# from a derivation's output, and a chain two deep. A member never shares
# the barrier of a site it depends on; each layer is one barrier.
{ pkgs ? import ../mini-nixpkgs { } }:
let
  # A package set computed by a derivation (as `import (fetch …) { }` is).
  ifdBatchGroup = (import ./nix/ifd-batch.nix).group [ setSrc other ];
  ifdBatchGroup'2 = (import ./nix/ifd-batch.nix).group [ a b ];
  ifdBatchGroup'3 = (import ./nix/ifd-batch.nix).group [ c d ];
  setSrc = pkgs.runCommand "set" { } ''mkdir $out; echo '{ runCommand }: { inherit runCommand; }' > $out/default.nix'';
  made = import (ifdBatchGroup.ready setSrc) { inherit (pkgs) runCommand; };
  inherit (made) runCommand;
  other = pkgs.runCommand "other" { } "echo 1 > $out";
  a = runCommand "a" { } "echo 2 > $out";
  b = runCommand "b" { } "echo 3 > $out";
  c = runCommand "c" { } "echo ${builtins.readFile (ifdBatchGroup'2.ready a)} > $out";
  d = runCommand "d" { } "echo ${builtins.readFile (ifdBatchGroup'2.ready b)} > $out";
in
{
  other = builtins.readFile (ifdBatchGroup.ready other);
  a = builtins.readFile (ifdBatchGroup'2.ready a);
  b = builtins.readFile (ifdBatchGroup'2.ready b);
  c = builtins.readFile (ifdBatchGroup'3.ready c);
  d = builtins.readFile (ifdBatchGroup'3.ready d);
}
