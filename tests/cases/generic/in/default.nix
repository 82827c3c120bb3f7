# Generic import-from-derivation: five generated inputs read in one scope
# (serial barriers without a batch), one in a rarely taken branch.
{ pkgs ? import ../mini-nixpkgs { } }:
let
  inherit (pkgs) lib runCommand;
  config = runCommand "config" { } ''echo '{ "port": 8080 }' > $out'';
  gen = runCommand "gen" { } ''mkdir $out; echo '{ x = 1; }' > $out/default.nix; touch $out/feature-a'';
  schema = pkgs.writeText "schema.json" ''{ "a": 1 }'';

  port = (builtins.fromJSON (builtins.readFile config)).port;
  generated = import gen;
  parsed = lib.importJSON schema;
  # Per element: the whole collection is demanded once.
  inputs = { inherit config schema; };
  texts = lib.mapAttrs (_: d: builtins.readFile d) inputs;
  # Chained: `derived` needs `port` (an IFD) first; it joins a later barrier.
  derived = runCommand "derived" { } "echo ${toString port} > $out";
  derivedPort = builtins.readFile derived;
  # ifd-batch leaves a site in a branch alone: batching would build it always.
  maybe = if port > 0 then builtins.readFile "${gen}/default.nix" else "";
in
{
  inherit port generated parsed maybe derivedPort texts;
  features = builtins.attrNames (builtins.readDir gen);
}
