self: super: {
  text = self.callHackage "text" "2.0.2" { };
  aeson = self.callHackage "aeson" "2.1.2.1" { };
}
