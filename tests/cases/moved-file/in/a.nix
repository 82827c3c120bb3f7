self: super: let ifdBatch = import ./nix/ifd-batch.nix "a.nix" self; in { aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { }; }
