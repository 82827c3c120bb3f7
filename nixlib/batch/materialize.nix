# The materialized backend. `ifd-batch rewrite --backend materialized` checks
# the generators' outputs in under `materialized/<compiler>-<system>/<key>.nix`,
# each with a header saying what it was generated from. A present, current
# file is imported as it is: no import-from-derivation at all. While
# materializing (IFD_BATCH_MATERIALIZE=1), the batch traces what to build and
# check in.
{ lib, materialized, materializing, scope, machine, generators, originOf, checks }:
let
  inherit (builtins) attrNames concatStringsSep elemAt filter mapAttrs match pathExists readFile
    unsafeDiscardStringContext;
  inherit (scope) platform;
  inherit (generators) entries present;
  indexName = baseNameOf (unsafeDiscardStringContext (toString scope.index));
  matFile = key: materialized + "/${platform}/${key}.nix";
  # What a local source's generated expression depends on: its .cabal and
  # package.yaml files (`ifd-batch check` computes the same in Rust).
  sourceFingerprint = src:
    let
      dir = if src ? _isLibCleanSourceWith then src.origSrc else src;
      names = filter (n: lib.hasSuffix ".cabal" n || n == "package.yaml")
        (attrNames (builtins.readDir dir));
    in
    builtins.hashString "sha256"
      (concatStringsSep "" (map (n: "${n}\n${readFile (dir + "/${n}")}\n") names));
  fingerprint = key:
    let e = entries.${key}; in
    if e ? hackage then "index=${indexName}"
    else if e.local then "source=${sourceFingerprint e.src}"
    else "-";
  header = key: match "[^\n]*\n[^\n]*\n# ifd-batch: ([^ ]+) platform=([^ ]+) ([^\n]+)\n.*"
    (readFile (matFile key));
in
{
  isMaterialized = key: materialized != null && !materializing && pathExists (matFile key);

  fromMaterialized = key: args:
    let
      e = entries.${key};
      h = header key;
      stale = why: throw ("ifd-batch: the materialized ${e.what}${originOf key} "
        + "(${toString (matFile key)}) is stale: ${why}; run `ifd-batch check --fix`");
    in
    assert checks.supported && (e ? hackage -> checks.sameIndex);
    if h == null then stale "its header is missing or damaged"
    else if elemAt h 0 != key || elemAt h 1 != platform then stale "it was generated for another entry or platform"
    else if elemAt h 2 != fingerprint key then
      stale "what it was generated from changed (${elemAt h 2}, now ${fingerprint key})"
    else generators.keepDeriver e.gen (matFile key) args;

  # `ifd-batch rewrite --backend materialized` reads what to build and
  # check in from this trace (IFD_BATCH_MATERIALIZE=1).
  trace = builtins.trace ("ifd-batch-materialize " + builtins.toJSON {
    inherit platform;
    system = if scope.stdenv != null then scope.hostPlatform.system else machine.here;
    built-here = machine.foreign;
    index = indexName;
    entries = mapAttrs (k: e: {
      drv = e.probe.drvPath;
      inherit (e) what;
      fingerprint = fingerprint k;
    }) (lib.filterAttrs (k: _: present k) entries);
    missing = filter (k: !(present k)) (attrNames entries);
  }) true;
}
