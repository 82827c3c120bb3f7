# Real overlays wrap their sources; the batch gets them from the binding.
{ lib, self, gitignoreSource }:
final: prev:
let
  ifdBatch = import ./nix/ifd-batch.nix "overlay.nix" final {
    app = lib.cleanSource ./app;
    dep = dep + "/dep";
    filtered = lib.cleanSourceWith {
      src = ./app;
      filter = path: _type: baseNameOf path != "junk";
    };
    lib2 = gitignoreSource ./lib2;
    "options:multi" = lib.concatStrings [ "--no-check
" ];
    sub = "${self}/sub";
  };
  dep = final.sources.dep;
in
{
  app = ifdBatch.callCabal2nix "app" (lib.cleanSource ./app) { };
  lib2 = ifdBatch.callCabal2nixWithOptions "lib2" (gitignoreSource ./lib2) "--no-check" { };
  sub = ifdBatch.callCabal2nix "sub" "${self}/sub" { };
  dep = ifdBatch.callCabal2nix "dep" (dep + "/dep") { };
  plain = ifdBatch.callCabal2nix "plain" ./app { };
  # Multi-line: re-indented under the binding.
  filtered = ifdBatch.callCabal2nix "filtered" (lib.cleanSourceWith {
    src = ./app;
    filter = path: _type: baseNameOf path != "junk";
  }) { };
  # A string spanning lines keeps its layout (its value depends on it).
  multi = ifdBatch.callCabal2nixWithOptions "multi" ./app (lib.concatStrings [ "--no-check
" ]) { };
  aeson = ifdBatch.callHackage "aeson" "2.1.2.1" { };
}
