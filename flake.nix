{
  description = "ifd-batch: make Nix evaluation stop blocking on import-from-derivation";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      packageFor = pkgs: pkgs.callPackage ./nix/package.nix { };
    in
    {
      # The Nix library: `ifd-batch.lib.batch { hself; manifest; }`.
      lib = import ./nixlib;

      overlays.default = final: prev: { ifd-batch = packageFor final; };

      packages = forAllSystems (pkgs: rec {
        ifd-batch = packageFor pkgs;
        default = ifd-batch;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.system}.default}/bin/ifd-batch";
        };
      });

      checks = forAllSystems (pkgs:
        let pkg = self.packages.${pkgs.system}.default; in
        {
          package = pkg;
          clippy = pkg.overrideAttrs (old: {
            pname = "ifd-batch-clippy";
            nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.clippy ];
            buildPhase = "cargo clippy --workspace --all-targets --offline -- -D warnings";
            installPhase = "touch $out";
            doCheck = false;
          });
          # Dogfood: scan this repository's own Nix code.
          dogfood = pkgs.runCommand "ifd-batch-dogfood" { nativeBuildInputs = [ pkg ]; } ''
            ifd-batch scan ${./nixlib} ${./nix} ${./flake.nix} > $out
          '';
        });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.cargo pkgs.rustc pkgs.clippy pkgs.rustfmt pkgs.hyperfine ];
        };
      });

      # A hook for cachix/git-hooks.nix, in its own hook-definition shape:
      #   git-hooks.lib.${system}.run { hooks.ifd-batch = ifd-batch.gitHooks.${system}.ifd-batch; … }
      gitHooks = forAllSystems (pkgs:
        let pkg = self.packages.${pkgs.system}.default; in
        {
          ifd-batch = {
            enable = true;
            name = "ifd-batch";
            description = "Route import-from-derivation sites through one batch";
            entry = "${pkg}/bin/ifd-batch check";
            files = "\\.nix$";
            package = pkg;
            language = "system";
            pass_filenames = true;
          };
        });
    };
}
