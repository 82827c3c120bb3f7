//! Detector behaviour on small inline Nix snippets: every kind, and every
//! trap (comments, strings, shadowing, paths, `<nixpkgs>`, `with`, `inherit`,
//! wrappers, hotspots).

use ifd_batch::detect::{Confidence, Kind, Multiplicity, Site};
use ifd_batch::scan::parse_and_detect;

fn sites(src: &str) -> Vec<Site> {
    match parse_and_detect(src, "t.nix") {
        Ok(found) => found.sites,
        Err(e) => panic!("fixture does not parse: {e:?}"),
    }
}

fn kinds(src: &str) -> Vec<Kind> {
    sites(src).into_iter().map(|s| s.kind).collect()
}

fn one(src: &str) -> Site {
    let mut s = sites(src);
    assert_eq!(s.len(), 1, "expected one site in {src}, got {s:#?}");
    s.remove(0)
}

fn arg(site: &Site, key: &str) -> String {
    match site.args.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn hackage_through_every_package_set_reference() {
    for callee in [
        "self.callHackage",
        "hself.callHackage",
        "super.callHackage",
        "pkgs.haskellPackages.callHackage",
        "pkgs.haskell.packages.ghc94.callHackage",
    ] {
        let s = one(&format!(
            "self: super: {{ a = {callee} \"aeson\" \"2.1.2.1\" {{ }}; }}"
        ));
        assert_eq!(s.kind, Kind::Hackage);
        assert_eq!(s.call, callee);
        assert_eq!(arg(&s, "name"), "aeson");
        assert_eq!(arg(&s, "version"), "2.1.2.1");
        assert!(s.batchable);
        assert_eq!(s.confidence, Confidence::Definite);
        assert_eq!(s.multiplicity, Multiplicity::Once);
    }
}

#[test]
fn hackage_site_range_and_position() {
    let src = "self: super: {\n  a = self.callHackage \"aeson\" \"2.1.2.1\" { } // { };\n}\n";
    let s = one(src);
    assert_eq!((s.line, s.column), (2, 7));
    let text = &src[s.byte_range[0]..s.byte_range[1]];
    assert_eq!(text, "self.callHackage \"aeson\" \"2.1.2.1\" { }");
    assert_eq!((s.end_line, s.end_column), (2, 7 + text.chars().count()));
}

#[test]
fn bare_under_with_and_inherit() {
    assert_eq!(
        kinds("self: with self; { a = callHackage \"a\" \"1\" { }; }"),
        [Kind::Hackage]
    );
    assert_eq!(
        kinds("self: let inherit (self) callHackage; in callHackage \"a\" \"1\" { }"),
        [Kind::Hackage]
    );
    assert_eq!(
        kinds(
            "self: let ch = self.callHackage; callHackage = self.callHackage; in callHackage \"a\" \"1\" { }"
        ),
        [Kind::Hackage]
    );
    // Unbound and no `with`: an undefined variable, not a site.
    assert!(kinds("callHackage \"a\" \"1\" { }").is_empty());
}

#[test]
fn shadowed_names_are_not_sites() {
    assert!(
        kinds("self: let callHackage = n: v: a: null; in callHackage \"a\" \"1\" { }").is_empty()
    );
    assert!(kinds("callHackage: callHackage \"a\" \"1\" { }").is_empty());
    assert!(kinds("{ callHackage, ... }: callHackage \"a\" \"1\" { }").is_empty());
    // Lexical bindings win over `with`, however far out.
    assert!(kinds("let callHackage = x: x; in with self; callHackage \"a\" \"1\" { }").is_empty());
    assert!(kinds("rec { callHackage = a: b: c: 1; x = callHackage \"a\" \"1\" { }; }").is_empty());
    // A plain (non-rec) attribute does not bind.
    assert_eq!(
        kinds("self: with self; { callHackage = 1; x = callHackage \"a\" \"1\" { }; }"),
        [Kind::Hackage]
    );
    let no_import = "let import = x: x; in import \"${pkgs.runCommand \"a\" { } \"\"}/x\"";
    assert!(kinds(no_import).is_empty());
}

#[test]
fn comments_strings_paths_and_search_paths_are_never_sites() {
    assert!(kinds("# self.callHackage \"a\" \"1\" { }\n{ }").is_empty());
    assert!(kinds("/* import \"${drv}/x\" */ { }").is_empty());
    assert!(kinds("{ a = \"self.callHackage \\\"a\\\" \\\"1\\\" { }\"; }").is_empty());
    assert!(kinds("{ a = ''import ${toString 1}''; }").is_empty());
    assert!(kinds("import ./default.nix { }").is_empty());
    assert!(kinds("import <nixpkgs> { }").is_empty());
    assert!(kinds("import /etc/nixos/configuration.nix").is_empty());
    assert!(kinds("import \"/nix/store/abc-x/default.nix\"").is_empty());
    assert!(kinds("builtins.readFile ./VERSION").is_empty());
    assert!(kinds("{ pkgs }: import \"${pkgs.path}/nixos\" { }").is_empty());
    assert!(kinds("import (./foo + \"/bar.nix\")").is_empty());
}

#[test]
fn wrappers_pipe_and_override_attrs() {
    let src = r#"{ haskell, lib }: self: super: {
      a = haskell.lib.dontCheck (haskell.lib.doJailbreak (self.callHackage "a" "1" { }));
      b = lib.pipe (self.callHackage "b" "2" { }) [ haskell.lib.dontCheck ];
      c = (self.callHackage "c" "3" { }).overrideAttrs (old: { });
      d = haskell.lib.overrideCabal (self.callHackage "d" "4" { x = self.y; }) (old: { });
      e = haskell.lib.compose.dontCheck (self.callHackage "e" "5" { });
    }"#;
    let s = sites(src);
    let names: Vec<_> = s.iter().map(|s| arg(s, "name")).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert!(s.iter().all(|s| s.kind == Kind::Hackage && s.batchable));
}

#[test]
fn let_bound_literals_resolve_and_unknowns_are_not_batchable() {
    let s = one("self: let v = \"1.2\"; in self.callHackage \"lens\" v { }");
    assert_eq!(arg(&s, "version"), "1.2");
    assert!(s.batchable);
    let s = one("{ v }: self: self.callHackage \"lens\" v { }");
    assert!(!s.batchable);
    assert!(s.reason.as_deref().unwrap_or("").contains("not a literal"));
    let s = one("self: self.callHackage \"lens\"");
    assert!(!s.batchable);
}

#[test]
fn hotspots_inside_map_like_functions() {
    let s = one(
        "{ lib }: self: lib.mapAttrs (name: version: self.callHackage name version { }) { a = \"1\"; b = \"2\"; }",
    );
    assert_eq!(s.multiplicity, Multiplicity::PerElement);
    assert_eq!(s.elements, Some(2));
    assert_eq!(s.rounds, 2);
    assert!(s.batchable, "{s:#?}");
    assert_eq!(
        s.args
            .get("elements")
            .map(|e| e.to_string())
            .unwrap_or_default(),
        r#"[{"name":"a","version":"1"},{"name":"b","version":"2"}]"#
    );
    // Bound by name, then mapped; collection unknown.
    let s = one(
        "{ lib, names }: self: let mk = n: self.callHackage n \"1\" { }; in lib.genAttrs names mk",
    );
    assert_eq!(s.multiplicity, Multiplicity::PerElement);
    assert_eq!(s.elements, None);
    assert!(!s.rounds_exact);
    for f in [
        "map",
        "builtins.map",
        "lib.concatMap",
        "builtins.foldl' (acc:",
        "lib.imap0 (i:",
    ] {
        let close = if f.ends_with(':') { ")" } else { "" };
        let src = format!("{{ lib, xs, drv }}: {f} (x: import \"${{drv}}/${{x}}\"){close} xs");
        let s = one(&src);
        assert_eq!(s.multiplicity, Multiplicity::PerElement, "{src}");
    }
    let s = one("{ drv }: let f = x: import \"${drv}/${x}\"; in f 1");
    assert_eq!(s.multiplicity, Multiplicity::Once);
}

#[test]
fn hackage_direct_and_cabal2nix() {
    let s =
        one("self: self.callHackageDirect { pkg = \"x\"; ver = \"1.0\"; sha256 = \"abc\"; } { }");
    assert_eq!(
        (s.kind, arg(&s, "name"), arg(&s, "version")),
        (Kind::HackageDirect, "x".into(), "1.0".into())
    );
    assert!(s.batchable);
    let s = one("self: self.callCabal2nix \"local\" ./pkgs/local { }");
    assert_eq!(
        (s.kind, arg(&s, "src_kind")),
        (Kind::Cabal2nix, "path".into())
    );
    assert!(s.batchable);
    let s = one(
        "{ pkgs }: self: self.callCabal2nix \"f\" (pkgs.fetchFromGitHub { owner = \"o\"; repo = \"r\"; rev = \"1\"; sha256 = \"x\"; }) { }",
    );
    assert_eq!(arg(&s, "src_kind"), "fetched");
    assert!(s.batchable);
    let s = one("self: self.callCabal2nixWithOptions \"w\" ./w \"--no-check\" { }");
    assert_eq!(arg(&s, "options"), "--no-check");
    assert!(s.batchable);
    let s = one("{ src }: self: self.callCabal2nix \"s\" src { }");
    assert!(!s.batchable);
    let s = one("self: self.haskellSrc2nix { name = \"h\"; src = ./h; }");
    assert_eq!(s.kind, Kind::Cabal2nix);
    assert!(!s.batchable);
    let s = one("{ pkgs }: pkgs.haskellPackages.developPackage { root = ./.; }");
    assert_eq!(s.kind, Kind::Cabal2nix);
}

#[test]
fn source_overrides_count_entries() {
    let s =
        one("{ haskell }: haskell.lib.packageSourceOverrides { a = \"1.0\"; b = ./b; c = \"2\"; }");
    assert_eq!(s.kind, Kind::SourceOverrides);
    assert_eq!(s.rounds, 3);
    assert_eq!(s.args.get("count"), Some(&serde_json::json!(3)));
    assert!(s.batchable);
}

#[test]
fn import_drv_forms() {
    let pre = "{ pkgs }: let drv = pkgs.runCommand \"g\" { } \"\"; in ";
    for form in [
        "import drv",
        "import \"${drv}/x.nix\"",
        "import drv.outPath",
        "import (drv + \"/x.nix\")",
        "scopedImport { } \"${drv}/x\"",
        "pkgs.callPackage \"${drv}/x.nix\" { }",
        "import (pkgs.writeText \"x.nix\" \"1\")",
    ] {
        let s = one(&format!("{pre}{form}"));
        assert_eq!(s.kind, Kind::ImportDrv, "{form}");
        assert_eq!(s.confidence, Confidence::Definite, "{form}");
        // A named derivation can join a generic batch; an inline one cannot.
        assert_eq!(s.batchable, !form.contains("writeText"), "{form}");
    }
    // Lambda parameter: can't tell.
    let s = one("{ src }: import \"${src}/default.nix\"");
    assert_eq!(s.confidence, Confidence::Possible);
    // callPackage of an unknown name is everyday code.
    assert!(kinds("{ callPackage, foo }: callPackage foo { }").is_empty());
    // Interpolation not at the start is not a store path of the derivation.
    assert!(kinds("{ drv }: import \"/etc/${drv}\"").is_empty());
}

#[test]
fn read_drv_forms() {
    let pre = "{ pkgs, lib }: let drv = pkgs.runCommand \"g\" { } \"\"; in ";
    for form in [
        "builtins.readFile drv",
        "builtins.readDir drv",
        "builtins.pathExists \"${drv}/x\"",
        "builtins.hashFile \"sha256\" drv",
        "builtins.readFileType drv",
        "lib.importJSON \"${drv}/a.json\"",
        "lib.importTOML drv",
        "builtins.fromJSON (builtins.readFile drv)",
        "with builtins; readFile drv",
        "let inherit (builtins) readFile; in readFile drv",
    ] {
        let s = one(&format!("{pre}{form}"));
        assert_eq!(s.kind, Kind::ReadDrv, "{form}");
        assert_eq!(s.confidence, Confidence::Definite, "{form}");
    }
    // A bare readFile is not a builtin without `with builtins`.
    assert!(kinds(&format!("{pre}let readFile = x: x; in readFile drv")).is_empty());
}

#[test]
fn builtin_fetchers_pinned_and_not() {
    let s = one("builtins.fetchTarball \"https://x/y.tar.gz\"");
    assert_eq!(s.kind, Kind::BuiltinFetch);
    assert_eq!(s.args.get("pinned"), Some(&serde_json::json!(false)));
    let s = one("fetchTarball { url = \"https://x\"; sha256 = \"0abc\"; }");
    assert_eq!(s.args.get("pinned"), Some(&serde_json::json!(true)));
    let s = one(
        "builtins.fetchGit { url = \"https://x\"; rev = \"0123456789abcdef0123456789abcdef01234567\"; }",
    );
    assert_eq!(s.args.get("pinned"), Some(&serde_json::json!(true)));
    let s = one("builtins.fetchTree { type = \"github\"; owner = \"o\"; repo = \"r\"; }");
    assert_eq!(s.args.get("pinned"), Some(&serde_json::json!(false)));
    // pkgs.fetchurl is a fixed-output derivation, not a builtin fetch.
    assert!(kinds("{ pkgs }: pkgs.fetchurl { url = \"u\"; sha256 = \"h\"; }").is_empty());
    assert!(kinds("{ pkgs }: with pkgs; fetchurl { url = \"u\"; sha256 = \"h\"; }").is_empty());
}

#[test]
fn allow_comment_suppresses_the_next_line() {
    let src = "self: {\n  # ifd-batch: allow\n  a = self.callHackage \"a\" \"1\" { };\n  b = self.callHackage \"b\" \"1\" { };\n}";
    let found = parse_and_detect(src, "t.nix").expect("parses");
    assert_eq!(found.suppressed, 1);
    assert_eq!(found.sites.len(), 1);
    assert_eq!(found.sites[0].line, 4);
}

#[test]
fn parse_errors_are_reported_with_positions() {
    let errs = parse_and_detect("{\n  a = ;\n}", "bad.nix").expect_err("does not parse");
    assert_eq!(errs[0].file, "bad.nix");
    assert_eq!(errs[0].line, Some(2));
    assert!(errs[0].message.contains("syntax error"));
}

/// Generic batching: which import-drv / read-drv sites can share a barrier
/// (the one definition `scan` and `rewrite` use).
#[test]
fn generic_batchability() {
    let pre = "{ pkgs }: let a = pkgs.runCommand \"a\" { } \"\"; ";
    let reason = |src: &str| one(src).reason.unwrap_or_default();
    assert!(one(&format!("{pre}in builtins.readFile a")).batchable);
    assert!(
        one(&format!("{pre}in import (ifdBatchGroup.ready a)")).batchable,
        "routed"
    );
    assert!(
        reason(&format!("{pre}c = true; in if c then import a else null"))
            .contains("conditional branch")
    );
    assert!(reason(&format!("{pre}in map (x: import a) [ 1 2 ]")).contains("per-element"));
    // Per element over a named collection of derivations: batched (the
    // group demands the collection once).
    assert!(one(&format!("{pre}ds = [ a ]; in map (d: import d) ds")).batchable);
    assert!(
        one(&format!(
            "{pre}ds = {{ x = a; }}; in pkgs.lib.mapAttrs (n: d: builtins.readFile d) ds"
        ))
        .batchable
    );
    let chained = sites(&format!(
        "{pre}b = pkgs.runCommand \"b\" {{ x = builtins.readFile a; }} \"\"; in import b"
    ));
    let import_b = chained
        .iter()
        .find(|s| s.kind == Kind::ImportDrv)
        .expect("import b");
    assert!(import_b.reason.as_deref().unwrap_or("").contains("chained"));
    assert!(reason("{ pkgs }: import (pkgs.writeText \"x\" \"1\")").contains("bind it"));
    assert!(reason("{ pkgs }: { x = import pkgs.gen; }").contains("no enclosing `let"));
    assert!(reason(&format!("{pre}in (b: import b) a")).contains("bound between"));
}
