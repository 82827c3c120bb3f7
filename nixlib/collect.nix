# `ifd-batch rewrite --verify` and `--backend materialized`: the drvPath of
# every derivation under ATTR of FILE (nested sets up to DEPTH levels), and
# for every other value (strings, numbers, lists, … — what generic
# import-from-derivation sites produce) its JSON; catchable errors as
# "<error>".
{ file, attr, depth }:
let
  root = import file;
  top = if builtins.isFunction root then root { } else root;
  path = builtins.filter builtins.isString (builtins.split "\\." attr);
  target = builtins.foldl' (acc: n: acc.${n}) top (if attr == "" then [ ] else path);
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";
  join = prefix: n: if prefix == "" then n else "${prefix}.${n}";
  collect = depth: prefix: v:
    let r = builtins.tryEval v; in
    if !r.success then [ { name = prefix; value = "<error>"; } ]
    else if isDrv r.value then
      let d = builtins.tryEval r.value.drvPath; in
      [ { name = prefix; value = if d.success then d.value else "<error>"; } ]
    else if builtins.isAttrs r.value && depth > 0 then
      builtins.concatMap (n: collect (depth - 1) (join prefix n) r.value.${n}) (builtins.attrNames r.value)
    else if builtins.isFunction r.value || builtins.isAttrs r.value then [ ]
    else
      let j = builtins.tryEval (builtins.toJSON r.value); in
      [ { name = prefix; value = if j.success then "value ${builtins.unsafeDiscardStringContext j.value}" else "<error>"; } ];
in
builtins.listToAttrs (collect depth "" target)
