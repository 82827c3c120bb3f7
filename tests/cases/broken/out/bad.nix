self: super: { text = self.callHackage "text" "2.0.2" { ; }
