# The ifd-batch package, for the flake and overlays.default.
{ lib, rustPlatform }:
let
  root = ../.;
in
rustPlatform.buildRustPackage {
  pname = "ifd-batch";
  version = (lib.importTOML ../Cargo.toml).package.version;

  # Only what the build and its tests read: no target/, no bench output.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../src
      ../nixlib
      ../examples
      # A workspace member (cargo reads its manifest), and the test world
      # includes its index generator; only ifd-batch is built and installed.
      ../xtask
      ../tests
      ../fixtures
      ../.pre-commit-hooks.yaml
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;

  # The tests that need neither Nix nor pre-commit inside the build sandbox;
  # the rest run in CI (scripts/test.sh) against a real Nix. One filter list
  # serves both binaries: the library's unit tests all live in `tests`
  # modules (`…::tests::…`), the integration tests' paths start with their
  # module (`detect::…`), and no integration test path contains `::tests::`.
  cargoTestFlags = [ "--lib" "--test" "it" ];
  checkFlags = [ "::tests::" "detect::" "cli_scan::" "rewrite_cases::" "fuzz::" ];

  meta = {
    description = "Find Nix import-from-derivation sites and batch them behind one barrier";
    mainProgram = "ifd-batch";
    license = lib.licenses.mit;
  };
}
