//! Detector behaviour on small inline Nix snippets: every kind, and every
//! trap (comments, strings, shadowing, paths, `<nixpkgs>`, `with`,
//! `inherit`, wrappers, hotspots).
//!
//! A case is one line: a snippet and its sites as [`summary`] renders them,
//! one line per site, in source order:
//!
//! ```text
//! LINE:COL KIND CALLEE [possible] [per-element ×N] [rounds=N] [group G] [ARG=VALUE…] → batchable
//! LINE:COL KIND CALLEE … → REASON-CODE: reason
//! ```
//!
//! (`×?`: a collection of unknown size; `rounds≥N`: a lower bound; a value
//! with spaces or quotes in backticks; an empty expectation: no site.) Cases
//! stay one line each (`#[rustfmt::skip]`). `UPDATE_EXPECT=1 cargo test --test it -- detect::`
//! rewrites the expectations; review the diff.

use expect_test::{Expect, expect};
use ifd_batch::detect::{Code, Confidence, Kind, Multiplicity, Site};
use ifd_batch::scan::parse_and_detect;

/// The sites of `src`, as [`summary`] renders them.
fn check(src: &str, expect: Expect) {
    expect.assert_eq(&summary(src));
}

/// `form` after the bindings `pre` (`{ pkgs }: let drv = …; in `).
fn check_in(pre: &str, form: &str, expect: Expect) {
    check(&format!("{pre}{form}"), expect);
}

/// Every site of `src`, one line each, and how many were suppressed.
fn summary(src: &str) -> String {
    let found = match parse_and_detect(src, "t.nix") {
        Ok(found) => found,
        Err(e) => return format!("does not parse: {e:?}"),
    };
    let mut lines: Vec<String> = found.sites.iter().map(site).collect();
    if found.suppressed > 0 {
        lines.push(format!("({} suppressed)", found.suppressed));
    }
    lines.join("\n")
}

fn site(s: &Site) -> String {
    let mut out = format!("{}:{} {} {}", s.line, s.column, s.kind, s.call);
    if s.confidence == Confidence::Possible {
        out.push_str(" possible");
    }
    if s.multiplicity == Multiplicity::PerElement {
        match s.elements {
            Some(n) => out.push_str(&format!(" per-element ×{n}")),
            None => out.push_str(" per-element ×?"),
        }
    }
    if s.rounds != 1 || !s.rounds_exact {
        let bound = if s.rounds_exact { "=" } else { "≥" };
        out.push_str(&format!(" rounds{bound}{}", s.rounds));
    }
    if let Some(g) = &s.group {
        out.push_str(&format!(" group {g}"));
    }
    // The site's data, as its JSON (`args` in `scan --format json`).
    if let Ok(serde_json::Value::Object(args)) = serde_json::to_value(&s.args) {
        for (key, v) in args {
            let v = match v {
                serde_json::Value::String(t) if !t.is_empty() && !t.contains([' ', '"']) => t,
                serde_json::Value::String(t) => format!("`{t}`"),
                v => v.to_string(),
            };
            out.push_str(&format!(" {key}={v}"));
        }
    }
    if s.batchable {
        out.push_str(" → batchable");
    } else {
        let code = s
            .reason_code
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|c| c.as_str().map(str::to_string))
            .unwrap_or_else(|| "?".into());
        let reason = s.reason.as_deref().unwrap_or("");
        out.push_str(&format!(" → {code}: {reason}"));
    }
    out
}

// Hackage: every package-set reference; batched in the overlay whose set it
// calls into (`self`, `super`), or by a batch of the set named.
#[test]
#[rustfmt::skip]
fn hackage_through_every_package_set_reference() {
    check(r#"self: super: { a = self.callHackage "aeson" "2.1.2.1" { }; }"#, expect!["1:20 hackage self.callHackage name=aeson version=2.1.2.1 → batchable"]);
    check(r#"self: super: { a = hself.callHackage "aeson" "2.1.2.1" { }; }"#, expect!["1:20 hackage hself.callHackage name=aeson version=2.1.2.1 → batchable"]);
    check(r#"self: super: { a = super.callHackage "aeson" "2.1.2.1" { }; }"#, expect!["1:20 hackage super.callHackage name=aeson version=2.1.2.1 → batchable"]);
    check(r#"self: super: { a = pkgs.haskellPackages.callHackage "aeson" "2.1.2.1" { }; }"#, expect!["1:20 hackage pkgs.haskellPackages.callHackage name=aeson version=2.1.2.1 → batchable"]);
    check(r#"self: super: { a = pkgs.haskell.packages.ghc94.callHackage "aeson" "2.1.2.1" { }; }"#, expect!["1:20 hackage pkgs.haskell.packages.ghc94.callHackage name=aeson version=2.1.2.1 → batchable"]);
}

#[test]
fn hackage_site_range_and_position() {
    let src = "self: super: {\n  a = self.callHackage \"aeson\" \"2.1.2.1\" { } // { };\n}\n";
    let found = parse_and_detect(src, "t.nix").expect("parses");
    let [s] = &found.sites[..] else {
        panic!("one site: {:#?}", found.sites)
    };
    assert_eq!((s.line, s.column), (2, 7));
    let text = &src[s.byte_range[0]..s.byte_range[1]];
    assert_eq!(text, "self.callHackage \"aeson\" \"2.1.2.1\" { }");
    assert_eq!((s.end_line, s.end_column), (2, 7 + text.chars().count()));
}

// Bare names: under `with`, `inherit`, an alias; unbound and no `with` is an
// undefined variable, not a site.
#[test]
#[rustfmt::skip]
fn bare_under_with_and_inherit() {
    check(r#"self: with self; { a = callHackage "a" "1" { }; }"#, expect!["1:24 hackage callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls"]);
    check(r#"self: let inherit (self) callHackage; in callHackage "a" "1" { }"#, expect!["1:42 hackage callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `self` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)"]);
    check(r#"self: let ch = self.callHackage; callHackage = self.callHackage; in callHackage "a" "1" { }"#, expect!["1:69 hackage callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `self` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)"]);
    check(r#"callHackage "a" "1" { }"#, expect![[""]]);
}

// Shadowing: lexical bindings win over `with`, however far out; a pattern
// parameter is a callPackage-style file's (the set is the caller's); a plain
// (non-rec) attribute does not bind.
#[test]
#[rustfmt::skip]
fn shadowed_names_are_not_sites() {
    check(r#"self: let callHackage = n: v: a: null; in callHackage "a" "1" { }"#, expect![[""]]);
    check(r#"callHackage: callHackage "a" "1" { }"#, expect![[""]]);
    check(r#"{ callHackage, ... }: callHackage "a" "1" { }"#, expect!["1:23 hackage callHackage name=a version=1 → not-in-overlay: `callHackage` is a parameter of this file's function (a callPackage-style file): the package set that supplies it is the caller's, which this file cannot name"]);
    check(r#"let callHackage = x: x; in with self; callHackage "a" "1" { }"#, expect![[""]]);
    check(r#"rec { callHackage = a: b: c: 1; x = callHackage "a" "1" { }; }"#, expect![[""]]);
    check(r#"self: with self; { callHackage = 1; x = callHackage "a" "1" { }; }"#, expect!["1:41 hackage callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls"]);
    check(r#"let import = x: x; in import "${pkgs.runCommand "a" { } ""}/x""#, expect![[""]]);
}

#[test]
#[rustfmt::skip]
fn comments_strings_paths_and_search_paths_are_never_sites() {
    check(r#"# self.callHackage "a" "1" { }
{ }"#, expect![[""]]);
    check(r#"/* import "${drv}/x" */ { }"#, expect![[""]]);
    check(r#"{ a = "self.callHackage \"a\" \"1\" { }"; }"#, expect![[""]]);
    check(r#"{ a = ''import ${toString 1}''; }"#, expect![[""]]);
    check(r#"import ./default.nix { }"#, expect![[""]]);
    check(r#"import <nixpkgs> { }"#, expect![[""]]);
    check(r#"import /etc/nixos/configuration.nix"#, expect![[""]]);
    check(r#"import "/nix/store/abc-x/default.nix""#, expect![[""]]);
    check(r#"builtins.readFile ./VERSION"#, expect![[""]]);
    check(r#"{ pkgs }: import "${pkgs.path}/nixos" { }"#, expect![[""]]);
    check(r#"import (./foo + "/bar.nix")"#, expect![[""]]);
}

#[test]
fn wrappers_pipe_and_override_attrs() {
    check(
        r#"{ haskell, lib }: self: super: {
      a = haskell.lib.dontCheck (haskell.lib.doJailbreak (self.callHackage "a" "1" { }));
      b = lib.pipe (self.callHackage "b" "2" { }) [ haskell.lib.dontCheck ];
      c = (self.callHackage "c" "3" { }).overrideAttrs (old: { });
      d = haskell.lib.overrideCabal (self.callHackage "d" "4" { x = self.y; }) (old: { });
      e = haskell.lib.compose.dontCheck (self.callHackage "e" "5" { });
    }"#,
        expect![[r#"
            2:59 hackage self.callHackage name=a version=1 → batchable
            3:21 hackage self.callHackage name=b version=2 → batchable
            4:12 hackage self.callHackage name=c version=3 → batchable
            5:38 hackage self.callHackage name=d version=4 → batchable
            6:42 hackage self.callHackage name=e version=5 → batchable"#]],
    );
}

// Names and versions: let-bound literals resolve; unknowns and partial
// applications are not batchable.
#[test]
#[rustfmt::skip]
fn let_bound_literals_resolve_and_unknowns_are_not_batchable() {
    check(r#"self: super: let v = "1.2"; in self.callHackage "lens" v { }"#, expect!["1:32 hackage self.callHackage name=lens version=1.2 → batchable"]);
    check(r#"{ v }: self: super: self.callHackage "lens" v { }"#, expect!["1:21 hackage self.callHackage → not-literal: package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)"]);
    check(r#"self: self.callHackage "lens""#, expect!["1:7 hackage self.callHackage → partial-application: partial application: name or version not given here"]);
}

// A local helper called with literals: one site, an entry (and a round) per
// call; a call with a non-literal argument, or the helper passed on uncalled,
// and the calls cannot be listed.
#[test]
#[rustfmt::skip]
fn a_helper_called_with_literals_is_one_site_with_an_entry_per_call() {
    check(r#"self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = hackage "a" "1"; b = (hackage "b") "2"; }"#, expect![[r#"1:38 hackage self.callHackage rounds=2 elements=[{"name":"a","version":"1"},{"name":"b","version":"2"}] → batchable"#]]);
    check(r#"self: super: let d = pkg: ver: self.callHackageDirect { inherit pkg ver; sha256 = "h"; } { }; in { a = d "a" "1"; }"#, expect![[r#"1:32 hackage-direct self.callHackageDirect elements=[{"name":"a","version":"1","sha256":"h"}] → batchable"#]]);
    check(r#"{ v }: self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = hackage "a" v; }"#, expect!["1:45 hackage self.callHackage → not-literal: package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)"]);
    check(r#"{ f }: self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = f hackage; }"#, expect!["1:45 hackage self.callHackage → not-literal: package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)"]);
}

// Hotspots: a site inside a function applied per element (`map`,
// `mapAttrs`, …), with the collection's size when it is a literal.
#[test]
#[rustfmt::skip]
fn hotspots_inside_map_like_functions() {
    check(r#"{ lib }: self: super: lib.mapAttrs (name: version: self.callHackage name version { }) { a = "1"; b = "2"; }"#, expect![[r#"1:52 hackage self.callHackage per-element ×2 rounds=2 elements=[{"name":"a","version":"1"},{"name":"b","version":"2"}] → batchable"#]]);
    // Bound by name, then mapped; collection unknown.
    check(r#"{ lib, names }: self: let mk = n: self.callHackage n "1" { }; in lib.genAttrs names mk"#, expect!["1:35 hackage self.callHackage per-element ×? rounds≥1 → not-literal: package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)"]);
    check(r#"{ lib, xs, drv }: map (x: import "${drv}/${x}") xs"#, expect![[r#"1:27 import-drv import possible per-element ×? rounds≥1 function=import target=`"${drv}/${x}"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ lib, xs, drv }: builtins.map (x: import "${drv}/${x}") xs"#, expect![[r#"1:36 import-drv import possible per-element ×? rounds≥1 function=import target=`"${drv}/${x}"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ lib, xs, drv }: lib.concatMap (x: import "${drv}/${x}") xs"#, expect![[r#"1:37 import-drv import possible per-element ×? rounds≥1 function=import target=`"${drv}/${x}"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ lib, xs, drv }: builtins.foldl' (acc: (x: import "${drv}/${x}")) xs"#, expect![[r#"1:45 import-drv import possible per-element ×? rounds≥1 function=import target=`"${drv}/${x}"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ lib, xs, drv }: lib.imap0 (i: (x: import "${drv}/${x}")) xs"#, expect![[r#"1:37 import-drv import possible per-element ×? rounds≥1 function=import target=`"${drv}/${x}"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    // A helper called once is not per element.
    check(r#"{ drv }: let f = x: import "${drv}/${x}"; in f 1"#, expect![[r#"1:21 import-drv import possible function=import target=`"${drv}/${x}"` → not-shareable: not known to read a derivation's output (possible): never grouped, so a wrong guess cannot make a group force itself"#]]);
}

/// Sizes of every per-element form; a round per element.
const COUNTS: &str = r#"{ lib, pkgs }: let drv = pkgs.runCommand "g" { } ""; in "#;

#[test]
#[rustfmt::skip]
fn element_counts_of_every_per_element_form() {
    check_in(COUNTS, r#"lib.genAttrs [ "a" "b" "c" ] (n: import "${drv}/${n}.nix")"#, expect![[r#"1:90 import-drv import per-element ×3 rounds=3 function=import target=`"${drv}/${n}.nix"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(COUNTS, r#"lib.forEach [ 1 2 ] (x: import "${drv}/${toString x}")"#, expect![[r#"1:81 import-drv import per-element ×2 rounds=2 function=import target=`"${drv}/${toString x}"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(COUNTS, r#"builtins.genList (i: import "${drv}/${toString i}") 4"#, expect![[r#"1:78 import-drv import per-element ×4 rounds=4 function=import target=`"${drv}/${toString i}"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(COUNTS, r#"builtins.foldl' (acc: x: acc // import "${drv}/${x}") { } [ "a" "b" ]"#, expect![[r#"1:89 import-drv import per-element ×2 rounds=2 function=import target=`"${drv}/${x}"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(COUNTS, r#"let mk = n: import "${drv}/${n}"; in lib.genAttrs [ "a" "b" ] mk"#, expect![[r#"1:69 import-drv import per-element ×2 rounds=2 function=import target=`"${drv}/${n}"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(COUNTS, r#"map (x: import "${drv}/${x}") [ "a" ]"#, expect![[r#"1:65 import-drv import per-element ×1 function=import target=`"${drv}/${x}"` → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
}

// callHackageDirect, callCabal2nix (path, fetched, options), and the forms
// not batched: outside an overlay, haskellSrc2nix, developPackage.
#[test]
#[rustfmt::skip]
fn hackage_direct_and_cabal2nix() {
    check(r#"self: super: self.callHackageDirect { pkg = "x"; ver = "1.0"; sha256 = "abc"; } { }"#, expect!["1:14 hackage-direct self.callHackageDirect name=x version=1.0 sha256=abc → batchable"]);
    check(r#"self: super: self.callCabal2nix "local" ./pkgs/local { }"#, expect!["1:14 cabal2nix self.callCabal2nix function=callCabal2nix name=local src=./pkgs/local src_kind=path → batchable"]);
    check(r#"{ pkgs }: self: super: self.callCabal2nix "f" (pkgs.fetchFromGitHub { owner = "o"; repo = "r"; rev = "1"; sha256 = "x"; }) { }"#, expect![[r#"1:24 cabal2nix self.callCabal2nix function=callCabal2nix name=f src=`pkgs.fetchFromGitHub { owner = "o"; repo = "r"; rev = "1"; sha256 = "x"; }` src_kind=fetched → batchable"#]]);
    check(r#"self: super: self.callCabal2nixWithOptions "w" ./w "--no-check" { }"#, expect!["1:14 cabal2nix self.callCabal2nixWithOptions function=callCabal2nixWithOptions name=w src=./w src_kind=path options=--no-check → batchable"]);
    check(r#"{ src }: self: self.callCabal2nix "s" src { }"#, expect!["1:16 cabal2nix self.callCabal2nix function=callCabal2nix name=s src=src src_kind=expression → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `self` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)"]);
    check(r#"self: self.haskellSrc2nix { name = "h"; src = ./h; }"#, expect!["1:7 cabal2nix self.haskellSrc2nix function=haskellSrc2nix name=h src=./h src_kind=path → not-supported: haskellSrc2nix is not batched yet (use callCabal2nix)"]);
    check(r#"{ pkgs }: pkgs.haskellPackages.developPackage { root = ./.; }"#, expect!["1:11 cabal2nix pkgs.haskellPackages.developPackage function=developPackage src=./. src_kind=path → not-supported: developPackage builds a development shell; not batched"]);
}

// packageSourceOverrides: a round per entry.
#[test]
#[rustfmt::skip]
fn source_overrides_count_entries() {
    check(r#"{ haskell }: self: super: haskell.lib.packageSourceOverrides { a = "1.0"; b = ./b; c = "2"; }"#, expect![[r#"1:27 source-overrides haskell.lib.packageSourceOverrides rounds=3 entries={"a":"1.0","b":"./b","c":"2"} count=3 → batchable"#]]);
}

/// A derivation bound by name, for the import-drv forms.
const DRV: &str = r#"{ pkgs }: let drv = pkgs.runCommand "g" { } ""; in "#;

// import-drv: a named derivation could join a generic batch (here it is
// alone: a group of one); an inline one cannot. A lambda parameter: can't
// tell. callPackage of an unknown name is everyday code; interpolation not
// at the start is not the derivation's store path.
#[test]
#[rustfmt::skip]
fn import_drv_forms() {
    check_in(DRV, "import drv", expect!["1:52 import-drv import function=import target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(DRV, r#"import "${drv}/x.nix""#, expect![[r#"1:52 import-drv import function=import target=`"${drv}/x.nix"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(DRV, "import drv.outPath", expect!["1:52 import-drv import function=import target=drv.outPath → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(DRV, r#"import (drv + "/x.nix")"#, expect![[r#"1:52 import-drv import function=import target=`drv + "/x.nix"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(DRV, r#"scopedImport { } "${drv}/x""#, expect![[r#"1:52 import-drv scopedImport function=scopedImport target=`"${drv}/x"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(DRV, r#"pkgs.callPackage "${drv}/x.nix" { }"#, expect![[r#"1:52 import-drv pkgs.callPackage function=callPackage target=`"${drv}/x.nix"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(DRV, r#"import (pkgs.writeText "x.nix" "1")"#, expect![[r#"1:52 import-drv import function=import target=`pkgs.writeText "x.nix" "1"` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"{ src }: import "${src}/default.nix""#, expect![[r#"1:10 import-drv import possible function=import target=`"${src}/default.nix"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ callPackage, foo }: callPackage foo { }"#, expect![[""]]);
    check(r#"{ drv }: import "/etc/${drv}""#, expect![[""]]);
}

/// A derivation bound by name, for the read-drv forms.
const READ: &str = r#"{ pkgs, lib }: let drv = pkgs.runCommand "g" { } ""; in "#;

// read-drv: builtins, nixpkgs' lib, `with builtins`, `inherit (builtins)`;
// a bare readFile is not a builtin without `with builtins`.
#[test]
#[rustfmt::skip]
fn read_drv_forms() {
    check_in(READ, "builtins.readFile drv", expect!["1:57 read-drv builtins.readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "builtins.readDir drv", expect!["1:57 read-drv builtins.readDir function=readDir target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, r#"builtins.pathExists "${drv}/x""#, expect![[r#"1:57 read-drv builtins.pathExists function=pathExists target=`"${drv}/x"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(READ, r#"builtins.hashFile "sha256" drv"#, expect!["1:57 read-drv builtins.hashFile function=hashFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "builtins.readFileType drv", expect!["1:57 read-drv builtins.readFileType function=readFileType target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, r#"lib.importJSON "${drv}/a.json""#, expect![[r#"1:57 read-drv lib.importJSON function=importJSON target=`"${drv}/a.json"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(READ, "lib.importTOML drv", expect!["1:57 read-drv lib.importTOML function=importTOML target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "builtins.fromJSON (builtins.readFile drv)", expect!["1:76 read-drv builtins.readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "with builtins; readFile drv", expect!["1:72 read-drv readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "let inherit (builtins) readFile; in readFile drv", expect!["1:93 read-drv readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(READ, "let readFile = x: x; in readFile drv", expect![[""]]);
}

/// Two derivations, for the read-drv aliases and operands.
const OPERANDS: &str =
    r#"{ pkgs, lib, c }: let drv = pkgs.runCommand "g" { } ""; drv2 = pkgs.writeText "w" ""; in "#;

// Global aliases (`__readFile`), nixpkgs' `lib`, and operands that keep the
// derivation's context; a shadowed alias, another set's `readFile`,
// discarded context and a path are not sites.
#[test]
#[rustfmt::skip]
fn read_aliases_and_operands() {
    check_in(OPERANDS, "__readFile drv", expect!["1:90 read-drv __readFile function=__readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "__readDir drv", expect!["1:90 read-drv __readDir function=__readDir target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, r#"__pathExists "${drv}/x""#, expect![[r#"1:90 read-drv __pathExists function=__pathExists target=`"${drv}/x"` → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check_in(OPERANDS, "lib.readFile drv", expect!["1:90 read-drv lib.readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "lib.pathExists drv", expect!["1:90 read-drv lib.pathExists function=pathExists target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "lib.fileContents drv", expect!["1:90 read-drv lib.fileContents function=fileContents target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "lib.strings.fileContents drv", expect!["1:90 read-drv lib.strings.fileContents function=fileContents target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "pkgs.lib.readFile drv", expect!["1:90 read-drv pkgs.lib.readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "lib.pathIsDirectory drv", expect!["1:90 read-drv lib.pathIsDirectory function=pathIsDirectory target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "with lib; fileContents drv", expect!["1:100 read-drv fileContents function=fileContents target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "let inherit (lib) readFile; in readFile drv", expect!["1:121 read-drv readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "with builtins; builtins.readFile drv", expect!["1:105 read-drv builtins.readFile function=readFile target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check_in(OPERANDS, "with builtins; readFile (toString drv)", expect!["1:105 read-drv readFile function=readFile target=`toString drv` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check_in(OPERANDS, r#"builtins.readFile (toString drv + "/x")"#, expect![[r#"1:90 read-drv builtins.readFile function=readFile target=`toString drv + "/x"` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check_in(OPERANDS, r#"builtins.readFile "${toString drv}/x""#, expect![[r#"1:90 read-drv builtins.readFile function=readFile target=`"${toString drv}/x"` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check_in(OPERANDS, r#"builtins.readFile (lib.concatStrings [ drv "/x" ])"#, expect![[r#"1:90 read-drv builtins.readFile function=readFile target=`lib.concatStrings [ drv "/x" ]` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check_in(OPERANDS, r#"builtins.readFile (builtins.concatStringsSep "/" [ drv "x" ])"#, expect![[r#"1:90 read-drv builtins.readFile function=readFile target=`builtins.concatStringsSep "/" [ drv "x" ]` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check_in(OPERANDS, "builtins.readFile (if c then drv else drv2)", expect!["1:90 read-drv builtins.readFile function=readFile target=`if c then drv else drv2` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check_in(OPERANDS, "builtins.readFile (drv.overrideAttrs (o: { }))", expect!["1:90 read-drv builtins.readFile function=readFile target=`drv.overrideAttrs (o: { })` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check_in(OPERANDS, "builtins.readFile (lib.cleanSource drv)", expect!["1:90 read-drv builtins.readFile function=readFile target=`lib.cleanSource drv` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check_in(OPERANDS, "import (if c then drv else ./x.nix)", expect!["1:90 import-drv import possible function=import target=`if c then drv else ./x.nix` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check_in(OPERANDS, "let __readFile = x: x; in __readFile drv", expect![[""]]);
    check_in(OPERANDS, "foo.readFile drv", expect![[""]]);
    check_in(OPERANDS, "builtins.readFile (builtins.unsafeDiscardStringContext drv)", expect![[""]]);
    check_in(OPERANDS, "lib.readFile ./x", expect![[""]]);
}

// Builtin fetchers: pinned or not; nixpkgs' fetchers are fixed-output
// derivations, not builtin fetches.
#[test]
#[rustfmt::skip]
fn builtin_fetchers_pinned_and_not() {
    check(r#"builtins.fetchTarball "https://x/y.tar.gz""#, expect!["1:1 builtin-fetch builtins.fetchTarball function=fetchTarball pinned=false url=https://x/y.tar.gz → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"fetchTarball { url = "https://x"; sha256 = "0abc"; }"#, expect!["1:1 builtin-fetch fetchTarball function=fetchTarball pinned=true url=https://x → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"builtins.fetchGit { url = "https://x"; rev = "0123456789abcdef0123456789abcdef01234567"; }"#, expect!["1:1 builtin-fetch builtins.fetchGit function=fetchGit pinned=true url=https://x → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"builtins.fetchTree { type = "github"; owner = "o"; repo = "r"; }"#, expect!["1:1 builtin-fetch builtins.fetchTree function=fetchTree pinned=false → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"{ pkgs }: pkgs.fetchurl { url = "u"; sha256 = "h"; }"#, expect![[""]]);
    check(r#"{ pkgs }: with pkgs; fetchurl { url = "u"; sha256 = "h"; }"#, expect![[""]]);
}

// Pins through `//`, computed names and `inherit (spec)`; when not known,
// definite (it downloads) with the pin unknown; a bare URL.
#[test]
#[rustfmt::skip]
fn builtin_fetch_pins_and_urls() {
    check(r#"builtins.fetchGit ({ url = "u"; rev = "abc"; } // lib.optionalAttrs c { ref = "x"; })"#, expect!["1:1 builtin-fetch builtins.fetchGit function=fetchGit pinned=true url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"builtins.fetchGit { url = "u"; ${"rev"} = "abc"; }"#, expect!["1:1 builtin-fetch builtins.fetchGit function=fetchGit pinned=true → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"{ spec }: builtins.fetchGit ({ url = spec.repo; inherit (spec) rev; } // spec.extra)"#, expect!["1:11 builtin-fetch builtins.fetchGit function=fetchGit pinned=true → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"{ extra }: builtins.fetchGit ({ url = "u"; } // extra)"#, expect!["1:12 builtin-fetch builtins.fetchGit function=fetchGit pinned=false pinned_known=false url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"{ attrs }: fetchTarball attrs"#, expect!["1:12 builtin-fetch fetchTarball function=fetchTarball pinned=false pinned_known=false → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"import (builtins.fetchTarball https://github.com/NixOS/nixpkgs/archive/3de5266.tar.gz) { }"#, expect!["1:9 builtin-fetch builtins.fetchTarball function=fetchTarball pinned=false url=https://github.com/NixOS/nixpkgs/archive/3de5266.tar.gz → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
}

// A builtin fetch is reported once, not again as the import of its result.
#[test]
#[rustfmt::skip]
fn builtin_fetches_are_reported_once_not_again_as_imports() {
    check(r#"import (builtins.fetchTarball { url = "https://x/y.tar.gz"; sha256 = "0abc"; }) { }"#, expect!["1:9 builtin-fetch builtins.fetchTarball function=fetchTarball pinned=true url=https://x/y.tar.gz → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"let src = fetchTarball { url = "https://x"; sha256 = "0"; }; in import "${src}/x.nix""#, expect!["1:11 builtin-fetch fetchTarball function=fetchTarball pinned=true url=https://x → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"with builtins; import (fetchGit { url = "u"; rev = "r"; })"#, expect!["1:24 builtin-fetch fetchGit function=fetchGit pinned=true url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
    check(r#"let src = builtins.fetchGit { url = "u"; rev = "r"; }; in builtins.readFile (src + "/v")"#, expect!["1:11 builtin-fetch builtins.fetchGit function=fetchGit pinned=true url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"]);
}

#[test]
fn allow_comment_suppresses_the_next_line() {
    check(
        "self: {\n  # ifd-batch: allow\n  a = self.callHackage \"a\" \"1\" { };\n  b = self.callHackage \"b\" \"1\" { };\n}",
        expect![[r#"
            4:7 hackage self.callHackage name=b version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `self` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)
            (1 suppressed)"#]],
    );
}

#[test]
fn parse_errors_are_reported_with_positions() {
    let errs = parse_and_detect("{\n  a = ;\n}", "bad.nix").expect_err("does not parse");
    assert_eq!(errs[0].file, "bad.nix");
    assert_eq!(errs[0].line, Some(2));
    assert!(errs[0].message.contains("syntax error"));
}

/// A derivation `a` and a second member `z` (a group of one is no batch).
const GROUP: &str = r#"{ pkgs }: let a = pkgs.runCommand "a" { } ""; z = pkgs.runCommand "z" { } ""; zz = import z; "#;

// Generic batching: which import-drv / read-drv sites can share a barrier
// (the one definition `scan` and `rewrite` use): not in a conditional
// branch, per element only over a named collection of derivations (the
// group demands it once), a named derivation, a `let` to bind the group in,
// a name that means the same there; already routed sites still count.
#[test]
#[rustfmt::skip]
fn generic_batchability() {
    check_in(GROUP, "in builtins.readFile a", expect![[r#"
        1:84 import-drv import group ifdBatchGroup function=import target=z → batchable
        1:97 read-drv builtins.readFile group ifdBatchGroup function=readFile target=a → batchable"#]]);
    check_in(GROUP, "in import (ifdBatchGroup.ready a)", expect![[r#"
        1:84 import-drv import group ifdBatchGroup function=import target=z → batchable
        1:97 import-drv import group ifdBatchGroup function=import target=`ifdBatchGroup.ready a` → batchable"#]]);
    check_in(GROUP, "c = true; in if c then import a else null", expect![[r#"
        1:84 import-drv import function=import target=z → not-shareable: `z` is the only derivation of its barrier in this scope: a group of one saves nothing
        1:117 import-drv import function=import target=a → not-shareable: inside a conditional branch (`if … then … else …`): a batch would build it even when the branch is not taken"#]]);
    check_in(GROUP, "in map (x: import a) [ 1 2 ]", expect![[r#"
        1:84 import-drv import function=import target=z → not-shareable: `z` is the only derivation of its barrier in this scope: a group of one saves nothing
        1:105 import-drv import per-element ×2 rounds=2 function=import target=a → not-shareable: per-element site whose elements are not the derivations of a named collection: not batched"#]]);
    check_in(GROUP, "ds = [ a ]; in map (d: import d) ds", expect![[r#"
        1:84 import-drv import group ifdBatchGroup function=import target=z → batchable
        1:117 import-drv import possible per-element ×1 group ifdBatchGroup function=import target=d → batchable"#]]);
    check_in(GROUP, "ds = { x = a; }; in pkgs.lib.mapAttrs (n: d: builtins.readFile d) ds", expect![[r#"
        1:84 import-drv import group ifdBatchGroup function=import target=z → batchable
        1:139 read-drv builtins.readFile possible per-element ×1 group ifdBatchGroup function=readFile target=d → batchable"#]]);
    check(r#"{ pkgs }: import (pkgs.writeText "x" "1")"#, expect![[r#"1:11 import-drv import function=import target=`pkgs.writeText "x" "1"` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"{ pkgs }: { x = import pkgs.gen; }"#, expect!["1:17 import-drv import possible function=import target=pkgs.gen → no-scope: no enclosing `let … in` to bind the batch in"]);
    check_in(GROUP, "in (b: import b) a", expect![[r#"
        1:84 import-drv import function=import target=z → not-shareable: `z` is the only derivation of its barrier in this scope: a group of one saves nothing
        1:101 import-drv import possible function=import target=b → not-shareable: `b` is bound between the site and its enclosing `let`: the batch cannot see it there"#]]);
    check(r#"{ pkgs }: let a = pkgs.runCommand "a" { } ""; in builtins.readFile a"#, expect!["1:50 read-drv builtins.readFile function=readFile target=a → not-shareable: `a` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
}

// Layers: a member that reaches a site (through `let`, `inherit (x)`,
// `with`, a helper function) never shares that site's barrier; sites that
// depend only on earlier barriers share the next one. A `pkgs` that is
// itself imported (possible: never grouped) puts every derivation it makes
// one layer above it; a member that depends on its own group's site is
// left alone.
#[test]
#[rustfmt::skip]
fn generic_groups_are_layered_by_dependency() {
    check(
        "{ pkgs }: let\na = pkgs.runCommand \"a\" { } \"\";\nc = pkgs.runCommand \"c\" { } \"\";\nb = pkgs.runCommand \"b\" { x = builtins.readFile a; } \"\";\nd = pkgs.runCommand \"d\" { x = builtins.readFile c; } \"\";\nin [ (import b) (import d) ]",
        expect![[r#"
            4:31 read-drv builtins.readFile group ifdBatchGroup function=readFile target=a → batchable
            5:31 read-drv builtins.readFile group ifdBatchGroup function=readFile target=c → batchable
            6:7 import-drv import group ifdBatchGroup'2 function=import target=b → batchable
            6:18 import-drv import group ifdBatchGroup'2 function=import target=d → batchable"#]],
    );
    check(
        "{ world, gen }: let\npkgs = import \"${gen}/x.nix\";\ninherit (pkgs) runCommand;\nv = runCommand \"v\" { } \"\";\nw = runCommand \"w\" { } \"\";\nin { v = import v; w = import w; }",
        expect![[r#"
            2:8 import-drv import possible function=import target=`"${gen}/x.nix"` → not-shareable: not known to read a derivation's output (possible): never grouped, so a wrong guess cannot make a group force itself
            6:10 import-drv import group ifdBatchGroup function=import target=v → batchable
            6:24 import-drv import group ifdBatchGroup function=import target=w → batchable"#]],
    );
    check(
        "{ world, gen }: let\npkgs = import \"${gen}/x.nix\";\nrunCommand = with pkgs; runCommand;\nv = runCommand \"v\" { } \"\";\nw = runCommand \"w\" { } \"\";\nin { v = import v; w = import w; }",
        expect![[r#"
            2:8 import-drv import possible function=import target=`"${gen}/x.nix"` → not-shareable: not known to read a derivation's output (possible): never grouped, so a wrong guess cannot make a group force itself
            6:10 import-drv import group ifdBatchGroup function=import target=v → batchable
            6:24 import-drv import group ifdBatchGroup function=import target=w → batchable"#]],
    );
    check(
        "{ world, gen }: let\npkgs = import \"${gen}/x.nix\";\nrunCommand = n: pkgs.runCommand n { } \"\";\nv = runCommand \"v\" { } \"\";\nw = runCommand \"w\" { } \"\";\nin { v = import v; w = import w; }",
        expect![[r#"
            2:8 import-drv import possible function=import target=`"${gen}/x.nix"` → not-shareable: not known to read a derivation's output (possible): never grouped, so a wrong guess cannot make a group force itself
            6:10 import-drv import group ifdBatchGroup function=import target=v → batchable
            6:24 import-drv import group ifdBatchGroup function=import target=w → batchable"#]],
    );
    check(
        "{ pkgs }: let\na = pkgs.runCommand \"a\" { x = import b; } \"\";\nb = pkgs.runCommand \"b\" { } \"\";\nc = pkgs.runCommand \"c\" { } \"\";\nin [ (import a) (import c) ]",
        expect![[r#"
            2:31 import-drv import group ifdBatchGroup function=import target=b → batchable
            5:7 import-drv import function=import target=a → not-shareable: `a` is the only derivation of its barrier in this scope: a group of one saves nothing
            5:18 import-drv import group ifdBatchGroup function=import target=c → batchable"#]],
    );
}

// Not import-from-derivation although it looks like it: flake inputs, the
// flake's own source, nixpkgs source trees, pinned sources. A flake output
// that is a package is a derivation (possible).
#[test]
#[rustfmt::skip]
fn flake_inputs_and_nixpkgs_imports_are_not_sites() {
    check(
        r#"{
      inputs.nixpkgs.url = "github:NixOS/nixpkgs";
      outputs = { self, nixpkgs, systems, flake-compat, ... }@inputs: {
        a = import nixpkgs { system = "x86_64-linux"; };
        b = import systems;
        c = import "${self}/nix/x.nix";
        d = import (inputs.foo + "/default.nix");
        e = builtins.readFile inputs.bar.outPath;
        f = import self.inputs.nixpkgs-2105 { };
        g = import flake-compat;
        h = let root = self; in import "${toString root}/y.nix";
      };
    }"#,
        expect![[""]],
    );
    check(r#"{ outputs = { self, nixpkgs }: { a = import "${nixpkgs.legacyPackages.x86_64-linux.gen}/x.nix"; }; }"#, expect![[r#"1:38 import-drv import possible function=import target=`"${nixpkgs.legacyPackages.x86_64-linux.gen}/x.nix"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    // flake-parts modules and other files: `inputs.x`, `self`.
    check(r#"{ inputs, self, ... }: { a = import inputs.nixpkgs { }; b = import (self + "/x.nix"); c = builtins.path { path = inputs.tpl; }; }"#, expect![[""]]);
    check(r#"{ nixpkgs ? <nixpkgs> }: import nixpkgs { }"#, expect![[""]]);
    check(r#"{ pinnedNixpkgsSrc }: import pinnedNixpkgsSrc { }"#, expect![[""]]);
    check(r#"{ config }: import config.nixpkgsSource { }"#, expect![[""]]);
    check(r#"{ haskellNix }: import haskellNix.sources.nixpkgs-unstable { }"#, expect![[""]]);
    check(r#"let sources = import ./nix/sources.nix { }; in import sources.nixpkgs { }"#, expect![[""]]);
    check(r#"let sources = import ./nix/sources.nix { }; in import sources.haskellNix { }"#, expect![[""]]);
    check(r#"let deps = import ./nix/sources.nix; in import deps.foo { }"#, expect![[""]]);
    check(r#"let nixpkgsPath = <nixpkgs>; in import nixpkgsPath { }"#, expect![[""]]);
}

// Path parameters (by default, or by every element mapped over) are not
// sites; unknown callers, elements that are not plain, a `null` default
// are possible.
#[test]
#[rustfmt::skip]
fn path_parameters_are_not_sites() {
    check(r#"map (f: import f) [ ./a.nix ./b.nix ]"#, expect![[""]]);
    check(r#"{ lib }: lib.mapAttrs (name: p: import p) { a = ./a.nix; b = ./b.nix; }"#, expect![[""]]);
    check(r#"{ lib }: lib.forEach [ ./a ./b ] (d: builtins.readDir d)"#, expect![[""]]);
    check(r#"let load = dir: builtins.readDir dir; in [ (load ./x) (load ./y) ]"#, expect![[""]]);
    check(r#"let read = { file, n ? 1 }: builtins.readFile file; in read { file = ./v; }"#, expect![[""]]);
    check(r#"{ sourcesFile ? ./sources.json }: builtins.readFile sourcesFile"#, expect![[""]]);
    check(r#"{ sourcesFile ? if builtins.pathExists ./s.json then ./s.json else null }: builtins.readFile sourcesFile"#, expect![[""]]);
    check(r#"{ root ? ./. }: import (root + "/x.nix")"#, expect![[""]]);
    check(r#"{ src ? null }: import "${src}/x.nix""#, expect![[r#"1:17 import-drv import possible function=import target=`"${src}/x.nix"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"{ drvs }: map (d: import d) drvs"#, expect!["1:19 import-drv import possible per-element ×? rounds≥1 function=import target=d → no-scope: no enclosing `let … in` to bind the batch in"]);
    check(r#"{ pkgs }: map (d: import d) [ ./a.nix (pkgs.runCommand "b" { } "") ]"#, expect!["1:19 import-drv import possible per-element ×2 rounds=2 function=import target=d → no-scope: no enclosing `let … in` to bind the batch in"]);
    check(r#"let load = dir: builtins.readDir dir; in { f = x: load x; }"#, expect!["1:17 read-drv builtins.readDir possible function=readDir target=dir → not-shareable: `dir` is bound between the site and its enclosing `let`: the batch cannot see it there"]);
    check(r#"p: builtins.readFile (p + "/git.json")"#, expect![[r#"1:4 read-drv builtins.readFile possible function=readFile target=`p + "/git.json"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
}

// Derivations returned by a local helper (also its pattern argument) or an
// overlay's own attribute (through `self.` and `with self;`); nix-thunk
// style (one branch a builtin fetch, the other a derivation); a recursive
// helper does not loop.
#[test]
#[rustfmt::skip]
fn derivations_from_helpers_and_overlay_attributes() {
    check(r#"{ pkgs }: let fetch = spec: pkgs.fetchFromGitHub spec; in import (fetch { owner = "o"; repo = "r"; rev = "1"; sha256 = "h"; })"#, expect![[r#"1:59 import-drv import function=import target=`fetch { owner = "o"; repo = "r"; rev = "1"; sha256 = "h"; }` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"{ pkgs }: let hashFileD = path: pkgs.runCommand "hash" { inherit path; } ""; hashD = hashFileD ./x; in builtins.readFile hashD"#, expect!["1:104 read-drv builtins.readFile function=readFile target=hashD → not-shareable: `hashD` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check(r#"{ pkgs }: let gen = name: pkgs.runCommand name { } ""; in map (f: import (gen f)) [ "a" "b" ]"#, expect!["1:67 import-drv import per-element ×2 rounds=2 function=import target=`gen f` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"]);
    check(r#"{ pkgs }: map (f: import (pkgs.runCommand "x" { } "cp ${f} $out")) [ ./a ./b ]"#, expect![[r#"1:19 import-drv import per-element ×2 rounds=2 function=import target=`pkgs.runCommand "x" { } "cp ${f} $out"` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"{ pkgs }: let gen = { src }: src; in import (gen { src = pkgs.writeText "x" "1"; })"#, expect![[r#"1:38 import-drv import function=import target=`gen { src = pkgs.writeText "x" "1"; }` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"let gen = { src }: src; in import (gen { src = ./x.nix; })"#, expect![[""]]);
    check(r#"self: super: { generated = self.runCommand "g" { } ""; foo = self.callPackage "${self.generated}/default.nix" { }; }"#, expect![[r#"1:62 import-drv self.callPackage function=callPackage target=`"${self.generated}/default.nix"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"self: super: with self; { generated = runCommand "g" { } ""; foo = callPackage "${generated}/default.nix" { }; }"#, expect![[r#"1:68 import-drv callPackage function=callPackage target=`"${generated}/default.nix"` → no-scope: no enclosing `let … in` to bind the batch in"#]]);
    check(r#"final: prev: let x = 1; in { gen = final.writeText "x" ""; v = builtins.readFile final.gen; }"#, expect!["1:64 read-drv builtins.readFile function=readFile target=final.gen → not-shareable: `final.gen` is the only derivation of its barrier in this scope: a group of one saves nothing"]);
    check(r#"let fetch = { private ? false, owner, repo, rev, sha256 }: if !private then builtins.fetchTarball { url = "u"; inherit sha256; } else (import <nixpkgs> { }).fetchFromGitHub { inherit owner repo rev sha256; }; in import (fetch (builtins.fromJSON (builtins.readFile ./github.json)))"#, expect![[r#"
        1:77 builtin-fetch builtins.fetchTarball function=fetchTarball pinned=true url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher
        1:213 import-drv import possible function=import target=`fetch (builtins.fromJSON (builtins.readFile ./github.json))` → not-shareable: the derivation is not a name or a selection from one (bind it with `let` to batch it)"#]]);
    check(r#"let f = x: if x == 0 then ./a.nix else f (x - 1); in import (f 3)"#, expect![[""]]);
}

/// Nix ends a `#` comment at a lone carriage return.
#[test]
fn lone_carriage_return_ends_a_comment() {
    let src =
        "{ pkgs }: let drv = pkgs.runCommand \"g\" { } \"\"; in { a = 1; # c\r b = import drv; }";
    check(
        src,
        expect![
            "2:6 import-drv import function=import target=drv → not-shareable: `drv` is the only derivation of its barrier in this scope: a group of one saves nothing"
        ],
    );
    let found = parse_and_detect(src, "t.nix").expect("parses");
    let ranges: Vec<&str> = found
        .sites
        .iter()
        .map(|s| &src[s.byte_range[0]..s.byte_range[1]])
        .collect();
    assert_eq!(ranges, ["import drv"]);
}

/// Only what surely blocks counts in the serial rounds.
#[test]
fn rounds_count_definite_sites_only() {
    let found = parse_and_detect(
        "{ pkgs, src }: let drv = pkgs.runCommand \"g\" { } \"\"; in { a = import drv; b = import \"${src}/x.nix\"; }",
        "t.nix",
    )
    .expect("parses");
    let scan = ifd_batch::scan::Scan {
        files_scanned: 1,
        sites: found.sites,
        ..Default::default()
    };
    let s = ifd_batch::report::summarize(&scan);
    assert_eq!((s.rounds, s.possible, s.possible_rounds), (1, 1, 1));
    assert_eq!(s.rounds_after_batching, 1);
}

// A callCabal2nix source that is not a path literal is batchable where the
// overlay's batch binding can see it: names bound above the overlay, by it,
// or in its body's `let`; not bound between the overlay and the site, nor
// from a `with` there.
#[test]
#[rustfmt::skip]
fn wrapped_cabal2nix_sources_are_batchable_where_the_batch_can_see_them() {
    check(r#"{ lib }: self: super: { a = self.callCabal2nix "a" (lib.cleanSource ./a) { }; }"#, expect!["1:29 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`lib.cleanSource ./a` src_kind=expression → batchable"]);
    check(r#"{ self }: final: prev: { a = final.callCabal2nix "a" "${self}/a" { }; }"#, expect![[r#"1:30 cabal2nix final.callCabal2nix function=callCabal2nix name=a src=`"${self}/a"` src_kind=expression → batchable"#]]);
    check(r#"{ gitignoreSource }: self: super: { a = self.callCabal2nix "a" (gitignoreSource ./.) { }; }"#, expect!["1:41 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`gitignoreSource ./.` src_kind=expression → batchable"]);
    check(r#"{ lib }: self: super: { a = self.callCabal2nix "a" (lib.fileset.toSource { root = ./.; fileset = ./a; }) { }; }"#, expect!["1:29 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`lib.fileset.toSource { root = ./.; fileset = ./a; }` src_kind=expression → batchable"]);
    check(r#"{ lib }: self: super: let src = lib.cleanSource ./a; in { a = self.callCabal2nix "a" src { }; }"#, expect!["1:63 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=src src_kind=expression → batchable"]);
    check(r#"self: super: { a = self.callCabal2nix "a" (self.sources.a + "/sub") { }; }"#, expect![[r#"1:20 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`self.sources.a + "/sub"` src_kind=expression → batchable"#]]);
    check(r#"{ lib }: self: super: { a = self.callCabal2nix "a" (lib.cleanSourceWith { src = ./a; filter = p: t: t != "symlink"; }) { }; }"#, expect![[r#"1:29 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`lib.cleanSourceWith { src = ./a; filter = p: t: t != "symlink"; }` src_kind=expression → batchable"#]]);
    check(r#"{ pkgs }: self: super: { a = self.callCabal2nix "a" (builtins.fetchGit { url = "u"; rev = "r"; }) { }; }"#, expect![[r#"
        1:30 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`builtins.fetchGit { url = "u"; rev = "r"; }` src_kind=expression → batchable
        1:54 builtin-fetch builtins.fetchGit function=fetchGit pinned=true url=u → not-supported: builtin fetchers run inside the evaluator; pin them or use a fixed-output fetcher"#]]);
    check(r#"self: super: { a = let src = ./a; in self.callCabal2nix "a" src { }; }"#, expect!["1:38 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=src src_kind=expression → source-not-movable: the source uses `src`, bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"]);
    check(r#"self: super: { a = (p: self.callCabal2nix "a" p { }) ./a; }"#, expect!["1:24 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=p src_kind=expression → source-not-movable: the source uses `p`, bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"]);
    check(r#"{ pkgs }: self: super: with pkgs; { a = self.callCabal2nix "a" (cleanSource ./a) { }; }"#, expect!["1:41 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`cleanSource ./a` src_kind=expression → source-not-movable: the source uses `cleanSource`, which may come from a `with` between the overlay and the site: the batch cannot see it"]);
}

// Nix globals are not shadowed by `with`.
#[test]
#[rustfmt::skip]
fn nix_globals_in_a_source_are_not_shadowed_by_with() {
    check(r#"{ pkgs }: self: super: with pkgs; { a = self.callCabal2nix "a" (toString ./a) { }; }"#, expect!["1:41 cabal2nix self.callCabal2nix function=callCabal2nix name=a src=`toString ./a` src_kind=expression → batchable"]);
}

// Computed callCabal2nixWithOptions options, the same rule.
#[test]
#[rustfmt::skip]
fn computed_cabal2nix_options_are_batchable_where_the_batch_can_see_them() {
    check(r#"{ lib, flags }: self: super: { r = self.callCabal2nixWithOptions "r" ./r (lib.concatStringsSep " " flags) { }; }"#, expect![[r#"1:36 cabal2nix self.callCabal2nixWithOptions function=callCabal2nixWithOptions name=r src=./r src_kind=path options_expr=`lib.concatStringsSep " " flags` → batchable"#]]);
    check(r#"self: super: { r = let flags = "-fa" + ""; in self.callCabal2nixWithOptions "r" ./r flags { }; }"#, expect!["1:47 cabal2nix self.callCabal2nixWithOptions function=callCabal2nixWithOptions name=r src=./r src_kind=path options_expr=flags → source-not-movable: the options use `flags`, bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"]);
}

// A callee bound from the overlay's set; a set named explicitly (through
// `inherit (set) f` or an alias under another name) gets the batch of that
// set; an alias whose set is bound between the overlay and the site cannot
// be named where the batch is bound.
#[test]
#[rustfmt::skip]
fn callee_bound_from_the_overlays_set_is_batchable() {
    check(r#"self: super: let inherit (self) callHackage; in { a = callHackage "a" "1" { }; }"#, expect!["1:55 hackage callHackage name=a version=1 → batchable"]);
    check(r#"self: super: let callHackage = self.callHackage; in { a = callHackage "a" "1" { }; }"#, expect!["1:59 hackage callHackage name=a version=1 → batchable"]);
    check(r#"hself: hsuper: with hself; { a = callHackage "a" "1" { }; }"#, expect!["1:34 hackage callHackage name=a version=1 → batchable"]);
    check(r#"{ pkgs }: self: super: let inherit (pkgs.haskellPackages) callHackage; in { a = callHackage "a" "1" { }; }"#, expect!["1:81 hackage callHackage name=a version=1 → batchable"]);
    check(r#"final: prev: { h = prev.h.override { overrides = hself: hsuper: let callCabal2nix = final.haskellPackages.callCabal2nix; in { x = callCabal2nix "x" ./x { }; }; }; }"#, expect!["1:131 cabal2nix callCabal2nix function=callCabal2nix name=x src=./x src_kind=path → batchable"]);
    check(r#"final: prev: { h = prev.h.override { overrides = hself: hsuper: let c2n = final.haskellPackages.callCabal2nix; in { x = c2n "x" ./x { }; }; }; }"#, expect!["1:121 cabal2nix c2n function=callCabal2nix name=x src=./x src_kind=path → batchable"]);
    check(r#"final: prev: let c = final.haskellPackages.callHackage; d = c; in { h = prev.h.override { overrides = hself: hsuper: { x = d "x" "1" { }; }; }; }"#, expect!["1:124 hackage d name=x version=1 → batchable"]);
    check(r#"self: super: { x = let hp = super.foo { }; c = hp.callHackage; in c "x" "1" { }; }"#, expect!["1:67 hackage c name=x version=1 → other-set: the package set uses `hp`, bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"]);
}

// Every reason has a stable code: a set named by a name bound between the
// overlay and the site, or supplied by an inner `with`, is not the
// overlay's, and not movable.
#[test]
#[rustfmt::skip]
fn every_reason_has_a_stable_code() {
    check(r#"{ v }: self: super: self.callHackage "lens" v { }"#, expect!["1:21 hackage self.callHackage → not-literal: package name or version is not a literal string (nor a name bound to one, nor a literal set mapped over)"]);
    check(r#"self: super: self.callHackage "lens""#, expect!["1:14 hackage self.callHackage → partial-application: partial application: name or version not given here"]);
    check(r#"{ hs }: hs.callHackage "a" "1" { }"#, expect!["1:9 hackage hs.callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `hs` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)"]);
    check(r#"self: super: { a = let hp = super.x; in hp.callHackage "a" "1" { }; }"#, expect!["1:41 hackage hp.callHackage name=a version=1 → other-set: the package set uses `hp`, bound between the overlay and the site: the batch (bound at the top of the overlay) cannot see it"]);
    check(r#"{ pkgs }: self: super: with pkgs.someSet; { a = callHackage "a" "1" { }; }"#, expect!["1:49 hackage callHackage name=a version=1 → other-set: bare `callHackage` may come from the innermost `with pkgs.someSet;`, whose package set is not the enclosing overlay's (`self: super: …`)"]);
    check(r#"self: super: self.developPackage { root = ./.; }"#, expect!["1:14 cabal2nix self.developPackage function=developPackage src=./. src_kind=path → not-supported: developPackage builds a development shell; not batched"]);
    check(r#"self: super: self.callHackage "a" "1" { }"#, expect!["1:14 hackage self.callHackage name=a version=1 → batchable"]);
    let json = serde_json::to_value(Code::SourceNotMovable).unwrap_or_default();
    assert_eq!(json, serde_json::json!("source-not-movable"));
}

// Issue 21, misses and noise, each with variants a user could also write:
// (7c) a code-generating derivation of the same overlay, also across `//`;
// (8) not IFD: a path guarded by isPath, a path field of a parameter;
// (7d) a bare name under `with` of a set that is provably Haskell's, and
// not when an inner `with` of an unknown set could supply it.
#[test]
#[rustfmt::skip]
fn overlay_attributes_path_guards_and_with_sets() {
    check(r#"final: prev: { gen = final.runCommand "g" { } ""; hp = prev.hp.override { overrides = self: super: { app = self.callPackage final.gen { }; }; }; }"#, expect!["1:108 import-drv self.callPackage function=callPackage target=final.gen → no-scope: no enclosing `let … in` to bind the batch in"]);
    check(r#"final: prev: { hp = prev.hp.override { overrides = self: super: { app = self.callPackage (final.gen) { }; }; }; } // { gen = final.runCommand "g" { } ""; }"#, expect!["1:73 import-drv self.callPackage function=callPackage target=final.gen → no-scope: no enclosing `let … in` to bind the batch in"]);
    check(r#"final: prev: let x = 1; in { gen = final.runCommand "g" { } ""; hp = prev.hp.extend (self: super: { app = self.callPackage "${final.gen}" { }; }); }"#, expect![[r#"1:107 import-drv self.callPackage function=callPackage target=`"${final.gen}"` → not-shareable: `final.gen` is the only derivation of its barrier in this scope: a group of one saves nothing"#]]);
    check(r#"{ lib }: let f = x: if lib.isPath x then import x else x; in f"#, expect![[""]]);
    check(r#"let f = x: assert builtins.isPath x; builtins.readFile x; in f"#, expect![[""]]);
    check(r#"let f = x: if builtins.typeOf x == "path" && true then import x else x; in f"#, expect![[""]]);
    check(r#"let load = project: import "${project.base}/file.nix"; in [ (load { base = ./.; }) (load { base = ./sub; }) ]"#, expect![[""]]);
    check(r#"let f = x: if builtins.isString x then import x else x; in f"#, expect!["1:40 import-drv import possible function=import target=x → not-shareable: inside a conditional branch (`if … then … else …`): a batch would build it even when the branch is not taken"]);
    check(r#"final: prev: let hsself = final.haskellPackages; in { hp = prev.hp.override { overrides = self: super: with hsself; { x = callHackage "x" "1" { }; }; }; }"#, expect!["1:123 hackage callHackage name=x version=1 → batchable"]);
    check(r#"final: prev: { tools = with final.haskell.packages.ghc96; [ (callHackage "y" "1" { }) ]; }"#, expect!["1:62 hackage callHackage name=y version=1 → batchable"]);
    check(r#"final: prev: { hp = prev.hp.extend (hself: hsuper: with final; with hself; { x = callHackage "x" "1" { }; }); }"#, expect!["1:82 hackage callHackage name=x version=1 → batchable"]);
    check(r#"final: prev: { hp = prev.hp.override { overrides = hself: hsuper: with hself; with final; { x = callHackage "x" "1" { }; }; }; }"#, expect!["1:97 hackage callHackage name=x version=1 → other-set: bare `callHackage` may come from the innermost `with final;`, whose package set is not the enclosing overlay's (`hself: hsuper: …`)"]);
}

// Outside any overlay, a provably Haskell set named at the site gets a
// batch of its own in the nearest `let` (else the outermost function body);
// a set not provably Haskell's is left alone (the batch needs its
// haskellSrc2nix).
#[test]
#[rustfmt::skip]
fn sets_named_outside_overlays_are_batchable() {
    check(r#"{ outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in { packages.x86_64-linux.default = pkgs.haskellPackages.callCabal2nix "app" ./. { }; }; }"#, expect!["1:117 cabal2nix pkgs.haskellPackages.callCabal2nix function=callCabal2nix name=app src=./. src_kind=path → batchable"]);
    check(r#"{ pkgs ? import <nixpkgs> { } }: pkgs.haskellPackages.callCabal2nix "app" ./. { }"#, expect!["1:34 cabal2nix pkgs.haskellPackages.callCabal2nix function=callCabal2nix name=app src=./. src_kind=path → batchable"]);
    check(r#"{ pkgs }: let hp = pkgs.haskell.packages.ghc96; in hp.callHackage "a" "1" { }"#, expect!["1:52 hackage hp.callHackage name=a version=1 → batchable"]);
    check(r#"{ pkgs }: pkgs.lib.mapAttrs (n: v: pkgs.haskellPackages.callHackage n v { }) { a = "1"; }"#, expect![[r#"1:36 hackage pkgs.haskellPackages.callHackage per-element ×1 elements=[{"name":"a","version":"1"}] → batchable"#]]);
    check(r#"{ hs }: hs.callHackage "a" "1" { }"#, expect!["1:9 hackage hs.callHackage name=a version=1 → not-in-overlay: not inside an overlay (`self: super: …`) whose package set it calls, and `hs` is not provably a Haskell package set (…haskellPackages, …haskell.packages.NAME)"]);
}

#[test]
fn the_registry_declares_each_kind_once() {
    let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    // The stable names, in reporting order.
    assert_eq!(
        names,
        [
            "hackage",
            "hackage-direct",
            "cabal2nix",
            "source-overrides",
            "import-drv",
            "read-drv",
            "builtin-fetch"
        ]
    );
    for k in Kind::ALL {
        assert_eq!(serde_json::to_string(k).ok(), Some(format!("\"{k}\"")));
        assert!(!k.decl().callees.is_empty() && !k.help().is_empty(), "{k}");
    }
    names.dedup();
    assert_eq!(names.len(), Kind::ALL.len());
    // A callee name belongs to one kind.
    let mut callees: Vec<&str> = Kind::ALL
        .iter()
        .flat_map(|k| k.decl().callees)
        .copied()
        .collect();
    let n = callees.len();
    callees.sort_unstable();
    callees.dedup();
    assert_eq!(callees.len(), n);
}
