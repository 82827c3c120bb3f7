{
  description = "ifd-batch's example: a Haskell overlay on the test world, for four systems";

  # No inputs: the test world is in this repository (../../fixtures/mini-nixpkgs).
  outputs = { self }: import ./outputs.nix { };
}
