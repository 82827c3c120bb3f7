hself: hsuper: with hself; {
  text = callHackage "text" "2.0.2" { };
  local = callCabal2nix "local" ./local { };
}
