# ifd-batch's Nix library: the callHackage / callCabal2nix sites of a package
# set built together, behind two short import-from-derivation barriers
# instead of one per package (see nixlib/README.md).
#
#   batch = (import ./nixlib).batch { hself = self; manifest = import ./ifd-batch.nix; };
#   aeson = batch.callHackage "aeson" "2.1.2.1" { };
#
# Plain Nix: needs no nixpkgs of its own. Everything it uses comes lazily from
# the package set `hself` (haskellSrc2nix, callPackage, and — through
# hself.callPackage — lib, runCommand, fetchzip and all-cabal-hashes from the
# set's scope), so it can be built inside an overlay of that very set without
# infinite recursion.
#
# Each part is a file of its own (`batch/` holds the batch's); the manifest
# `ifd-batch rewrite` writes vendors this file with every `import ./…`
# replaced by that file's text (`src/nixlib.rs`), one self-contained
# expression.
let
  overrideCabal = import ./overrideCabal.nix;
in
{
  version = "0.1.0";
  inherit overrideCabal;
  batch = import ./batch { inherit overrideCabal; };
  union = import ./union.nix;
  group = import ./group.nix;
}
