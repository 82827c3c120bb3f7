# The example's flake outputs (flake.nix returns them), as a plain file so
# that `ifd-batch rewrite --backend materialized --target outputs.nix:packages`
# evaluates the very same attributes: every package of the overlay, for four
# systems and two compilers, on the bundled test world.
{ world ? ../../fixtures/mini-nixpkgs }:
let
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  forAllSystems = f: builtins.listToAttrs
    (map (system: { name = system; value = f system; }) systems);
  # The overlay's packages on one compiler's package set.
  sites = pkgs: compiler:
    (import ./. { pkgs = pkgs // { haskellPackages = pkgs.haskell.packages.${compiler}; }; }).sites;
in
{
  # ghc948's packages by name, ghc964's as NAME-ghc964.
  packages = forAllSystems (system:
    let pkgs = import world { inherit system; }; in
    sites pkgs "ghc948"
    // builtins.listToAttrs (map (n: { name = "${n}-ghc964"; value = (sites pkgs "ghc964").${n}; })
      (builtins.attrNames (sites pkgs "ghc964"))));
}
