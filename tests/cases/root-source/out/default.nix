# A source that is the repository root (issue 21): `./.` in a root file,
# `../.` from `nix/`, `./.` in a sub-directory; the manifest writes path
# literals (`../.`), never `..`.
self: super: let ifdBatch = import ./nix/ifd-batch.nix "default.nix" self; in {
  root = ifdBatch.callCabal2nix "root" ./. { };
  sub = ifdBatch.callCabal2nix "sub" ./sub { };
}
