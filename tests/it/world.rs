//! The test world (`fixtures/mini-nixpkgs`), the synthetic index generator
//! (`xtask/src/synth_index.rs`) and nixlib, with real Nix:
//!
//! - every equivalence case evaluates to the same `drvPath`s nixpkgs-style
//!   and through the batch;
//! - the batch needs one IFD barrier where nixpkgs-style needs one per package;
//! - a manifest entry missing from the index fails only its own attribute,
//!   with a message naming package, version and index;
//! - the generator is deterministic and writes the real layout.

#[path = "../../xtask/src/synth_index.rs"]
#[allow(dead_code)]
mod synth;

use crate::support::nix::{Nix, fresh_salt};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

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

/// The world's arguments that give the package set `ifd-batch` (the batch
/// then extracts through the seekable index instead of GNU tar).
fn with_tool() -> String {
    format!(
        "ifd-batch = {};",
        crate::support::tools::tool_dir().display()
    )
}

/// nixpkgs-style and batch give the same drvPaths, with either extractor.
fn equivalent(case: &str) {
    let Some(nix) = Nix::get() else { return };
    let salt = format!("salt = {};", Nix::str(&fresh_salt(case)));
    let a = drv_paths(&nix, case, "nixpkgs", &salt);
    assert!(!a.is_empty(), "{case}: no attributes");
    for p in a.values() {
        assert!(p.starts_with("/nix/store/") && p.ends_with(".drv"), "{p}");
    }
    for (extractor, args) in [
        ("tar", salt.clone()),
        ("ifd-batch", format!("{salt} {}", with_tool())),
    ] {
        let b = drv_paths(&nix, case, "batch", &args);
        assert_eq!(
            a, b,
            "{case}: drvPaths differ between nixpkgs-style and batch (extractor {extractor})"
        );
    }
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
/// Batch: two barriers whatever the number of packages — the extraction
/// (one tar pass), then every generator at once.
#[test]
fn batch_needs_two_short_barriers() {
    let Some(nix) = Nix::get() else { return };
    let salt = format!("salt = {};", Nix::str(&fresh_salt("barrier")));
    let pins = 12;

    let old = nix
        .eval_json_logged(&case_expr("pins", "nixpkgs", &salt))
        .expect_ok("pins nixpkgs-style");
    // (the cabal2nix tool itself is built once, with the first barrier)
    let tool = |b: &mut Vec<String>| {
        b.retain(|d| {
            !d.ends_with("-cabal2nix-mini.drv") && !d.ends_with("-glibc-locales-stand-in.drv")
        })
    };
    let mut old_barriers = old.barriers();
    old_barriers.iter_mut().for_each(tool);
    assert_eq!(old_barriers.len(), pins, "{old_barriers:#?}");
    for b in &old_barriers {
        assert_eq!(b.len(), 2, "component + generator: {b:?}");
        assert!(b[0].contains("all-cabal-hashes-component-"), "{b:?}");
    }

    let new = nix
        .eval_json_logged(&case_expr("pins", "batch", &salt))
        .expect_ok("pins batch");
    let mut new_barriers = new.barriers();
    new_barriers.iter_mut().for_each(tool);
    assert_eq!(new_barriers.len(), 2, "{new_barriers:#?}");
    assert_eq!(new_barriers[0].len(), 1, "{new_barriers:#?}");
    assert!(new_barriers[0][0].ends_with("-ifd-batch-cabal-hashes.drv"));
    let b = &new_barriers[1];
    assert_eq!(b.len(), pins, "{b:?}");
    assert!(b.iter().all(|d| d.contains("-cabal2nix-")), "{b:?}");
    assert_eq!(old.stdout, new.stdout, "same drvPaths");
}

fn missing_expr(attr: &str, salt: &str, world: &str) -> String {
    format!(
        "let pkgs = import {WORLD} {{ salt = {salt}; {world} }}; \
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
    for world in [String::new(), with_tool()] {
        // The extraction does not fail: the present entries evaluate.
        for ok in ["aeson", "text"] {
            nix.eval_json(&missing_expr(ok, &salt, &world))
                .expect_ok(&format!("{ok} next to missing entries ({world})"));
        }
        for (attr, name, version) in [
            ("ghost", "no-such-package", "0.1.2"),
            ("text99", "text", "9.9.9"),
        ] {
            let r = nix.eval_json(&missing_expr(attr, &salt, &world));
            assert!(!r.ok, "{attr} should fail");
            let msg = format!(
                "ifd-batch: {name} {version} is not in the all-cabal-hashes index /nix/store/"
            );
            assert!(r.stderr.contains(&msg), "{attr}: {}", r.stderr);
            assert!(r.stderr.contains("all-cabal-hashes.tar.gz"), "{}", r.stderr);
        }
    }
}

/// The generators' outputs are reference-free files (substitutable), the
/// extraction lists missing members instead of failing.
#[test]
fn outputs_are_self_contained_and_extraction_lists_missing() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("farm"));
    let batch = format!(
        "((import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {salt}; }}).haskellPackages; \
           manifest = {{ hackage = {{ aeson = \"2.2.1.0\"; nope = \"1.0\"; }}; \
                         cabal2nix.local-pkg.src = {WORLD}/sources/local-pkg; }}; }})"
    );
    let extracted = nix.build(&format!("{batch}.extracted"));
    for key in ["cabal2nix/local-pkg", "hackage/aeson/2.2.1.0"] {
        let out = nix.build(&format!("{batch}.probes.{}", Nix::str(key)));
        let refs = nix
            .command("nix-store")
            .args(["-q", "--references", &out])
            .output()
            .unwrap();
        assert!(refs.status.success());
        assert_eq!(
            String::from_utf8_lossy(&refs.stdout).trim(),
            "",
            "{key} references"
        );
        let mut files = Vec::new();
        walk(Path::new(&out), &mut files);
        for f in &files {
            let meta = std::fs::symlink_metadata(f).unwrap();
            assert!(!meta.file_type().is_symlink(), "{f:?} is a symlink");
        }
        let text = std::fs::read_to_string(format!("{out}/default.nix")).unwrap();
        assert!(!text.contains("/nix/store"), "{text}");
    }
    let local = nix.build(&format!("{batch}.probes.\"cabal2nix/local-pkg\""));
    let local = std::fs::read_to_string(format!("{local}/default.nix")).unwrap();
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
    // A GitHub archive: the pax global header first, then the top directory.
    assert_eq!(paths[0], "pax_global_header");
    paths.remove(0);
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
    files.sort();
    assert_eq!(
        files,
        vec![
            Path::new(&extracted).join("MISSING"),
            Path::new(&extracted).join("REFUSED")
        ]
    );
}

// ------------------------------------------------------------- fidelity
// The world behaves like nixpkgs where ifd-batch depends on it.

/// Builds run under bash with stdenv's shell options: pipefail and
/// inherit_errexit stay on while a runCommand's script runs (passed as a file).
#[test]
fn builds_run_under_stdenv_shell_options() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("shellopts"));
    let run = |script: &str| {
        nix.eval_json(&format!(
            "let pkgs = import {WORLD} {{ salt = {salt}; }}; \
             in builtins.readFile (pkgs.runCommand \"opts\" {{ }} {})",
            Nix::str(script)
        ))
    };
    let ok = run("[ -f \"$buildCommandPath\" ]; echo \"$-\" > $out; shopt -o pipefail >> $out")
        .expect_ok("plain script");
    assert!(ok.stdout.contains("pipefail"), "{}", ok.stdout);
    assert!(ok.stdout.contains('e'), "{}", ok.stdout);
    // The bug of the last round: SIGPIPE in a pipeline fails the build.
    let r = run("x=$(yes | head -n 1); echo \"$x\" > $out");
    assert!(!r.ok, "pipefail must be on");
    assert!(r.stderr.contains("exit code 141"), "{}", r.stderr);
    let r = run("x=$(false; echo after); echo \"$x\" > $out");
    assert!(!r.ok, "inherit_errexit must be on");
}

/// The extraction survives a listing far larger than a pipe buffer under
/// pipefail (the last round's exit 141), from a GitHub-archive-shaped index.
#[test]
fn extraction_of_a_large_github_archive_under_pipefail() {
    let Some(nix) = Nix::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = synth::Spec {
        packages: 1500,
        versions: 2,
        seed: 11,
        include: vec![("aeson".into(), "2.2.1.0".into())],
    };
    let index = synth::generate(&spec);
    let archive = dir.path().join("all-cabal-hashes.tar.gz");
    synth::write_archive(&index, spec.seed, &archive).unwrap();
    // A GitHub archive: pax global header, directory members.
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&archive).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw[156], b'g', "pax global header first");
    let (last, versions) = index.iter().next_back().unwrap();
    let version = versions.keys().next().unwrap();
    let salt = Nix::str(&fresh_salt("large"));
    let out = nix.build(&format!(
        "((import ./nixlib).batch {{ hself = (import {WORLD} {{ salt = {salt}; \
             all-cabal-hashes = {}; }}).haskellPackages; \
           manifest.hackage = {{ aeson = \"2.2.1.0\"; {} = {}; }}; }}).extracted",
        archive.display(),
        Nix::str(last),
        Nix::str(version)
    ));
    assert!(Path::new(&format!("{out}/{last}/{version}/{last}.cabal")).is_file());
    assert_eq!(
        std::fs::read_to_string(format!("{out}/MISSING")).unwrap(),
        ""
    );
}

/// The package set exports what nixpkgs' exports: not its index, not
/// callPackageKeepDeriver, not all-cabal-hashes-component.
#[test]
fn package_set_exports_what_nixpkgs_exports() {
    let Some(nix) = Nix::get() else { return };
    let r = nix
        .eval_json(&format!(
            "let hp = (import {WORLD} {{ }}).haskellPackages; in \
             map (n: hp ? ${{n}}) [ \"all-cabal-hashes\" \"callPackageKeepDeriver\" \
               \"all-cabal-hashes-component\" \"hackage2nix\" \"haskellSrc2nix\" \"callHackage\" ]"
        ))
        .expect_ok("exports");
    assert_eq!(r.stdout.trim(), "[false,false,false,true,true,true]");
}

/// Fetchers are fixed-output: a wrong hash and a missing source fail as
/// nixpkgs' do.
#[test]
fn fetchers_are_fixed_output_and_can_fail() {
    let Some(nix) = Nix::get() else { return };
    let fetch = |url: &str, hash: &str| {
        nix.command("nix-build")
            .args(["--no-out-link", "-E"])
            .arg(format!(
                "(import {WORLD} {{ }}).fetchzip {{ url = {}; sha256 = {}; }}",
                Nix::str(url),
                Nix::str(hash)
            ))
            .output()
            .unwrap()
    };
    let good = "1aziga83nrk31mfwpbwnkx02dfvw0sgljdw75lh9rzwzi6ldw31s";
    let o = fetch("mirror://hackage/retry-0.9.3.1/retry-0.9.3.1.tar.gz", good);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = fetch(
        "mirror://hackage/retry-0.9.3.1/retry-0.9.3.1.tar.gz",
        "1bziga83nrk31mfwpbwnkx02dfvw0sgljdw75lh9rzwzi6ldw31s",
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("hash mismatch"),
        "{err}"
    );
    // (a hash no other source has: a valid output would not be fetched again)
    let o = fetch(
        "mirror://hackage/gone-1.0/gone-1.0.tar.gz",
        "0000000000000000000000000000000000000000000000000000",
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("cannot download"),
        "{err}"
    );
}

// ------------------------------------------------------------- nixpkgs' corners

/// `haskellPackages.override { all-cabal-hashes = …; }`: the set reads
/// another index, which it does not export. The batch refuses loudly rather
/// than extract from pkgs.all-cabal-hashes; `withIndex` gives nixpkgs' drvPaths.
#[test]
fn overridden_index_is_refused_or_passed_explicitly() {
    let Some(nix) = Nix::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    synth::write_dir(&synth::generate(&default_spec()), dir.path()).unwrap();
    let salt = Nix::str(&fresh_salt("override-index"));
    let expr = |how: &str| {
        format!(
            "let pkgs = import {WORLD} {{ salt = {salt}; }}; \
               hp = (pkgs.haskellPackages.override {{ all-cabal-hashes = {}; }}).override {{ \
                 overrides = self: super: let b = (import ./nixlib).batch {{ hself = self; \
                   manifest.hackage.aeson = \"2.2.1.0\"; }}; in {{ \
                   aeson = {how}; }}; }}; \
             in hp.aeson.drvPath",
            dir.path().display()
        )
    };
    let want = nix
        .eval_json(&expr("self.callHackage \"aeson\" \"2.2.1.0\" { }"))
        .expect_ok("nixpkgs-style");
    let r = nix.eval_json(&expr("b.callHackage \"aeson\" \"2.2.1.0\" { }"));
    assert!(!r.ok, "must refuse");
    assert!(
        r.stderr
            .contains("reads all-cabal-hashes from another index"),
        "{}",
        r.stderr
    );
    let got = nix
        .eval_json(&expr(&format!(
            "(b.withIndex {}).callHackage \"aeson\" \"2.2.1.0\" {{ }}",
            dir.path().display()
        )))
        .expect_ok("withIndex");
    assert_eq!(want.stdout, got.stdout);
}

/// Before nixpkgs 22.11 drvPaths cannot stay identical: said clearly.
#[test]
fn nixpkgs_before_22_11_is_refused_clearly() {
    let Some(nix) = Nix::get() else { return };
    let r = nix.eval_json(&format!(
        "let pkgs = import {WORLD} {{ overlays = [ (final: prev: {{ \
               lib = prev.lib // {{ version = \"22.05.4\"; }}; }}) ]; }}; \
           b = (import ./nixlib).batch {{ hself = pkgs.haskellPackages; manifest.hackage.aeson = \"2.2.1.0\"; }}; \
         in (b.callHackage \"aeson\" \"2.2.1.0\" {{ }}).drvPath"
    ));
    assert!(!r.ok);
    assert!(
        r.stderr.contains("nixpkgs 22.05.4 is not supported") && r.stderr.contains("22.11"),
        "{}",
        r.stderr
    );
}

/// `passthru.cabal2nixDeriver` is a derivation both ways (nixpkgs' keeps the
/// cabal2nix derivation there).
#[test]
fn cabal2nix_deriver_stays_a_derivation() {
    let Some(nix) = Nix::get() else { return };
    let r = nix
        .eval_json(&format!(
            "let pkgs = import {WORLD} {{ }}; \
               f = style: let c = import {WORLD}/cases/plain.nix {{ inherit pkgs style; }}; in \
                 builtins.mapAttrs (n: v: v.cabal2nixDeriver.type or \"none\") c; \
             in [ (f \"nixpkgs\") (f \"batch\") ]"
        ))
        .expect_ok("derivers");
    let v: Vec<BTreeMap<String, String>> = serde_json::from_str(&r.stdout).unwrap();
    assert!(!v[0].is_empty());
    assert_eq!(v[0], v[1]);
    assert!(v[1].values().all(|t| t == "derivation"), "{v:?}");
}

// ------------------------------------------------------------- isolation

fn isolation_expr(attr: &str, style: &str, salt: &str, extra: &str) -> String {
    isolation_expr_in(attr, style, salt, extra, "")
}

fn isolation_expr_in(attr: &str, style: &str, salt: &str, extra: &str, world: &str) -> String {
    format!(
        "(import {WORLD}/cases/isolation.nix {{ pkgs = import {WORLD} {{ salt = {salt}; {world} }}; \
           style = \"{style}\"; extraPins = {{ {extra} }}; }}).{attr}.drvPath"
    )
}

/// Every failure kind fails its own attribute only, with a message naming
/// the entry; the healthy attributes keep nixpkgs' drvPaths and never build
/// (or download) the broken entries' fetches.
#[test]
fn a_broken_entry_fails_only_its_attribute() {
    let Some(nix) = Nix::get() else { return };
    let salt = Nix::str(&fresh_salt("isolation"));
    for attr in ["aeson", "lens", "text", "local-pkg"] {
        let want = nix
            .eval_json(&isolation_expr(attr, "nixpkgs", &salt, ""))
            .expect_ok(attr);
        let got = nix
            .eval_json_logged(&isolation_expr(attr, "batch", &salt, ""))
            .expect_ok(attr);
        assert_eq!(want.stdout, got.stdout, "{attr}");
        assert!(
            !got.builds()
                .iter()
                .any(|d| d.contains("unreachable") || d.ends_with("-source.drv")),
            "{attr} must not wait for a download: {:?}",
            got.builds()
        );
    }
    for (attr, needle) in [
        (
            "no-cabal",
            "cabal2nix failed for the cabal2nix entry no-cabal",
        ),
        (
            "bad-cabal",
            "cabal2nix failed for the cabal2nix entry bad-cabal",
        ),
        ("ghost", "ghost 0.1.2 is not in the all-cabal-hashes index"),
        ("unreachable", "cannot download"),
    ] {
        let r = nix.eval_json(&isolation_expr(attr, "batch", &salt, ""));
        assert!(!r.ok, "{attr} should fail");
        assert!(r.stderr.contains(needle), "{attr}: {}", r.stderr);
        // As nixpkgs: tryEval does not catch it.
        let r = nix.eval_json(&format!(
            "builtins.tryEval ({})",
            isolation_expr(attr, "batch", &salt, "")
        ));
        assert!(!r.ok, "{attr}: uncatchable, as in nixpkgs");
    }
}

/// Adding one entry rebuilds the extraction and that entry's generator only
/// (with either extractor; through the seekable index, which is not rebuilt,
/// the extraction reads only around the members).
#[test]
fn adding_an_entry_rebuilds_only_that_entry() {
    let Some(nix) = Nix::get() else { return };
    for world in [String::new(), with_tool()] {
        let salt = Nix::str(&fresh_salt("incremental"));
        nix.eval_json(&isolation_expr_in("aeson", "batch", &salt, "", &world))
            .expect_ok("warm");
        let r = nix
            .eval_json(&isolation_expr_in(
                "aeson",
                "batch",
                &salt,
                "servant = \"0.20.1\";",
                &world,
            ))
            .expect_ok("one more entry");
        let builds = r.builds();
        assert_eq!(builds.len(), 2, "{builds:#?}");
        assert!(
            builds
                .iter()
                .any(|d| d.ends_with("-ifd-batch-cabal-hashes.drv")),
            "{builds:?}"
        );
        assert!(
            builds
                .iter()
                .any(|d| d.ends_with("-cabal2nix-servant-0.20.1.drv")),
            "{builds:?}"
        );
    }
}
