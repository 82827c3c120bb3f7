# One `default.nix` per platform, each with its own `app` (issue 21): one
# generator per distinct name, source and options, in every file.
self: super: {
  app = self.callCabal2nix "app" ../app-linux { };
  tool = self.callCabal2nixWithOptions "tool" ../tool "--flag=linux" { };
}
