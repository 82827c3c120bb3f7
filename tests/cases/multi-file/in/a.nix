self: super: { aeson = self.callHackage "aeson" "2.1.2.1" { }; }
