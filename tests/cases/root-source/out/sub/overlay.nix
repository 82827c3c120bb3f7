self: super: let ifdBatch = import ../nix/ifd-batch.nix "sub/overlay.nix" self; in {
  here = ifdBatch.callCabal2nix "here" ./. { };
  up = ifdBatch.callCabal2nix "up" ../. { };
}
