# A nixpkgs overlay: the innermost `with` supplies the Haskell functions, so
# the package set is not the overlay's `self`; nothing may be routed here.
self: super: with self; with haskellPackages; {
  myPkgs = {
    text = callHackage "text" "2.0.2" { };
    local = callCabal2nix "local" ./local { };
  };
}
