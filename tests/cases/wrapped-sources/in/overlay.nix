# Real overlays wrap their sources; the batch gets them from the binding.
{ lib, self, gitignoreSource }:
final: prev:
let
  inherit (final) callHackage;
  dep = final.sources.dep;
in
{
  app = final.callCabal2nix "app" (lib.cleanSource ./app) { };
  lib2 = final.callCabal2nixWithOptions "lib2" (gitignoreSource ./lib2) "--no-check" { };
  sub = final.callCabal2nix "sub" "${self}/sub" { };
  dep = final.callCabal2nix "dep" (dep + "/dep") { };
  plain = final.callCabal2nix "plain" ./app { };
  # Multi-line: re-indented under the binding.
  filtered = final.callCabal2nix "filtered" (lib.cleanSourceWith {
    src = ./app;
    filter = path: _type: baseNameOf path != "junk";
  }) { };
  # A string spanning lines keeps its layout (its value depends on it).
  multi = final.callCabal2nixWithOptions "multi" ./app (lib.concatStrings [ "--no-check
" ]) { };
  aeson = callHackage "aeson" "2.1.2.1" { };
}
