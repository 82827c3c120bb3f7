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
  aeson = callHackage "aeson" "2.1.2.1" { };
}
