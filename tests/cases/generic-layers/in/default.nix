# Layers (issue 21): derivations made by a package set that is itself read
# from a derivation's output, and a chain two deep. A member never shares
# the barrier of a site it depends on; each layer is one barrier.
{ pkgs ? import ../mini-nixpkgs { } }:
let
  # A package set computed by a derivation (as `import (fetch …) { }` is).
  setSrc = pkgs.runCommand "set" { } ''mkdir $out; echo '{ runCommand }: { inherit runCommand; }' > $out/default.nix'';
  made = import setSrc { inherit (pkgs) runCommand; };
  inherit (made) runCommand;
  other = pkgs.runCommand "other" { } "echo 1 > $out";
  a = runCommand "a" { } "echo 2 > $out";
  b = runCommand "b" { } "echo 3 > $out";
  c = runCommand "c" { } "echo ${builtins.readFile a} > $out";
  d = runCommand "d" { } "echo ${builtins.readFile b} > $out";
in
{
  other = builtins.readFile other;
  a = builtins.readFile a;
  b = builtins.readFile b;
  c = builtins.readFile c;
  d = builtins.readFile d;
}
