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
    , extractor ? "tar"
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
      extraction = import ./extract.nix {
        inherit extractor;
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
      inherit (extraction) extracted missing;
      inherit (generators) generators probes;
      # `batch SOURCES`: the same batch, given the calling file's sources.
      __functor = _: sources: batch (args // { inherit sources; });
    };
in
batch
