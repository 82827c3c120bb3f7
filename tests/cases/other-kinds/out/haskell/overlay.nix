{ haskell, lib }:
let
  pins = {
    vector = "0.13.0.0";
    primitive = "0.8.0.0";
  };
in
final: prev:
  let ifdBatch = import ../nix/ifd-batch.nix "haskell/overlay.nix" final; in
  {
    sydtest = ifdBatch.callHackageDirect {
      pkg = "sydtest";
      ver = "0.15.1.1";
      sha256 = "1j3dbkqz4yl2gmf7am5a9r8aqbcxgf5rpl0fvkiq1sfr6v2xs9rp";
    } { };
    app = ifdBatch.callCabal2nixWithOptions "app" ../app "--no-hpack" { };
  }
  // lib.mapAttrs (name: version: ifdBatch.callHackage name version { }) pins
  // ifdBatch.packageSourceOverrides { mtl = "2.3.1"; utils = ./utils; } final prev
