self: super: {
  here = self.callCabal2nix "here" ./. { };
  up = self.callCabal2nix "up" ../. { };
}
