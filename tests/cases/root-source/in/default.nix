# A source that is the repository root (issue 21): `./.` in a root file,
# `../.` from `nix/`, `./.` in a sub-directory; the manifest writes path
# literals (`../.`), never `..`.
self: super: {
  root = self.callCabal2nix "root" ./. { };
  sub = self.callCabal2nix "sub" ./sub { };
}
