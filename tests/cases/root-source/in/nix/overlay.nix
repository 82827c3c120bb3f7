self: super: {
  fromNix = self.callCabal2nix "fromNix" ../. { };
  nixDir = self.callCabal2nixWithOptions "nixDir" ./. "--no-check" { };
}
