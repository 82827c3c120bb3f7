# What the package set provides: its scope (package set first, then pkgs),
# read lazily through its own callPackage, so a batch over `self` inside an
# overlay of that set does not recurse; the all-cabal-hashes index; and the
# set's platform (`<compiler>-<hostPlatform.config>`), and `ifd-batch` when the
# set provides it.
{ hself, all-cabal-hashes }:
let
  scope = hself.callPackage
    ({ lib, runCommand, fetchzip ? null, all-cabal-hashes ? null, buildPackages ? null, stdenv ? null
     , path ? null, overlays ? null, ifd-batch ? null }:
      { inherit lib runCommand fetchzip all-cabal-hashes buildPackages stdenv path overlays ifd-batch; })
    { };
in
{
  inherit (scope) lib fetchzip stdenv path overlays;
  # `ifd-batch` when the package set provides it (this project's flake
  # overlay): the batch's extractor by default.
  tool = scope.ifd-batch;
  runCommand =
    if scope.buildPackages != null && scope.buildPackages ? runCommand
    then scope.buildPackages.runCommand else scope.runCommand;
  hostPlatform = scope.stdenv.hostPlatform;

  explicitIndex = all-cabal-hashes != null || hself ? all-cabal-hashes;
  index =
    if all-cabal-hashes != null then all-cabal-hashes
    else if hself ? all-cabal-hashes then hself.all-cabal-hashes
    else if scope.all-cabal-hashes != null then scope.all-cabal-hashes
    else throw "ifd-batch: no all-cabal-hashes in the package set's scope; pass all-cabal-hashes to batch";

  platform = "${hself.ghc.haskellCompilerName}-${
    if scope.stdenv != null then scope.stdenv.hostPlatform.config else builtins.currentSystem}";
}
