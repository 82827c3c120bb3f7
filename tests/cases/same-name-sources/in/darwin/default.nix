{ lib }:
self: super: {
  app = self.callCabal2nix "app" ../app-darwin { };
  tool = self.callCabal2nixWithOptions "tool" ../tool "--flag=darwin" { };
  # Two sources in one file, both paths: two entries.
  appStatic = self.callCabal2nix "app" ../app-static { };
  # A source the overlay's binding gives by name: one per name and overlay;
  # the second is left alone (scan, check and rewrite say so alike).
  cleanA = self.callCabal2nix "clean" (lib.cleanSource ../a) { };
  cleanB = self.callCabal2nix "clean" (lib.cleanSource ../b) { };
}
