hself: hsuper: let ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" hself; in with hself; {
  text = ifdBatch.callHackage "text" "2.0.2" { };
  local = ifdBatch.callCabal2nix "local" ./local { };
}
