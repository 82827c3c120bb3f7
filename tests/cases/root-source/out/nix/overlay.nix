self: super: let ifdBatch = import ./ifd-batch.nix "nix/overlay.nix" self; in {
  fromNix = ifdBatch.callCabal2nix "fromNix" ../. { };
  nixDir = ifdBatch.callCabal2nixWithOptions "nixDir" ./. "--no-check" { };
}
