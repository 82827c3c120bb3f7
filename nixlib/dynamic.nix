# ifd-batch's dynamic-derivations backend: the target derivations of a
# repository, evaluated without import-from-derivation (see README.md,
# "The dynamic backend"). Vendored verbatim into the generated
# `nix/ifd-batch-dynamic.nix` by `ifd-batch rewrite --backend dynamic`.
#
# Each target derivation becomes `builtins.outputOf producer.outPath "out"`:
# a placeholder for the output of the derivation that `producer` OUTPUTS.
# Nothing is built while evaluating that; `nix build` builds, in order:
#
#   ifd-batch-instantiate   ONE build (recursive-nix): `nix-instantiate` of
#                           every target from a store copy of the repository
#                           (its own IFD, batched by nixlib, happens in there);
#                           writes each target's .drv path, or its error
#   <name>.drv              one per target, content-addressed text: a copy of
#                           the target's .drv, so the produced derivation IS
#                           the original (same .drv, same output paths)
#   <name>                  the target itself
#
# The producer's name must be exactly `<the target's name>.drv` (Nix checks
# the produced derivation's name against it), so names are recorded when the
# file is generated; a producer whose target has been renamed since fails
# with a message saying to re-run the rewrite.
#
# Needs Nix >= 2.30 with `experimental-features = nix-command
# dynamic-derivations ca-derivations recursive-nix` and
# `system-features = recursive-nix` (for building; evaluating needs the first
# three). Plain Nix, no nixpkgs.
let
  inherit (builtins)
    attrNames concatMap concatStringsSep filter foldl' groupBy hasAttr isAttrs
    isFunction isString length listToAttrs mapAttrs match replaceStrings split
    stringLength substring toJSON tryEval typeOf;

  # A POSIX shell word.
  quote = s: "'${replaceStrings [ "'" ] [ "'\\''" ] s}'";

  # An attribute path as `nix-instantiate -A` reads it.
  attrPath = path: concatStringsSep "."
    (map (n: if match "[a-zA-Z_][a-zA-Z0-9_'-]*" n != null then n else toJSON n) path);

  # Nested sets from [ { path = [ … ]; value; } ].
  nest = entries:
    let
      top = groupBy (e: if e.path == [ ] then "" else builtins.head e.path) entries;
    in
    if entries != [ ] && (builtins.head entries).path == [ ] then (builtins.head entries).value
    else mapAttrs (_: es: nest (map (e: e // { path = builtins.tail e.path; }) es)) top;

  # The directories above a relative path: "a/b/c.nix" → [ "a/b" "a" ].
  parents = p: let d = dirOf p; in if d == "." then [ ] else [ d ] ++ parents d;

  # Tools the builders run (sh, cp, cat, ln, nix-instantiate): from PATH, as
  # builders get no PATH of their own. `path`'s packages come first (with
  # the sandbox on, the host's are not visible: [ pkgs.nix pkgs.coreutils ]).
  defaultPath = "/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin:/usr/local/bin:/usr/bin:/bin";

  # The generated file's value. `files`: the store copy's files, paths from
  # `src`. `targets`: [ { path; file; name; output; } ] (file relative to
  # `src`; path the attribute path in that file and in the result). `as`:
  # "outputs" (the placeholders), "derivations" (for tools that want
  # derivation attribute sets: a content-addressed derivation per target
  # whose output is a symlink to the target's output), "producers" (the
  # `.drv`-producing derivations; what `--verify` builds).
  dynamic =
    { src
    , files
    , targets
    , system
    , path ? [ ]
    , shell ? "/bin/sh"
    , as ? "outputs"
    }:
    let
      root = toString src;
      relative = p: substring (stringLength root + 1) (-1) (toString p);
      # The repository as the targets see it: exactly `files` (recorded by
      # the rewrite from git: what it tracks, with intent-to-add files) and
      # the directories above them. A list, not ignore rules: what is not
      # named never reaches the world-readable store, whatever appears in
      # the work tree later (a secret, an out-link, a build directory).
      keep = listToAttrs (map (name: { inherit name; value = null; }) (files ++ concatMap parents files));
      source = builtins.path {
        path = src;
        name = "source";
        filter = p: _type: hasAttr (relative p) keep;
      };
      PATH = concatStringsSep ":" (map (p: "${p}/bin") path ++ [ defaultPath ]);

      keyed = builtins.genList (i: (builtins.elemAt targets i) // { key = toString i; }) (length targets);

      # One `nix-instantiate` per file for all its attributes (one evaluation,
      # so the IFD batch's barriers are crossed once); when that fails, each
      # attribute alone, so a broken target fails only its own producer.
      instantiateFile = file: ts:
        let
          expr = quote "${source}/${file}";
          one = t: ''
            if nix-instantiate ${expr} -A ${quote (attrPath t.path)} > drvs 2> err; then
              cat err >&2; read -r d < drvs; printf '%s' "''${d%%!*}" > "$out/${t.key}"
            else
              cat err >&2; cp err "$out/${t.key}.failed"
            fi
          '';
        in
        ''
          if nix-instantiate ${expr} ${concatStringsSep " " (map (t: "-A ${quote (attrPath t.path)}") ts)} > drvs 2> err; then
            cat err >&2
            exec 3< drvs
            ${concatStringsSep "" (map (t: ''read -r d <&3; printf '%s' "''${d%%!*}" > "$out/${t.key}"
            '') ts)}exec 3<&-
          else
            cat err >&2
            echo "ifd-batch: instantiating ${file} failed; instantiating its targets one by one" >&2
            ${concatStringsSep "" (map one ts)}
          fi
        '';

      instantiated = derivation {
        name = "ifd-batch-instantiate";
        inherit system PATH;
        builder = shell;
        requiredSystemFeatures = [ "recursive-nix" ];
        passAsFile = [ "script" ];
        script = ''
          set -eu
          export HOME="$TMPDIR"
          cd "$TMPDIR"
          mkdir "$out"
          ${concatStringsSep "\n" (builtins.attrValues (mapAttrs instantiateFile (groupBy (t: t.file) keyed)))}
        '';
        args = [ "-c" ". \"$scriptPath\"" ];
      };

      producer = t: derivation {
        name = "${t.name}.drv";
        inherit system PATH instantiated;
        inherit (t) key;
        builder = shell;
        __contentAddressed = true;
        outputHashMode = "text";
        outputHashAlgo = "sha256";
        expected = "${t.name}.drv";
        what = "${t.file}:${attrPath t.path}";
        args = [
          "-c"
          ''
            set -eu
            if [ -f "$instantiated/$key.failed" ]; then
              echo "ifd-batch: evaluating $what failed:" >&2
              cat "$instantiated/$key.failed" >&2
              echo "ifd-batch: (the store copy holds only the files the generated file lists: if one it needs is new, \`git add\` it and re-run \`ifd-batch rewrite --backend dynamic --write\`)" >&2
              exit 1
            fi
            d=; read -r d < "$instantiated/$key" || :
            base=''${d##*/}
            if [ "''${base#*-}" != "$expected" ]; then
              echo "ifd-batch: $what is now $base, not $expected: nix/ifd-batch-dynamic.nix is stale; re-run \`ifd-batch rewrite --backend dynamic --write\`" >&2
              exit 1
            fi
            cp "$d" "$out"
          ''
        ];
      };

      # Without `dynamic-derivations` Nix has no `builtins.outputOf` at all
      # (Nix < 2.30, or the feature off), and selecting it would fail with
      # a bare missing-attribute error: say what to enable instead.
      # Producers need no outputOf.
      outputOf = builtins.outputOf or (throw (concatStringsSep " " [
        "ifd-batch: this file (the dynamic backend's) needs `builtins.outputOf` (dynamic derivations),"
        "which this Nix (${builtins.nixVersion}) lacks or has disabled:"
        "use Nix >= 2.30 with `experimental-features = nix-command dynamic-derivations ca-derivations`"
        "(to build, also `recursive-nix` and `system-features = recursive-nix`),"
        "or rewrite with another backend (`ifd-batch rewrite --backend ifd --write`)"
      ]));

      output = t: outputOf (producer t).outPath t.output;

      # Tools that take only derivation attribute sets (nix-eval-jobs, Hydra,
      # flake `packages`) get this: it depends on the placeholder, so it must
      # be content-addressed itself.
      wrapped = t: builtins.seq outputOf (derivation {
        inherit (t) name;
        inherit system PATH;
        builder = shell;
        __contentAddressed = true;
        outputHashMode = "recursive";
        outputHashAlgo = "sha256";
        target = output t;
        args = [ "-c" "ln -s \"$target\" \"$out\"" ];
      });

      value = {
        outputs = output;
        derivations = wrapped;
        producers = producer;
      }.${as} or (throw "ifd-batch: as = \"${as}\": expected \"outputs\", \"derivations\" or \"producers\"");
    in
    nest (map (t: { inherit (t) path; value = value t; }) keyed);

  # For `ifd-batch rewrite --backend dynamic`: every value under `attr` of
  # `file` (nested sets up to `depth` levels), as what the backend needs to
  # know: a derivation's name, output and system, or why it is not eligible.
  collect = { file, attr, depth }:
    let
      top0 = import file;
      top = if isFunction top0 then top0 { } else top0;
      start = filter isString (split "\\." attr);
      select = foldl' (acc: n: acc.${n}) top (if attr == "" then [ ] else start);
      go = depth: path: v:
        let r = tryEval v; in
        if !r.success then [ { inherit path; kind = "error"; } ]
        else if isAttrs r.value && (r.value.type or null) == "derivation" then
          let
            d = tryEval r.value.drvPath;
            name = tryEval r.value.name;
          in
          if !(d.success && name.success) then [ { inherit path; kind = "error"; } ]
          else [ {
            inherit path;
            kind = "derivation";
            name = name.value;
            drvPath = d.value;
            output = r.value.outputName or "out";
            system = r.value.system or "";
          } ]
        else if isAttrs r.value && depth > 0 then
          concatMap (n: go (depth - 1) (path ++ [ n ]) r.value.${n}) (attrNames r.value)
        else [ { inherit path; kind = typeOf r.value; } ];
    in
    {
      system = builtins.currentSystem;
      leaves = go depth (if attr == "" then [ ] else start) select;
    };
in
{
  inherit dynamic collect;
}
