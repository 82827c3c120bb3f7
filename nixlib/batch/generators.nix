# Barrier 2: one generator per entry (the package set's own haskellSrc2nix,
# as its hackage2nix / callCabal2nix / callHackageDirect call it), each
# wrapped by `probe` (a failure recorded, not raised), all demanded at once
# through one string context.
{ hself, lib, fetchzip, generator, probe, extracted, isMissing, hackage, cabal2nix, direct, overrideCabal }:
let
  inherit (builtins) all attrNames attrValues concatStringsSep filter getContext head isString
    listToAttrs mapAttrs pathExists substring;

  # Each entry's two files, copied into the store by content: a
  # generator's path depends on its own entry only, so adding or changing
  # one entry rebuilds the extraction and that entry's generator, no other.
  entryDir = name: version: builtins.path {
    path = "${extracted}/${name}/${version}";
    name = "hackage-${name}-${version}";
  };

  # The same haskellSrc2nix call as the package set's hackage2nix.
  hackageGen = name: version: generator (t: hackageGenWith t.src2nix name version);
  hackageGenWith = src2nix: name: version:
    let dir = entryDir name version; in
    src2nix {
      name = "${name}-${version}";
      sha256 = ''$(sed -e 's/.*"SHA256":"//' -e 's/".*$//' "${dir}/${name}.json")'';
      src = "${dir}/${name}.cabal";
    };

  # As the package set's callCabal2nixWithOptions prepares its source.
  cabal2nixSrc = src: opts:
    let
      srcModifier = if isString opts then null else opts.srcModifier or null;
      defaultFilter = path: _type:
        lib.hasSuffix ".cabal" path || baseNameOf path == "package.yaml";
    in
    if srcModifier != null then srcModifier src
    else if lib.canCleanSource src then lib.cleanSourceWith { inherit src; filter = defaultFilter; }
    else src;
  cabal2nixGen = name: src: opts: generator (t: cabal2nixGenWith t.src2nix name src opts);
  cabal2nixGenWith = src2nix: name: src: opts: src2nix {
    inherit name;
    extraCabal2nixOptions = if isString opts then opts else opts.extraCabal2nixOptions or "";
    src = cabal2nixSrc src opts;
  };

  # A source needs no build when its string's context holds only plain
  # store paths (a local path, a cleaned source, a flake's `self`).
  isLocal = src: all (c: !(c ? outputs) && !(c ? allOutputs)) (attrValues (getContext (toString src)));

  directSrcWith = fetchzip: { pkg, ver, sha256, candidate ? false, ... }:
    let pkgver = "${pkg}-${ver}"; in
    fetchzip {
      url = if candidate
        then "mirror://hackage/${pkgver}/candidate/${pkgver}.tar.gz"
        else "mirror://hackage/${pkgver}/${pkgver}.tar.gz";
      inherit sha256;
    };
  directEntry = pkg: { pkg = pkg; } // direct.${pkg};

  # key -> { gen (the nixpkgs-style generator: cabal2nixDeriver), probe,
  #          shared (in the common barrier), what (for messages) }
  entries = listToAttrs (
    map (e: {
      name = "hackage/${e.name}/${e.version}";
      value = let gen = hackageGen e.name e.version; in {
        inherit gen; probe = probe gen; shared = true; hackage = e;
        what = "hackage entry ${e.name} ${e.version}";
      };
    }) hackage
    ++ map (n: {
      name = "cabal2nix/${n}";
      value = let
        e = cabal2nix.${n};
        gen = cabal2nixGen (e.name or n) e.src (e.options or "");
      in {
        inherit gen; probe = probe gen; inherit (e) src;
        # A fetched source could fail to download: it gets its own barrier.
        local = isLocal e.src;
        shared = isLocal e.src;
        what = "cabal2nix entry ${n}";
      };
    }) (attrNames cabal2nix)
    ++ map (p: {
      name = "direct/${p}";
      value = let gen = generator (t: cabal2nixGenWith t.src2nix p
        (directSrcWith t.fetchzip (directEntry p)) (direct.${p}.options or "")); in {
        inherit gen; probe = probe gen; shared = false; local = false;
        what = "hackageDirect entry ${p}";
      };
    }) (attrNames direct));

  # Barrier 2, forced once per batch by whichever site comes first: a path
  # whose string context is every shared entry's probe, so Nix builds them
  # all at once (in parallel). Each site then reads its own probe from a
  # warm store (its own context only: realising all N paths at every one
  # of N sites would cost N² store queries).
  present = k: let e = entries.${k}; in !(e ? hackage) || !(isMissing e.hackage.name e.hackage.version);
  shared = filter (k: entries.${k}.shared && present k) (attrNames entries);
  built = shared == [ ] || pathExists
    (substring 0 0 (concatStringsSep "" (map (k: "${entries.${k}.probe}") shared))
      + "${entries.${head shared}.probe}");
in
{
  inherit entries present built;
  generators = mapAttrs (_: e: e.gen) entries;
  probes = mapAttrs (_: e: e.probe) entries;

  # A hackageDirect call's source, as the package set's callHackageDirect
  # fetches it.
  directSrc = directSrcWith fetchzip;

  # nixpkgs' callPackageKeepDeriver: `cabal2nixDeriver` is the generator.
  keepDeriver = deriver: expr: args:
    overrideCabal (orig: {
      passthru = orig.passthru or { } // { cabal2nixDeriver = deriver; };
    }) (hself.callPackage expr args);
}
