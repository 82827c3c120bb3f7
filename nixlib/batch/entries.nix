# The manifest's entries, as the batch reads them: Hackage name/version
# pairs, cabal2nix entries (with the calling file's sources), hackageDirect
# entries, the origins that name them in messages, and the index members to
# extract.
{ manifest, sources }:
let
  inherit (builtins) attrNames concatLists concatMap elem foldl' isList listToAttrs;
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
in
{
  inherit hackage cabal2nix;
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
}
