//! The test world (`fixtures/mini-nixpkgs`), the synthetic index generator
//! (`examples/synth-index.rs`) and nixlib, with real Nix:
//!
//! - every equivalence case evaluates to the same `drvPath`s nixpkgs-style
//!   and through the batch;
//! - the batch needs one IFD barrier where nixpkgs-style needs one per package;
//! - a manifest entry missing from the index fails only its own attribute,
//!   with a message naming package, version and index;
//! - the generator is deterministic and writes the real layout.

mod support {
    pub mod nix;
}
#[path = "../examples/synth-index.rs"]
#[allow(dead_code)]
mod synth;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use support::nix::{Nix, fresh_salt};

const WORLD: &str = "./fixtures/mini-nixpkgs";

/// The `--include` list of the checked-in default index (see
/// fixtures/mini-nixpkgs/data/README.md).
const DEFAULT_INCLUDES: &[&str] = &[
    "aeson=2.1.2.1",
    "aeson=2.2.1.0",
    "text=2.1",
    "lens=5.2.3",
    "servant=0.20.1",
    "servant-server=0.20",
    "warp=3.3.30",
    "wai=3.2.3",
    "http-client=0.7.15",
    "conduit=1.3.5",
    "yaml=0.11.11.2",
    "optparse-applicative=0.18.1.0",
    "vector=0.13.1.0",
    "unordered-containers=0.2.20",
    "hashable=1.4.3.0",
    "async=2.2.5",
    "hspec=2.11.7",
    "megaparsec=9.6.1",
    "prettyprinter=1.7.1",
    "relude=1.2.1.0",
    "generic-lens=2.2.2.0",
    "unliftio=0.2.25.0",
    "microlens=0.4.13.1",
    "dhall=1.42.1",
    "safe-exceptions=0.1.7.4",
    "split=0.2.5",
    "extra=1.7.14",
    "req=3.13.1",
];

fn default_spec() -> synth::Spec {
    synth::Spec {
        packages: 8,
        versions: 2,
        seed: 7,
        include: DEFAULT_INCLUDES
            .iter()
            .map(|s| {
                let (n, v) = s.split_once('=').unwrap();
                (n.to_string(), v.to_string())
            })
            .collect(),
    }
}

/// `{ name = drvPath; }` of a case, nixpkgs-style or through the batch.
fn case_expr(case: &str, style: &str, world_args: &str) -> String {
    format!(
        "builtins.mapAttrs (n: v: v.drvPath) (import {WORLD}/cases/{case}.nix {{ \
           pkgs = import {WORLD} {{ {world_args} }}; style = \"{style}\"; }})"
    )
}

fn drv_paths(nix: &Nix, case: &str, style: &str, world_args: &str) -> BTreeMap<String, String> {
    let r = nix
        .eval_json(&case_expr(case, style, world_args))
        .expect_ok(&format!("{case} ({style})"));
    serde_json::from_str(&r.stdout).expect("drvPath map")
}

fn equivalent(case: &str) {
    let Some(nix) = Nix::get() else { return };
    let salt = format!("salt = {};", Nix::str(&fresh_salt(case)));
    let a = drv_paths(&nix, case, "nixpkgs", &salt);
    let b = drv_paths(&nix, case, "batch", &salt);
    assert!(!a.is_empty(), "{case}: no attributes");
    for p in a.values() {
        assert!(p.starts_with("/nix/store/") && p.ends_with(".drv"), "{p}");
    }
    assert_eq!(
        a, b,
        "{case}: drvPaths differ between nixpkgs-style and batch"
    );
}

#[test]
fn equivalence_plain_callhackage() {
    equivalent("plain");
}

#[test]
fn equivalence_wrapped_pipe_overridecabal_explicit_args() {
    equivalent("wrapped");
}

#[test]
fn equivalence_callcabal2nix_local_and_fetched() {
    equivalent("cabal2nix");
}

#[test]
fn equivalence_callhackagedirect() {
    equivalent("direct");
}

#[test]
fn equivalence_packagesourceoverrides() {
    equivalent("source-overrides");
}

#[test]
fn equivalence_mapattrs_over_pins() {
    equivalent("pins");
}

#[test]
fn equivalence_two_sets_two_compilers() {
    equivalent("two-sets");
}

/// The overrides really reach the derivations: otherwise equal drvPaths
/// would prove little.
#[test]
fn overrides_change_drvpaths() {
    let Some(nix) = Nix::get() else { return };
    let r = nix
        .eval_json(&format!(
            "let pkgs = import {WORLD} {{ }}; hp = pkgs.haskellPackages; hl = pkgs.haskell.lib; \
               p = hp.callHackage \"aeson\" \"2.2.1.0\" {{ }}; \
             in map (d: d.drvPath) [ p (hl.dontCheck p) (hl.doJailbreak p) (hl.dontHaddock p) \
                  (pkgs.haskell.packages.ghc964.callHackage \"aeson\" \"2.2.1.0\" {{ }}) ]"
        ))
        .expect_ok("override drvPaths");
    let v: Vec<String> = serde_json::from_str(&r.stdout).unwrap();
    let distinct: std::collections::BTreeSet<_> = v.iter().collect();
    assert_eq!(distinct.len(), v.len(), "{v:?}");
}

/// nixpkgs-style: one IFD barrier per package, each a serial tar pass.
/// Batch: exactly one barrier holding the extraction, every generator and
/// the farm.
#[test]
fn batch_needs_one_ifd_barrier() {
    let Some(nix) = Nix::get() else { return };
    let salt = format!("salt = {};", Nix::str(&fresh_salt("barrier")));
    let pins = 12;

    let old = nix
        .eval_json_logged(&case_expr("pins", "nixpkgs", &salt))
        .expect_ok("pins nixpkgs-style");
    let old_barriers = old.barriers();
    assert_eq!(old_barriers.len(), pins, "{old_barriers:#?}");
    for b in &old_barriers {
        assert_eq!(b.len(), 2, "component + generator: {b:?}");
        assert!(b[0].contains("all-cabal-hashes-component-"), "{b:?}");
    }

    let new = nix
        .eval_json_logged(&case_expr("pins", "batch", &salt))
        .expect_ok("pins batch");
    let new_barriers = new.barriers();
    assert_eq!(new_barriers.len(), 1, "{new_barriers:#?}");
    let b = &new_barriers[0];
    assert_eq!(
        b.iter()
            .filter(|d| d.ends_with("-ifd-batch-cabal-hashes.drv"))
            .count(),
        1
    );
    assert_eq!(
        b.iter()
            .filter(|d| d.ends_with("-ifd-batch-cabal2nix.drv"))
            .count(),
        1
    );
    assert_eq!(b.iter().filter(|d| d.contains("-cabal2nix-")).count(), pins);
    assert!(
        !b.iter().any(|d| d.contains("all-cabal-hashes-component")),
        "{b:?}"
    );
    assert_eq!(old.stdout, new.stdout, "same drvPaths");
}

fn missing_expr(attr: &str, salt: &str) -> String {
    format!(
        "let pkgs = import {WORLD} {{ salt = {salt}; }}; \
           hp = pkgs.haskellPackages.override {{ overrides = self: super: \
             let b = (import ./nixlib).batch {{ hself = self; \
                   manifest = {{ hackage = {{ aeson = \"2.2.1.0\"; no-such-package = \"0.1.2\"; text = [ \"2.1\" \"9.9.9\" ]; }}; }}; }}; \
             in {{ aeson = b.callHackage \"aeson\" \"2.2.1.0\" {{ }}; \
                  ghost = b.callHackage \"no-such-package\" \"0.1.2\" {{ }}; \
                  text = b.callHackage \"text\" \"2.1\" {{ }}; \
                  text99 = b.callHackage \"text\" \"9.9.9\" {{ }}; }}; }}; \
         in hp.{attr}.drvPath"
    )
}

#[test]
fn missing_entry_fails_only_its_attribute_with_a_clear_message() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("missing"));
    // The pass over the index does not fail: the present entries evaluate.
    for ok in ["aeson", "text"] {
        nix.eval_json(&missing_expr(ok, &salt))
            .expect_ok(&format!("{ok} next to missing entries"));
    }
    for (attr, name, version) in [
        ("ghost", "no-such-package", "0.1.2"),
        ("text99", "text", "9.9.9"),
    ] {
        let r = nix.eval_json(&missing_expr(attr, &salt));
        assert!(!r.ok, "{attr} should fail");
        let msg =
            format!("ifd-batch: {name} {version} is not in the all-cabal-hashes index /nix/store/");
        assert!(r.stderr.contains(&msg), "{attr}: {}", r.stderr);
        assert!(r.stderr.contains("all-cabal-hashes.tar.gz"), "{}", r.stderr);
    }
}

/// The farm is copies without store references (substitutable), the
/// extraction lists missing members instead of failing.
#[test]
fn farm_is_self_contained_and_extraction_lists_missing() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("farm"));
    let batch = format!(
        "((import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {salt}; }}).haskellPackages; \
           manifest = {{ hackage = {{ aeson = \"2.2.1.0\"; nope = \"1.0\"; }}; \
                         cabal2nix.local-pkg.src = {WORLD}/sources/local-pkg; }}; }})"
    );
    let farm = nix.build(&format!("{batch}.farm"));
    let extracted = nix.build(&format!("{batch}.extracted"));
    let refs = nix
        .command("nix-store")
        .args(["-q", "--references", &farm])
        .output()
        .unwrap();
    assert!(refs.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refs.stdout).trim(),
        "",
        "farm references"
    );
    let mut files = Vec::new();
    walk(Path::new(&farm), &mut files);
    for f in &files {
        let meta = std::fs::symlink_metadata(f).unwrap();
        assert!(!meta.file_type().is_symlink(), "{f:?} is a symlink");
    }
    let local = std::fs::read_to_string(format!("{farm}/cabal2nix/local-pkg/default.nix")).unwrap();
    assert!(!local.contains("/nix/store"), "{local}");
    assert!(local.contains("pname = \"local-pkg\""), "{local}");
    let missing = std::fs::read_to_string(format!("{extracted}/MISSING")).unwrap();
    assert_eq!(missing, "nope/1.0/nope.cabal\nnope/1.0/nope.json\n");
    assert!(Path::new(&format!("{extracted}/aeson/2.2.1.0/aeson.cabal")).is_file());
    assert!(Path::new(&format!("{extracted}/aeson/2.2.1.0/aeson.json")).is_file());
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.clone());
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            walk(&p, out);
        }
    }
}

/// An unpacked index works for both styles, with the same results as the
/// archive it was made from.
#[test]
fn unpacked_index_directory() {
    let Some(nix) = Nix::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let index = synth::generate(&default_spec());
    synth::write_dir(&index, dir.path()).unwrap();
    let salt = Nix::str(&fresh_salt("dir"));
    let args = format!(
        "salt = {salt}; all-cabal-hashes = {};",
        dir.path().display()
    );
    let a = drv_paths(&nix, "plain", "nixpkgs", &args);
    let b = drv_paths(&nix, "plain", "batch", &args);
    let c = drv_paths(&nix, "plain", "batch", &format!("salt = {salt};"));
    assert_eq!(a, b);
    assert_eq!(b, c, "directory and archive give the same packages");
}

/// The bundled example repository evaluates in the world.
#[test]
fn example_overlay_evaluates() {
    let Some(nix) = Nix::get() else { return };
    let r = nix
        .eval_json(
            "builtins.mapAttrs (n: v: v.drvPath) (import ./examples/haskell-overlay { }).sites",
        )
        .expect_ok("examples/haskell-overlay");
    let v: BTreeMap<String, String> = serde_json::from_str(&r.stdout).unwrap();
    assert!(v.len() >= 12, "{v:?}");
}

// ------------------------------------------------------------- generator

fn gunzip(path: &Path) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

#[test]
fn generator_is_deterministic_with_the_real_layout() {
    let dir = tempfile::tempdir().unwrap();
    let spec = synth::Spec {
        packages: 30,
        versions: 3,
        seed: 42,
        include: vec![("aeson".into(), "2.1.2.1".into())],
    };
    let a = dir.path().join("a.tar.gz");
    let b = dir.path().join("b.tar.gz");
    synth::write_archive(&synth::generate(&spec), spec.seed, &a).unwrap();
    synth::write_archive(&synth::generate(&spec), spec.seed, &b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let raw = gunzip(&a);
    let mut ar = tar::Archive::new(&raw[..]);
    let mut paths = Vec::new();
    let mut jsons = 0;
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        if p.ends_with(".json") {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            assert_eq!(v["package-hashes"]["SHA256"].as_str().unwrap().len(), 64);
            assert!(v["package-hashes"]["SHA512"].is_string());
            assert!(v["package-locations"].is_array());
            assert!(v["package-size"].is_u64());
            jsons += 1;
        }
        paths.push(p);
    }
    let top = synth::top_dir(42);
    assert_eq!(paths[0], format!("{top}/"));
    assert!(paths.iter().all(|p| p.starts_with(&format!("{top}/"))));
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "members sorted by path");
    assert!(paths.contains(&format!("{top}/aeson/2.1.2.1/aeson.cabal")));
    assert!(paths.contains(&format!("{top}/aeson/2.1.2.1/aeson.json")));
    let cabals = paths.iter().filter(|p| p.ends_with(".cabal")).count();
    assert_eq!(cabals, jsons);
    // Every .cabal names its package and version; dependencies are core.
    for (name, versions) in synth::generate(&spec) {
        for (v, (cabal, _)) in versions {
            assert!(cabal.contains(&format!("\nname:               {name}\n")));
            assert!(cabal.contains(&format!("\nversion:            {v}\n")));
            assert!((1000..=3500).contains(&cabal.len()), "{}", cabal.len());
        }
    }
}

/// The checked-in default index is the generator's output. Compared after
/// decompression: the tar stream is a pure function of the arguments, while
/// the gzip bytes also depend on flate2's deflate backend.
#[test]
fn checked_in_default_index_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("i.tar.gz");
    let spec = default_spec();
    synth::write_archive(&synth::generate(&spec), spec.seed, &out).unwrap();
    let want = gunzip(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/mini-nixpkgs/data/all-cabal-hashes.tar.gz"),
    );
    assert!(
        gunzip(&out) == want,
        "fixtures/mini-nixpkgs/data/all-cabal-hashes.tar.gz differs from the generator's output \
         (regenerate it with the command in fixtures/mini-nixpkgs/data/README.md)"
    );
}

/// The cabal2nix stand-in: deterministic, build-depends as arguments.
#[test]
fn cabal2nix_standin_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = || {
        std::process::Command::new("sh")
            .arg(root.join("fixtures/mini-nixpkgs/haskell/cabal2nix.sh"))
            .args(["--compiler=ghc-9.4.8", "--system=x86_64-linux", "--sha256="])
            .arg(root.join("fixtures/mini-nixpkgs/sources/local-pkg"))
            .arg("--no-check")
            .output()
            .unwrap()
    };
    let a = run();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(a.stdout, run().stdout);
    let out = String::from_utf8(a.stdout).unwrap();
    assert!(
        out.contains("{ mkDerivation, base, containers, hspec, lib, optparse-applicative, text }:"),
        "{out}"
    );
    assert!(
        out.contains("  libraryHaskellDepends = [ base containers text ];"),
        "{out}"
    );
    assert!(out.contains("  executableHaskellDepends = [ base optparse-applicative ];"));
    assert!(out.contains("  testHaskellDepends = [ base hspec ];"));
    assert!(out.contains("  doCheck = false;"));
    assert!(out.contains("  license = lib.licenses.bsd3;"));
    assert!(out.contains("  src = /"), "{out}");
}

/// A manifest without Hackage entries extracts nothing (an empty
/// `--files-from` list would make tar extract the whole index).
#[test]
fn extraction_without_hackage_entries_is_empty() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("empty"));
    let extracted = nix.build(&format!(
        "((import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {salt}; }}).haskellPackages; \
           manifest = {{ cabal2nix.local-pkg.src = {WORLD}/sources/local-pkg; }}; }}).extracted"
    ));
    let mut files = Vec::new();
    walk(Path::new(&extracted), &mut files);
    assert_eq!(files, vec![Path::new(&extracted).join("MISSING")]);
}
