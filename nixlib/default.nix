# ifd-batch's Nix library: the callHackage / callCabal2nix sites of a package
# set built together, behind two short import-from-derivation barriers
# instead of one per package (see README.md next to this file).
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
    all attrNames attrValues compareVersions concatLists concatStringsSep
    concatMap elem elemAt filter foldl' getContext head isList isString length
    listToAttrs mapAttrs match pathExists readFile replaceStrings split
    stringLength substring typeOf unsafeDiscardStringContext;

  hasInfix = infix: s: stringLength (replaceStrings [ infix ] [ "" ] s) != stringLength s;

  lines = s: filter (l: isString l && l != "") (split "\n" s);

  # nixpkgs' haskell.lib.compose.overrideCabal: re-run the package's
  # mkDerivation with `f` applied to its arguments.
  overrideCabal = f: drv:
    (drv.override (args: args // {
      mkDerivation = drvArgs: (args.mkDerivation drvArgs).override f;
    })) // {
      overrideScope = scope: overrideCabal f (drv.overrideScope scope);
    };

  # Members absent from the index are listed, one a line, in $out/MISSING.
  listMissing = ''
    LC_ALL=C sort -u missing > "$out/MISSING"
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
      # stdenv runs this under `set -o pipefail`: tar is killed by SIGPIPE once
      # head has its line, so its status must not reach the pipeline's.
      top=$({ tar -tzf "$index" || :; } | head -n 1)
      top=''${top%%/*}
      [ -n "$top" ] || { echo "ifd-batch: $index: empty archive" >&2; exit 1; }
      # The members' version directories (exact names of directory members:
      # half as many names for tar to match against every member).
      sed -e '/^$/d' -e 's|/[^/]*$|/|' -e "s|^|$top/|" "$membersPath" | LC_ALL=C sort -u > wanted
      if ! tar -xzf "$index" -C "$out" --strip-components=1 --files-from=wanted 2> tar.err; then
        # Members absent from the index are expected; anything else is not.
        grep -v -e 'Not found in archive' -e 'Exiting with failure status' tar.err > tar.other || :
        if [ -s tar.other ]; then
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

  # A build script that never fails: it runs the generator's own script
  # (`$ifdBatchCommandPath`, with stdenv's shell options) and records a
  # failure in $out/FAILED instead of failing, so that one broken entry cannot
  # fail the barrier every other entry waits for. On success, a `src = <store
  # path>;` line is replaced (callCabal2nix puts the caller's src back), so
  # the result has no store references and is substitutable.
  probeCommand = ''
    if bash -e -o pipefail -O inherit_errexit "$ifdBatchCommandPath" > "$TMPDIR/ifd-batch.log" 2>&1; then
      cat "$TMPDIR/ifd-batch.log" >&2
      store=''${NIX_STORE:-/nix/store}
      sed -i -e "s|^  src = $store/[^;]*;\$|  src = null; # restored by ifd-batch with overrideCabal, as nixpkgs does|" \
        "$out/default.nix"
    else
      status=$?
      rm -rf "$out"
      mkdir -p "$out"
      # (store paths masked: a log must not become a runtime reference)
      { echo "exit status $status"
        tail -n 30 "$TMPDIR/ifd-batch.log" | sed -e 's|/nix/store/[a-z0-9]\{32\}-|/nix/store/…-|g'
      } > "$out/FAILED"
    fi
  '';

  batch =
    args@{ hself
    , manifest
    , extractor ? "tar"
    , all-cabal-hashes ? null
    , materialized ? null
    , sources ? { }
    }:
    let
      # What the set's scope provides (package set first, then pkgs), read
      # lazily through its own callPackage.
      scope = hself.callPackage
        ({ lib, runCommand, fetchzip ? null, all-cabal-hashes ? null, buildPackages ? null, stdenv ? null
         , path ? null, overlays ? null }:
          { inherit lib runCommand fetchzip all-cabal-hashes buildPackages stdenv path overlays; })
        { };
      inherit (scope) lib;
      runCommand =
        if scope.buildPackages != null && scope.buildPackages ? runCommand
        then scope.buildPackages.runCommand else scope.runCommand;
      explicitIndex = all-cabal-hashes != null || hself ? all-cabal-hashes;
      index =
        if all-cabal-hashes != null then all-cabal-hashes
        else if hself ? all-cabal-hashes then hself.all-cabal-hashes
        else if scope.all-cabal-hashes != null then scope.all-cabal-hashes
        else throw "ifd-batch: no all-cabal-hashes in the package set's scope; pass all-cabal-hashes to batch";

      # ---------------------------------------------------------- build machine
      # `ifd-batch rewrite --backend materialized` writes the files of every
      # platform the targets use, on this machine. Another system's generator
      # cannot run here (Nix refuses its derivations, and its cabal2nix is
      # that system's binary). So while materializing, and only then, a set of
      # another system gets its generators (and the extraction and downloads
      # they read) from the same nixpkgs imported with this machine as build
      # platform and the set's platform as host: nixpkgs' own haskellSrc2nix
      # for that platform, run here, with the arguments the platform's own
      # generator gets (`--compiler`, `--system=<its hostPlatform.config>`,
      # the same sha256, source and options; cabal2nix reads nothing else),
      # so it writes the same bytes. Packages never come from it.
      here = builtins.currentSystem;
      foreign = materializing && scope.stdenv != null
        && scope.stdenv.buildPlatform.system != here;
      hostPlatform = scope.stdenv.hostPlatform;
      buildPkgs =
        if scope.path == null
        then throw ("ifd-batch: cannot materialize for ${platform} on ${here}: the package set's "
          + "scope has no `path` (nixpkgs' source) to import with ${here} as build platform")
        else import scope.path ({ localSystem = { system = here; }; crossSystem = hostPlatform; }
          // (if scope.overlays != null then { inherit (scope) overlays; } else { }));
      buildSet =
        let
          sets = buildPkgs.haskell.packages;
          same = filter (n:
            let r = builtins.tryEval (sets.${n}.ghc.haskellCompilerName or null); in
            r.success && r.value == hself.ghc.haskellCompilerName) (attrNames sets);
        in
        if same == [ ]
        then throw ("ifd-batch: cannot materialize for ${platform} on ${here}: no package set of "
          + "${hself.ghc.haskellCompilerName} in nixpkgs' haskell.packages")
        else sets.${head same};
      buildScope = buildSet.callPackage
        ({ runCommand, fetchzip ? null, all-cabal-hashes ? null, buildPackages ? null }:
          { inherit runCommand fetchzip all-cabal-hashes buildPackages; })
        { };
      # What the generators are built with: the set's own tools, or (another
      # system's set, while materializing) this machine's. The index is the
      # set's, as a path; its own derivation when this machine's is the same.
      nativeTools = {
        src2nix = hself.haskellSrc2nix;
        inherit runCommand index;
        inherit (scope) fetchzip;
      };
      tools =
        if !foreign then nativeTools
        else {
          src2nix = buildSet.haskellSrc2nix;
          runCommand =
            if buildScope.buildPackages != null && buildScope.buildPackages ? runCommand
            then buildScope.buildPackages.runCommand else buildScope.runCommand;
          inherit (buildScope) fetchzip;
          index =
            if buildScope.all-cabal-hashes != null
              && toString buildScope.all-cabal-hashes == toString index
            then buildScope.all-cabal-hashes else index;
        };
      # A generator as the set makes it (`cabal2nixDeriver`, what a package
      # names); for another system's set while materializing, it carries the
      # one built here (`ifdBatchHere`), which its probe runs.
      generator = mk:
        let gen = mk nativeTools; in
        if foreign then gen // { ifdBatchHere = mk tools; } else gen;

      # ---------------------------------------------------------- manifest
      hackage = concatLists (map (name:
        let v = manifest.hackage.${name}; in
        map (version: { inherit name version; })
          (if isList v then v else [ v ]))
        (attrNames (manifest.hackage or { })));
      # A `callerSource` entry's source is given by the calling file's
      # binding (`import ./ifd-batch.nix FILE self { NAME = SRC; }`): the
      # caller's own source wins over another file's entry of the same name;
      # without one, the entry is not this batch's. `callerOptions`: the
      # options too (`"options:NAME" = OPTS;`).
      # An entry's key is its package name, or `NAME~HASH` (with `name = NAME;`)
      # when the manifest holds several sources or options for one name: one
      # generator per distinct name, source and options.
      cabal2nix = listToAttrs (concatMap (k:
        let
          e0 = manifest.cabal2nix.${k};
          n = e0.name or k;
          opts = "options:${n}";
          e = if sources ? ${opts} then e0 // { options = sources.${opts}; } else e0;
        in
        if (e.callerOptions or false) && !(sources ? ${opts}) then [ ]
        else if (e.callerSource or false) && sources ? ${n} then [ { name = k; value = e // { src = sources.${n}; }; } ]
        else if e ? src then [ { name = k; value = e; } ]
        else [ ]) (attrNames (manifest.cabal2nix or { })));
      # package name → the keys of its entries.
      cabal2nixKeys = foldl' (acc: k:
        let n = cabal2nix.${k}.name or k; in acc // { ${n} = (acc.${n} or [ ]) ++ [ k ]; })
        { } (attrNames cabal2nix);
      direct = manifest.hackageDirect or { };
      originOf = key: let o = manifest.origins.${key} or null; in if o == null then "" else " (${o})";

      hasHackage = name: version:
        manifest ? hackage && manifest.hackage ? ${name}
        && (let v = manifest.hackage.${name}; in if isList v then elem version v else v == version);

      members = concatMap (e: [
        "${e.name}/${e.version}/${e.name}.cabal"
        "${e.name}/${e.version}/${e.name}.json"
      ]) hackage;

      # ---------------------------------------------------------- checks
      # nixpkgs before 22.11 wrote the generator's store path into every
      # package (`preConfigure = "# Generated from …"`, NixOS/nixpkgs#194753):
      # drvPaths could not stay those of nixpkgs.
      supported =
        if lib ? version && compareVersions lib.version "22.11" < 0
        then throw ("ifd-batch: nixpkgs ${lib.version} is not supported: before 22.11, callHackage "
          + "and callCabal2nix put the cabal2nix generator's store path into every package "
          + "(preConfigure \"# Generated from …\"), so a batch cannot keep the packages' drvPaths; "
          + "ifd-batch supports nixpkgs 22.11 and later")
        else true;

      # A set changed with `.override { all-cabal-hashes = …; }` reads another
      # index, which it does not export. Its own hackage2nix derivation says
      # which: the batch refuses to extract from a different one.
      # (Pure evaluation — a flake — may not read a .drv file: there the
      # check is left to impure runs, `ifd-batch rewrite` and `check
      # --rebuild`, which materialize through it.)
      sameIndex =
        if explicitIndex || hackage == [ ] || !(hself ? hackage2nix) || !(builtins ? currentSystem) then true
        else
          let
            e = head hackage;
            genText = readFile (hself.hackage2nix e.name e.version).drvPath;
            comp = match ".*(/nix/store/[a-z0-9]{32}-all-cabal-hashes-component-[^\"]*[.]drv).*" genText;
            indexPath = unsafeDiscardStringContext (toString index);
          in
          if comp == null || hasInfix indexPath (readFile (head comp)) then true
          else throw ("ifd-batch: this package set reads all-cabal-hashes from another index than "
            + "${indexPath} (it was changed with `.override { all-cabal-hashes = …; }`), which the set "
            + "does not export; pass that index to the batch: "
            + "`(import ./nix/ifd-batch.nix FILE self).withIndex INDEX`, or nixlib's "
            + "`batch { all-cabal-hashes = INDEX; … }`");

      # ---------------------------------------------------------- one pass
      extracted = tools.runCommand "ifd-batch-cabal-hashes" {
        inherit (tools) index;
        members = concatStringsSep "\n" members + "\n";
        passAsFile = [ "members" ];
      } ((if extractor == "tar" then tarExtract else cliExtract extractor) + listMissing);

      # Barrier 1: the extraction (one tar pass).
      missing = lines (readFile "${extracted}/MISSING");
      isMissing = name: version:
        elem "${name}/${version}/${name}.cabal" missing || elem "${name}/${version}/${name}.json" missing;

      # ---------------------------------------------------------- generators
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

      directSrc = directSrcWith scope.fetchzip;
      directSrcWith = fetchzip: { pkg, ver, sha256, candidate ? false, ... }:
        let pkgver = "${pkg}-${ver}"; in
        fetchzip {
          url = if candidate
            then "mirror://hackage/${pkgver}/candidate/${pkgver}.tar.gz"
            else "mirror://hackage/${pkgver}/${pkgver}.tar.gz";
          inherit sha256;
        };
      directEntry = pkg: { pkg = pkg; } // direct.${pkg};

      # The generator wrapped so that its failure is recorded, not raised
      # (probeCommand); without overrideAttrs, the generator itself.
      probe = gen0:
        let gen = gen0.ifdBatchHere or gen0; in
        if gen ? overrideAttrs then
          gen.overrideAttrs (old: {
            buildCommand = probeCommand;
            ifdBatchCommand = old.buildCommand;
            passAsFile = (old.passAsFile or [ ]) ++ [ "ifdBatchCommand" ];
          })
        else gen;

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

      generators = mapAttrs (_: e: e.gen) entries;
      probes = mapAttrs (_: e: e.probe) entries;

      # nixpkgs' callPackageKeepDeriver: `cabal2nixDeriver` is the generator.
      keepDeriver = deriver: expr: args:
        overrideCabal (orig: {
          passthru = orig.passthru or { } // { cabal2nixDeriver = deriver; };
        }) (hself.callPackage expr args);

      # ---------------------------------------------------------- materialized
      # `ifd-batch rewrite --backend materialized` checks the generators'
      # outputs in under `materialized/<compiler>-<system>/<key>.nix`, each
      # with a header saying what it was generated from. A present, current
      # file is imported as it is: no import-from-derivation at all.
      materializing = builtins.getEnv "IFD_BATCH_MATERIALIZE" != "";
      platform = "${hself.ghc.haskellCompilerName}-${
        if scope.stdenv != null then scope.stdenv.hostPlatform.config else builtins.currentSystem}";
      indexName = baseNameOf (unsafeDiscardStringContext (toString index));
      matFile = key: materialized + "/${platform}/${key}.nix";
      isMaterialized = key: materialized != null && !materializing && pathExists (matFile key);
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
      fromMaterialized = key: args:
        let
          e = entries.${key};
          h = header key;
          stale = why: throw ("ifd-batch: the materialized ${e.what}${originOf key} "
            + "(${toString (matFile key)}) is stale: ${why}; run `ifd-batch check --fix`");
        in
        assert supported && (e ? hackage -> sameIndex);
        if h == null then stale "its header is missing or damaged"
        else if elemAt h 0 != key || elemAt h 1 != platform then stale "it was generated for another entry or platform"
        else if elemAt h 2 != fingerprint key then
          stale "what it was generated from changed (${elemAt h 2}, now ${fingerprint key})"
        else keepDeriver e.gen (matFile key) args;

      # `ifd-batch rewrite --backend materialized` reads what to build and
      # check in from this trace (IFD_BATCH_MATERIALIZE=1).
      materializeTrace = builtins.trace ("ifd-batch-materialize " + builtins.toJSON {
        inherit platform;
        system = if scope.stdenv != null then hostPlatform.system else here;
        built-here = foreign;
        index = indexName;
        entries = mapAttrs (k: e: {
          drv = e.probe.drvPath;
          inherit (e) what;
          fingerprint = fingerprint k;
        }) (lib.filterAttrs (k: _: present k) entries);
        missing = filter (k: !(present k)) (attrNames entries);
      }) true;

      fromBatch = key: args:
        let
          e = entries.${key};
          out = "${e.probe}";
        in
        if isMaterialized key then fromMaterialized key args
        else if e ? hackage && isMissing e.hackage.name e.hackage.version then
          abort ("ifd-batch: ${e.hackage.name} ${e.hackage.version} is not in the all-cabal-hashes index ${toString index} "
            + "(manifest entry hackage.${e.hackage.name}${originOf key}; see ${extracted}/MISSING)")
        else
        assert supported && sameIndex && (e.shared -> built) && (materializing -> materializeTrace);
        if pathExists "${out}/FAILED"
        then abort ("ifd-batch: cabal2nix failed for the ${e.what}${originOf key}:\n"
          + readFile "${out}/FAILED"
          + "(the other batched packages are not affected)")
        else keepDeriver e.gen "${out}/default.nix" args;

      sameSrc = a: b: typeOf a == typeOf b && toString a == toString b;

      # ---------------------------------------------------------- interface
      callHackage = name: version: args:
        if !(hasHackage name version) then hself.callHackage name version args
        else fromBatch "hackage/${name}/${version}" args;

      callCabal2nixWithOptions = name: src: opts: args:
        let
          found = filter (k: let e = cabal2nix.${k}; in
            isString opts && opts == (e.options or "") && sameSrc e.src src)
            (cabal2nixKeys.${name} or [ ]);
        in
        if found != [ ]
        then overrideCabal (_: { inherit src; }) (fromBatch "cabal2nix/${head found}" args)
        else hself.callCabal2nixWithOptions name src opts args;

      callCabal2nix = name: src: args: callCabal2nixWithOptions name src "" args;

      callHackageDirect = spec@{ pkg, ver, sha256, candidate ? false, rev ? { revision = null; sha256 = null; } }: args:
        let e = direct.${pkg} or null; in
        if e != null && e.ver == ver && e.sha256 == sha256 && (e.candidate or false) == candidate
          && (e.options or "") == ""
        then
          overrideCabal (_: { revision = rev.revision; editedCabalFile = rev.sha256; })
            (overrideCabal (_: { src = directSrc spec; }) (fromBatch "direct/${pkg}" args))
        else hself.callHackageDirect spec args;

      # haskell.lib.packageSourceOverrides through a batch of the set it
      # extends (`self`), whatever set this batch was made for.
      packageSourceOverrides = overrides: self: _:
        let b = batch (args // { hself = self; }); in
        mapAttrs (name: src:
          let isPath = x: builtins.substring 0 1 (toString x) == "/"; in
          if isPath src then b.callCabal2nix name src { } else b.callHackage name src { })
          overrides;

      # The same batch reading another index (for a set made with
      # `.override { all-cabal-hashes = …; }`).
      withIndex = index: batch (args // { all-cabal-hashes = index; });
    in
    {
      inherit callHackage callHackageDirect callCabal2nix callCabal2nixWithOptions
        packageSourceOverrides withIndex extracted generators probes manifest index missing;
      # `batch SOURCES`: the same batch, given the calling file's sources.
      __functor = _: sources: batch (args // { inherit sources; });
    };
  # The union of every file's entries (a generated manifest's `manifests`):
  # versions of one package from several files become a list; `cabal2nix`
  # keys are unique across files (`NAME~HASH` when one name has several
  # sources or options), so entries of one key are equal; for
  # `hackageDirect` the alphabetically last file wins (another file's call
  # with a different version then falls back to the package set, correct but
  # its own IFD); origins are joined.
  union = manifests:
    let
      toList = v: if isList v then v else [ v ];
      mergeVersions = a: b:
        let l = toList a ++ filter (x: !elem x (toList a)) (toList b); in
        if length l == 1 then head l else l;
      join = a: b: mapAttrs (n: v: if a ? ${n} then "${a.${n}}, ${v}" else v) b;
    in
    foldl'
      (acc: m: {
        hackage = acc.hackage // mapAttrs
          (n: v: if acc.hackage ? ${n} then mergeVersions acc.hackage.${n} v else v)
          (m.hackage or { });
        hackageDirect = acc.hackageDirect // (m.hackageDirect or { });
        cabal2nix = acc.cabal2nix // (m.cabal2nix or { });
        origins = acc.origins // join acc.origins (m.origins or { });
      })
      { hackage = { }; hackageDirect = { }; cabal2nix = { }; origins = { }; }
      (attrValues manifests);
  # Generic import-from-derivation batching: `group [ a b … ]` demands every
  # member (derivations, or lists / sets of them) at once, the first time one
  # of its sites is forced; `ready x` returns x after that. A site
  # `import (g.ready a)` has the value of `import a`, without a barrier of
  # its own. (Not isolated: one failing member fails the group's first
  # forced site — unlike the Hackage batch, a generic site reads the
  # derivation's own output, which only a successful build produces.)
  group = members:
    let
      flatten = x:
        if isList x then concatMap flatten x
        else if builtins.isAttrs x && !(x ? outPath) then concatMap flatten (attrValues x)
        else [ x ];
      built = pathExists (substring 0 0 (concatStringsSep "" (map toString (flatten members))) + "/");
    in
    {
      ready = x: builtins.seq built x;
    };
in
{
  inherit version batch overrideCabal union group;
}
