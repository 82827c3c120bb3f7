//! `ifd-batch rewrite` end to end with real Nix in the test world: rewrite
//! the bundled example, `--verify` proves every drvPath unchanged, and the
//! IFD barriers during evaluation drop from one per site to one.

use crate::support::nix::{self, Nix, fresh_salt};
use crate::support::tools::{copy_dir, ifd_batch};
use std::path::Path;
use std::process::Command;

/// A scratch repository with `repo` and the world it imports.
fn scratch(repo: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(repo, tmp.path());
    copy_dir("fixtures/mini-nixpkgs", tmp.path());
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .output();
    assert!(git.is_ok_and(|o| o.status.success()), "git init");
    tmp
}

/// IFD barriers while evaluating every package of `select r` (a set of
/// sets of packages; `r` is the repository's `default.nix`, which takes
/// `pkgs`).
fn barriers(nix: &Nix, repo: &Path, world: &Path, select: &str, tag: &str) -> Vec<Vec<String>> {
    let expr = format!(
        "let r = import {} {{ pkgs = import {} {{ salt = {}; }}; }}; in \
         builtins.mapAttrs (_: s: builtins.mapAttrs (_: d: d.drvPath) s) ({select})",
        Nix::str(&repo.join("default.nix").display().to_string()),
        Nix::str(&world.display().to_string()),
        Nix::str(&fresh_salt(tag)),
    );
    let logged = nix
        .eval_json_logged(&expr)
        .expect_ok("evaluating the example");
    logged.barriers()
}

/// Rewrite `repo` (copied, with the world), verify, and count barriers.
fn rewrite_and_count(
    repo_rel: &str,
    select: &str,
    verify: &str,
) -> (Vec<Vec<String>>, Vec<Vec<String>>, String) {
    let nix = Nix::get().expect("nix");
    let tmp = scratch(repo_rel);
    let repo = tmp.path().join(repo_rel);
    let world = tmp.path().join("fixtures/mini-nixpkgs");
    let before = barriers(&nix, &repo, &world, select, "before");
    let (code, out) = ifd_batch(&["rewrite", ".", "--write", "--verify", verify], &repo);
    assert_eq!(code, 0, "{out}");
    let after = barriers(&nix, &repo, &world, select, "after");
    // A second rewrite changes nothing.
    let (code, again) = ifd_batch(&["rewrite", "."], &repo);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("nothing to change"), "{again}");
    (before, after, out)
}

#[test]
fn rewrite_example_verify_and_three_barriers() {
    if Nix::get().is_none() {
        return;
    }
    let (before, after, out) = rewrite_and_count(
        "examples/haskell-overlay",
        "{ inherit (r) sites; }",
        "default.nix:sites",
    );
    assert!(out.contains("17 of 17 derivations identical"), "{out}");
    assert!(out.contains("13 sites edited in 1 file"), "{out}");
    assert!(out.contains("wrote 2 files"), "{out}");
    // One barrier per site before (17 packages: `sites` and the set share
    // them, the mapAttrs pins included); three after: the extraction (one
    // tar pass), then every generator built in parallel, and the
    // callHackageDirect entry on its own (a download that could fail must not
    // hold up, or be forced by, the other packages).
    assert_eq!(before.len(), 17, "barriers before: {before:#?}");
    assert_eq!(after.len(), 3, "barriers after: {after:#?}");
    assert!(
        after[1].len() >= 13,
        "the second barrier builds every generator: {after:#?}"
    );
}

/// Two overlay files (`with self;`, packageSourceOverrides,
/// callCabal2nixWithOptions) on two package sets with different compilers:
/// one extraction (it does not depend on the compiler: both sets share it),
/// then one barrier of generators per package set, whichever file asks first.
#[test]
fn rewrite_two_files_two_sets_one_generator_barrier_per_set() {
    if Nix::get().is_none() {
        return;
    }
    let (before, after, out) = rewrite_and_count("fixtures/rewrite-repo", "r", "default.nix");
    assert!(out.contains("12 of 12 derivations identical"), "{out}");
    assert!(out.contains("4 sites edited in 2 files"), "{out}");
    assert_eq!(before.len(), 12, "barriers before: {before:#?}");
    assert_eq!(after.len(), 3, "barriers after: {after:#?}");
}

#[test]
fn verify_refuses_to_write_when_a_drvpath_changes() {
    let Some(_nix) = Nix::get() else { return };
    let tmp = scratch("examples/haskell-overlay");
    let repo = tmp.path().join("examples/haskell-overlay");
    // A derivation that depends on the overlay's text: any rewrite changes it.
    std::fs::write(
        repo.join("text.nix"),
        "{ pkgs ? import ../../fixtures/mini-nixpkgs { } }: { t = derivation { name = \"t\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [ \"-c\" \"echo > $out\" ]; text = builtins.readFile ./overlay.nix; }; }\n",
    )
    .expect("write");
    let original = std::fs::read_to_string(repo.join("overlay.nix")).expect("read");
    let (code, out) = ifd_batch(&["rewrite", ".", "--write", "--verify", "text.nix"], &repo);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFFERENT"), "{out}");
    assert!(out.contains("nothing written"), "{out}");
    assert_eq!(
        std::fs::read_to_string(repo.join("overlay.nix")).expect("read"),
        original
    );
    assert!(!repo.join("nix/ifd-batch.nix").exists());
}

/// packageSourceOverrides in a nixpkgs overlay (`final: prev:`): the batch
/// is made for the Haskell set it extends, not for `final`.
#[test]
fn rewrite_package_source_overrides_in_a_nixpkgs_overlay() {
    if Nix::get().is_none() {
        return;
    }
    let (before, after, out) =
        rewrite_and_count("fixtures/rewrite-nixpkgs-overlay", "r", "default.nix");
    assert!(out.contains("3 of 3 derivations identical"), "{out}");
    assert_eq!(before.len(), 3, "barriers before: {before:#?}");
    assert_eq!(after.len(), 2, "barriers after: {after:#?}");
}

/// How real repositories write their overlays (wrapped local sources, flake
/// `self`, a sources set, helpers returning paths, `inherit (final)
/// callHackage`, a nixpkgs overlay with its own source helper): every site
/// batched, every drvPath unchanged. Sources that are not path literals come
/// from each file's binding, so each file's batch builds its own generators:
/// one barrier per file instead of one per site.
#[test]
fn rewrite_real_world_shapes_every_site_batched_same_drv_paths() {
    if Nix::get().is_none() {
        return;
    }
    let (before, after, out) = rewrite_and_count(
        "fixtures/rewrite-shapes",
        "{ inherit (r) sites; }",
        "default.nix:sites",
    );
    assert!(out.contains("28 of 28 derivations identical"), "{out}");
    assert!(out.contains("27 sites edited in 5 files"), "{out}");
    assert!(out.contains("0 left alone"), "{out}");
    // (The aliases call packages that other sites also build: no new
    // barrier; `app` from d1 and with `--no-check`: two more.)
    assert_eq!(before.len(), 19, "barriers before: {before:#?}");
    // Extraction, one per file giving caller sources, and the download of
    // the callHackageDirect tarball (a fetch that can fail: its own barrier);
    // the aliases of `pkgsNew.haskellPackages`' functions are a set of their
    // own (`ifdBatch'pkgsNew'haskellPackages`). Which batch is forced first
    // decides how the rounds fall: five, whatever the site count.
    assert_eq!(after.len(), 5, "barriers after: {after:#?}");
}

/// Evaluate `(import FILE { }).ATTR`'s drvPaths (a set of packages) in
/// `dir`, with extra Nix options.
fn drv_paths(dir: &Path, attr: &str, extra: &[&str]) -> (bool, String) {
    let out = Command::new("nix-instantiate")
        .current_dir(dir)
        .env(
            "NIX_CONFIG",
            std::env::var("NIX_CONFIG").unwrap_or_else(|_| nix::NIX_CONFIG.to_string()),
        )
        .args(["--eval", "--strict", "--json", "--read-write-mode"])
        .args(extra)
        .args([
            "-E",
            &format!("builtins.mapAttrs (n: v: v.drvPath) (import ./. {{ }}).{attr}"),
        ])
        .output()
        .expect("run nix-instantiate");
    (
        out.status.success(),
        if out.status.success() {
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            String::from_utf8_lossy(&out.stderr).into_owned()
        },
    )
}

const NO_IFD: &[&str] = &["--option", "allow-import-from-derivation", "false"];

/// The materialized backend end to end: after `rewrite --backend
/// materialized`, evaluation needs no IFD and gives the IFD drvPaths; a
/// `.cabal` edit and a version bump are caught (by `check`, and by nixlib at
/// evaluation), `check --fix` repairs, `check --rebuild` agrees, a second
/// rewrite changes nothing, and switching back to `ifd` leaves no file.
#[test]
fn materialized_backend_end_to_end() {
    if Nix::get().is_none() {
        return;
    }
    let tmp = scratch("examples/haskell-overlay");
    let repo = tmp.path().join("examples/haskell-overlay");
    let (ok, want) = drv_paths(&repo, "sites", &[]);
    assert!(ok, "{want}");
    let (ok, err) = drv_paths(&repo, "sites", NO_IFD);
    assert!(!ok && err.contains("allow-import-from-derivation"), "{err}");

    let (code, out) = ifd_batch(
        &[
            "rewrite",
            ".",
            "--backend",
            "materialized",
            "--target",
            "default.nix:sites",
            "--write",
            "--verify",
            "default.nix:sites",
        ],
        &repo,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("17 of 17 derivations identical"), "{out}");
    let dir = repo.join("nix/ifd-batch");
    let platform = std::fs::read_dir(&dir)
        .expect("materialized dir")
        .flatten()
        .next()
        .expect("a platform")
        .path();
    let aeson = std::fs::read_to_string(platform.join("hackage/aeson/2.2.1.0.nix")).expect("aeson");
    assert!(
        aeson
            .lines()
            .nth(2)
            .is_some_and(|l| l.starts_with("# ifd-batch: hackage/aeson/2.2.1.0 platform=")),
        "{aeson}"
    );
    assert!(!aeson.contains("/nix/store/"), "{aeson}");
    // No IFD at all now, and the same drvPaths.
    let (ok, got) = drv_paths(&repo, "sites", NO_IFD);
    assert!(ok, "{got}");
    assert_eq!(got, want);
    // Idempotent.
    let (code, again) = ifd_batch(&["rewrite", "."], &repo);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("nothing to change"), "{again}");
    let (code, out) = ifd_batch(&["check", "--rebuild"], &repo);
    assert_eq!(code, 0, "{out}");

    // A .cabal edit: check and evaluation both say stale; --fix repairs.
    let cabal = repo.join("local-pkg/local-pkg.cabal");
    let mut text = std::fs::read_to_string(&cabal).expect("cabal");
    text.push_str("-- edited\n");
    std::fs::write(&cabal, text).expect("write");
    let (code, out) = ifd_batch(&["check", "local-pkg/local-pkg.cabal"], &repo);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("stale: cabal2nix/local-pkg"), "{out}");
    let (ok, err) = drv_paths(&repo, "sites", NO_IFD);
    assert!(
        !ok && err.contains("is stale") && err.contains("check --fix"),
        "{err}"
    );
    let (code, out) = ifd_batch(&["check", "--fix", "local-pkg/local-pkg.cabal"], &repo);
    assert_eq!(code, 0, "{out}");
    let (ok, out) = drv_paths(&repo, "sites", NO_IFD);
    assert!(ok, "{out}");

    // A version bump: the missing and extra files are reported, then fixed.
    let overlay = repo.join("overlay.nix");
    let text = std::fs::read_to_string(&overlay).expect("overlay");
    std::fs::write(
        &overlay,
        text.replace("\"aeson\" \"2.2.1.0\"", "\"aeson\" \"2.1.2.1\""),
    )
    .expect("write");
    let (code, out) = ifd_batch(&["check", "overlay.nix"], &repo);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing: hackage/aeson/2.1.2.1"), "{out}");
    assert!(out.contains("extra: hackage/aeson/2.2.1.0"), "{out}");
    let (code, out) = ifd_batch(&["check", "--fix", "overlay.nix"], &repo);
    assert_eq!(code, 0, "{out}");
    assert!(platform.join("hackage/aeson/2.1.2.1.nix").is_file());
    assert!(!platform.join("hackage/aeson/2.2.1.0.nix").exists());
    let (ok, out) = drv_paths(&repo, "sites", NO_IFD);
    assert!(ok && out.contains("aeson-2.1.2.1.drv"), "{out}");

    // Back to the IFD backend: no materialized file is left.
    let (code, out) = ifd_batch(&["rewrite", ".", "--backend", "ifd", "--write"], &repo);
    assert_eq!(code, 0, "{out}");
    assert!(!dir.exists(), "{out}");
    let manifest = std::fs::read_to_string(repo.join("nix/ifd-batch.nix")).expect("manifest");
    assert!(
        !manifest.contains("materialized = materialize.dir"),
        "{manifest}"
    );
    let (ok, out) = drv_paths(&repo, "sites", &[]);
    assert!(ok, "{out}");
}

/// Generic import-from-derivation (readFile, import, importJSON, readDir of
/// generated derivations in one `let`): four serial barriers become two (the
/// group, then the chained one that needs the group's result), every value
/// is unchanged (`--verify` compares values), the site in a branch and the
/// chained one are left alone with reasons, and a second rewrite changes
/// nothing.
#[test]
fn rewrite_generic_ifd_one_barrier_same_values() {
    let Some((before, after, out)) = rewrite_generic_case("generic") else {
        return;
    };
    assert_eq!(before.barriers().len(), 4, "{:#?}", before.barriers());
    assert!(out.contains("5 sites edited"), "{out}");
    // `derived` needs `port` (an IFD) first: the next layer, where it is
    // the only derivation (a group of one is no batch).
    assert!(out.contains("a group of one saves nothing"), "{out}");
    assert!(out.contains("inside a conditional branch"), "{out}");
    let barriers = after.barriers();
    assert_eq!(barriers.len(), 2, "{barriers:#?}");
    assert_eq!(barriers[0].len(), 3, "{barriers:#?}");
    assert!(barriers[1][0].ends_with("-derived.drv"), "{barriers:#?}");
}

/// Layers (issue 21): a package set read from a derivation's output makes
/// the next derivations, which feed a third layer. Six serial barriers
/// become three (one per layer), with the same values; no group forces
/// itself.
#[test]
fn rewrite_generic_layers_one_barrier_per_layer() {
    let Some((before, after, out)) = rewrite_generic_case("generic-layers") else {
        return;
    };
    assert_eq!(before.barriers().len(), 6, "{:#?}", before.barriers());
    assert!(out.contains("8 sites edited"), "{out}");
    let barriers = after.barriers();
    assert_eq!(barriers.len(), 3, "{barriers:#?}");
    assert!(barriers.iter().all(|b| b.len() == 2), "{barriers:#?}");
}

/// Rewrite (with `--verify`) the golden case `tests/cases/CASE/in`, placed
/// next to the world it imports; evaluate it before and after (the same
/// values), and a second rewrite changes nothing.
fn rewrite_generic_case(case: &str) -> Option<(nix::Run, nix::Run, String)> {
    let nix = Nix::get()?;
    let tmp = scratch(&format!("tests/cases/{case}/in"));
    let repo = tmp.path().join("fixtures/rewrite-generic");
    std::fs::create_dir_all(repo.parent().expect("parent")).expect("mkdir");
    std::fs::rename(tmp.path().join(format!("tests/cases/{case}/in")), &repo).expect("move");
    let world = tmp.path().join("fixtures/mini-nixpkgs");
    let eval = |tag: &str| {
        nix.eval_json_logged(&format!(
            "import {} {{ pkgs = import {} {{ salt = {}; }}; }}",
            Nix::str(&repo.join("default.nix").display().to_string()),
            Nix::str(&world.display().to_string()),
            Nix::str(&fresh_salt(tag)),
        ))
        .expect_ok("evaluating the generic repo")
    };
    let before = eval(&format!("{case}-before"));
    let (code, out) = ifd_batch(
        &["rewrite", ".", "--write", "--verify", "default.nix"],
        &repo,
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("DIFFERENT"), "{out}");
    let after = eval(&format!("{case}-after"));
    assert_eq!(before.stdout, after.stdout, "same values");
    let (code, again) = ifd_batch(&["rewrite", "."], &repo);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("nothing to change"), "{again}");
    Some((before, after, out))
}

/// Both extractors end to end: with a package set that provides `ifd-batch`
/// (as this project's flake overlay does) the batch extracts through the
/// seekable index by default; `rewrite --extractor tar` records GNU tar in
/// the manifest, `--extractor auto` takes it out again; `--verify` proves
/// every drvPath unchanged each way, and the extraction has the same files.
#[test]
fn rewrite_extractor_tar_and_ifd_batch_verify() {
    let Some(nix) = Nix::get() else { return };
    let tmp = scratch("examples/haskell-overlay");
    let repo = tmp.path().join("examples/haskell-overlay");
    let tool = crate::support::tools::tool_dir();
    let salt = fresh_salt("extractor");
    std::fs::write(
        repo.join("with-tool.nix"),
        format!(
            "{{ salt ? {} }}: import ./default.nix {{ pkgs = import ../../fixtures/mini-nixpkgs {{ ifd-batch = {}; inherit salt; }}; }}\n",
            Nix::str(&salt),
            tool.display()
        ),
    )
    .expect("write");
    let manifest = || std::fs::read_to_string(repo.join("nix/ifd-batch.nix")).unwrap_or_default();
    // The extractor the written batch uses.
    let kind = || {
        let r = nix.eval_json(&format!(
            "let r = import {} {{ }}; b = import {}/nix/ifd-batch.nix \"overlay.nix\" r.haskellPackages; \
             in if b.extractor == \"tar\" then \"tar\" else \"ifd-batch\"",
            Nix::str(&repo.join("with-tool.nix").display().to_string()),
            repo.display()
        ));
        assert!(r.ok, "{}", r.stderr);
        r.stdout.trim().trim_matches('"').to_string()
    };
    for (flag, recorded) in [("ifd-batch", true), ("tar", true), ("auto", false)] {
        let (code, out) = ifd_batch(
            &[
                "rewrite",
                ".",
                "--write",
                "--extractor",
                flag,
                "--verify",
                "with-tool.nix:sites",
            ],
            &repo,
        );
        assert_eq!(code, 0, "--extractor {flag}: {out}");
        assert!(out.contains("derivations identical"), "{out}");
        let line = format!("extractor = \"{flag}\";");
        assert_eq!(
            manifest().contains(&line),
            recorded,
            "{flag}: {}",
            manifest()
        );
        let used = if flag == "tar" { "tar" } else { "ifd-batch" };
        assert_eq!(kind(), used, "--extractor {flag}");
        // The setting stays until asked otherwise.
        let (code, again) = ifd_batch(&["rewrite", "."], &repo);
        assert_eq!(code, 0, "{again}");
        assert!(again.contains("nothing to change"), "{flag}: {again}");
    }
}
