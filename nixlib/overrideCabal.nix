# nixpkgs' haskell.lib.compose.overrideCabal: re-run the package's
# mkDerivation with `f` applied to its arguments.
let
  overrideCabal = f: drv:
    (drv.override (args: args // {
      mkDerivation = drvArgs: (args.mkDerivation drvArgs).override f;
    })) // {
      overrideScope = scope: overrideCabal f (drv.overrideScope scope);
    };
in
overrideCabal
