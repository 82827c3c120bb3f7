self: super: let ifdBatch = import ../nix/ifd-batch.nix "moved/b.nix" self; in {
  text = ifdBatch.callHackage "text" "2.0.2" { };
  aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { };
}
