# ifd-batch's Nix library: every callHackage / callCabal2nix of a package
# set behind ONE import-from-derivation barrier.
#
#   batch = (import ./nixlib).batch { hself = self; manifest = import ./ifd-batch.nix; };
#   aeson = batch.callHackage "aeson" "2.1.2.1" { };
#
# Plain Nix: needs no nixpkgs of its own. Everything it uses comes lazily from
# the package set `hself` (haskellSrc2nix, callPackage, and — through
# hself.callPackage — lib, runCommand, fetchzip and all-cabal-hashes from the
# set's scope), so it can be built inside an overlay of that very set without
# infinite recursion. See README.md next to this file.
let
  version = "0.1.0";

  inherit (builtins)
    attrNames concatLists concatStringsSep elem filter isAttrs isList
    isString listToAttrs mapAttrs readFile split typeOf;

  lines = s: filter (l: isString l && l != "") (split "\n" s);

  # nixpkgs' haskell.lib.compose.overrideCabal: re-run the package's
  # mkDerivation with `f` applied to its arguments.
  overrideCabal = f: drv:
    (drv.override (args: args // {
      mkDerivation = drvArgs: (args.mkDerivation drvArgs).override f;
    })) // {
      overrideScope = scope: overrideCabal f (drv.overrideScope scope);
    };

  # The member list and missing-member bookkeeping shared by all extractors.
  # $membersPath: wanted members, `<name>/<version>/<name>.{cabal,json}`.
  # Leaves $out/MISSING (one member a line) and, for each missing member, a
  # placeholder so that per-package generators still build; the farm turns
  # those entries into a `throw`.
  placeholders = ''
    LC_ALL=C sort -u missing > "$out/MISSING"
    while IFS= read -r m; do
      d=''${m%/*}; f=''${m##*/}; n=''${d%%/*}; v=''${d#*/}
      mkdir -p "$out/$d"
      case "$f" in
        *.cabal) printf 'cabal-version: 2.4\nname: %s\nversion: %s\nbuild-type: Simple\n\nlibrary\n' "$n" "$v" > "$out/$m" ;;
        *.json) printf '{"package-hashes":{"SHA256":"%s"},"package-locations":[],"package-size":0}\n' \
                  0000000000000000000000000000000000000000000000000000000000000000 > "$out/$m" ;;
      esac
    done < "$out/MISSING"
  '';

  # GNU tar: ONE pass over the archive with exact member names (the top
  # directory read from the first entry; the `<name>/<version>/` directories,
  # which hold exactly the two wanted files), never --wildcards. An unpacked
  # index is copied from instead. Missing members do not fail the pass.
  tarExtract = ''
    mkdir -p "$out"
    : > missing
    if ! grep -q . "$membersPath"; then
      : # nothing to extract (an empty --files-from would extract everything)
    elif [ -d "$index" ]; then
      while IFS= read -r m; do
        [ -n "$m" ] || continue
        if [ -f "$index/$m" ]; then
          mkdir -p "$out/''${m%/*}"; cp "$index/$m" "$out/$m"
        else
          echo "$m" >> missing
        fi
      done < "$membersPath"
    else
      top=$(tar -tzf "$index" | head -n 1)
      top=''${top%%/*}
      [ -n "$top" ] || { echo "ifd-batch: $index: empty archive" >&2; exit 1; }
      # The members' version directories (exact names of directory members:
      # half as many names for tar to match against every member).
      sed -e '/^$/d' -e 's|/[^/]*$|/|' -e "s|^|$top/|" "$membersPath" | LC_ALL=C sort -u > wanted
      if ! tar -xzf "$index" -C "$out" --strip-components=1 --files-from=wanted 2> tar.err; then
        # Members absent from the index are expected; anything else is not.
        if grep -v -e 'Not found in archive' -e 'Exiting with failure status' tar.err | grep -q .; then
          cat tar.err >&2; exit 1
        fi
      fi
      while IFS= read -r m; do
        [ -z "$m" ] || [ -f "$out/$m" ] || echo "$m" >> missing
      done < "$membersPath"
    fi
  '';

  # An external extractor with the `ifd-batch extract` interface.
  cliExtract = extractor: ''
    mkdir -p "$out"
    : > missing
    # (`ifd-batch extract` refuses an empty member list.)
    if grep -q . "$membersPath"; then
      ${extractor}/bin/ifd-batch extract "$index" --members "$membersPath" --out "$out" --strip auto --missing missing
    fi
  '';

  batch =
    { hself
    , manifest
    , extractor ? "tar"
    , all-cabal-hashes ? null
    }:
    let
      # What the set's scope provides (package set first, then pkgs), read
      # lazily through its own callPackage.
      scope = hself.callPackage
        ({ lib, runCommand, fetchzip ? null, all-cabal-hashes ? null, buildPackages ? null }:
          { inherit lib runCommand fetchzip all-cabal-hashes buildPackages; })
        { };
      inherit (scope) lib;
      runCommand =
        if scope.buildPackages != null && scope.buildPackages ? runCommand
        then scope.buildPackages.runCommand else scope.runCommand;
      index =
        if all-cabal-hashes != null then all-cabal-hashes
        else if hself ? all-cabal-hashes then hself.all-cabal-hashes
        else if scope.all-cabal-hashes != null then scope.all-cabal-hashes
        else throw "ifd-batch: no all-cabal-hashes in the package set's scope; pass all-cabal-hashes to batch";

      # ---------------------------------------------------------- manifest
      hackage = concatLists (map (name:
        let v = manifest.hackage.${name}; in
        map (version: { inherit name version; }) (if isList v then v else [ v ]))
        (attrNames (manifest.hackage or { })));
      cabal2nix = manifest.cabal2nix or { };
      direct = manifest.hackageDirect or { };

      hasHackage = name: version:
        manifest ? hackage && manifest.hackage ? ${name}
        && (let v = manifest.hackage.${name}; in if isList v then elem version v else v == version);

      members = concatLists (map (e: [
        "${e.name}/${e.version}/${e.name}.cabal"
        "${e.name}/${e.version}/${e.name}.json"
      ]) hackage);

      # ---------------------------------------------------------- one pass
      extracted = runCommand "ifd-batch-cabal-hashes" {
        inherit index;
        members = concatStringsSep "\n" members + "\n";
        passAsFile = [ "members" ];
      } ((if extractor == "tar" then tarExtract else cliExtract extractor) + placeholders);

      # ---------------------------------------------------------- generators
      # The same haskellSrc2nix call as the package set's hackage2nix, on the
      # batch's copy of the two files.
      hackageGen = name: version: hself.haskellSrc2nix {
        name = "${name}-${version}";
        sha256 = ''$(sed -e 's/.*"SHA256":"//' -e 's/".*$//' "${extracted}/${name}/${version}/${name}.json")'';
        src = "${extracted}/${name}/${version}/${name}.cabal";
      };

      # As the package set's callCabal2nixWithOptions prepares its source.
      cabal2nixGen = name: src: opts:
        let
          extraCabal2nixOptions = if isString opts then opts else opts.extraCabal2nixOptions or "";
          srcModifier = if isString opts then null else opts.srcModifier or null;
          defaultFilter = path: type:
            lib.hasSuffix ".cabal" path || baseNameOf path == "package.yaml";
        in
        hself.haskellSrc2nix {
          inherit name extraCabal2nixOptions;
          src = if srcModifier != null then srcModifier src
            else if lib.canCleanSource src then lib.cleanSourceWith { inherit src; filter = defaultFilter; }
            else src;
        };

      directSrc = { pkg, ver, sha256, candidate ? false, ... }:
        let pkgver = "${pkg}-${ver}"; in
        scope.fetchzip {
          url = if candidate
            then "mirror://hackage/${pkgver}/candidate/${pkgver}.tar.gz"
            else "mirror://hackage/${pkgver}/${pkgver}.tar.gz";
          inherit sha256;
        };
      directEntry = pkg: { pkg = pkg; } // direct.${pkg};

      # key -> generator derivation
      generators = listToAttrs (
        map (e: { name = "hackage/${e.name}/${e.version}"; value = hackageGen e.name e.version; }) hackage
        ++ map (n: { name = "cabal2nix/${n}"; value = cabal2nixGen n cabal2nix.${n}.src (cabal2nix.${n}.options or ""); })
          (attrNames cabal2nix)
        ++ map (p: { name = "direct/${p}"; value = cabal2nixGen p (directSrc (directEntry p)) (direct.${p}.options or ""); })
          (attrNames direct));

      # ---------------------------------------------------------- the farm
      # Copies (no symlinks, no store paths left in the files: no runtime
      # references, substitutable from a binary cache).
      farm = runCommand "ifd-batch-cabal2nix" {
        inherit extracted;
        entries = concatStringsSep "\n" (map (k: "${k} ${generators.${k}}") (attrNames generators)) + "\n";
        passAsFile = [ "entries" ];
      } ''
        mkdir -p "$out"
        cp "$extracted/MISSING" "$out/MISSING"
        store=''${NIX_STORE:-/nix/store}
        while read -r key gen; do
          [ -n "$key" ] || continue
          mkdir -p "$out/$key"
          case "$key" in
            hackage/*)
              nv=''${key#hackage/}; n=''${nv%%/*}
              if grep -qxF -e "$nv/$n.cabal" -e "$nv/$n.json" "$out/MISSING"; then
                printf 'throw "ifd-batch: %s is not in the all-cabal-hashes index"\n' "$nv" > "$out/$key/default.nix"
                continue
              fi ;;
          esac
          sed -e "s|^  src = $store/[^;]*;\$|  src = null; # restored by ifd-batch with overrideCabal, as nixpkgs does|" \
            "$gen/default.nix" > "$out/$key/default.nix"
        done < "$entriesPath"
      '';

      missing = lines (readFile "${farm}/MISSING");
      isMissing = name: version:
        elem "${name}/${version}/${name}.cabal" missing || elem "${name}/${version}/${name}.json" missing;

      keepDeriver = hself.callPackageKeepDeriver or (src: args:
        overrideCabal (orig: {
          passthru = orig.passthru or { } // { cabal2nixDeriver = src; };
        }) (hself.callPackage src args));

      fromFarm = key: args: keepDeriver "${farm}/${key}" args;

      sameSrc = a: b: typeOf a == typeOf b && toString a == toString b;

      # ---------------------------------------------------------- interface
      callHackage = name: version: args:
        if !(hasHackage name version) then hself.callHackage name version args
        else if isMissing name version then
          throw ("ifd-batch: ${name} ${version} is not in the all-cabal-hashes index ${toString index} "
            + "(manifest entry hackage.${name}; see ${farm}/MISSING)")
        else fromFarm "hackage/${name}/${version}" args;

      callCabal2nixWithOptions = name: src: opts: args:
        let e = cabal2nix.${name} or null; in
        if e != null && isString opts && opts == (e.options or "") && sameSrc e.src src
        then overrideCabal (orig: { inherit src; }) (fromFarm "cabal2nix/${name}" args)
        else hself.callCabal2nixWithOptions name src opts args;

      callCabal2nix = name: src: args: callCabal2nixWithOptions name src "" args;

      callHackageDirect = spec@{ pkg, ver, sha256, candidate ? false, rev ? { revision = null; sha256 = null; } }: args:
        let e = direct.${pkg} or null; in
        if e != null && e.ver == ver && e.sha256 == sha256 && (e.candidate or false) == candidate
          && (e.options or "") == ""
        then
          overrideCabal (orig: { revision = rev.revision; editedCabalFile = rev.sha256; })
            (overrideCabal (orig: { src = directSrc spec; }) (fromFarm "direct/${pkg}" args))
        else hself.callHackageDirect spec args;

      # haskell.lib.packageSourceOverrides through the batch (an overlay).
      packageSourceOverrides = overrides: self: super:
        mapAttrs (name: src:
          let isPath = x: builtins.substring 0 1 (toString x) == "/"; in
          if isPath src then callCabal2nix name src { } else callHackage name src { })
          overrides;
    in
    {
      inherit callHackage callHackageDirect callCabal2nix callCabal2nixWithOptions
        packageSourceOverrides extracted farm generators manifest index missing;
    };
in
{
  inherit version batch overrideCabal;
}
