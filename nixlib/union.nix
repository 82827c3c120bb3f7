# The union of every file's entries (a generated manifest's `manifests`):
# versions of one package from several files become a list; `cabal2nix`
# keys are unique across files (`NAME~HASH` when one name has several
# sources or options), so entries of one key are equal; for
# `hackageDirect` the alphabetically last file wins (another file's call
# with a different version then falls back to the package set, correct but
# its own IFD); origins are joined.
manifests:
let
  inherit (builtins) attrValues elem filter foldl' head isList length mapAttrs;
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
  (attrValues manifests)
