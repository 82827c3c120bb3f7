{ lib }:
self: super: let
  ifdBatch = import ../nix/ifd-batch.nix "darwin/default.nix" self {
    clean = lib.cleanSource ../a;
  };
in {
  app = ifdBatch.callCabal2nix "app" ../app-darwin { };
  tool = ifdBatch.callCabal2nixWithOptions "tool" ../tool "--flag=darwin" { };
  # Two sources in one file, both paths: two entries.
  appStatic = ifdBatch.callCabal2nix "app" ../app-static { };
  # A source the overlay's binding gives by name: one per name and overlay;
  # the second is left alone (scan, check and rewrite say so alike).
  cleanA = ifdBatch.callCabal2nix "clean" (lib.cleanSource ../a) { };
  cleanB = self.callCabal2nix "clean" (lib.cleanSource ../b) { };
}
