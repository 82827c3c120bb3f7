# `batch { hself, manifest, … }`: the Hackage and cabal2nix entries of one
# package set, built behind two barriers (see nixlib/README.md). Its parts, each
# a function of the values and parts it reads:
#
#   scope.nix        the package set's scope, index and platform
#   machine.nix      what the generators are built with (this machine's tools
#                    for another system's set while materializing)
#   entries.nix      the manifest's entries, with the caller's sources
#   checks.nix       what the batch refuses (old nixpkgs, another index)
#   extract.nix      barrier 1: the one extraction pass, the missing members
#   probe.nix        a generator whose failure is recorded, not raised
#   generators.nix   barrier 2: one generator per entry, demanded together
#   materialize.nix  materialized files, and the trace that makes them
#   interface.nix    callHackage, callCabal2nix, … (the caller interface)
{ overrideCabal }:
let
  batch =
    args@{ hself
    , manifest
    , extractor ? "auto"
    , all-cabal-hashes ? null
    , materialized ? null
    , sources ? { }
    }:
    let
      materializing = builtins.getEnv "IFD_BATCH_MATERIALIZE" != "";
      scope = import ./scope.nix { inherit hself all-cabal-hashes; };
      machine = import ./machine.nix { inherit hself scope materializing; };
      entries = import ./entries.nix { inherit manifest sources; };
      checks = import ./checks.nix {
        inherit hself;
        inherit (scope) lib index explicitIndex;
        inherit (entries) hackage;
      };
      # "auto": `ifd-batch extract` when the set provides `ifd-batch`, else
      # GNU tar; "ifd-batch" insists on it. Materializing for another
      # system runs the extraction here, where that set's binary cannot
      # run: GNU tar then (the same files).
      extractor' =
        if extractor == "auto" then (if scope.tool != null && !machine.foreign then scope.tool else "tar")
        else if extractor == "ifd-batch" then
          (if machine.foreign then "tar"
           else if scope.tool != null then scope.tool
           else throw ("ifd-batch: extractor = \"ifd-batch\", but the package set has no `ifd-batch` "
             + "(apply ifd-batch's flake overlay, overlays.default, or pass extractor = <a package "
             + "with bin/ifd-batch>; `ifd-batch rewrite --extractor tar` uses GNU tar)"))
        else extractor;
      extraction = import ./extract.nix {
        extractor = extractor';
        inherit (machine) tools;
        inherit (entries) members;
      };
      generators = import ./generators.nix {
        inherit hself overrideCabal;
        inherit (scope) lib fetchzip;
        inherit (machine) generator;
        probe = import ./probe.nix;
        inherit (extraction) extracted isMissing;
        inherit (entries) hackage cabal2nix direct;
      };
      materialization = import ./materialize.nix {
        inherit materialized materializing scope machine generators checks;
        inherit (scope) lib;
        inherit (entries) originOf;
      };
      interface = import ./interface.nix {
        inherit hself batch overrideCabal materializing entries checks extraction generators
          materialization;
        inherit (scope) index;
        batchArgs = args;
      };
    in
    interface // {
      inherit manifest;
      inherit (scope) index;
      inherit (extraction) extracted missing seekable;
      extractor = extractor';
      inherit (generators) generators probes;
      # `batch SOURCES`: the same batch, given the calling file's sources.
      __functor = _: sources: batch (args // { inherit sources; });
    };
in
batch
