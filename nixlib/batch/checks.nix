# What the batch refuses, loudly: a nixpkgs too old to keep the packages'
# drvPaths, and a package set reading another index than the batch's.
{ hself, lib, index, explicitIndex, hackage }:
let
  inherit (builtins) compareVersions head match readFile replaceStrings stringLength
    unsafeDiscardStringContext;
  hasInfix = infix: s: stringLength (replaceStrings [ infix ] [ "" ] s) != stringLength s;
in
{
  # nixpkgs before 22.11 wrote the generator's store path into every
  # package (`preConfigure = "# Generated from …"`, NixOS/nixpkgs#194753):
  # drvPaths could not stay those of nixpkgs.
  supported =
    if lib ? version && compareVersions lib.version "22.11" < 0
    then throw ("ifd-batch: nixpkgs ${lib.version} is not supported: before 22.11, callHackage "
      + "and callCabal2nix put the cabal2nix generator's store path into every package "
      + "(preConfigure \"# Generated from …\"), so a batch cannot keep the packages' drvPaths; "
      + "ifd-batch supports nixpkgs 22.11 and later")
    else true;

  # A set changed with `.override { all-cabal-hashes = …; }` reads another
  # index, which it does not export. Its own hackage2nix derivation says
  # which: the batch refuses to extract from a different one.
  # (Pure evaluation — a flake — may not read a .drv file: there the
  # check is left to impure runs, `ifd-batch rewrite` and `check
  # --rebuild`, which materialize through it.)
  sameIndex =
    if explicitIndex || hackage == [ ] || !(hself ? hackage2nix) || !(builtins ? currentSystem) then true
    else
      let
        e = head hackage;
        genText = readFile (hself.hackage2nix e.name e.version).drvPath;
        comp = match ".*(/nix/store/[a-z0-9]{32}-all-cabal-hashes-component-[^\"]*[.]drv).*" genText;
        indexPath = unsafeDiscardStringContext (toString index);
      in
      if comp == null || hasInfix indexPath (readFile (head comp)) then true
      else throw ("ifd-batch: this package set reads all-cabal-hashes from another index than "
        + "${indexPath} (it was changed with `.override { all-cabal-hashes = …; }`), which the set "
        + "does not export; pass that index to the batch: "
        + "`(import ./nix/ifd-batch.nix FILE self).withIndex INDEX`, or nixlib's "
        + "`batch { all-cabal-hashes = INDEX; … }`");
}
