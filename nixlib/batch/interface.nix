# The caller interface: the package set's functions of the same names, with
# the same signatures and results. A call that matches a manifest entry
# imports its generator's output (or its materialized file); any other call
# falls back to the package set's own function (correct, but its own IFD).
{ hself, batch, batchArgs, index, materializing, overrideCabal
, entries, checks, extraction, generators, materialization }:
let
  inherit (builtins) filter head isString mapAttrs pathExists readFile typeOf;
  inherit (entries) cabal2nix cabal2nixKeys direct originOf;

  # What a call of the entry `key` gives: its materialized file, else its
  # generator's output behind the barrier; an entry missing from the index
  # or whose generator failed fails here, only for the attributes using it.
  fromBatch = key: args:
    let
      e = generators.entries.${key};
      out = "${e.probe}";
    in
    if materialization.isMaterialized key then materialization.fromMaterialized key args
    else if e ? hackage && extraction.isRefused e.hackage.name e.hackage.version then
      abort ("ifd-batch: ${e.hackage.name} ${e.hackage.version}: the all-cabal-hashes index ${toString index} "
        + "holds its files as links or special files, which are never followed "
        + "(manifest entry hackage.${e.hackage.name}${originOf key}; see ${extraction.extracted}/REFUSED)")
    else if e ? hackage && extraction.isMissing e.hackage.name e.hackage.version then
      abort ("ifd-batch: ${e.hackage.name} ${e.hackage.version} is not in the all-cabal-hashes index ${toString index} "
        + "(manifest entry hackage.${e.hackage.name}${originOf key}; see ${extraction.extracted}/MISSING)")
    else
    assert checks.supported && checks.sameIndex && (e.shared -> generators.built)
      && (materializing -> materialization.trace);
    if pathExists "${out}/FAILED"
    then abort ("ifd-batch: cabal2nix failed for the ${e.what}${originOf key}:\n"
      + readFile "${out}/FAILED"
      + "(the other batched packages are not affected)")
    else generators.keepDeriver e.gen "${out}/default.nix" args;

  sameSrc = a: b: typeOf a == typeOf b && toString a == toString b;

  callCabal2nixWithOptions = name: src: opts: args:
    let
      found = filter (k: let e = cabal2nix.${k}; in
        isString opts && opts == (e.options or "") && sameSrc e.src src)
        (cabal2nixKeys.${name} or [ ]);
    in
    if found != [ ]
    then overrideCabal (_: { inherit src; }) (fromBatch "cabal2nix/${head found}" args)
    else hself.callCabal2nixWithOptions name src opts args;
in
{
  inherit callCabal2nixWithOptions;

  callHackage = name: version: args:
    if !(entries.hasHackage name version) then hself.callHackage name version args
    else fromBatch "hackage/${name}/${version}" args;

  callCabal2nix = name: src: args: callCabal2nixWithOptions name src "" args;

  callHackageDirect = spec@{ pkg, ver, sha256, candidate ? false, rev ? { revision = null; sha256 = null; } }: args:
    let e = direct.${pkg} or null; in
    if e != null && e.ver == ver && e.sha256 == sha256 && (e.candidate or false) == candidate
      && (e.options or "") == ""
    then
      overrideCabal (_: { revision = rev.revision; editedCabalFile = rev.sha256; })
        (overrideCabal (_: { src = generators.directSrc spec; }) (fromBatch "direct/${pkg}" args))
    else hself.callHackageDirect spec args;

  # haskell.lib.packageSourceOverrides through a batch of the set it
  # extends (`self`), whatever set this batch was made for.
  packageSourceOverrides = overrides: self: _:
    let b = batch (batchArgs // { hself = self; }); in
    mapAttrs (name: src:
      let isPath = x: builtins.substring 0 1 (toString x) == "/"; in
      if isPath src then b.callCabal2nix name src { } else b.callHackage name src { })
      overrides;

  # The same batch reading another index (for a set made with
  # `.override { all-cabal-hashes = …; }`).
  withIndex = index: batch (batchArgs // { all-cabal-hashes = index; });
}
