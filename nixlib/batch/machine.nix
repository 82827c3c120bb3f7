# The build machine: what the generators are built with.
#
# `ifd-batch rewrite --backend materialized` writes the files of every
# platform the targets use, on this machine. Another system's generator
# cannot run here (Nix refuses its derivations, and its cabal2nix is
# that system's binary). So while materializing, and only then, a set of
# another system gets its generators (and the extraction and downloads
# they read) from the same nixpkgs imported with this machine as build
# platform and the set's platform as host: nixpkgs' own haskellSrc2nix
# for that platform, run here, with the arguments the platform's own
# generator gets (`--compiler`, `--system=<its hostPlatform.config>`,
# the same sha256, source and options; cabal2nix reads nothing else),
# so it writes the same bytes. Packages never come from it.
{ hself, scope, materializing }:
let
  inherit (builtins) attrNames filter head;
  inherit (scope) platform hostPlatform index;
  here = builtins.currentSystem;
  foreign = materializing && scope.stdenv != null
    && scope.stdenv.buildPlatform.system != here;
  buildPkgs =
    if scope.path == null
    then throw ("ifd-batch: cannot materialize for ${platform} on ${here}: the package set's "
      + "scope has no `path` (nixpkgs' source) to import with ${here} as build platform")
    else import scope.path ({ localSystem = { system = here; }; crossSystem = hostPlatform; }
      // (if scope.overlays != null then { inherit (scope) overlays; } else { }));
  buildSet =
    let
      sets = buildPkgs.haskell.packages;
      same = filter (n:
        let r = builtins.tryEval (sets.${n}.ghc.haskellCompilerName or null); in
        r.success && r.value == hself.ghc.haskellCompilerName) (attrNames sets);
    in
    if same == [ ]
    then throw ("ifd-batch: cannot materialize for ${platform} on ${here}: no package set of "
      + "${hself.ghc.haskellCompilerName} in nixpkgs' haskell.packages")
    else sets.${head same};
  buildScope = buildSet.callPackage
    ({ runCommand, fetchzip ? null, all-cabal-hashes ? null, buildPackages ? null }:
      { inherit runCommand fetchzip all-cabal-hashes buildPackages; })
    { };
  # What the generators are built with: the set's own tools, or (another
  # system's set, while materializing) this machine's. The index is the
  # set's, as a path; its own derivation when this machine's is the same.
  nativeTools = {
    src2nix = hself.haskellSrc2nix;
    inherit (scope) runCommand index fetchzip;
  };
  tools =
    if !foreign then nativeTools
    else {
      src2nix = buildSet.haskellSrc2nix;
      runCommand =
        if buildScope.buildPackages != null && buildScope.buildPackages ? runCommand
        then buildScope.buildPackages.runCommand else buildScope.runCommand;
      inherit (buildScope) fetchzip;
      index =
        if buildScope.all-cabal-hashes != null
          && toString buildScope.all-cabal-hashes == toString index
        then buildScope.all-cabal-hashes else index;
    };
in
{
  inherit here foreign tools;
  # A generator as the set makes it (`cabal2nixDeriver`, what a package
  # names); for another system's set while materializing, it carries the
  # one built here (`ifdBatchHere`), which its probe runs.
  generator = mk:
    let gen = mk nativeTools; in
    if foreign then gen // { ifdBatchHere = mk tools; } else gen;
}
