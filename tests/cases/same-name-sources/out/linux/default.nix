# One `default.nix` per platform, each with its own `app` (issue 21): one
# generator per distinct name, source and options, in every file.
self: super: let ifdBatch = import ../nix/ifd-batch.nix "linux/default.nix" self; in {
  app = ifdBatch.callCabal2nix "app" ../app-linux { };
  tool = ifdBatch.callCabal2nixWithOptions "tool" ../tool "--flag=linux" { };
}
