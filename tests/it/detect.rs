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

/// A site's data as its JSON (`args` in `scan --format json`).
fn args(site: &Site) -> serde_json::Value {
    serde_json::to_value(&site.args).unwrap_or_default()
}

fn arg(site: &Site, key: &str) -> String {
    match args(site).get(key) {
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
        // Batched in the overlay whose package set it calls into (`self`,
        // `super`), or by a batch of the set named (bound at the overlay).
        assert!(s.batchable, "{s:#?}");
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
    // A pattern parameter is a callPackage-style file's: the package set
    // supplies it (reported, not batchable: the set is the caller's).
    let s = one("{ callHackage, ... }: callHackage \"a\" \"1\" { }");
    assert!(
        !s.batchable
            && s.reason
                .as_deref()
                .is_some_and(|r| r.contains("callPackage-style"))
    );
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
    let s = one("self: super: let v = \"1.2\"; in self.callHackage \"lens\" v { }");
    assert_eq!(arg(&s, "version"), "1.2");
    assert!(s.batchable);
    let s = one("{ v }: self: super: self.callHackage \"lens\" v { }");
    assert!(!s.batchable);
    assert!(s.reason.as_deref().unwrap_or("").contains("not a literal"));
    let s = one("self: self.callHackage \"lens\"");
    assert!(!s.batchable);
}

#[test]
fn a_helper_called_with_literals_is_one_site_with_an_entry_per_call() {
    let s = one(
        "self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = hackage \"a\" \"1\"; b = (hackage \"b\") \"2\"; }",
    );
    assert!(s.batchable, "{s:#?}");
    // One round per call of the helper.
    assert_eq!(s.rounds, 2);
    assert_eq!(
        args(&s)
            .get("elements")
            .map(|e| e.to_string())
            .unwrap_or_default(),
        r#"[{"name":"a","version":"1"},{"name":"b","version":"2"}]"#
    );
    // callHackageDirect through a helper: `inherit pkg ver;`, a literal hash.
    let s = one(
        "self: super: let d = pkg: ver: self.callHackageDirect { inherit pkg ver; sha256 = \"h\"; } { }; in { a = d \"a\" \"1\"; }",
    );
    assert!(s.batchable, "{s:#?}");
    assert_eq!(
        args(&s)
            .get("elements")
            .map(|e| e.to_string())
            .unwrap_or_default(),
        r#"[{"name":"a","version":"1","sha256":"h"}]"#
    );
    // One call with a non-literal argument, or the helper passed on
    // uncalled: the calls cannot be listed.
    for src in [
        "{ v }: self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = hackage \"a\" v; }",
        "{ f }: self: super: let hackage = pkg: ver: self.callHackage pkg ver { }; in { a = f hackage; }",
    ] {
        let s = one(src);
        assert!(!s.batchable, "{src}: {s:#?}");
    }
}

#[test]
fn hotspots_inside_map_like_functions() {
    let s = one(
        "{ lib }: self: super: lib.mapAttrs (name: version: self.callHackage name version { }) { a = \"1\"; b = \"2\"; }",
    );
    assert_eq!(s.multiplicity, Multiplicity::PerElement);
    assert_eq!(s.elements, Some(2));
    assert_eq!(s.rounds, 2);
    assert!(s.batchable, "{s:#?}");
    assert_eq!(
        args(&s)
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
    let s = one(
        "self: super: self.callHackageDirect { pkg = \"x\"; ver = \"1.0\"; sha256 = \"abc\"; } { }",
    );
    assert_eq!(
        (s.kind, arg(&s, "name"), arg(&s, "version")),
        (Kind::HackageDirect, "x".into(), "1.0".into())
    );
    assert!(s.batchable);
    let s = one("self: super: self.callCabal2nix \"local\" ./pkgs/local { }");
    assert_eq!(
        (s.kind, arg(&s, "src_kind")),
        (Kind::Cabal2nix, "path".into())
    );
    assert!(s.batchable);
    let s = one(
        "{ pkgs }: self: super: self.callCabal2nix \"f\" (pkgs.fetchFromGitHub { owner = \"o\"; repo = \"r\"; rev = \"1\"; sha256 = \"x\"; }) { }",
    );
    assert_eq!(arg(&s, "src_kind"), "fetched");
    assert!(s.batchable);
    let s = one("self: super: self.callCabal2nixWithOptions \"w\" ./w \"--no-check\" { }");
    assert_eq!(arg(&s, "options"), "--no-check");
    assert!(s.batchable);
    // Outside an overlay: nowhere to bind the batch.
    let s = one("{ src }: self: self.callCabal2nix \"s\" src { }");
    assert!(!s.batchable);
    assert!(
        s.reason
            .as_deref()
            .unwrap_or("")
            .contains("not inside an overlay"),
        "{s:#?}"
    );
    let s = one("self: self.haskellSrc2nix { name = \"h\"; src = ./h; }");
    assert_eq!(s.kind, Kind::Cabal2nix);
    assert!(!s.batchable);
    let s = one("{ pkgs }: pkgs.haskellPackages.developPackage { root = ./.; }");
    assert_eq!(s.kind, Kind::Cabal2nix);
}

#[test]
fn source_overrides_count_entries() {
    let s = one(
        "{ haskell }: self: super: haskell.lib.packageSourceOverrides { a = \"1.0\"; b = ./b; c = \"2\"; }",
    );
    assert_eq!(s.kind, Kind::SourceOverrides);
    assert_eq!(s.rounds, 3);
    assert_eq!(args(&s).get("count"), Some(&serde_json::json!(3)));
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
        // A named derivation could join a generic batch (here it is alone:
        // a group of one); an inline one cannot.
        let why = if form.contains("writeText") {
            "bind it"
        } else {
            "group of one"
        };
        assert!(
            s.reason.as_deref().unwrap_or("").contains(why),
            "{form}: {s:#?}"
        );
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
    assert_eq!(args(&s).get("pinned"), Some(&serde_json::json!(false)));
    let s = one("fetchTarball { url = \"https://x\"; sha256 = \"0abc\"; }");
    assert_eq!(args(&s).get("pinned"), Some(&serde_json::json!(true)));
    let s = one(
        "builtins.fetchGit { url = \"https://x\"; rev = \"0123456789abcdef0123456789abcdef01234567\"; }",
    );
    assert_eq!(args(&s).get("pinned"), Some(&serde_json::json!(true)));
    let s = one("builtins.fetchTree { type = \"github\"; owner = \"o\"; repo = \"r\"; }");
    assert_eq!(args(&s).get("pinned"), Some(&serde_json::json!(false)));
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
/// (the one definition `scan` and `rewrite` use). Every case has a second
/// member, `z` (a group of one is no batch).
#[test]
fn generic_batchability() {
    let pre = "{ pkgs }: let a = pkgs.runCommand \"a\" { } \"\"; z = pkgs.runCommand \"z\" { } \"\"; zz = import z; ";
    // The first site of the file (the one under test; `zz` comes later in
    // source order only when the case's own site is first).
    let first = |src: &str| {
        sites(src)
            .into_iter()
            .find(|s| {
                src.find("zz = import z;")
                    .is_none_or(|at| s.byte_range[0] > at + 14)
            })
            .unwrap_or_else(|| panic!("a site after zz in {src}"))
    };
    let reason = |src: &str| first(src).reason.unwrap_or_default();
    assert!(first(&format!("{pre}in builtins.readFile a")).batchable);
    assert!(
        first(&format!("{pre}in import (ifdBatchGroup.ready a)")).batchable,
        "routed"
    );
    assert!(
        reason(&format!("{pre}c = true; in if c then import a else null"))
            .contains("conditional branch")
    );
    assert!(reason(&format!("{pre}in map (x: import a) [ 1 2 ]")).contains("per-element"));
    // Per element over a named collection of derivations: batched (the
    // group demands the collection once).
    assert!(first(&format!("{pre}ds = [ a ]; in map (d: import d) ds")).batchable);
    assert!(
        first(&format!(
            "{pre}ds = {{ x = a; }}; in pkgs.lib.mapAttrs (n: d: builtins.readFile d) ds"
        ))
        .batchable
    );
    assert!(reason("{ pkgs }: import (pkgs.writeText \"x\" \"1\")").contains("bind it"));
    assert!(reason("{ pkgs }: { x = import pkgs.gen; }").contains("no enclosing `let"));
    assert!(reason(&format!("{pre}in (b: import b) a")).contains("bound between"));
    // Alone in its barrier: a group of one saves nothing.
    let alone = one("{ pkgs }: let a = pkgs.runCommand \"a\" { } \"\"; in builtins.readFile a");
    assert!(
        alone
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("group of one"),
        "{alone:#?}"
    );
}

/// Layers: a member that reaches a site (through `let`, `inherit (x)`,
/// `with`, a helper function) never shares that site's barrier; sites that
/// depend only on earlier barriers share the next one.
#[test]
fn generic_groups_are_layered_by_dependency() {
    let groups = |src: &str| -> Vec<(usize, Option<String>, bool)> {
        sites(src)
            .into_iter()
            .filter(|s| matches!(s.kind, Kind::ImportDrv | Kind::ReadDrv))
            .map(|s| (s.line, s.group.clone(), s.batchable))
            .collect()
    };
    let g = |n: &str| Some(n.to_string());
    // Chained through a derivation's attribute: b's build reads a.
    assert_eq!(
        groups(
            "{ pkgs }: let\na = pkgs.runCommand \"a\" { } \"\";\nc = pkgs.runCommand \"c\" { } \"\";\nb = pkgs.runCommand \"b\" { x = builtins.readFile a; } \"\";\nd = pkgs.runCommand \"d\" { x = builtins.readFile c; } \"\";\nin [ (import b) (import d) ]"
        ),
        [
            (4, g("ifdBatchGroup"), true),
            (5, g("ifdBatchGroup"), true),
            (6, g("ifdBatchGroup'2"), true),
            (6, g("ifdBatchGroup'2"), true)
        ]
    );
    // Every derivation made by a `pkgs` that is itself imported (three
    // ways to reach it: inherit (pkgs), with pkgs, a helper): one layer above it.
    for (how, mk) in [
        ("inherit", "inherit (pkgs) runCommand;\n"),
        ("with", "runCommand = with pkgs; runCommand;\n"),
        ("helper", "runCommand = n: pkgs.runCommand n { } \"\";\n"),
    ] {
        let src = format!(
            "{{ world, gen }}: let\npkgs = import \"${{gen}}/x.nix\";\n{mk}v = runCommand \"v\" {{ }} \"\";\nw = runCommand \"w\" {{ }} \"\";\nin {{ v = import v; w = import w; }}"
        );
        let got = groups(&src);
        assert_eq!(got.len(), 3, "{how}: {got:?}");
        // `import "${gen}/x.nix"` is possible: never grouped.
        assert!(!got[0].2, "{how}: {got:?}");
        assert_eq!(got[1].1, g("ifdBatchGroup"), "{how}: {got:?}");
        assert_eq!(got[2].1, g("ifdBatchGroup"), "{how}: {got:?}");
    }
    // A member that depends on its own group's site: left alone.
    let src = "{ pkgs }: let\na = pkgs.runCommand \"a\" { x = import b; } \"\";\nb = pkgs.runCommand \"b\" { } \"\";\nc = pkgs.runCommand \"c\" { } \"\";\nin [ (import a) (import c) ]";
    // `import b` (line 2, inside `a`) and `import c` share the first
    // barrier; `import a` is one layer up, alone there: left alone.
    assert_eq!(
        groups(src),
        [
            (2, g("ifdBatchGroup"), true),
            (5, None, false),
            (5, g("ifdBatchGroup"), true)
        ]
    );
}

fn possible(src: &str) -> Vec<Site> {
    sites(src)
        .into_iter()
        .filter(|s| s.confidence == Confidence::Possible)
        .collect()
}

/// A `possible` site needs a plausible derivation behind it: flake inputs,
/// the flake's own source, nixpkgs source trees, pinned sources, builtin
/// fetchers' store paths and path parameters are not import-from-derivation.
#[test]
fn flake_inputs_and_nixpkgs_imports_are_not_sites() {
    let flake = r#"{
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
    }"#;
    assert!(sites(flake).is_empty(), "{:#?}", sites(flake));
    // A flake output that is a package is a derivation.
    let s = one(
        "{ outputs = { self, nixpkgs }: { a = import \"${nixpkgs.legacyPackages.x86_64-linux.gen}/x.nix\"; }; }",
    );
    assert_eq!(s.confidence, Confidence::Possible);
    // flake-parts modules and other files: `inputs.x`, `self`.
    assert!(kinds("{ inputs, self, ... }: { a = import inputs.nixpkgs { }; b = import (self + \"/x.nix\"); c = builtins.path { path = inputs.tpl; }; }").is_empty());
    for src in [
        "{ nixpkgs ? <nixpkgs> }: import nixpkgs { }",
        "{ pinnedNixpkgsSrc }: import pinnedNixpkgsSrc { }",
        "{ config }: import config.nixpkgsSource { }",
        "{ haskellNix }: import haskellNix.sources.nixpkgs-unstable { }",
        "let sources = import ./nix/sources.nix { }; in import sources.nixpkgs { }",
        "let sources = import ./nix/sources.nix { }; in import sources.haskellNix { }",
        "let deps = import ./nix/sources.nix; in import deps.foo { }",
        "let nixpkgsPath = <nixpkgs>; in import nixpkgsPath { }",
    ] {
        assert!(kinds(src).is_empty(), "{src}");
    }
}

#[test]
fn builtin_fetches_are_reported_once_not_again_as_imports() {
    for src in [
        "import (builtins.fetchTarball { url = \"https://x/y.tar.gz\"; sha256 = \"0abc\"; }) { }",
        "let src = fetchTarball { url = \"https://x\"; sha256 = \"0\"; }; in import \"${src}/x.nix\"",
        "with builtins; import (fetchGit { url = \"u\"; rev = \"r\"; })",
        "let src = builtins.fetchGit { url = \"u\"; rev = \"r\"; }; in builtins.readFile (src + \"/v\")",
    ] {
        assert_eq!(kinds(src), [Kind::BuiltinFetch], "{src}");
    }
}

#[test]
fn path_parameters_are_not_sites() {
    for src in [
        "map (f: import f) [ ./a.nix ./b.nix ]",
        "{ lib }: lib.mapAttrs (name: p: import p) { a = ./a.nix; b = ./b.nix; }",
        "{ lib }: lib.forEach [ ./a ./b ] (d: builtins.readDir d)",
        "let load = dir: builtins.readDir dir; in [ (load ./x) (load ./y) ]",
        "let read = { file, n ? 1 }: builtins.readFile file; in read { file = ./v; }",
        "{ sourcesFile ? ./sources.json }: builtins.readFile sourcesFile",
        "{ sourcesFile ? if builtins.pathExists ./s.json then ./s.json else null }: builtins.readFile sourcesFile",
        "{ root ? ./. }: import (root + \"/x.nix\")",
    ] {
        assert!(kinds(src).is_empty(), "{src}");
    }
    // Unknown callers, elements that are not plain, a `null` default: possible.
    for src in [
        "{ src ? null }: import \"${src}/x.nix\"",
        "{ drvs }: map (d: import d) drvs",
        "{ pkgs }: map (d: import d) [ ./a.nix (pkgs.runCommand \"b\" { } \"\") ]",
        "let load = dir: builtins.readDir dir; in { f = x: load x; }",
        "p: builtins.readFile (p + \"/git.json\")",
    ] {
        assert_eq!(possible(src).len(), 1, "{src}");
    }
}

/// Derivations returned by a local helper or an overlay's own attribute.
#[test]
fn derivations_from_helpers_and_overlay_attributes() {
    let definite = |src: &str| {
        let s = one(src);
        assert_eq!(s.confidence, Confidence::Definite, "{src}");
        s
    };
    definite(
        "{ pkgs }: let fetch = spec: pkgs.fetchFromGitHub spec; in import (fetch { owner = \"o\"; repo = \"r\"; rev = \"1\"; sha256 = \"h\"; })",
    );
    definite(
        "{ pkgs }: let hashFileD = path: pkgs.runCommand \"hash\" { inherit path; } \"\"; hashD = hashFileD ./x; in builtins.readFile hashD",
    );
    let s = definite(
        "{ pkgs }: let gen = name: pkgs.runCommand name { } \"\"; in map (f: import (gen f)) [ \"a\" \"b\" ]",
    );
    assert_eq!(
        (s.multiplicity, s.elements),
        (Multiplicity::PerElement, Some(2))
    );
    definite("{ pkgs }: map (f: import (pkgs.runCommand \"x\" { } \"cp ${f} $out\")) [ ./a ./b ]");
    // A helper's pattern argument.
    definite(
        "{ pkgs }: let gen = { src }: src; in import (gen { src = pkgs.writeText \"x\" \"1\"; })",
    );
    assert!(kinds("let gen = { src }: src; in import (gen { src = ./x.nix; })").is_empty());
    // The overlay's own attribute, through `self.` and `with self;`.
    definite(
        "self: super: { generated = self.runCommand \"g\" { } \"\"; foo = self.callPackage \"${self.generated}/default.nix\" { }; }",
    );
    definite(
        "self: super: with self; { generated = runCommand \"g\" { } \"\"; foo = callPackage \"${generated}/default.nix\" { }; }",
    );
    definite(
        "final: prev: let x = 1; in { gen = final.writeText \"x\" \"\"; v = builtins.readFile final.gen; }",
    );
    // nix-thunk style: one branch a builtin fetch, the other a derivation.
    let thunk = sites(
        "let fetch = { private ? false, owner, repo, rev, sha256 }: if !private then builtins.fetchTarball { url = \"u\"; inherit sha256; } else (import <nixpkgs> { }).fetchFromGitHub { inherit owner repo rev sha256; }; in import (fetch (builtins.fromJSON (builtins.readFile ./github.json)))",
    );
    let found: Vec<_> = thunk.iter().map(|s| (s.kind, s.confidence)).collect();
    assert_eq!(
        found,
        [
            (Kind::BuiltinFetch, Confidence::Definite),
            (Kind::ImportDrv, Confidence::Possible)
        ]
    );
    // A recursive helper does not loop.
    assert!(kinds("let f = x: if x == 0 then ./a.nix else f (x - 1); in import (f 3)").is_empty());
}

#[test]
fn read_aliases_and_operands() {
    let pre = "{ pkgs, lib, c }: let drv = pkgs.runCommand \"g\" { } \"\"; drv2 = pkgs.writeText \"w\" \"\"; in ";
    for form in [
        "__readFile drv",
        "__readDir drv",
        "__pathExists \"${drv}/x\"",
        "lib.readFile drv",
        "lib.pathExists drv",
        "lib.fileContents drv",
        "lib.strings.fileContents drv",
        "pkgs.lib.readFile drv",
        "lib.pathIsDirectory drv",
        "with lib; fileContents drv",
        "let inherit (lib) readFile; in readFile drv",
        "with builtins; builtins.readFile drv",
        "with builtins; readFile (toString drv)",
        "builtins.readFile (toString drv + \"/x\")",
        "builtins.readFile \"${toString drv}/x\"",
        "builtins.readFile (lib.concatStrings [ drv \"/x\" ])",
        "builtins.readFile (builtins.concatStringsSep \"/\" [ drv \"x\" ])",
        "builtins.readFile (if c then drv else drv2)",
        "builtins.readFile (drv.overrideAttrs (o: { }))",
        "builtins.readFile (lib.cleanSource drv)",
    ] {
        let s = one(&format!("{pre}{form}"));
        assert_eq!(
            (s.kind, s.confidence),
            (Kind::ReadDrv, Confidence::Definite),
            "{form}"
        );
    }
    let s = one(&format!("{pre}import (if c then drv else ./x.nix)"));
    assert_eq!(s.confidence, Confidence::Possible);
    for form in [
        "let __readFile = x: x; in __readFile drv",
        "foo.readFile drv",
        "builtins.readFile (builtins.unsafeDiscardStringContext drv)",
        "lib.readFile ./x",
    ] {
        assert!(kinds(&format!("{pre}{form}")).is_empty(), "{form}");
    }
}

#[test]
fn builtin_fetch_pins_and_urls() {
    let pinned = |src: &str| args(&one(src)).get("pinned").cloned();
    assert_eq!(
        pinned(
            "builtins.fetchGit ({ url = \"u\"; rev = \"abc\"; } // lib.optionalAttrs c { ref = \"x\"; })"
        ),
        Some(serde_json::json!(true))
    );
    assert_eq!(
        pinned("builtins.fetchGit { url = \"u\"; ${\"rev\"} = \"abc\"; }"),
        Some(serde_json::json!(true))
    );
    assert_eq!(
        pinned(
            "{ spec }: builtins.fetchGit ({ url = spec.repo; inherit (spec) rev; } // spec.extra)"
        ),
        Some(serde_json::json!(true))
    );
    // Not known: definite (it downloads), pin unknown.
    for src in [
        "{ extra }: builtins.fetchGit ({ url = \"u\"; } // extra)",
        "{ attrs }: fetchTarball attrs",
    ] {
        let s = one(src);
        assert_eq!(s.confidence, Confidence::Definite, "{src}");
        assert_eq!(
            args(&s).get("pinned_known"),
            Some(&serde_json::json!(false)),
            "{src}"
        );
    }
    let s = one(
        "import (builtins.fetchTarball https://github.com/NixOS/nixpkgs/archive/3de5266.tar.gz) { }",
    );
    assert_eq!(s.confidence, Confidence::Definite);
    assert_eq!(
        arg(&s, "url"),
        "https://github.com/NixOS/nixpkgs/archive/3de5266.tar.gz"
    );
    assert_eq!(args(&s).get("pinned"), Some(&serde_json::json!(false)));
    assert!(args(&s).get("pinned_known").is_none());
}

#[test]
fn element_counts_of_every_per_element_form() {
    let pre = "{ lib, pkgs }: let drv = pkgs.runCommand \"g\" { } \"\"; in ";
    for (form, n) in [
        (
            "lib.genAttrs [ \"a\" \"b\" \"c\" ] (n: import \"${drv}/${n}.nix\")",
            3,
        ),
        (
            "lib.forEach [ 1 2 ] (x: import \"${drv}/${toString x}\")",
            2,
        ),
        ("builtins.genList (i: import \"${drv}/${toString i}\") 4", 4),
        (
            "builtins.foldl' (acc: x: acc // import \"${drv}/${x}\") { } [ \"a\" \"b\" ]",
            2,
        ),
        (
            "let mk = n: import \"${drv}/${n}\"; in lib.genAttrs [ \"a\" \"b\" ] mk",
            2,
        ),
        ("map (x: import \"${drv}/${x}\") [ \"a\" ]", 1),
    ] {
        let s = one(&format!("{pre}{form}"));
        assert_eq!(s.multiplicity, Multiplicity::PerElement, "{form}");
        assert_eq!(s.elements, Some(n), "{form}");
        assert_eq!(s.rounds, n, "{form}");
    }
}

/// Nix ends a `#` comment at a lone carriage return.
#[test]
fn lone_carriage_return_ends_a_comment() {
    let src =
        "{ pkgs }: let drv = pkgs.runCommand \"g\" { } \"\"; in { a = 1; # c\r b = import drv; }";
    let s = one(src);
    assert_eq!(s.kind, Kind::ImportDrv);
    assert_eq!(&src[s.byte_range[0]..s.byte_range[1]], "import drv");
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

#[test]
fn wrapped_cabal2nix_sources_are_batchable_where_the_batch_can_see_them() {
    let batchable = |src: &str| {
        let mut found = sites(src);
        found.retain(|s| s.kind == Kind::Cabal2nix);
        assert_eq!(found.len(), 1, "{src}");
        let s = found.remove(0);
        (s.batchable, s.reason.unwrap_or_default())
    };
    // Names bound above the overlay, by it, or in its body's `let`.
    for src in [
        "{ lib }: self: super: { a = self.callCabal2nix \"a\" (lib.cleanSource ./a) { }; }",
        "{ self }: final: prev: { a = final.callCabal2nix \"a\" \"${self}/a\" { }; }",
        "{ gitignoreSource }: self: super: { a = self.callCabal2nix \"a\" (gitignoreSource ./.) { }; }",
        "{ lib }: self: super: { a = self.callCabal2nix \"a\" (lib.fileset.toSource { root = ./.; fileset = ./a; }) { }; }",
        "{ lib }: self: super: let src = lib.cleanSource ./a; in { a = self.callCabal2nix \"a\" src { }; }",
        "self: super: { a = self.callCabal2nix \"a\" (self.sources.a + \"/sub\") { }; }",
        "{ lib }: self: super: { a = self.callCabal2nix \"a\" (lib.cleanSourceWith { src = ./a; filter = p: t: t != \"symlink\"; }) { }; }",
        "{ pkgs }: self: super: { a = self.callCabal2nix \"a\" (builtins.fetchGit { url = \"u\"; rev = \"r\"; }) { }; }",
    ] {
        let (ok, why) = batchable(src);
        assert!(ok, "{src}: {why}");
    }
    // Bound between the overlay and the site, or from a `with` there.
    for (src, why) in [
        (
            "self: super: { a = let src = ./a; in self.callCabal2nix \"a\" src { }; }",
            "bound between the overlay and the site",
        ),
        (
            "self: super: { a = (p: self.callCabal2nix \"a\" p { }) ./a; }",
            "bound between the overlay and the site",
        ),
        (
            "{ pkgs }: self: super: with pkgs; { a = self.callCabal2nix \"a\" (cleanSource ./a) { }; }",
            "may come from a `with`",
        ),
    ] {
        let (ok, reason) = batchable(src);
        assert!(!ok, "{src}");
        assert!(reason.contains(why), "{src}: {reason}");
    }
}

#[test]
fn callee_bound_from_the_overlays_set_is_batchable() {
    for src in [
        "self: super: let inherit (self) callHackage; in { a = callHackage \"a\" \"1\" { }; }",
        "self: super: let callHackage = self.callHackage; in { a = callHackage \"a\" \"1\" { }; }",
        "hself: hsuper: with hself; { a = callHackage \"a\" \"1\" { }; }",
    ] {
        let s = one(src);
        assert!(s.batchable, "{src}: {s:#?}");
    }
    // A set named explicitly, through `inherit (set) f` or an alias under
    // another name: the batch of that set (`ifdBatch'haskellPackages`).
    for src in [
        "{ pkgs }: self: super: let inherit (pkgs.haskellPackages) callHackage; in { a = callHackage \"a\" \"1\" { }; }",
        "final: prev: { h = prev.h.override { overrides = hself: hsuper: let callCabal2nix = final.haskellPackages.callCabal2nix; in { x = callCabal2nix \"x\" ./x { }; }; }; }",
        "final: prev: { h = prev.h.override { overrides = hself: hsuper: let c2n = final.haskellPackages.callCabal2nix; in { x = c2n \"x\" ./x { }; }; }; }",
        "final: prev: let c = final.haskellPackages.callHackage; d = c; in { h = prev.h.override { overrides = hself: hsuper: { x = d \"x\" \"1\" { }; }; }; }",
    ] {
        let s = one(src);
        assert!(s.batchable, "{src}: {s:#?}");
    }
    // An alias whose set is bound between the overlay and the site cannot
    // be named where the batch is bound: left alone.
    let s = one(
        "self: super: { x = let hp = super.foo { }; c = hp.callHackage; in c \"x\" \"1\" { }; }",
    );
    assert!(!s.batchable, "{s:#?}");
}

#[test]
fn nix_globals_in_a_source_are_not_shadowed_by_with() {
    let s = one(
        "{ pkgs }: self: super: with pkgs; { a = self.callCabal2nix \"a\" (toString ./a) { }; }",
    );
    assert!(s.batchable, "{s:#?}");
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

#[test]
fn every_reason_has_a_stable_code() {
    use ifd_batch::detect::Code;
    let code = |src: &str| one(src).reason_code;
    assert_eq!(
        code("{ v }: self: super: self.callHackage \"lens\" v { }"),
        Some(Code::NotLiteral)
    );
    assert_eq!(
        code("self: super: self.callHackage \"lens\""),
        Some(Code::PartialApplication)
    );
    assert_eq!(
        code("{ hs }: hs.callHackage \"a\" \"1\" { }"),
        Some(Code::NotInOverlay)
    );
    // A set named by a name bound between the overlay and the site, or
    // supplied by an inner `with`: not the overlay's, and not movable.
    assert_eq!(
        code("self: super: { a = let hp = super.x; in hp.callHackage \"a\" \"1\" { }; }"),
        Some(Code::OtherSet)
    );
    assert_eq!(
        code("{ pkgs }: self: super: with pkgs.someSet; { a = callHackage \"a\" \"1\" { }; }"),
        Some(Code::OtherSet)
    );
    assert_eq!(
        code("self: super: self.developPackage { root = ./.; }"),
        Some(Code::NotSupported)
    );
    assert_eq!(code("self: super: self.callHackage \"a\" \"1\" { }"), None);
    let json = serde_json::to_value(Code::SourceNotMovable).unwrap_or_default();
    assert_eq!(json, serde_json::json!("source-not-movable"));
}

#[test]
fn computed_cabal2nix_options_are_batchable_where_the_batch_can_see_them() {
    let s = one(
        "{ lib, flags }: self: super: { r = self.callCabal2nixWithOptions \"r\" ./r (lib.concatStringsSep \" \" flags) { }; }",
    );
    assert!(s.batchable, "{s:#?}");
    assert_eq!(arg(&s, "options_expr"), "lib.concatStringsSep \" \" flags");
    // Bound between the overlay and the site: the binding cannot see it.
    let s = one(
        "self: super: { r = let flags = \"-fa\" + \"\"; in self.callCabal2nixWithOptions \"r\" ./r flags { }; }",
    );
    assert!(!s.batchable);
    assert_eq!(
        s.reason_code,
        Some(ifd_batch::detect::Code::SourceNotMovable)
    );
    assert!(
        s.reason
            .as_deref()
            .unwrap_or("")
            .contains("the options use `flags`"),
        "{s:#?}"
    );
}

/// Issue 21, misses and noise: each with variants a user could also write.
#[test]
fn overlay_attributes_path_guards_and_with_sets() {
    // (7c) A code-generating derivation of the same overlay, also across `//`.
    for src in [
        "final: prev: { gen = final.runCommand \"g\" { } \"\"; hp = prev.hp.override { overrides = self: super: { app = self.callPackage final.gen { }; }; }; }",
        "final: prev: { hp = prev.hp.override { overrides = self: super: { app = self.callPackage (final.gen) { }; }; }; } // { gen = final.runCommand \"g\" { } \"\"; }",
        "final: prev: let x = 1; in { gen = final.runCommand \"g\" { } \"\"; hp = prev.hp.extend (self: super: { app = self.callPackage \"${final.gen}\" { }; }); }",
    ] {
        let s = one(src);
        assert_eq!(s.confidence, Confidence::Definite, "{src}");
    }
    // (8) Not IFD: a path guarded by isPath, a path field of a parameter.
    for src in [
        "{ lib }: let f = x: if lib.isPath x then import x else x; in f",
        "let f = x: assert builtins.isPath x; builtins.readFile x; in f",
        "let f = x: if builtins.typeOf x == \"path\" && true then import x else x; in f",
        "let load = project: import \"${project.base}/file.nix\"; in [ (load { base = ./.; }) (load { base = ./sub; }) ]",
    ] {
        assert!(kinds(src).is_empty(), "{src}: {:#?}", sites(src));
    }
    assert!(!kinds("let f = x: if builtins.isString x then import x else x; in f").is_empty());
    // (7d) A bare name under `with` of a set that is provably Haskell's.
    for src in [
        "final: prev: let hsself = final.haskellPackages; in { hp = prev.hp.override { overrides = self: super: with hsself; { x = callHackage \"x\" \"1\" { }; }; }; }",
        "final: prev: { tools = with final.haskell.packages.ghc96; [ (callHackage \"y\" \"1\" { }) ]; }",
        "final: prev: { hp = prev.hp.extend (hself: hsuper: with final; with hself; { x = callHackage \"x\" \"1\" { }; }); }",
    ] {
        assert!(one(src).batchable, "{src}: {:#?}", one(src));
    }
    // … and not when an inner `with` of an unknown set could supply it.
    let s = one(
        "final: prev: { hp = prev.hp.override { overrides = hself: hsuper: with hself; with final; { x = callHackage \"x\" \"1\" { }; }; }; }",
    );
    assert!(!s.batchable, "{s:#?}");
}

/// Outside any overlay, a provably Haskell set named at the site gets a
/// batch of its own in the nearest `let` (else the outermost function
/// body); not inside a per-element function.
#[test]
fn sets_named_outside_overlays_are_batchable() {
    for src in [
        "{ outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in { packages.x86_64-linux.default = pkgs.haskellPackages.callCabal2nix \"app\" ./. { }; }; }",
        "{ pkgs ? import <nixpkgs> { } }: pkgs.haskellPackages.callCabal2nix \"app\" ./. { }",
        "{ pkgs }: let hp = pkgs.haskell.packages.ghc96; in hp.callHackage \"a\" \"1\" { }",
        "{ pkgs }: pkgs.lib.mapAttrs (n: v: pkgs.haskellPackages.callHackage n v { }) { a = \"1\"; }",
    ] {
        assert!(one(src).batchable, "{src}: {:#?}", one(src));
    }
    // A set that is not provably Haskell's (the batch needs its haskellSrc2nix).
    assert!(!one("{ hs }: hs.callHackage \"a\" \"1\" { }").batchable);
}
