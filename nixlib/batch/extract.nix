# Barrier 1: ONE extraction of every member the entries need
# (`<name>/<version>/<name>.{cabal,json}`), and the members the index does
# not hold (listed, one a line, in $out/MISSING: they fail only the
# attributes that use them). `extractor`: "tar" (GNU tar, one pass over the
# whole archive) or a package with `bin/ifd-batch` (reads only around the
# members, through the seekable index below).
{ tools, extractor, members }:
let
  inherit (builtins) concatStringsSep elem filter isString readFile split;

  lines = s: filter (l: isString l && l != "") (split "\n" s);

  # Members absent from the index are listed, one a line, in $out/MISSING;
  # members refused (links, special files), in $out/REFUSED.
  listMissing = ''
    LC_ALL=C sort -u missing > "$out/MISSING"
    LC_ALL=C sort -u refused > "$out/REFUSED"
  '';

  # GNU tar: ONE pass over the archive with exact member names (the top
  # directory read from the first entry; the `<name>/<version>/` directories,
  # which hold exactly the two wanted files), never --wildcards. An unpacked
  # index is copied from instead. Missing members do not fail the pass.
  tarExtract = ''
    mkdir -p "$out"
    : > missing
    : > refused
    if ! grep -q . "$membersPath"; then
      : # nothing to extract (an empty --files-from would extract everything)
    elif [ -d "$index" ]; then
      # A symlink anywhere on a member's path in the index: refused.
      linked() {
        local p=$index rest=$1 c
        while :; do
          c=''${rest%%/*}; p=$p/$c
          [ -L "$p" ] && return 0
          [ "$rest" != "$c" ] || return 1
          rest=''${rest#*/}
        done
      }
      while IFS= read -r m; do
        [ -n "$m" ] || continue
        if linked "$m"; then
          echo "$m" >> refused
        elif [ -f "$index/$m" ]; then
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
      # -vv lists each member with its type, in the same pass.
      if ! LC_ALL=C tar -xzvv -f "$index" -C "$out" --strip-components=1 --files-from=wanted > tar.list 2> tar.err; then
        # Members absent from the index are expected, and so are unsafe
        # names (`..`, absolute), which tar skips as `ifd-batch extract`
        # does; anything else is not.
        grep -v -e 'Not found in archive' -e 'Exiting with failure status' \
          -e "Member name contains '\.\.'" -e 'Removing leading' tar.err > tar.other || :
        if [ -s tar.other ]; then
          cat tar.err >&2; exit 1
        fi
      fi
      # A wanted member that is a link (symbolic or hard) or a special file
      # is refused, as `ifd-batch extract` refuses it: never followed, never
      # read (a symlink could point anywhere on the builder).
      sed -n -E 's/^[^-d][^ ]* .* [0-9]{2}:[0-9]{2} ([^ ]+)( -> .*| link to .*)?$/\1/p' tar.list \
        | sed 's|^[^/]*/||' > links
      while IFS= read -r m; do
        if grep -qxF -e "$m" "$membersPath"; then rm -f "$out/$m"; echo "$m" >> refused; fi
      done < links
      while IFS= read -r m; do
        [ -z "$m" ] || [ -f "$out/$m" ] || grep -qxF -e "$m" refused || echo "$m" >> missing
      done < "$membersPath"
    fi
  '';

  # The seekable index (`ifd-batch index`): access points into the gzip
  # stream and each member's offset, made in one pass. A function of the
  # index alone (no store references in it): built once per all-cabal-hashes
  # version, substitutable, and every later extraction reads only around
  # the members it needs. An unpacked index needs none (empty file).
  useTar = extractor == "tar";
  seekable = if useTar then null else tools.runCommand "all-cabal-hashes-seekable" {
    inherit (tools) index;
    preferLocalBuild = true;
  } ''
    if [ -d "$index" ]; then
      : > "$out"
    elif ! ${extractor}/bin/ifd-batch index --help > /dev/null 2>&1; then
      # An ifd-batch older than the seekable index: the streaming pass.
      echo "ifd-batch: this ifd-batch has no \`index\`; extracting in one pass" >&2
      : > "$out"
    else
      ${extractor}/bin/ifd-batch index "$index" --out "$out"
    fi
  '';

  # An external extractor with the `ifd-batch extract` interface, reading
  # through the seekable index.
  cliExtract = ''
    mkdir -p "$out"
    : > missing
    : > refused
    opts=()
    if [ -s "$seekable" ]; then opts+=(--index "$seekable"); fi
    # (Refused members listed, not fatal, by an ifd-batch that can.)
    if ${extractor}/bin/ifd-batch extract --help 2>&1 | grep -q -e --refused; then
      opts+=(--refused refused)
    fi
    # (`ifd-batch extract` refuses an empty member list.)
    if grep -q . "$membersPath"; then
      ${extractor}/bin/ifd-batch extract "$index" "''${opts[@]}" --members "$membersPath" --out "$out" --strip auto --missing missing
    fi
  '';

  extracted = tools.runCommand "ifd-batch-cabal-hashes" ({
    inherit (tools) index;
    # The index is large and the pass is one: never ship it to a remote
    # builder (the generators go there, with only their entries).
    preferLocalBuild = true;
    members = concatStringsSep "\n" members + "\n";
    passAsFile = [ "members" ];
  } // (if useTar then { } else { inherit seekable; }))
    ((if useTar then tarExtract else cliExtract) + listMissing);

  missing = lines (readFile "${extracted}/MISSING");
  refused = lines (readFile "${extracted}/REFUSED");
  either = list: name: version:
    elem "${name}/${version}/${name}.cabal" list || elem "${name}/${version}/${name}.json" list;
in
{
  inherit extracted missing refused seekable;
  # An entry that cannot be generated: absent from the index, or refused.
  isMissing = name: version: either missing name version || either refused name version;
  isRefused = either refused;
}
